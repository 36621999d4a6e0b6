package apply_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/plan"
)

// refusedAsUsed checks that res was refused because gate's approval was already used.
func refusedAsUsed(t *testing.T, e *env, res apply.Result, gate string) {
	t.Helper()
	for _, rf := range res.Refusals {
		if rf.Gate == gate && strings.Contains(rf.Reason, "already used") {
			if res.Outcome != apply.Refused || res.ExitCode() != 3 {
				t.Fatalf("outcome %s exit %d", res.Outcome, res.ExitCode())
			}
			return
		}
	}
	t.Fatalf("outcome %s %+v, want gate %s refused as already used\n%s\n%s", res.Outcome, res.Refusals, gate, e.out.String(), e.dumpJournal())
}

// An approval admits one apply: replaying it, even on a forest broken again, is refused and
// runs nothing; approving the plan again admits it again.
func TestApprovalIsSingleUse(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	if res := e.run(nil); res.Outcome != apply.Succeeded {
		t.Fatalf("first apply: %s %+v", res.Outcome, res.Refusals)
	}
	os.Remove(e.lab.logPath) // broken again
	e.lab.load()
	refusedAsUsed(t, e, e.run(nil), "approval")
	if n := e.lab.count("register_cname"); n != 1 {
		t.Fatalf("the replayed approval ran register_cname again (%d runs)", n)
	}
	e.approve(e.now.Add(time.Second), time.Hour, nil)
	if res := e.run(nil); res.Outcome != apply.Succeeded || e.lab.count("register_cname") != 2 {
		t.Fatalf("after approving again: %s %+v", res.Outcome, res.Refusals)
	}
}

// A run that found nothing to do (every link healthy now) still used its approval.
func TestApprovalIsSpentByNothingToDo(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	e.lab.mutate("register DC2 cname")
	e.lab.mutate("replicate DC1 DC2")
	if res := e.run(nil); res.Outcome != apply.Nothing {
		t.Fatalf("healthy now: %s", res.Outcome)
	}
	os.Remove(e.lab.logPath)
	e.lab.load()
	refusedAsUsed(t, e, e.run(nil), "approval")
}

// A refusal at a gate does not use the approval: the same approval applies once the gate
// admits.
func TestRefusedRunDoesNotSpendTheApproval(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	if _, err := e.j.AcquireLock("contoso.com", journal.Holder{User: "bob", Host: "other-host", PID: 4242}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if res := e.run(nil); res.Outcome != apply.Refused || res.Refusals[0].Gate != "lock" {
		t.Fatalf("locked: %s %+v", res.Outcome, res.Refusals)
	}
	e.j.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) }) // bob's lock expired
	if _, err := e.j.BreakLock("contoso.com", "tester", "test"); err != nil {
		t.Fatal(err)
	}
	if res := e.run(nil); res.Outcome != apply.Succeeded {
		t.Fatalf("after the lock: %s %+v\n%s", res.Outcome, res.Refusals, e.out.String())
	}
}

// A per-action approval is single-use too: the plan approved again does not bring back a
// metadata cleanup's own approval.
func TestPerActionApprovalIsSingleUse(t *testing.T) {
	e := staleEnv(t, "", "", "")
	e.approve(e.now, time.Hour, nil, cleanupID)
	if res := e.run(nil); res.Outcome != apply.Succeeded || e.lab.count("metadata_cleanup") != 1 {
		t.Fatalf("first apply: %s %+v\n%s", res.Outcome, res.Refusals, e.out.String())
	}
	os.Remove(e.lab.logPath) // DC3's NTDS Settings back
	e.lab.load()
	e.approve(e.now.Add(time.Second), time.Hour, nil) // the plan again, not the cleanup
	refusedAsUsed(t, e, e.run(nil), "approval:"+cleanupID)
	if n := e.lab.count("metadata_cleanup"); n != 1 {
		t.Fatalf("the cleanup ran again under a used approval (%d runs)", n)
	}
}

// A run interrupted after its first action (the operator's Ctrl-C) leaves its approval to a
// resume of this plan, which spends it.
func TestInterruptedRunIsResumedWithTheSameApproval(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	ctx, cancel := context.WithCancel(context.Background())
	e.lab.after = func(a plan.Action) {
		if a.Name == "register_cname" {
			cancel()
		}
	}
	o := e.options()
	res, err := apply.Run(ctx, o)
	if err != nil || res.Outcome == apply.Succeeded {
		t.Fatalf("interrupted run: %s %v\n%s", res.Outcome, err, e.out.String())
	}
	e.lab.after = nil
	u, err := e.j.ApprovalUse(approvalID(t, e))
	if err != nil || u.State != journal.UseInterrupted {
		t.Fatalf("after the interruption: %+v %v\n%s", u, err, e.dumpJournal())
	}
	// The interrupted run's retry took effect: the resume finds the link healthy.
	if res := e.run(nil); res.Outcome != apply.Succeeded && res.Outcome != apply.Nothing {
		t.Fatalf("resume: %s %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
	}
	refusedAsUsed(t, e, e.run(nil), "approval")
}

func approvalID(t *testing.T, e *env) string {
	t.Helper()
	a, err := approval.Load(e.planPath)
	if err != nil {
		t.Fatal(err)
	}
	return a.ID()
}
