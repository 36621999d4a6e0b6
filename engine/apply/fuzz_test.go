package apply_test

import (
	"encoding/json"
	"testing"

	"github.com/fix8524/fix8524/engine/apply"
)

func FuzzParsePlan(f *testing.F) {
	f.Add([]byte(`{"plan_format_version":1,"fingerprint":"sha256:00","findings":[]}`))
	f.Add([]byte(`{"plan_format_version":1,"fingerprint":"x","findings":[{"id":"A<-B","actions":[{"id":"A<-B/x","name":"x","params":{"ncs":["DC=a"]}}]}]}`))
	f.Add([]byte(`{"plan_format_version":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := apply.ParsePlan(b)
		if err != nil {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("a parsed plan does not encode: %v", err)
		}
		if _, err := apply.ParsePlan(again); err != nil {
			t.Fatalf("a parsed plan does not parse after encoding: %v\n%s", err, again)
		}
	})
}

func FuzzParseEach(f *testing.F) {
	f.Add([]byte(`{"version":1,"approvals":[]}`))
	f.Add([]byte(`{"version":1,"approvals":[{"version":1,"by":"a","at":"2026-01-01T00:00:00Z","expires":"2026-01-01T01:00:00Z","plan_fingerprint":"f#action:x","plan_digest":"sha256:0000000000000000000000000000000000000000000000000000000000000000"}]}`))
	f.Add([]byte(`{"version":2}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		as, err := apply.ParseEach(b)
		if err != nil {
			return
		}
		for _, a := range as {
			if a == nil || a.By == "" {
				t.Fatalf("parsed an approval without approver: %+v", a)
			}
		}
	})
}
