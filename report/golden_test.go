package report

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fix8524/fix8524/internal/journal"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenInputs are the scenarios of the golden files: the demo (two low-risk actions, manual
// steps) with a valid approval and what an apply journaled, a stale DC (a high-risk guarded
// cleanup that needs its own approval, the DC not read) with a refused approval, and the demo
// read partially (two DCs not read, gathering problems folded).
func goldenInputs(t *testing.T) map[string]Input {
	demo := scenarioPlan(t, "source-cname-missing")
	stale := scenarioPlan(t, "stale-metadata")
	at := planTime.Add(10 * time.Minute)
	entries := []journal.Entry{
		{ID: 1, RunID: "r1", Time: at, Actor: "alice@admin01", Kind: journal.KindGate, Name: "approval", PlanFingerprint: demo.Fingerprint, Outcome: journal.Allowed, Reason: "approved by bob"},
		{ID: 2, RunID: "r1", Time: at.Add(time.Second), Actor: "alice@admin01", Kind: journal.KindAction, Name: "register_cname", Target: "DC2", PlanFingerprint: demo.Fingerprint, Outcome: journal.Started},
		{ID: 3, RunID: "r1", Time: at.Add(3 * time.Second), Actor: "alice@admin01", Kind: journal.KindAction, Name: "register_cname", Target: "DC2", PlanFingerprint: demo.Fingerprint, Outcome: journal.Succeeded, Ref: 2},
		{ID: 4, RunID: "r0", Time: at, Actor: "heal", Kind: journal.KindNote, Name: "heal-result", PlanFingerprint: "sha256:another-plan", Reason: "not about this plan"},
	}
	return map[string]Input{
		"demo": {Plan: demo, PlanFile: "plan.json",
			Approval: &Approval{Status: ApprovalValid, By: "bob", At: planTime.Add(5 * time.Minute), Expires: planTime.Add(4 * time.Hour), Reason: "CHG-1234"},
			Journal:  &Journal{Source: "the journal in /var/lib/fix8524", Entries: entries}},
		"stale-metadata": {Plan: stale, PlanFile: "stale.json",
			Approval: &Approval{Status: ApprovalRefused, Problem: "approval expired: expired at 2026-11-20T14:00:00Z"}},
		"partial": {Plan: planOf(t, loadPlaybook(t), partialPlanFacts(t)), PlanFile: "partial.json", Approval: &Approval{Status: ApprovalMissing}},
	}
}

// TestGolden compares the reports of the scenarios with testdata/*.golden.html and *.golden.md
// (go test ./report -run TestGolden -update rewrites them). Equal input gives equal
// bytes: the second rendering must match the first.
func TestGolden(t *testing.T) {
	for name, in := range goldenInputs(t) {
		for _, f := range []struct{ format, ext string }{{FormatHTML, ".golden.html"}, {FormatMarkdown, ".golden.md"}} {
			got, err := Render(f.format, in)
			if err != nil {
				t.Fatal(err)
			}
			again, err := Render(f.format, in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, again) {
				t.Errorf("%s %s: two renderings differ", name, f.format)
			}
			file := filepath.Join("testdata", name+f.ext)
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run go test ./report -run TestGolden -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendering (go test ./report -run TestGolden -update rewrites it); first difference at byte %d", file, firstDiff(got, want))
			}
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}
