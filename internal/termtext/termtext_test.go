package termtext

import (
	"os/exec"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	cases := []struct{ in, want string }{
		{"dc1.contoso.com", "dc1.contoso.com"},
		{`C:\Windows\System32`, `C:\Windows\System32`},
		{"DC2\nPS> Remove-Item C:\\ -Recurse", `DC2\nPS> Remove-Item C:\ -Recurse`},
		{"a\rb\tc", `a\rb\tc`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"evil\u202egnp.exe", `evil\u202egnp.exe`},
		{"x\u2028y\u2029z", `x\u2028y\u2029z`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"c1\u009bcsi", `c1\u009bcsi`},
		{"del\x7f", `del\x7f`},
		{"nul\x00", `nul\x00`},
		{"Ümlaut ünïcode 日本", "Ümlaut ünïcode 日本"},
	}
	for _, c := range cases {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestClip(t *testing.T) {
	if got := Clip("日本語", 4); got != "日…" {
		t.Errorf("Clip = %q", got)
	}
	if got := Clip("short", 10); got != "short" {
		t.Errorf("Clip = %q", got)
	}
}

// Safe reports whether s may go to a terminal: no control byte, no unsafe character.
func safe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if Unsafe(r) {
			return false
		}
	}
	return true
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb", "\x1b]0;title\x07", "\u202e", "\xff\xfe", strings.Repeat("é", 10)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e := Escape(s)
		if !safe(e) {
			t.Fatalf("Escape(%q) = %q holds an unsafe character", s, e)
		}
		if plain(s) && e != s {
			t.Fatalf("printable ASCII changed: %q -> %q", s, e)
		}
		if c := Line(s, 16); len(c) > 16+len("…") || !utf8.ValidString(c) {
			t.Fatalf("Line(%q, 16) = %q", s, c)
		}
	})
}

func TestEscapeAll(t *testing.T) {
	type inner struct {
		S    string
		L    []string
		M    map[string]any
		P    *string
		I    any
		priv string
	}
	raw := "a\x1b[2Jb"
	s := raw
	v := inner{S: raw, L: []string{raw}, M: map[string]any{raw: raw, "k": []any{raw}}, P: &s, I: raw, priv: raw}
	EscapeAll(&v)
	want := Escape(raw)
	if v.S != want || v.L[0] != want || *v.P != want || v.I != want || v.M[want] != want || v.M["k"].([]any)[0] != want {
		t.Fatalf("not escaped: %#v", v)
	}
	if _, ok := v.M[raw]; ok {
		t.Fatal("the raw map key is still there")
	}
	if v.priv != raw {
		t.Fatal("an unexported field was touched")
	}
	if got := Args([]any{raw, 3, errString(raw)}); got[0] != want || got[1] != 3 || got[2] != want {
		t.Fatalf("Args = %#v", got)
	}
	if ClipRunes("日本語", 2) != "日本…" || ClipRunes("ab", 2) != "ab" {
		t.Fatal("ClipRunes")
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestText(t *testing.T) {
	in := "line 1\n\tline 2\r\x1b[2J\u202e"
	if got, want := Text(in), "line 1\n\tline 2\\r\\x1b[2J\\u202e"; got != want {
		t.Errorf("Text(%q) = %q, want %q", in, got, want)
	}
	v := struct{ A []string }{[]string{in}}
	MapAll(&v, Text)
	if v.A[0] != Text(in) {
		t.Errorf("MapAll(Text) = %q", v.A[0])
	}
}

// ShellWord's words are safe on a terminal and read back by a POSIX shell (bash) as the value
// they quote, byte for byte.
func TestShellWord(t *testing.T) {
	cases := map[string]string{
		"":                    "''",
		"p.json":              "p.json",
		"/tmp/a b.json":       "'/tmp/a b.json'",
		"DC1<-DC2/cleanup":    "'DC1<-DC2/cleanup'",
		"it's":                `'it'\''s'`,
		"DC2\nPS> x":          `$'DC2\nPS> x'`,
		"a'b\\c\x1b[2J\u202e": `$'a\'b\\c\x1b[2J\u202e'`,
		"bad\xffbyte":         `$'bad\xffbyte'`,
		"C:\\dir\\":           `'C:\dir\'`,
		"forest.contoso.com":  "forest.contoso.com",
		"user@host,x=1:2+3":   "user@host,x=1:2+3",
		"tab\there":           `$'tab\there'`,
		"\U000e0041tag":       `$'\U000e0041tag'`,
	}
	bash, err := exec.LookPath("bash")
	for in, want := range cases {
		got := ShellWord(in)
		if got != want {
			t.Errorf("ShellWord(%q) = %s, want %s", in, got, want)
		}
		if !safe(got) {
			t.Errorf("ShellWord(%q) = %q is not safe on a terminal", in, got)
		}
		if err != nil {
			continue
		}
		out, rerr := exec.Command(bash, "-c", "printf %s "+got).Output()
		if rerr != nil || string(out) != in {
			t.Errorf("bash reads %s as %q (%v), want %q", got, out, rerr, in)
		}
	}
}
