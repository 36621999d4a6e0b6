package apply_test

import (
	"testing"

	"github.com/fix8524/fix8524/apply"
)

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
