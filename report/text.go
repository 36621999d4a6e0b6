package report

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/fix8524/fix8524/internal/termtext"
)

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

// cleanCopy returns a deep copy of v (a JSON-encodable value) with every string, map keys
// included, passed through termtext.Text: the one escaping of fix8524's human views, keeping
// newlines and tabs for the page's blocks. The report renders values from AD and from an
// untrusted plan file only from such a copy; a value shown on one line goes through
// termtext.Escape as well.
func cleanCopy[T any](v *T) (*T, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		return nil, err
	}
	termtext.MapAll(out, termtext.Text)
	return out, nil
}
