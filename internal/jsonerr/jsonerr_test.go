package jsonerr

import (
	"encoding/json"
	"strings"
	"testing"
)

type doc struct {
	Version  int `json:"version"`
	Findings []struct {
		ID string `json:"id"`
	} `json:"findings"`
}

func TestDescribe(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`[]`, `line 1, column 2: the document holds a list where an object is expected`},
		{"{\n  \"findings\": 3\n}", `line 2, column 16: "findings" holds a number where a list is expected`},
		{`{"findings": [{"id": 7}]}`, `"findings.id" holds a number where a string is expected`},
		{`{"version": "x"}`, `"version" holds a string where a whole number is expected`},
		{`{"version": 1,}`, `line 1, column 16: not valid JSON: invalid character '}' looking for beginning of object key string`},
		{`{"nope": 1}`, `unknown field "nope"`},
		{`{"version": 1`, `the JSON ends too early`},
	} {
		var d doc
		dec := json.NewDecoder(strings.NewReader(c.in))
		dec.DisallowUnknownFields()
		err := Describe([]byte(c.in), dec.Decode(&d))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want %q", c.in, err, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "Go ") || strings.Contains(err.Error(), "struct")) {
			t.Errorf("%s: Go type names in %q", c.in, err)
		}
	}
}

func TestKindAndPosition(t *testing.T) {
	dec := json.NewDecoder(strings.NewReader(`[{"a": "x", "b": 1, "c": true, "d": null}]`))
	var kinds []string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		kinds = append(kinds, Kind(tok))
	}
	want := "a list, an object, a string, a string, a string, a number, a string, true or false, a string, null, the end of an object, the end of a list"
	if got := strings.Join(kinds, ", "); got != want {
		t.Errorf("kinds %q, want %q", got, want)
	}
	if l, c := Position([]byte("ab\ncd"), 4); l != 2 || c != 2 {
		t.Errorf("Position = %d:%d, want 2:2", l, c)
	}
	if l, c := Position([]byte("ab"), 99); l != 1 || c != 3 {
		t.Errorf("Position past the end = %d:%d, want 1:3", l, c)
	}
}
