package demo_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/demo"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

func start(t *testing.T, name string) *demo.Demo {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := demo.Start(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func planOf(t *testing.T, d *demo.Demo) (*engine.Playbook, *facts.Snapshot, *plan.Plan) {
	t.Helper()
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	o, err := d.GatherOptions(pb.Needs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := gatherWith(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return pb, s, p
}

// TestHealOverWinRM runs the default demo's planned actions through the real WinRM client and
// the demo's WS-Management servers, and checks that the World is healed.
func TestHealOverWinRM(t *testing.T) {
	d := start(t, "")
	_, _, p := planOf(t, d)
	if len(p.Findings) != 1 || p.Findings[0].Decision == nil || p.Findings[0].Decision.Name != "source_cname_not_registered" {
		t.Fatalf("unexpected plan: %+v", p.Findings)
	}
	x := &actions.Executor{Runners: d, LDAP: d}
	ctx := context.Background()
	for _, a := range p.Findings[0].Actions {
		if a.Transport != "winrm" {
			t.Fatalf("action %s travels over %q, want winrm", a.ID, a.Transport)
		}
		out := x.Run(ctx, a)
		if !out.OK() || !out.Ran || out.ExitCode == nil || *out.ExitCode != 0 {
			t.Fatalf("%s: %+v (stderr %q)", a.ID, out, out.Stderr)
		}
	}
	base := d.World.Base()
	for _, l := range base.Links {
		if l.LastResult != 0 {
			t.Fatalf("link %s <- %s still fails with %d", l.Destination, l.SourceDSAGUID, l.LastResult)
		}
	}
	// A second plan finds nothing to do.
	_, _, p2 := planOf(t, d)
	if len(p2.Findings) != 0 {
		t.Fatalf("after healing, the plan still has findings: %+v", p2.Findings)
	}
}

// TestReplicationFailsWhileBroken: the retry alone does not heal (the CNAME is still missing),
// and the handler reports the 8524 as a failed command.
func TestReplicationFailsWhileBroken(t *testing.T) {
	d := start(t, "")
	_, _, p := planOf(t, d)
	var retry *plan.Action
	for i, a := range p.Findings[0].Actions {
		if a.Name == "retry_replication" {
			retry = &p.Findings[0].Actions[i]
		}
	}
	if retry == nil {
		t.Fatal("no retry_replication action")
	}
	out := (&actions.Executor{Runners: d}).Run(context.Background(), *retry)
	if out.OK() || out.ExitCode == nil || *out.ExitCode == 0 || !strings.Contains(string(out.Stdout), "8524") {
		t.Fatalf("retry while broken: %+v stdout %q", out, out.Stdout)
	}
	if got := d.World.Base().Links[0].LastResult; got != scenario.ResultDNSLookupFailed {
		t.Fatalf("link result %d, want 8524", got)
	}
}

// TestUnknownScriptRefused: a script without a known marker changes nothing.
func TestUnknownScriptRefused(t *testing.T) {
	d := start(t, "")
	a := plan.Action{ID: "x/y", Name: "format_disk", Kind: plan.KindPowerShell, Transport: "winrm", Target: "DC2",
		PowerShell: "Format-Volume -DriveLetter C"}
	out := (&actions.Executor{Runners: d}).Run(context.Background(), a)
	if out.OK() || !strings.Contains(string(out.Stderr), "does not simulate") {
		t.Fatalf("unknown script: %+v stderr %q", out, out.Stderr)
	}
	// A known marker whose script no longer does what the demo simulates is refused too.
	a.Name, a.PowerShell = "register_cname", "Write-Output 'hello'"
	out = (&actions.Executor{Runners: d}).Run(context.Background(), a)
	if out.OK() || !strings.Contains(string(out.Stderr), "cannot simulate") {
		t.Fatalf("changed script: %+v stderr %q", out, out.Stderr)
	}
}

func gatherWith(ctx context.Context, o gather.Options) (*facts.Snapshot, error) {
	return gather.Gather(ctx, o)
}
