package apply

import (
	"strings"
	"testing"

	"github.com/fix8524/fix8524/plan"
)

// A plan approved on DNS client settings that were read, re-planned on settings that are only
// assumed (or the reverse), is refused with that reason, not a bare fingerprint change.
func TestEvidenceDiffNamesAssumptions(t *testing.T) {
	read := &plan.Finding{Fingerprint: "sha256:aaaaaaaaaaaaaaaa", Decision: &plan.DecisionRef{Name: "dns_resolves_now"}}
	assumed := &plan.Finding{Fingerprint: "sha256:bbbbbbbbbbbbbbbb", Decision: &plan.DecisionRef{Name: "dns_resolves_now"},
		Assumptions: []string{"DC1's DNS client settings were not read"}}
	if d := evidenceDiff(read, assumed); !strings.Contains(d, "now assumed, not read: DC1's DNS client settings were not read") {
		t.Errorf("read → assumed: %q", d)
	}
	if d := evidenceDiff(assumed, read); !strings.Contains(d, "that were assumed are now read") {
		t.Errorf("assumed → read: %q", d)
	}
	if d := evidenceDiff(read, read); !strings.Contains(d, "fingerprint") {
		t.Errorf("no visible change: %q", d)
	}
}
