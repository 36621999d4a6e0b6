package remote

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/fix8524/fix8524/internal/termtext"
)

// ShellQuote quotes s for a POSIX shell (sh, dash, bash, ksh, zsh) so that the shell passes it
// to the program as one argument with exactly these bytes. Words made only of
// [A-Za-z0-9_@%+:,./-] are left bare; everything else is wrapped in single quotes, inside which
// no character is special; an embedded ' becomes '\”.
//
// A NUL byte cannot be carried by any POSIX argument: Command.Validate rejects it before a
// transport quotes anything. csh/tcsh and fish do not follow these rules; the SSH transport
// documents that the remote login shell must be POSIX.
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	if shellSafe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func shellSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("_@%+:,./-", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// ShellJoin quotes each argument with ShellQuote and joins them with spaces.
func ShellJoin(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = ShellQuote(a)
	}
	return strings.Join(q, " ")
}

// PowerShell treats these as single quotes (System.Management.Automation.Language
// CharExtensions.IsSingleQuote): ' and the curly quotes U+2018, U+2019, U+201A, U+201B.
// A fullwidth apostrophe (U+FF07) is not one of them.
func isPSSingleQuote(r rune) bool {
	switch r {
	case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
		return true
	}
	return false
}

// ErrUnsafeChar reports a value that cannot be written as a plain PowerShell single-quoted
// literal: it has invalid UTF-8, a control character (NUL, CR, LF, ...), a format character
// (bidirectional overrides, zero-width characters) or a line or paragraph separator.
var ErrUnsafeChar = errors.New("value contains a control, format or line-separator character or invalid UTF-8")

// unsafeRune reports characters that must not appear unescaped in a rendered literal: they
// end lines, hide text or reorder it on screen.
func unsafeRune(r rune) bool { return termtext.Unsafe(r) }

// PSQuote returns s as a PowerShell single-quoted string literal: every character PowerShell
// treats as a single quote (including U+2018/U+2019/U+201A/U+201B) is doubled, so none
// survives unescaped; inside single quotes $, `, ", ; and the curly double quotes have no
// meaning. Values with invalid UTF-8, control, format or line-separator characters are refused
// with ErrUnsafeChar (see PSLiteral for a form that can show them).
func PSQuote(s string) (string, error) {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('\'')
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size <= 1 {
				return "", fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrUnsafeChar, i)
			}
		}
		if unsafeRune(r) && r != utf8.RuneError {
			return "", fmt.Errorf("%w: U+%04X at byte %d", ErrUnsafeChar, r, i)
		}
		b.WriteRune(r)
		if isPSSingleQuote(r) {
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String(), nil
}

// PSLiteral returns a PowerShell expression that evaluates to s and is always safe to show on
// one line: PSQuote's literal when s has no unsafe character, otherwise a parenthesized
// concatenation such as ('a'+[char]0x0A+'b'). Invalid UTF-8 bytes are shown as [char]0xFFFD,
// so PSLiteral is exact only for valid UTF-8 (which is all the transports send).
func PSLiteral(s string) string {
	if q, err := PSQuote(s); err == nil {
		return q
	}
	var parts []string
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			parts = append(parts, "'"+cur.String()+"'")
			cur.Reset()
		}
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if unsafeRune(r) {
			flush()
			if r > 0xFFFF { // [char] is one UTF-16 unit: write the surrogate pair
				r1, r2 := utf16Pair(r)
				parts = append(parts, fmt.Sprintf("[char]0x%04X+[char]0x%04X", r1, r2))
			} else {
				parts = append(parts, fmt.Sprintf("[char]0x%04X", r))
			}
			continue
		}
		cur.WriteRune(r)
		if isPSSingleQuote(r) {
			cur.WriteRune(r)
		}
	}
	flush()
	if len(parts) == 0 {
		return "''"
	}
	return "(" + strings.Join(parts, "+") + ")"
}

func utf16Pair(r rune) (rune, rune) {
	r -= 0x10000
	return 0xD800 + (r>>10)&0x3FF, 0xDC00 + r&0x3FF
}

// displayArg renders a POSIX argument for humans: ShellQuote when that stays on one visible
// line, otherwise bash's $'...' notation with escapes (display only; transports send the exact
// bytes through ShellQuote).
func displayArg(s string) string {
	clean := true
	for _, r := range s {
		if unsafeRune(r) {
			clean = false
			break
		}
	}
	if clean && utf8.ValidString(s) {
		return ShellQuote(s)
	}
	var b strings.Builder
	b.WriteString("$'")
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafeRune(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r) && r <= 0xFFFF:
			fmt.Fprintf(&b, `\u%04x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	b.WriteByte('\'')
	return b.String()
}
