package notify

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRedactURL: a redacted URL never shows a path, query or user information.
func FuzzRedactURL(f *testing.F) {
	for _, s := range []string{"https://hooks.slack.com/services/T/B/X", "http://u:p@h/x?y", "https://h", "::", "https://h:1/%zz", "http://[::1]:80/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		got := RedactURL(raw)
		if got == "(invalid URL)" {
			return
		}
		rest := got[strings.Index(got, "://")+3:]
		if rest = strings.TrimSuffix(rest, "/…"); strings.ContainsAny(rest, "/?#@") {
			t.Fatalf("RedactURL(%q) = %q shows more than the host", raw, got)
		}
		_ = checkURL(raw, true)
	})
}

// FuzzRetryAfter: never negative, never above the cap.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"", "3", "-1", "99999999999999999999", "Wed, 21 Oct 2015 07:28:00 GMT"} {
		f.Add(s)
	}
	now := time.Date(2015, 10, 21, 7, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := parseRetryAfter(v, now); d < 0 || d > maxRetryAfter {
			t.Fatalf("parseRetryAfter(%q) = %s", v, d)
		}
	})
}

// FuzzText: values from the directory cannot inject markup or extra lines into the text.
func FuzzText(f *testing.F) {
	f.Add("DC1", "reason <!channel> & more\nline", "contoso.com")
	f.Fuzz(func(t *testing.T, target, reason, forest string) {
		e := Event{Event: EventHeld, Forest: forest, Items: []Item{{Status: ItemHeld, ActionID: "a", Target: target, Reason: reason}}}
		txt := Text(e)
		if !utf8.ValidString(txt) {
			t.Fatalf("invalid UTF-8: %q", txt)
		}
		if strings.ContainsAny(txt, "<>") {
			t.Fatalf("unescaped markup: %q", txt)
		}
		if n := strings.Count(txt, "\n"); n != 1 {
			t.Fatalf("%d line breaks, want 1: %q", n, txt)
		}
		if _, err := Payload(e); err != nil {
			t.Fatal(err)
		}
	})
}
