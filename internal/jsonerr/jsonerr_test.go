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
