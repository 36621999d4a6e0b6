package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// selfDNSPlan plans the destination-dns-isp scenario with DC1's DNS client settings replaced
// by its own addresses, labelled from (as gather --assume-self-dns labels them
// "assumed-self").
func selfDNSPlan(t *testing.T, from string) *plan.Plan {
	t.Helper()
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	sc, err := scenario.Load("destination-dns-isp")
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	s := w.Base()
	for i := range s.DCs {
		if s.DCs[i].Name == "DC1" {
			ips, _ := s.DCs[i].IPs.Get()
			s.DCs[i].DNSServers, s.DCs[i].DNSServersFrom = facts.Some(append([]string(nil), ips...)), from
		}
	}
	w.ObserveNeeds(s, 4, pb.Needs)
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// permissive admits everything a policy file can admit.
func permissive(t *testing.T) *policy.Policy {
	t.Helper()
	p, diags := policy.Parse("p.hcl", []byte(`
allow "all" {
  max_risk = "medium"
  actions  = ["*"]
}
max_actions_per_run = 100
max_dcs_per_24h     = 1000
`))
	if diags.HasErrors() {
		t.Fatal(policy.FormatDiagnostics(diags))
	}
	return p
}

// TestAssumedSettingsAreHeldForAHuman: the "resolves now, retry" concluded on DC1's assumed
// DNS client settings is held for a human (exit 2) under the most permissive policy, with a
// reason naming the assumption; the same diagnosis on settings read over WinRM is approved.
func TestAssumedSettingsAreHeldForAHuman(t *testing.T) {
	p := selfDNSPlan(t, engine.DNSServersAssumedSelf)
	cands := policy.CandidatesFromPlan(p)
	if len(cands) == 0 {
		t.Fatalf("no candidates: %+v", p.Summary)
	}
	vs := policy.Decide(permissive(t), cands, &memJournal{ran: map[string]time.Time{}}, scenario.DefaultNow)
	for _, v := range vs {
		if v.Approved || v.Hold != policy.HoldAssumed || v.Class != policy.ClassHuman {
			t.Errorf("%s: verdict %+v, want held %s", v.Candidate.ID, v, policy.HoldAssumed)
		}
		if !strings.Contains(v.Reason, "rests on assumed settings") || !strings.Contains(v.Reason, "DC1's DNS client settings were not read") {
			t.Errorf("%s: reason %q", v.Candidate.ID, v.Reason)
		}
	}
	s := policy.Summarize(vs)
	s.HumanFindings = policy.HumanFindings(p)
	if s.ExitCode() != policy.ExitHuman || s.ByHold[policy.HoldAssumed] != len(vs) {
		t.Errorf("exit %d (%s), want %d", s.ExitCode(), s, policy.ExitHuman)
	}

	read := selfDNSPlan(t, "winrm")
	for _, v := range policy.Decide(permissive(t), policy.CandidatesFromPlan(read), &memJournal{ran: map[string]time.Time{}}, scenario.DefaultNow) {
		if !v.Approved {
			t.Errorf("%s on read settings: held %s: %s", v.Candidate.ID, v.Hold, v.Reason)
		}
	}
}

// TestAssumedDoesNotShareByKey: a candidate with assumptions neither takes the approval of an
// earlier candidate with the same effect nor gives its hold to a later one.
func TestAssumedDoesNotShareByKey(t *testing.T) {
	c := func(finding string, assumed ...string) policy.Candidate {
		return policy.Candidate{ID: finding + "/retry_replication", Key: "retry@DC1", Finding: finding, Action: "retry_replication",
			Risk: "low", Kind: "powershell", Target: "DC1", Assumptions: assumed}
	}
	h := &memJournal{ran: map[string]time.Time{}}
	vs := policy.Decide(policy.Default(), []policy.Candidate{c("DC1<-DC2"), c("DC1<-DC3", "DC1's DNS client settings were not read")}, h, scenario.DefaultNow)
	if !vs[0].Approved || vs[1].Approved || vs[1].Hold != policy.HoldAssumed {
		t.Errorf("read then assumed: %+v / %+v", vs[0], vs[1])
	}
	vs = policy.Decide(policy.Default(), []policy.Candidate{c("DC1<-DC3", "DC1's DNS client settings were not read"), c("DC1<-DC2")}, h, scenario.DefaultNow)
	if vs[0].Approved || vs[0].Hold != policy.HoldAssumed || !vs[1].Approved {
		t.Errorf("assumed then read: %+v / %+v", vs[0], vs[1])
	}
	if got := policy.ClassOf(policy.HoldAssumed); got != policy.ClassHuman {
		t.Errorf("class of %s = %s", policy.HoldAssumed, got)
	}
}

func TestCandidateFromFindingCarriesAssumptions(t *testing.T) {
	f := &plan.Finding{ID: "f", Assumptions: []string{"a"}}
	c := policy.CandidateFromFinding(f, plan.Action{ID: "f/x", Name: "x", Risk: "low", Target: "DC1"})
	f.Assumptions[0] = "changed"
	if len(c.Assumptions) != 1 || c.Assumptions[0] != "a" || c.Finding != "f" || c.ID != "f/x" {
		t.Errorf("candidate %+v", c)
	}
}
