package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/internal/journal"
)

// TestDriftRefusalNamesTheChange is issue 15's "a drift refusal says only two hashes": the plan
// was made from facts in which one DNS server did not answer one question in time (what made
// two concurrent demo applies refuse), the demo forest answers it now. The refusal names the
// observation before and after, in the output and in the journal, and says what to do.
func TestDriftRefusalNamesTheChange(t *testing.T) {
	c := newCLI(t)
	f := c.path("f.json")
	if code, _, stderr := c.run("", "gather", "--demo", "-o", f); code != exitOK {
		t.Fatalf("gather --demo: exit %d: %s", code, stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(mustRead(t, f)), &doc); err != nil {
		t.Fatal(err)
	}
	changed := false
	for i, o := range doc["dns"].([]any) {
		m := o.(map[string]any)
		if m["server"] == "192.0.2.11" && m["name"] == "dc2.contoso.com" && m["type"] == "A" {
			doc["dns"].([]any)[i] = map[string]any{"server": "192.0.2.11", "name": "dc2.contoso.com", "type": "A", "error": "timeout"}
			changed = true
		}
	}
	if !changed {
		t.Fatal("the demo facts have no A dc2.contoso.com observation on 192.0.2.11")
	}
	b, _ := json.Marshal(doc)
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	p := c.path("p.json")
	if code, out, stderr := c.run("", "plan", "--facts", f, "-o", p); code != exitProposed {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr := c.run("", "approve", p, "--by", "alice", "--state", c.state); code != exitOK {
		t.Fatalf("approve: exit %d: %s", code, stderr)
	}
	code, out, stderr := c.run("", "apply", p, "--demo", "--state", c.state, "--emergency", "--reason", "test")
	if code != exitRefused {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
	const want = "DC1<-DC2: host_on_source_dns_a: 192.0.2.11 A dc2.contoso.com: timeout → NOERROR (authoritative) 192.0.2.12"
	for _, w := range []string{"changed: " + want, "Refused by the drift gate: the plan is stale: DC1<-DC2: evidence changed", "  What to do: make a new plan"} {
		if !strings.Contains(out, w) {
			t.Errorf("apply output lacks %q:\n%s", w, out)
		}
	}
	journaled := false
	for _, en := range c.journalEntries() {
		if en.Kind == journal.KindGate && en.Name == "drift" && en.Outcome == journal.Refused {
			journaled = strings.Contains(en.Verification, want) && strings.Contains(en.Reason, "to do: make a new plan")
		}
	}
	if !journaled {
		t.Error("the journal's drift refusal does not name the changed evidence")
	}
}

// TestDemoWindowGate: the demo enforces the playbook's change windows; --clock shows the window
// gate refuse (with the next opening) and admit; --emergency --reason acts outside them.
func TestDemoWindowGate(t *testing.T) {
	c := newCLI(t)
	p := c.demoPlan()
	if code, _, stderr := c.run("", "approve", p, "--by", "alice", "--state", c.state); code != exitOK {
		t.Fatalf("approve: exit %d: %s", code, stderr)
	}
	const friday = "2026-11-20T12:00:00Z" // between the weeknights window and the weekend one
	code, out, stderr := c.run("", "apply", p, "--demo", "--clock", friday, "--state", c.state)
	if code != exitRefused {
		t.Fatalf("apply outside the windows: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"Demo: the playbook's change windows are enforced, judged by --clock " + friday,
		"Refused by the window gate: outside every change window",
		"  What to do: apply it again inside a change window (the next opens 2026-11-20T22:00:00Z), or now with --emergency --reason TEXT",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("refused apply lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Demo forest") {
		t.Errorf("a refused apply started the demo forest:\n%s", out)
	}
	code, out, stderr = c.run("", "apply", p, "--demo", "--clock", friday, "--emergency", "--reason", "INC-9", "--state", c.state)
	if code != exitOK || !strings.Contains(out, "EMERGENCY override outside the change windows, reason: INC-9") {
		t.Errorf("emergency apply: exit %d\n%s\n%s", code, out, stderr)
	}
	// The emergency apply used the approval (approvals are single-use): approve again.
	if code, _, stderr := c.run("", "approve", p, "--by", "alice", "--state", c.state); code != exitOK {
		t.Fatalf("approve again: exit %d: %s", code, stderr)
	}
	code, out, stderr = c.run("", "apply", p, "--demo", "--clock", "2026-11-20T23:30:00Z", "--state", c.state)
	if code != exitOK || !strings.Contains(out, `gate window: inside change window "weeknights"`) {
		t.Errorf("apply inside the window: exit %d\n%s\n%s", code, out, stderr)
	}
	fresh := c.path("heal-state") // without the applies' cooldowns
	if err := os.Mkdir(fresh, 0o700); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = c.run("", "heal", "--demo", "--clock", friday, "--state", fresh)
	if code != exitRefused || !strings.Contains(out, "held (outside_window): outside the playbook's change windows") {
		t.Errorf("heal outside the windows: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, args := range [][]string{
		{"apply", p, "--clock", friday, "--state", c.state},
		{"apply", p, "--demo", "--clock", "friday noon", "--state", c.state},
		{"heal", "--dc", "dc1.example.com", "--clock", friday, "--state", c.state},
	} {
		if code, _, stderr := c.run("", args...); code != exitError || !strings.Contains(stderr, "--clock") {
			t.Errorf("%q: exit %d: %s", args, code, stderr)
		}
	}
}
