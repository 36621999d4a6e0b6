package plan_test

import (
	"encoding/json"
	"testing"

	"github.com/fix8524/fix8524/plan"
)

func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"plan_format_version":1,"fingerprint":"sha256:00","findings":[]}`))
	f.Add([]byte(`{"plan_format_version":1,"fingerprint":"x","findings":[{"id":"A<-B","actions":[{"id":"A<-B/x","name":"x","params":{"ncs":["DC=a"]}}]}]}`))
	f.Add([]byte(`{"plan_format_version":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := plan.Parse(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("a parsed plan does not encode: %v", err)
		}
		if _, err := plan.Parse(again); err != nil {
			t.Fatalf("a parsed plan does not parse after encoding: %v\n%s", err, again)
		}
	})
}
