package main

import (
	"os"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/plan"
)

// planPart is the part of plan's or show's output that the plan renderer printed.
func planPart(t *testing.T, out, end string) string {
	t.Helper()
	i := strings.Index(out, end)
	if i < 0 {
		t.Fatalf("no %q in:\n%s", end, out)
	}
	return out[:i]
}

// TestShowSavedPlan: show prints a saved plan exactly as plan printed it, then its approval
// state and what the journal recorded, and the next command.
func TestShowSavedPlan(t *testing.T) {
	c := newCLI(t)
	facts := scenarioFactsFile(t, "source-cname-missing")
	p := c.path("p.json")
	code, planOut, stderr := c.run("", "plan", "--facts", facts, "-o", p)
	if code != exitProposed {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	if !strings.Contains(planOut, "Next: fix8524 approve "+p+" --by NAME, then fix8524 apply "+p+" --demo\n") {
		t.Errorf("plan -o does not say what comes next:\n%s", planOut)
	}
	code, out, stderr := c.run("", "show", p, "--state", c.state)
	if code != exitOK {
		t.Fatalf("show: exit %d: %s", code, stderr)
	}
	if got, want := planPart(t, out, "\nApproval:"), planPart(t, planOut, "\nSaved the plan"); got != want {
		t.Errorf("show prints the plan differently from plan:\n--- show\n%s\n--- plan\n%s", got, want)
	}
	for _, want := range []string{"Approval: not approved", "Journal: nothing recorded for this plan", "Next: fix8524 approve " + p + " --by NAME --state " + c.state + ", then fix8524 apply " + p + " --demo --state " + c.state} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	if code, _, stderr := c.run("", "approve", p, "--by", "alice", "--reason", "CHG-1", "--state", c.state); code != exitOK {
		t.Fatalf("approve: exit %d: %s", code, stderr)
	}
	_, out, _ = c.run("", "show", p, "--state", c.state)
	for _, want := range []string{"Approval: approved by alice at ", `reason "CHG-1"`, "more.\n", "1 run(s) recorded for this plan", "alice: approved: approved by alice", "Next: fix8524 apply " + p + " --demo --state " + c.state} {
		if !strings.Contains(out, want) {
			t.Errorf("show after approve lacks %q:\n%s", want, out)
		}
	}
	// The plan edited after its approval: the approval no longer holds, and show says why.
	c.write("p.json", mustRead(t, p)+"\n")
	_, out, _ = c.run("", "show", p, "--state", c.state)
	if !strings.Contains(out, "Approval: not valid: approval refused: plan changed after approval") {
		t.Errorf("show of an edited plan:\n%s", out)
	}
	// show changes nothing and needs no journal.
	empty := c.path("empty")
	if code, out, stderr := c.run("", "show", p, "--state", empty); code != exitOK || !strings.Contains(out, "no journal in "+empty) {
		t.Errorf("show with a missing state dir: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := os.Stat(empty); err == nil {
		t.Error("show created the state directory")
	}
}

// TestShowPlanWithoutActions: a plan that proposes no action suggests neither approve nor
// apply, in plan, show and heal.
func TestShowPlanWithoutActions(t *testing.T) {
	c := newCLI(t)
	p := c.path("o.json")
	code, out, stderr := c.run("", "plan", "--facts", scenarioFactsFile(t, "source-offline"), "-o", p)
	if code != exitProposed {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, "Nothing to approve or apply: the plan proposes no action") || strings.Contains(out, "fix8524 approve") {
		t.Errorf("plan of source-offline:\n%s", out)
	}
	_, out, _ = c.run("", "show", p, "--state", c.state)
	if !strings.Contains(out, "Approval: none needed: the plan proposes no action") || strings.Contains(out, "fix8524 approve") || strings.Contains(out, "Next:") {
		t.Errorf("show of a plan without actions:\n%s", out)
	}
}

// TestHealEscalationExplains: heal's escalation names each held finding's diagnosis, why it
// was held and its manual steps, and the show command; with no action, no approve or apply.
func TestHealEscalationExplains(t *testing.T) {
	c := newCLI(t)
	code, out, stderr := c.run("", "heal", "--demo", "source-offline", "--clock", inWindow, "--state", c.state)
	if code != exitProposed {
		t.Fatalf("heal: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"Plan for a human: ", "DC1<-DC2: source_offline", "DC2 does not answer LDAP or RPC",
		"held: the playbook proposes no action for it, only manual steps", "Manual steps:", "Make the source DC operational",
		"Test-NetConnection -ComputerName 192.0.2.12 -Port 389", "review it:             fix8524 show ",
		"It proposes no action: nothing to approve or apply", "1 finding needs a human",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("heal output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "fix8524 approve") || strings.Contains(out, "fix8524 apply") {
		t.Errorf("heal suggests approving a plan without actions:\n%s", out)
	}
	_, path, _ := strings.Cut(out, "Plan for a human: ")
	path, _, _ = strings.Cut(path, "\n")
	code, show, stderr := c.run("", "show", path, "--state", c.state)
	if code != exitOK || !strings.Contains(show, "Diagnosis: source_offline") || !strings.Contains(show, "1 run(s) recorded for this plan") {
		t.Errorf("show of the escalated plan: exit %d\n%s\n%s", code, show, stderr)
	}
}

func TestShowErrors(t *testing.T) {
	c := newCLI(t)
	garbage := c.write("garbage.json", "[]")
	code, _, stderr := c.run("", "show", garbage)
	if code != exitError || !strings.Contains(stderr, "the document holds a list where an object is expected") || strings.Contains(stderr, "Go value") {
		t.Errorf("show garbage.json: exit %d: %s", code, stderr)
	}
	if code, _, stderr := c.run("", "show"); code != exitError || !strings.Contains(stderr, "Usage: fix8524 show PLAN.json") {
		t.Errorf("show without a plan: exit %d: %s", code, stderr)
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// A plan made with -var says to apply it with the same -var (apply refuses a plan made with
// other variables): the hints of plan, approve and show give each variable that differs from the
// embedded playbook's, strings raw and other values as HCL, shell-quoted.
func TestNextHintsCarryTheVariables(t *testing.T) {
	c := newCLI(t)
	p := c.path("p.json")
	code, out, stderr := c.run("", "plan", "--demo", "-var", `decommissioned=["DC2"]`, "-var", "event_lookback=48h", "-var", "gone_after_days=14", "-o", p)
	if code != exitProposed {
		t.Fatalf("plan: exit %d: %s", code, stderr)
	}
	vars := ` -var 'decommissioned=["DC2"]' -var event_lookback=48h`
	if !strings.Contains(out, "then fix8524 apply "+p+" --demo"+vars+"\n") {
		t.Errorf("plan's hint lacks the variables (gone_after_days=14 is the default and is left out):\n%s", out)
	}
	code, out, stderr = c.run("", "show", p, "--state", c.state)
	if code != exitOK || !strings.Contains(out, "fix8524 apply "+p+" --demo"+vars+" --state "+c.state) {
		t.Errorf("show: exit %d, its hint lacks the variables:\n%s%s", code, out, stderr)
	}
	// A hostile plan file's variables are quoted like any other value.
	hostile := planVarArgs(&plan.Plan{Variables: map[string]any{"x\n$(rm)": "a'b\x1b[31m"}})
	if strings.ContainsAny(hostile, "\n\x1b") || !strings.HasPrefix(hostile, " -var $'") {
		t.Errorf("hostile variables: %q", hostile)
	}
}
