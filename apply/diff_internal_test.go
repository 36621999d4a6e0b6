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

// The fingerprint reads each naming context's replication result, which the evidence does not
// show: a partner that retried between plan and apply and failed with another error refused the
// plan with only "the facts the diagnosis used changed" (seen on real Samba). The refusal names
// the result that changed, and the naming contexts that started or stopped failing.
func TestDriftNamesChangedLinkResults(t *testing.T) {
	link := func(ncs ...plan.NCLink) plan.LinkInfo {
		return plan.LinkInfo{Destination: "DC3", Source: "DC2", NCs: ncs}
	}
	old := &plan.Finding{Fingerprint: "sha256:aaaaaaaaaaaaaaaa", Decision: &plan.DecisionRef{Name: "x"},
		Link: link(plan.NCLink{NC: "DC=lab,DC=example,DC=com", LastResult: 8524}, plan.NCLink{NC: "CN=Configuration,DC=lab,DC=example,DC=com", LastResult: 8524})}
	fresh := &plan.Finding{Fingerprint: "sha256:bbbbbbbbbbbbbbbb", Decision: &plan.DecisionRef{Name: "x"},
		Link: link(plan.NCLink{NC: "dc=lab,dc=example,dc=com", LastResult: 2}, plan.NCLink{NC: "DC=ForestDnsZones,DC=lab,DC=example,DC=com", LastResult: 8524})}
	d := evidenceDiff(old, fresh)
	for _, want := range []string{
		"replication of dc=lab,dc=example,dc=com: result 8524 → 2",
		"replication of DC=ForestDnsZones,DC=lab,DC=example,DC=com: not in the plan → result 8524",
		"replication of CN=Configuration,DC=lab,DC=example,DC=com: result 8524 → no longer failing",
	} {
		if !strings.Contains(d, want) {
			t.Errorf("the refusal %q lacks %q", d, want)
		}
	}
	if ch := evidenceChanges(old, fresh, 20); len(ch) != 3 || !strings.HasPrefix(ch[0], "replication of dc=lab") {
		t.Errorf("changes %q", ch)
	}
	same := *old
	if d := evidenceDiff(old, &same); strings.Contains(d, "replication of") {
		t.Errorf("no change, yet %q", d)
	}
}
