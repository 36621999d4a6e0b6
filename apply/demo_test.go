package apply_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/lab/demo"
	labwinrm "github.com/fix8524/fix8524/lab/winrm"
)

// TestTransportFailsMidAction drives the real path (WinRM client → WS-Management server →
// demo World): the connection drops while the command's output is fetched. The action is
// recorded as failed with the transport error; the next apply re-checks it, finds the CNAME
// registered (the command did run), and does not run it again.
func TestTransportFailsMidAction(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	pb := playbook(t)
	lz := &demo.Lazy{}
	defer lz.Close()
	s, err := gather.Complete(ctx, lz, pb.Needs)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(p, "", "  ")
	planPath := filepath.Join(dir, "p.json")
	os.WriteFile(planPath, b, 0o644)
	a, _ := approval.ApproveAt(time.Now(), b, p.Fingerprint, "alice", time.Hour, "", nil)
	approval.Save(planPath, a)
	j, err := journal.Create(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	srv := lz.Demo().WinRMServer("DC2")
	srv.InjectFault(labwinrm.Fault{Kind: labwinrm.FaultDrop, Action: "Receive"})
	var out strings.Builder
	o := apply.Options{Plan: p, PlanBytes: b, PlanPath: planPath, Playbook: pb, Approvals: apply.FileApprovals{PlanPath: planPath},
		Facts: lz, Exec: lz, Journal: j, Out: &out, WindowsWaived: demo.WindowsWaived,
		Sleep: func(context.Context, time.Duration) error { return nil }}
	res, err := apply.Run(ctx, o)
	if err != nil || res.Outcome != apply.Failed {
		t.Fatalf("with a dropped connection: %s %v\n%s", res.Outcome, err, out.String())
	}
	st := res.Findings[0].Steps[0]
	if st.Name != "register_cname" || st.Outcome != apply.Failed || st.ExitCode != nil || !strings.Contains(st.Error, "dropped") {
		t.Fatalf("step %+v", st)
	}
	if un, _ := j.Unfinished("contoso.com"); len(un) != 0 {
		t.Fatalf("unfinished after a transport failure: %+v", un)
	}
	started := srv.CommandsStarted()

	srv.InjectFault(labwinrm.Fault{})
	out.Reset()
	// The failed run spent its approval: approved again (another approval: another time).
	a, _ = approval.ApproveAt(time.Now().Add(-time.Minute), b, p.Fingerprint, "alice", time.Hour, "", nil)
	approval.Save(planPath, a)
	res, err = apply.Run(ctx, o)
	if err != nil || res.Outcome != apply.Succeeded {
		t.Fatalf("second apply: %s %v\n%s", res.Outcome, err, out.String())
	}
	if srv.CommandsStarted() != started {
		t.Fatalf("register_cname ran again on DC2 although the re-check found it in effect")
	}
	if !strings.Contains(res.Findings[0].Steps[0].Reason, "already in effect") {
		t.Fatalf("step %+v", res.Findings[0].Steps[0])
	}
}
