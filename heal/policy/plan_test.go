package policy_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// scenarioPlan plans an embedded scenario with the shipped playbook, observing what the
// playbook asks for from the simulated world (as --demo does).
func scenarioPlan(t *testing.T, pb *engine.Playbook, name string) *plan.Plan {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	s := w.Base()
	w.ObserveNeeds(s, 4, pb.Needs)
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// memJournal is a minimal History that remembers what "ran".
type memJournal struct {
	ran map[string]time.Time // dc|action -> last
}

func (j *memJournal) LastApplied(dc, action string) (time.Time, bool, error) {
	t, ok := j.ran[strings.ToLower(dc)+"|"+action]
	return t, ok, nil
}
func (j *memJournal) DCsTouchedSince(since time.Time) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for k, t := range j.ran {
		dc := k[:strings.IndexByte(k, '|')]
		if !t.Before(since) && !seen[dc] {
			seen[dc] = true
			out = append(out, dc)
		}
	}
	return out, nil
}
func (j *memJournal) FailedVerificationsSince(time.Time) (int, error) { return 0, nil }
func (j *memJournal) BreakerState() (bool, time.Time, error)          { return false, time.Time{}, nil }

// TestDemoHealsThenCooldown is issue 7's demo at the policy level: with the built-in default,
// the default demo scenario's low-risk actions are approved on the first run (exit 0 once
// they succeed); a second run 15 minutes later, the forest broken again, is held by the
// cooldown (exit 3).
func TestDemoHealsThenCooldown(t *testing.T) {
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	pl := scenarioPlan(t, pb, scenario.Default)
	cands := policy.CandidatesFromPlan(pl)
	if len(cands) == 0 {
		t.Fatalf("the default scenario proposes no action: %+v", pl.Summary)
	}
	p, notice, diags := policy.LoadOrDefault("")
	if diags.HasErrors() || notice == "" {
		t.Fatal("no default")
	}
	j := &memJournal{ran: map[string]time.Time{}}
	now := scenario.DefaultNow

	vs := policy.Decide(p, cands, j, now)
	s := policy.Summarize(vs)
	if s.Approved == 0 || s.HeldForHuman != 0 || s.Refused != 0 {
		for _, v := range vs {
			t.Logf("%s: %s %s", v.Candidate.ID, v.Hold, v.Reason)
		}
		t.Fatalf("first run: %s", s)
	}
	for _, v := range vs {
		if v.Approved {
			s.AddOutcome(policy.OutcomeSucceeded)
			j.ran[strings.ToLower(v.Candidate.Target)+"|"+v.Candidate.Action] = now
		}
	}
	s.HumanFindings = policy.HumanFindings(pl)
	if code := s.ExitCode(); code != policy.ExitOK {
		t.Fatalf("first run exit %d (%s)", code, s)
	}

	vs = policy.Decide(p, cands, j, now.Add(15*time.Minute))
	s = policy.Summarize(vs)
	s.HumanFindings = policy.HumanFindings(pl)
	if s.Approved != 0 || s.ByHold[policy.HoldCooldown] == 0 || s.ExitCode() != policy.ExitRefused {
		t.Fatalf("second run: %s, exit %d", s, s.ExitCode())
	}
	for _, v := range vs {
		if !strings.Contains(v.Reason, "cooldown") || v.Until.IsZero() {
			t.Errorf("second run: %s: %s", v.Candidate.ID, v.Reason)
		}
	}
}

// TestStaleMetadataIsNeverHealed: the scenario whose remedy is metadata cleanup is held for a
// human even under the most permissive policy a file can express.
func TestStaleMetadataIsNeverHealed(t *testing.T) {
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	permissive, diags := policy.Parse("p.hcl", []byte(`
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
	for _, name := range []string{"stale-metadata", "guid-mismatch"} {
		pl := scenarioPlan(t, pb, name)
		cands := policy.CandidatesFromPlan(pl)
		found := false
		for _, v := range policy.Decide(permissive, cands, &memJournal{ran: map[string]time.Time{}}, scenario.DefaultNow) {
			if v.Candidate.Action != "metadata_cleanup" {
				continue
			}
			found = true
			if v.Approved || v.Hold != policy.HoldNever || v.Class != policy.ClassHuman {
				t.Errorf("%s: metadata_cleanup verdict %+v", name, v)
			}
		}
		if !found {
			t.Errorf("%s: no metadata_cleanup candidate in the plan", name)
		}
	}
}

func TestHumanFindings(t *testing.T) {
	p := &plan.Plan{Findings: []plan.Finding{
		{ID: "a", Status: plan.FindingDiagnosed, Actions: []plan.Action{{Name: "x"}}, Manual: []plan.ManualStep{{Title: "advice"}}},
		{ID: "b", Status: plan.FindingDiagnosed, Manual: []plan.ManualStep{{Title: "only manual"}}},
		{ID: "c", Status: plan.FindingIncomplete},
	}}
	if n := policy.HumanFindings(p); n != 2 {
		t.Errorf("HumanFindings = %d, want 2", n)
	}
	// a failing link the playbook does not handle (1722) is not "healthy"
	unmatched := &plan.Plan{Unmatched: []plan.LinkRef{{Destination: "DC1", Source: "DC2", LastResult: 1722}}}
	if n := policy.HumanFindings(unmatched); n != 1 {
		t.Errorf("HumanFindings(only unmatched) = %d, want 1", n)
	}
	if s := (policy.Summary{HumanFindings: policy.HumanFindings(unmatched)}); s.ExitCode() != policy.ExitHuman {
		t.Errorf("exit %d for an unmatched failing link, want %d", s.ExitCode(), policy.ExitHuman)
	}
	if policy.HumanFindings(nil) != 0 || policy.CandidatesFromPlan(nil) != nil {
		t.Error("nil plan")
	}
	c := policy.CandidateFromAction("f", plan.Action{ID: "f/x", Key: "k", Name: "x", Risk: "low", Kind: plan.KindArgv,
		Target: "DC1", Argv: []string{"samba-tool", "domain", "demote"}, Blocked: true, Reasons: []string{"r"}})
	if c.Command != "samba-tool domain demote" || c.Finding != "f" || !c.Blocked || c.BlockedReasons[0] != "r" {
		t.Errorf("candidate %+v", c)
	}
}
