package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
)

func planSummary(t *testing.T, pb *engine.Playbook, s *facts.Snapshot) string {
	t.Helper()
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range p.Findings {
		d := "-"
		if f.Decision != nil {
			d = f.Decision.Name
		}
		var acts []string
		for _, a := range f.Actions {
			acts = append(acts, fmt.Sprintf("%+v", a.Name))
		}
		lines = append(lines, fmt.Sprintf("%s %s %s %v %s", f.ID, f.Status, d, acts, f.Incomplete))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// For every scenario, planning from facts gathered over the simulated forest gives the same
// findings, decisions and actions as planning from the scenario's World directly.
func TestPlanFromSimulationEqualsDemo(t *testing.T) {
	var pf playbookFlags
	pb, _, diags := pf.load()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, name := range scenario.Names() {
		t.Run(name, func(t *testing.T) {
			want, err := demoFacts(pb, name)
			if err != nil {
				t.Fatal(err)
			}
			got, err := (&connFlags{}).demoGather(context.Background(), pb, name)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := planSummary(t, pb, got), planSummary(t, pb, want); g != w {
				t.Errorf("plan from gathered facts:\n%s\nplan from the World:\n%s", g, w)
			}
		})
	}
}

func TestLiveFlags(t *testing.T) {
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	l := addLiveFlags(fs)
	if err := fs.Parse([]string{"--dc", "dc1.example.invalid", "--tls", "starttls", "--user", "u@example.invalid"}); err != nil {
		t.Fatal(err)
	}
	if !l.requested() {
		t.Fatal("--dc not seen")
	}
	e, _, _ := testEnv(nil)
	// No password: the gather stops before any connection is attempted.
	if _, err := l.gather(context.Background(), e, nil); err == nil || !strings.Contains(err.Error(), "needs a password") {
		t.Fatalf("gather: %v", err)
	}
}

// `gather --demo NAME -o facts.json` then `plan --facts facts.json` proposes what
// `plan --demo NAME` proposes.
func TestGatherThenPlanEqualsPlanDemo(t *testing.T) {
	for _, name := range []string{scenario.Default, "samba-result-2"} {
		file := t.TempDir() + "/facts.json"
		e, _, stderr := testEnv(nil)
		if code := run(context.Background(), e, []string{"gather", "--demo", name, "-o", file}); code != exitOK {
			t.Fatalf("%s: gather exit %d: %s", name, code, stderr)
		}
		e1, out1, _ := testEnv(nil)
		c1 := run(context.Background(), e1, []string{"plan", "--facts", file, "--json"})
		e2, out2, _ := testEnv(nil)
		c2 := run(context.Background(), e2, []string{"plan", "--demo", name, "--json"})
		if c1 != c2 {
			t.Errorf("%s: exit %d from gathered facts, %d from --demo", name, c1, c2)
		}
		p1, p2 := decisions(t, out1.String()), decisions(t, out2.String())
		if p1 != p2 {
			t.Errorf("%s: decisions differ:\n gathered: %s\n demo:     %s", name, p1, p2)
		}
	}
}

func decisions(t *testing.T, planJSON string) string {
	t.Helper()
	var p plan.Plan
	if err := json.Unmarshal([]byte(planJSON), &p); err != nil {
		t.Fatalf("plan JSON: %v", err)
	}
	var out []string
	for _, f := range p.Findings {
		d := "-"
		if f.Decision != nil {
			d = f.Decision.Name
		}
		out = append(out, f.ID+"="+d+"/"+string(f.Status))
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}
