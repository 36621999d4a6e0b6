package remote

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile values used across the transport tests.
var hostile = []string{
	"", " ", "plain", "dc1.contoso.com", "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com",
	"it's", "'", "''", `"`, `\`, `\'`, "a;b", "a&b", "a|b", "$(id)", "`id`", "${HOME}", "$HOME", "a\nb", "a\r\nb",
	"tab\there", "-n", "--", "*", "?", "~root", "a=b", "!", "#c", "<x>", "%PATH%", "^", "\u2019; Remove-Item C:\\ -Recurse; \u2018",
	"\u2018quoted\u2019", "\u201a\u201b", "\uff07fullwidth\uff07", "\u201cdq\u201d", "\u201e", "\u202eevil", "zero\u200bwidth",
	"line\u2028sep", "para\u2029sep", "nel\u0085x", "emoji😀", "日本語", "\x7f", "\x1b[31mred",
}

func TestShellQuoteRoundTripsThroughSh(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("sh not found")
	}
	for _, v := range hostile {
		if got := shPrintf(t, v); got != v {
			t.Errorf("ShellQuote(%q) = %s: sh printed %q", v, ShellQuote(v), got)
		}
	}
}

func shPrintf(t testing.TB, v string) string {
	t.Helper()
	out, err := exec.Command("sh", "-c", "printf %s "+ShellQuote(v)).Output()
	if err != nil {
		t.Fatalf("sh -c printf %s: %v", ShellQuote(v), err)
	}
	return string(out)
}

func FuzzShellQuote(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	if _, err := exec.LookPath("sh"); err != nil {
		f.Skip("sh not found")
	}
	f.Fuzz(func(t *testing.T, v string) {
		if strings.IndexByte(v, 0) >= 0 {
			return // NUL cannot be in an argument; Command.Validate refuses it
		}
		q := ShellQuote(v)
		if !shellSafe(v) && (q[0] != '\'' || q[len(q)-1] != '\'') {
			t.Fatalf("unsafe value %q not single-quoted: %s", v, q)
		}
		if got := shPrintf(t, v); got != v {
			t.Fatalf("ShellQuote(%q) = %s: sh printed %q", v, q, got)
		}
	})
}

func TestShellSafeRejectsAssignmentAndTilde(t *testing.T) {
	for _, v := range []string{"a=b", "~", "~root", "*", "a b", "$x"} {
		if ShellQuote(v) == v {
			t.Errorf("ShellQuote(%q) left it bare", v)
		}
	}
}

// psUnquote parses one PowerShell single-quoted literal the way the PowerShell tokenizer does:
// any single-quote character followed by another is an escaped quote; a lone one ends the string.
func psUnquote(q string) (string, bool) {
	r := []rune(q)
	if len(r) < 2 || !isPSSingleQuote(r[0]) {
		return "", false
	}
	var b strings.Builder
	for i := 1; i < len(r); i++ {
		if isPSSingleQuote(r[i]) {
			if i+1 < len(r) && isPSSingleQuote(r[i+1]) {
				b.WriteRune(r[i+1])
				i++
				continue
			}
			return b.String(), i == len(r)-1 // the closing quote must be the last character
		}
		b.WriteRune(r[i])
	}
	return "", false
}

// psEval evaluates PSLiteral's output: 'x' or ('a'+[char]0xHHHH+'b').
func psEval(e string) (string, bool) {
	if s, ok := psUnquote(e); ok {
		return s, true
	}
	if !strings.HasPrefix(e, "(") || !strings.HasSuffix(e, ")") {
		return "", false
	}
	e = e[1 : len(e)-1]
	var units []rune
	var b strings.Builder
	for len(e) > 0 {
		if strings.HasPrefix(e, "[char]0x") {
			v, err := strconv.ParseUint(e[8:12], 16, 16)
			if err != nil {
				return "", false
			}
			units = append(units, rune(v))
			e = e[12:]
		} else {
			if len(units) > 0 {
				b.WriteString(decodeUnits(units))
				units = nil
			}
			// find the end of this literal
			r := []rune(e)
			end := -1
			for i := 1; i < len(r); i++ {
				if isPSSingleQuote(r[i]) {
					if i+1 < len(r) && isPSSingleQuote(r[i+1]) {
						i++
						continue
					}
					end = i
					break
				}
			}
			if end < 0 {
				return "", false
			}
			s, ok := psUnquote(string(r[:end+1]))
			if !ok {
				return "", false
			}
			b.WriteString(s)
			e = string(r[end+1:])
		}
		if strings.HasPrefix(e, "+") {
			e = e[1:]
		} else if e != "" {
			return "", false
		}
	}
	b.WriteString(decodeUnits(units))
	return b.String(), true
}

func decodeUnits(u []rune) string {
	var b strings.Builder
	for i := 0; i < len(u); i++ {
		if u[i] >= 0xD800 && u[i] < 0xDC00 && i+1 < len(u) {
			b.WriteRune(0x10000 + (u[i]-0xD800)<<10 + (u[i+1] - 0xDC00))
			i++
			continue
		}
		b.WriteRune(u[i])
	}
	return b.String()
}

func hasUnsafe(v string) bool {
	if !utf8.ValidString(v) {
		return true
	}
	for _, r := range v {
		if unsafeRune(r) {
			return true
		}
	}
	return false
}

func checkPSQuote(t *testing.T, v string) {
	q, err := PSQuote(v)
	if hasUnsafe(v) {
		if !errors.Is(err, ErrUnsafeChar) {
			t.Fatalf("PSQuote(%q) = %q, %v: want ErrUnsafeChar", v, q, err)
		}
	} else {
		if err != nil {
			t.Fatalf("PSQuote(%q): %v", v, err)
		}
		got, ok := psUnquote(q)
		if !ok || got != v {
			t.Fatalf("PSQuote(%q) = %q: an unescaped quote survives or value changed (%q, %v)", v, q, got, ok)
		}
	}
	lit := PSLiteral(v)
	for _, r := range lit {
		if unsafeRune(r) && r != utf8.RuneError {
			t.Fatalf("PSLiteral(%q) = %q contains unsafe U+%04X", v, lit, r)
		}
	}
	if utf8.ValidString(v) {
		got, ok := psEval(lit)
		if !ok || got != v {
			t.Fatalf("PSLiteral(%q) = %q evaluates to %q, %v", v, lit, got, ok)
		}
	}
}

func TestPSQuoteHostile(t *testing.T) {
	for _, v := range hostile {
		checkPSQuote(t, v)
	}
	if q, _ := PSQuote("\u2019; Remove-Item x; \u2018"); q != "'\u2019\u2019; Remove-Item x; \u2018\u2018'" {
		t.Errorf("curly quotes not doubled: %s", q)
	}
	if q, _ := PSQuote("\uff07"); q != "'\uff07'" {
		t.Errorf("fullwidth apostrophe is not a PowerShell quote and should pass through: %s", q)
	}
	if _, err := PSQuote("a\x00b"); err == nil {
		t.Error("NUL passed unflagged")
	}
}

func FuzzPSQuote(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	f.Add("\xff\xfe")
	f.Fuzz(checkPSQuote)
}
