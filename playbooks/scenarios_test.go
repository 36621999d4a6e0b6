package playbooks

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
)

// scenarioFacts builds a scenario's facts the way --demo does before the simulated forest
// exists: the world's base facts plus the observations the playbook asks for.
func scenarioFacts(t testing.TB, pb *engine.Playbook, name string) *facts.Snapshot {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	s := w.Base()
	w.ObserveNeeds(s, 4, pb.Needs)
	return s
}

// TestScenarios plans every embedded scenario with the shipped playbook and checks the decision
// reached for every partnership against the scenario's expect map, in both directions: every
// expected partnership is diagnosed as expected, and nothing else is proposed.
func TestScenarios(t *testing.T) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, name := range scenario.Names() {
		t.Run(name, func(t *testing.T) {
			sc, err := scenario.Load(name)
			if err != nil {
				t.Fatal(err)
			}
			pb := pb
			if len(sc.Vars) > 0 {
				var diags hcl.Diagnostics
				if pb, _, diags = Load(engine.LoadOptions{Vars: sc.Vars}); diags.HasErrors() {
					t.Fatal(diags)
				}
			}
			s := scenarioFacts(t, pb, name)
			p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, f := range p.Findings {
				if f.Status != plan.FindingDiagnosed {
					t.Errorf("%s: %s: %s", f.ID, f.Status, f.Incomplete)
					continue
				}
				got[f.ID] = f.Decision.Name
				if len(f.Errors) > 0 {
					t.Errorf("%s: evaluation errors: %v", f.ID, f.Errors)
				}
				if len(f.Flags) > 0 {
					t.Errorf("%s: unexpected flags: %+v", f.ID, f.Flags)
				}
			}
			for id, want := range sc.Expect {
				if want == "healthy" {
					if d, ok := got[id]; ok {
						t.Errorf("%s: want healthy, got %s", id, d)
					}
					continue
				}
				if got[id] != want {
					t.Errorf("%s: want decision %s, got %q", id, want, got[id])
				}
			}
			for id, d := range got {
				if _, ok := sc.Expect[id]; !ok {
					t.Errorf("%s: unexpected finding (decision %s)", id, d)
				}
			}
			for id := range sc.ExpectActions {
				if _, ok := got[id]; !ok {
					t.Errorf("%s: expect_actions names a partnership without a finding", id)
				}
			}
			for _, f := range p.Findings {
				want, ok := sc.ExpectActions[f.ID]
				if !ok {
					continue
				}
				var acts []string
				for _, a := range f.Actions {
					if a.Blocked {
						acts = append(acts, a.Name+" (blocked)")
					} else {
						acts = append(acts, a.Name)
					}
				}
				if !slices.Equal(acts, want) {
					t.Errorf("%s: want actions %v, got %v", f.ID, want, acts)
				}
			}
			// Warnings, in both directions too: every expected one, and no other.
			gotW := map[string][]string{}
			for _, w := range p.Warnings {
				gotW[w.ID] = append(gotW[w.ID], w.Name)
				if strings.Contains(w.Message, "(unknown") {
					t.Errorf("%s: warning %s: message has unknown parts: %s", w.ID, w.Name, w.Message)
				}
				if len(w.Flags) > 0 {
					t.Errorf("%s: warning %s: unexpected flags: %+v", w.ID, w.Name, w.Flags)
				}
			}
			for id, want := range sc.ExpectWarnings {
				if _, failing := got[id]; failing {
					t.Errorf("%s: expects warnings but has a finding", id)
				}
				if g := gotW[id]; !slices.Equal(g, want) {
					t.Errorf("%s: want warnings %v, got %v", id, want, g)
				}
			}
			for id, names := range gotW {
				if _, ok := sc.ExpectWarnings[id]; !ok {
					t.Errorf("%s: unexpected warnings %v", id, names)
				}
			}
			if p.Summary.Warnings != len(p.Warnings) {
				t.Errorf("summary counts %d warnings, the plan has %d", p.Summary.Warnings, len(p.Warnings))
			}
			if t.Failed() {
				b, _ := json.MarshalIndent(p.Findings, "", "  ")
				t.Logf("plan findings:\n%s", b)
				b, _ = json.MarshalIndent(p.Warnings, "", "  ")
				t.Logf("plan warnings:\n%s", b)
			}
		})
	}
}

// TestEveryDecisionHasAScenario keeps the playbook honest: each decision is reachable from a
// forest someone can run (`fix8524 plan --demo NAME`).
func TestEveryDecisionHasAScenario(t *testing.T) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	covered := map[string][]string{}
	for _, name := range scenario.Names() {
		sc, err := scenario.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range sc.Expect {
			covered[d] = append(covered[d], name)
		}
	}
	for _, d := range pb.Decisions {
		if len(covered[d.Name]) == 0 {
			t.Errorf("decision %q is expected by no scenario in lab/scenarios", d.Name)
		}
	}
	for d, names := range covered {
		if d != "healthy" && pb.Decision(d) == nil {
			t.Errorf("scenarios %v expect decision %q, which the playbook does not have", names, d)
		}
	}
}

// TestEveryWarningHasAScenario: each warning of the shipped playbook is reported in a forest
// someone can run, and scenarios expect only warnings the playbook has.
func TestEveryWarningHasAScenario(t *testing.T) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	covered := map[string][]string{}
	for _, name := range scenario.Names() {
		sc, err := scenario.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, ws := range sc.ExpectWarnings {
			for _, w := range ws {
				covered[w] = append(covered[w], name)
			}
		}
	}
	if len(pb.Warnings) == 0 {
		t.Fatal("the shipped playbook has no warning")
	}
	for _, w := range pb.Warnings {
		if len(covered[w.Name]) == 0 {
			t.Errorf("warning %q is expected by no scenario in lab/scenarios", w.Name)
		}
	}
	for w, names := range covered {
		if pb.WarningRule(w) == nil {
			t.Errorf("scenarios %v expect warning %q, which the playbook does not have", names, w)
		}
	}
}
