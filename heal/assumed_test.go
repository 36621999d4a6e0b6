package heal_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/plan"
)

// selfDNSFacts gathers like the demo, then replaces one DC's DNS client settings with its own
// addresses, labelled from ("assumed-self" is what gather --assume-self-dns writes).
type selfDNSFacts struct {
	gather.Source
	dc, from string
}

func (s selfDNSFacts) Gather(ctx context.Context, needs gather.Needs) (*facts.Snapshot, error) {
	snap, err := s.Source.Gather(ctx, needs)
	if err != nil {
		return nil, err
	}
	for i := range snap.DCs {
		if snap.DCs[i].Name == s.dc {
			if ips, ok := snap.DCs[i].IPs.Get(); ok {
				snap.DCs[i].DNSServers, snap.DCs[i].DNSServersFrom = facts.Some(append([]string(nil), ips...)), s.from
			}
		}
	}
	return snap, nil
}

// TestAssumedSettingsAreNotHealed: in the destination-dns-isp forest, DC1's DNS client really
// points at an ISP resolver. With its settings assumed to be DC1 itself, the plan says
// "resolves now, retry"; heal must not run that retry under the most permissive policy: it is
// held for a human (assumed_settings, exit 2), nothing runs, and the plan saved for the human
// says what was assumed.
func TestAssumedSettingsAreNotHealed(t *testing.T) {
	f := newFixture(t)
	pol := mustPolicy(t, `
allow "all" {
  max_risk = "medium"
  actions  = ["*"]
}
max_actions_per_run = 100
max_dcs_per_24h     = 1000
`)
	r, _ := f.run("destination-dns-isp", pol, func(o *heal.Options) {
		o.Facts = selfDNSFacts{Source: o.Facts, dc: "DC1", from: engine.DNSServersAssumedSelf}
	})
	if r.Err != nil || r.ExitCode() != policy.ExitHuman {
		t.Fatalf("exit %d, err %v, want %d", r.ExitCode(), r.Err, policy.ExitHuman)
	}
	if r.Plan == nil || len(r.Plan.Findings) != 1 || len(r.Plan.Findings[0].Assumptions) != 1 {
		t.Fatalf("plan: %+v", r.Plan)
	}
	if len(r.Verdicts) == 0 {
		t.Fatal("no verdicts")
	}
	for _, v := range r.Verdicts {
		if v.Approved || v.Hold != policy.HoldAssumed || !strings.Contains(v.Reason, "DC1's DNS client settings were not read") {
			t.Errorf("%s: %+v", v.Candidate.ID, v)
		}
	}
	if r.Apply != nil || len(r.Outcomes) != 0 {
		t.Errorf("something ran: apply %+v outcomes %+v", r.Apply, r.Outcomes)
	}
	for _, e := range f.entries(journal.KindAction) {
		t.Errorf("action journaled: %s %s", e.Name, e.Outcome)
	}
	if !strings.Contains(f.out.String(), policy.HoldAssumed) {
		t.Errorf("heal output does not name the hold:\n%s", f.out.String())
	}
	if r.EscalationPath == "" {
		t.Fatal("the held plan was not saved for a human")
	}
	b, err := os.ReadFile(r.EscalationPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"assumptions"`) {
		t.Errorf("the plan saved for a human does not carry the assumption")
	}
}

// TestReadSettingsAreHealed is the control: the same addresses read over WinRM are approved.
func TestReadSettingsAreHealed(t *testing.T) {
	f := newFixture(t)
	r, _ := f.run("destination-dns-isp", policy.Default(), func(o *heal.Options) {
		o.Facts = selfDNSFacts{Source: o.Facts, dc: "DC1", from: "winrm"}
	})
	if r.Plan == nil || len(r.Plan.Findings) != 1 || len(r.Plan.Findings[0].Assumptions) != 0 {
		t.Fatalf("plan: %+v", r.Plan)
	}
	approved := 0
	for _, v := range r.Verdicts {
		if v.Approved {
			approved++
		}
		if v.Hold == policy.HoldAssumed {
			t.Errorf("%s held as assumed on read settings", v.Candidate.ID)
		}
	}
	if approved == 0 {
		t.Errorf("nothing approved on read settings: %s", r.Summary.String())
	}
}

// TestPolicyApprovalsRefuseAssumed: even a verdict that says approved does not let heal's
// approvals run an action of a finding with assumptions.
func TestPolicyApprovalsRefuseAssumed(t *testing.T) {
	a := plan.Action{ID: "DC1<-DC2/retry_replication", Key: "k", Name: "retry_replication", Risk: "low", Kind: plan.KindPowerShell, Target: "DC1"}
	p := &plan.Plan{Findings: []plan.Finding{{ID: "DC1<-DC2", Actions: []plan.Action{a}, Assumptions: []string{"DC1's DNS client settings were not read"}}}}
	v := policy.Verdict{Candidate: policy.CandidateFromAction("DC1<-DC2", a), Approved: true, Class: policy.ClassApproved}
	pa := heal.NewPolicyApprovals("heal policy test", []policy.Verdict{v})
	_, err := pa.ApproveAction(context.Background(), apply.Request{Plan: p}, a, false)
	if err == nil || !strings.Contains(err.Error(), policy.HoldAssumed) {
		t.Errorf("err = %v", err)
	}
	p.Findings[0].Assumptions = nil
	if _, err := pa.ApproveAction(context.Background(), apply.Request{Plan: p}, a, false); err != nil {
		t.Errorf("without assumptions: %v", err)
	}
}
