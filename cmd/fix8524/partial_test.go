package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/lab/sim"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// partialForest serves a synthetic forest of 30 DCs in which 12 DCs are black-holed (more
// than the 10 problems gather used to list) and 3 are flaky (their first LDAP connections are
// reset and their first host-name lookups time out), and returns the gather options.
func partialForest(t *testing.T, pb *engine.Playbook) (gather.Options, []string, []string) {
	t.Helper()
	sy, err := sim.NewSynthetic(30, 2, 0, 7) // nothing fails: only the unread DCs are a problem
	if err != nil {
		t.Fatal(err)
	}
	holes, flaky := map[string]bool{}, map[string]int{}
	var holeNames, flakyNames []string
	for i, dc := range sy.Base().DCs {
		switch {
		case dc.Name == sy.Base().SeedDC:
		case i%5 == 1 || i%5 == 3:
			if len(holeNames) < 12 {
				holes[dc.Name], holes[dc.IPs.Value[0]] = true, true
				holeNames = append(holeNames, dc.Name)
			}
		case i%5 == 2 && len(flakyNames) < 3:
			flaky[dc.Name] = 2
			flakyNames = append(flakyNames, dc.Name)
		}
	}
	f, err := sim.Start(context.Background(), sy, sim.Options{Blackhole: holes, Flaky: flaky})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	o, err := f.GatherOptions("sim:partial", pb.Needs)
	if err != nil {
		t.Fatal(err)
	}
	o.DCTimeout = 3 * time.Second
	return o, holeNames, flakyNames
}

func shippedPlaybook(t *testing.T) *engine.Playbook {
	t.Helper()
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return pb
}

