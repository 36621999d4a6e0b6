package main

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine/journal"
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
