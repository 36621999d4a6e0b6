package apply_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine/apply"
	"github.com/fix8524/fix8524/engine/journal"
)

func TestHealDefaultScenario(t *testing.T) {
	e := newEnv(t, "source-cname-missing", "")
	e.approve(e.now, 4*time.Hour, nil)
	res := e.run(nil)
	if res.Outcome != apply.Succeeded || res.ExitCode() != 0 {
		t.Fatalf("outcome %s, refusals %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
	}
	if !healthy(e.lab.links()) {
		t.Fatalf("links not healed: %+v", e.lab.links())
	}
	t.Log(e.out.String())
	t.Log(e.dumpJournal())
}

func TestExploreStale(t *testing.T) {
	e := newEnv(t, "", fmt.Sprintf(staleScenario, "", ""))
	for _, f := range e.plan.Findings {
		t.Logf("%s %v %s", f.ID, f.Decision, f.Status)
		for _, a := range f.Actions {
			t.Logf("  %s blocked=%v %v guards=%+v", a.ID, a.Blocked, a.Reasons, a.Guards)
		}
	}
	_ = strings.Join
	_ = journal.Started
}