// A plan from a partial read says so: the human view and the JSON count the DCs read of the
// DCs known, name every DC not read with its reason, list every gathering problem, and the
// summary says partial; it exits 2 (1 with --require-complete), though no link fails. Flaky
// DCs are read: their transient failures are retried.
func TestPartialPlanNamesTheDCsNotRead(t *testing.T) {
	pb := shippedPlaybook(t)
	o, holes, flaky := partialForest(t, pb)
	s, err := gather.Gather(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	ix := facts.NewIndex(s)
	for _, n := range flaky {
		if dc := ix.DCByName(n); !dc.Inbound.Known || !dc.IPs.Known {
			t.Errorf("flaky %s was not read after retries: inbound %+v, ips %+v", n, dc.Inbound, dc.IPs)
		}
	}
	c := newCLI(t)
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
	planPath := c.path("p.json")
	code := planFromFacts(context.Background(), e, s, planOpts{pb: pb, out: planPath, now: time.Now()})
	if code != exitProposed {
		t.Fatalf("partial plan: exit %d, want 2\n%s\n%s", code, out.String(), errb.String())
	}
	view := out.String()
	for _, want := range []string{"Coverage: PARTIAL", "18 of 30 DCs read (12 not read", "Plan: partial (12 DC(s) not read)"} {
		if !strings.Contains(view, want) {
			t.Errorf("the plan view lacks %q:\n%s", want, view)
		}
	}
	if strings.Contains(view, "Nothing to do") {
		t.Errorf("a partial plan says nothing to do:\n%s", view)
	}
	for _, n := range holes {
		if !strings.Contains(view, "not read: "+n+": ") || !strings.Contains(errb.String(), n) {
			t.Errorf("%s is not named as not read:\n%s\n%s", n, view, errb.String())
		}
	}
	for _, n := range flaky {
		if strings.Contains(view, "not read: "+n) {
			t.Errorf("flaky %s is named as not read", n)
		}
	}
	if strings.Count(view, "dc:") < 12 {
		t.Errorf("the plan view does not list every gathering problem:\n%s", view)
	}
	b, err := os.ReadFile(planPath)
	if err != nil {
		t.Fatal(err)
	}
	var p struct {
		Summary  struct{ Partial bool }
		Coverage facts.Coverage
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if !p.Summary.Partial || p.Coverage.Complete || p.Coverage.DCs != 30 || p.Coverage.DCsRead != 18 || len(p.Coverage.NotRead) != 12 ||
		p.Coverage.LinksRead == 0 || len(p.Coverage.Problems) < 12 {
		t.Errorf("plan JSON coverage %+v, partial %v", p.Coverage, p.Summary.Partial)
	}
	for _, d := range p.Coverage.NotRead {
		if d.Reason == "" {
			t.Errorf("%s not read without a reason", d.Name)
		}
	}
	// show prints the saved plan's coverage through the same renderer; the report has its
	// PARTIAL banner and names the same DCs.
	code, shown, stderr := c.run("", "show", planPath, "--state", c.state)
	if code != exitOK || planPart(t, shown, "\nApproval:") != planPart(t, view, "\nSaved the plan") {
		t.Errorf("show of the partial plan: exit %d: %s\n%s", code, stderr, shown)
	}
	code, md, stderr := c.run("", "report", planPath, "--format", "markdown")
	if code != exitOK || !strings.Contains(md, "> **PARTIAL:** 12 of 30 DCs could not be read") || !strings.Contains(md, "| 18 (of 30 known: PARTIAL) |") {
		t.Errorf("report of the partial plan: exit %d: %s\n%s", code, stderr, md)
	}
	for _, n := range holes {
		if !strings.Contains(md, "| `"+n+"` |") {
			t.Errorf("the report does not name %s as not read", n)
		}
	}
	out.Reset()
	errb.Reset()
	if code := planFromFacts(context.Background(), e, s, planOpts{pb: pb, now: time.Now(), requireComplete: true}); code != exitError {
		t.Fatalf("--require-complete: exit %d, want 1", code)
	}

	// gather lists every problem, not the first 10, and --require-complete exits 1.
	var sum bytes.Buffer
	summarize(&sum, s)
	for _, n := range holes {
		if !strings.Contains(sum.String(), "not read: "+n) {
			t.Errorf("gather's summary does not name %s:\n%s", n, sum.String())
		}
	}
	if strings.Contains(sum.String(), "more problems") {
		t.Errorf("gather's summary cuts the problems:\n%s", sum.String())
	}
}

// heal never reports a partial read healthy: exit 2 (a human is needed), and 1 with
// RequireComplete, which applies nothing.
func TestHealNeverHealthyFromAPartialRead(t *testing.T) {
	pb := shippedPlaybook(t)
	o, holes, _ := partialForest(t, pb)
	for _, require := range []bool{false, true} {
		j, err := journal.Create(filepath.Join(t.TempDir(), "state"))
		if err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		r := heal.Run(context.Background(), heal.Options{Policy: policy.Default(), Playbook: pb, Facts: gather.Live{Options: o},
			Exec: nopExec{}, Journal: j, Out: &out, RequireComplete: require, Forest: "bench.example"})
		j.Close()
		want := exitProposed
		if require {
			want = exitError
		}
		if r.ExitCode() != want {
			t.Fatalf("require-complete %v: exit %d, want %d: %s %v\n%s", require, r.ExitCode(), want, r.Summary.String(), r.Err, out.String())
		}
		if !strings.Contains(out.String(), "partial read") || !strings.Contains(out.String(), holes[0]) {
			t.Errorf("heal does not say the read is partial:\n%s", out.String())
		}
	}
}

// nopExec runs nothing: the partial forest proposes no action.
type nopExec struct{}

func (nopExec) Run(context.Context, plan.Action) actions.Outcome {
	return actions.Outcome{Err: errors.New("nothing may run in this test")}
}
func (nopExec) Inspect(context.Context, plan.Action) (ldapdelete.ObjectState, error) {
	return ldapdelete.ObjectState{}, errors.New("nothing may run in this test")
}
func (nopExec) Leftovers(context.Context, plan.Action, ldapdelete.DNSQuerier, ldapdelete.LeftoversInput) []ldapdelete.Leftover {
	return nil
}
