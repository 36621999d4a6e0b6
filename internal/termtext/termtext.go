// Package termtext makes text that comes from outside fix8524 (AD values, files, DNS answers,
// remote command output) safe to print on a terminal: one function, Escape, used by every human
// view (plan, show, apply, heal, journal, validate, profile), so that no value can end a line
// and forge the next one (a newline followed by "PS> Remove-Item ..."), send an escape sequence
// to the terminal, or reorder what is shown (bidirectional overrides).
//
// Text is the same rule for text shown as a block (the report's command boxes and fences),
// where newlines and tabs stay; ShellWord quotes a word of a command printed for a person to
// copy. One rule of what is unsafe (Unsafe) serves them all, and remote command quoting too.
package termtext

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Unsafe reports a character that must never reach a terminal raw: a C0 or C1 control
// character (newline, carriage return, ESC, DEL included), a Unicode format character
// (bidirectional overrides and isolates, zero-width characters), a line or paragraph
// separator, or the replacement character (which an invalid byte decodes to).
func Unsafe(r rune) bool {
	return r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) ||
		unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r)
}

// Escape returns s with every unsafe character escaped the way Go writes it in a string
// literal (\n, \r, \t, \x1b, \u202e) and every byte that is not valid UTF-8 as \xNN. Printable
// text, backslashes included, is unchanged: a Windows path or a PowerShell command reads as
// written. The result holds no byte below 0x20, no DEL and no unsafe character.
func Escape(s string) string {
	return escape(s, false)
}

// Text is Escape for text shown as a block of lines: newlines and tabs are kept, every other
// unsafe character is escaped as Escape does.
func Text(s string) string {
	return escape(s, true)
}

func escape(s string, block bool) string {
	if plain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteString(`\x`)
			b.WriteString(hex2(s[i]))
		case block && (r == '\n' || r == '\t'):
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case Unsafe(r):
			q := strconv.QuoteRuneToASCII(r) // '\x1b', '\u202e'
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// plain reports whether s is printable ASCII only (the common case: nothing to escape).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}

func hex2(c byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[c>>4], digits[c&0xf]})
}

// Clip cuts s to at most n bytes on a character boundary, marking a cut with "…".
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// Line is Escape followed by Clip: one value on one bounded line.
func Line(s string, n int) string { return Clip(Escape(s), n) }

// ClipRunes cuts s to at most n characters, marking a cut with "…".
func ClipRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j] + "…"
		}
		i++
	}
	return s
}

// Args escapes the arguments of a format call for the terminal: strings, errors and
// fmt.Stringers become their escaped text; anything else (numbers, times) is kept.
func Args(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			out[i] = Escape(v)
		case error:
			out[i] = Escape(v.Error())
		case fmt.Stringer:
			out[i] = Escape(v.String())
		default:
			out[i] = a
		}
	}
	return out
}

// EscapeAll escapes, in place, every string reachable from ptr (a pointer to a struct, slice
// or map): struct fields, slice and array elements, map values (and keys), through pointers
// and interfaces. A view escapes a copy of what it shows with it, so that no field is
// forgotten.
func EscapeAll(ptr any) {
	MapAll(ptr, Escape)
}

// MapAll replaces, in place, every string s reachable from ptr as EscapeAll does with f(s).
func MapAll(ptr any, f func(string) string) {
	w := walker{f}
	w.value(reflect.ValueOf(ptr))
}

type walker struct{ f func(string) string }

func (w walker) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			if v.Kind() == reflect.Interface {
				// the value inside an interface is not settable: escape a copy and put it back
				e := v.Elem()
				c := reflect.New(e.Type()).Elem()
				c.Set(e)
				w.value(c)
				if v.CanSet() {
					v.Set(c)
				}
				return
			}
			w.value(v.Elem())
		}
	case reflect.String:
		if v.CanSet() {
			v.SetString(w.f(v.String()))
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				w.value(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			w.value(v.Index(i))
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		type entry struct{ old, k, v reflect.Value }
		var entries []entry
		iter := v.MapRange()
		for iter.Next() {
			k := reflect.New(iter.Key().Type()).Elem()
			k.Set(iter.Key())
			w.value(k)
			e := reflect.New(iter.Value().Type()).Elem()
			e.Set(iter.Value())
			w.value(e)
			entries = append(entries, entry{iter.Key(), k, e})
		}
		for _, x := range entries {
			if !x.k.Equal(x.old) {
				v.SetMapIndex(x.old, reflect.Value{}) // the raw key goes
			}
			v.SetMapIndex(x.k, x.v)
		}
	}
}

// ShellWord quotes s as one word of a POSIX shell command printed for a person to read and
// copy ("fix8524 approve PLAN --allow-each WORD"): as it is when it needs no quoting, in single
// quotes otherwise, and, when it holds a character unsafe on a terminal, in ANSI-C quotes
// ($'DC2\nPS>...', read back as s by bash, zsh and ksh) with that character escaped. The
// result is always safe to print.
func ShellWord(s string) string {
	if s == "" {
		return "''"
	}
	if Escape(s) != s {
		return "$'" + Escape(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)) + "'"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-./=:@,+", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
