package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/plan"
)

// plan --report writes the report in the same run; report PLAN.json writes it again from the
// saved plan, with its approval state and, with --journal, what the journal holds about it.
func TestReportFromPlan(t *testing.T) {
	dir := t.TempDir()
	planFile, page := filepath.Join(dir, "plan.json"), filepath.Join(dir, "r.html")
	e, out, stderr := testEnv(nil)
	code := run(context.Background(), e, []string{"plan", "--facts", scenarioFactsFile(t, "source-cname-missing"), "-o", planFile, "--report", page})
	if code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out.String(), "Wrote the report to "+page) {
		t.Errorf("plan does not say where the report is:\n%s", out)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Content-Security-Policy", "<svg", "DC1&lt;-DC2", "source_cname_not_registered", "not approved", "plan.json"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the report lacks %q", want)
		}
	}

	// Approved, then reported as Markdown (by the file's extension), with the journal.
	state := t.TempDir()
	e, _, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"approve", planFile, "--by", "alice", "--state", state}); code != exitOK {
		t.Fatalf("approve: exit %d: %s", code, stderr)
	}
	p, _, err := plan.Read(planFile)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(journal.Entry{Kind: journal.KindAction, Name: "register_cname", Target: "DC2", PlanFingerprint: p.Fingerprint, Outcome: journal.Succeeded}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	md := filepath.Join(dir, "ticket.md")
	e, _, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"report", planFile, "--journal", "--state", state, "-o", md}); code != exitOK {
		t.Fatalf("report: exit %d: %s", code, stderr)
	}
	b, err = os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# fix8524 report: contoso.com", "approved by alice", "- [ ] **low risk**", "```powershell", "| `register_cname` | `DC2` | succeeded |"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, b)
		}
	}

	// --format markdown to standard output; an edited plan shows its approval refused.
	e, out, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"report", "--format", "markdown", planFile}); code != exitOK || !strings.HasPrefix(out.String(), "# fix8524 report") {
		t.Fatalf("report to stdout: exit %d: %s %s", code, stderr, out)
	}
	raw, _ := os.ReadFile(planFile)
	if err := os.WriteFile(planFile, append(raw, ' '), 0o600); err != nil {
		t.Fatal(err)
	}
	e, out, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"report", planFile}); code != exitOK || !strings.Contains(out.String(), "does not admit this plan") {
		t.Errorf("edited plan: exit %d, %s; approval state not refused", code, stderr)
	}
}

// A plan file is untrusted: what is not a plan or not there is a clear error (exit 1), and -o
// never replaces anything but a regular file (FIFO and device plans: TestHostileInputsAreRefusedQuickly).
func TestReportBadInput(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.json")
	if err := os.WriteFile(garbage, []byte(`{"plan_format_version":1,"nonsense":true}`), 0o600); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "plan.json")
	e, _, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", scenarioFactsFile(t, "healthy"), "-o", good}); code != exitOK {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"report", garbage}, "not a fix8524 plan"},
		{[]string{"report", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"report", good, "-o", dir}, "not a regular file"},
		{[]string{"report", good, "--format", "pdf"}, "want html or markdown"},
		{[]string{"report", good, "--journal", "--state", dir}, "no journal in"},
		{[]string{"report"}, "Usage"},
	} {
		e, _, stderr := testEnv(nil)
		if code := run(context.Background(), e, tc.args); code != exitError || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want 1 and %q", tc.args, code, stderr, tc.want)
		}
	}
	// A healthy forest's report says so.
	e, out, _ := testEnv(nil)
	if code := run(context.Background(), e, []string{"report", good}); code != exitOK || !strings.Contains(out.String(), "nothing to do") {
		t.Errorf("healthy: exit %d", code)
	}
}

// report --journal reads the journal show reads: for a demo plan the demo's state, else
// --state or the profile's state directory.
func TestReportJournalIsShowsJournal(t *testing.T) {
	c := newCLI(t)
	p := c.demoPlan()
	if code, _, stderr := c.run("", "approve", p, "--by", "alice"); code != exitOK {
		t.Fatalf("approve: exit %d: %s", code, stderr)
	}
	_, show, _ := c.run("", "show", p)
	code, md, stderr := c.run("", "report", p, "--journal", "--format", "markdown")
	if code != exitOK || !strings.Contains(show, "alice: approved") || !strings.Contains(md, "| `approve` |") {
		t.Errorf("report --journal of a demo plan: exit %d: %s\n--- show\n%s\n--- report\n%s", code, stderr, show, md)
	}
	// A profile's state directory, for a plan that is not a demo's.
	c.vars["XDG_CONFIG_HOME"] = c.path("config")
	if err := os.MkdirAll(filepath.Join(c.path("config"), "fix8524"), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(c.path("config"), "fix8524", "profile.hcl"), []byte("state = \""+c.state+"\"\n"))
	live := c.path("live.json")
	facts := strings.Replace(mustRead(t, scenarioFactsFile(t, "source-cname-missing")), `"source": "scenario:source-cname-missing"`, `"source": "ldap://dc1.contoso.com"`, 1)
	if !strings.Contains(facts, "ldap://dc1.contoso.com") {
		t.Fatal("the scenario's facts do not name their source")
	}
	if code, _, stderr := c.run("", "plan", "--facts", writeFile(t, c.path("f.json"), []byte(facts)), "-o", live); code != exitProposed {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	lp, _, err := plan.Read(live)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(c.state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.Record(journal.Entry{Kind: journal.KindNote, Name: "approve", Reason: "approved by bob", PlanFingerprint: lp.Fingerprint}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	code, md, stderr = c.run("", "report", live, "--journal", "--format", "markdown")
	if code != exitOK || !strings.Contains(md, "approved by bob") {
		t.Errorf("report --journal with the profile's state: exit %d: %s\n%s", code, stderr, md)
	}
}
