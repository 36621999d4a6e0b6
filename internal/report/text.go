package report

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"unicode/utf8"
)

// visible returns s with every character that changes how text around it reads, or hides
// itself, written as a visible escape: C0 and C1 controls other than newline and tab (\x1b),
// bidirectional overrides, embeddings, isolates and marks (\u202e), zero-width characters, line
// and paragraph separators and the byte-order mark. Invalid UTF-8 becomes U+FFFD. A DC name
// with a right-to-left override then shows the override instead of reading backwards.
func visible(s string) string {
	clean := true
	for _, r := range s {
		if hidden(r) || r == utf8.RuneError {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for _, r := range s {
		switch {
		case r < 0x80 && hidden(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hidden reports whether r is a control or formatting character that visible escapes.
func hidden(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
		return true
	case r == 0x061c || r == 0x200e || r == 0x200f: // Arabic letter mark, LRM, RLM
		return true
	case r >= 0x200b && r <= 0x200d: // zero-width space, non-joiner, joiner
		return true
	case r >= 0x2028 && r <= 0x202e: // line/paragraph separators, embeddings, overrides
		return true
	case r >= 0x2060 && r <= 0x2069: // word joiner, invisible operators, isolates
		return true
	case r == 0xfeff:
		return true
	}
	return false
}

// oneLine is visible(s) on one line: newlines and tabs become \n and \t.
func oneLine(s string) string {
	s = visible(s)
	if strings.ContainsAny(s, "\n\t") {
		s = strings.NewReplacer("\n", `\n`, "\t", `\t`).Replace(s)
	}
	return s
}

// clip cuts s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for j := range s {
		if count == n-1 {
			i = j
			break
		}
		count++
	}
	return s[:i] + "…"
}

// cleanCopy returns a deep copy of v (a JSON-encodable value) with every string passed through
// visible, map keys included. The report renders values from AD and from an untrusted plan
// file only from such a copy.
func cleanCopy[T any](v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, err
	}
	cleanValue(reflect.ValueOf(out).Elem())
	return out, nil
}

func cleanValue(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(visible(v.String()))
		}
	case reflect.Pointer:
		if !v.IsNil() {
			cleanValue(v.Elem())
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				cleanValue(v.Field(i))
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			cleanValue(v.Index(i))
		}
	case reflect.Interface:
		if !v.IsNil() && v.CanSet() {
			e := reflect.New(v.Elem().Type()).Elem()
			e.Set(v.Elem())
			cleanValue(e)
			v.Set(e)
		}
	case reflect.Map:
		if v.IsNil() {
			return
		}
		m := reflect.MakeMapWithSize(v.Type(), v.Len())
		it := v.MapRange()
		for it.Next() {
			k := reflect.New(v.Type().Key()).Elem()
			k.Set(it.Key())
			cleanValue(k)
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(it.Value())
			cleanValue(e)
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	}
}
