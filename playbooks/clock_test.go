package playbooks

import (
	"fmt"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
)

// The same forest gathered again later: the age of every failing partnership has grown, nothing
// else. Within two days, a finding whose walk answers the same keeps its fingerprint (an approved
// plan is not stale because the day count ticked between approval and the change window); at any
// age, one whose walk changes (a source crossing gone_after_days or the tombstone lifetime) gets
// another.
func TestFingerprintAcrossTheClock(t *testing.T) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	answers := func(f *plan.Finding) string {
		s := fmt.Sprint(f.Status)
		if f.Decision != nil {
			s += " " + f.Decision.Name
		}
		for _, w := range f.Walk {
			s += fmt.Sprintf(" %s=%s", w.Decision, w.Result)
		}
		return s
	}
	same, changed := 0, 0
	for _, name := range scenario.Names() {
		sc, err := scenario.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		s := scenarioFacts(t, pb, name)
		before, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
		if err != nil {
			t.Fatal(err)
		}
		for _, later := range []time.Duration{20 * time.Hour, 30 * time.Hour, 47 * time.Hour, 15 * 24 * time.Hour, 70 * 24 * time.Hour} {
			s2 := scenarioFacts(t, pb, name)
			s2.GatheredAt = s2.GatheredAt.Add(later)
			after, err := engine.MakePlan(pb, s2, engine.PlanOptions{Now: sc.Now.Add(later)})
			if err != nil {
				t.Fatal(err)
			}
			for i := range before.Findings {
				b := &before.Findings[i]
				for j := range after.Findings {
					a := &after.Findings[j]
					if a.ID != b.ID {
						continue
					}
					switch {
					case answers(a) == answers(b) && a.Fingerprint != b.Fingerprint && later < 48*time.Hour:
						t.Errorf("%s %s +%s: the same answers (%s), another fingerprint", name, a.ID, later, answers(a))
					case answers(a) != answers(b) && a.Fingerprint == b.Fingerprint:
						t.Errorf("%s %s +%s: other answers (%s → %s), the same fingerprint", name, a.ID, later, answers(b), answers(a))
					case answers(a) == answers(b) && later < 48*time.Hour:
						same++
					case answers(a) == answers(b):
						// Weeks later a source may cross gone_after_days: the same answers may
						// then rest on more evidence (whether it answers), which counts.
					default:
						changed++
					}
				}
			}
		}
	}
	if same == 0 || changed == 0 {
		t.Fatalf("the test proves nothing: %d findings kept their answers, %d changed", same, changed)
	}
	t.Logf("%d findings kept their answers and fingerprint across the clock, %d changed both", same, changed)
}
