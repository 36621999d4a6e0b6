package report

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// planTime is the clock of every plan the tests make.
var planTime = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func loadPlaybook(t testing.TB) *engine.Playbook {
	t.Helper()
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return pb
}

// scenarioFacts is a scenario's facts built from its World, with every observation the
// playbook asks for.
func scenarioFacts(t testing.TB, pb *engine.Playbook, name string) *facts.Snapshot {
	t.Helper()
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	s := w.Base()
	w.ObserveNeeds(s, 8, pb.Needs)
	return s
}

// planOf plans s, after a round trip of the facts through their JSON file format.
func planOf(t testing.TB, pb *engine.Playbook, s *facts.Snapshot) *plan.Plan {
	t.Helper()
	var b bytes.Buffer
	if err := facts.Encode(&b, s); err != nil {
		t.Fatal(err)
	}
	s2, err := facts.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	p, err := engine.MakePlan(pb, s2, engine.PlanOptions{Now: planTime})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func scenarioPlan(t testing.TB, name string) *plan.Plan {
	t.Helper()
	pb := loadPlaybook(t)
	return planOf(t, pb, scenarioFacts(t, pb, name))
}

func loadPlaybookDiags() (*engine.Playbook, map[string]*hcl.File, error) {
	pb, files, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		return nil, nil, diags
	}
	return pb, files, nil
}

// keepArtifact writes a rendered report to $FIX8524_REPORT_DIR (for a person or CI to look at)
// when it is set.
func keepArtifact(t testing.TB, name string, b []byte) {
	t.Helper()
	dir := os.Getenv("FIX8524_REPORT_DIR")
	if dir == "" {
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", filepath.Join(dir, name))
}
