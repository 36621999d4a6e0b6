package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// runningVerdict fails a plan that calls the running DC2 offline or gone, or proposes its cleanup.
func runningVerdict(p *plan.Plan) error {
	n := 0
	for _, f := range p.Findings {
		if !strings.HasSuffix(f.ID, "<-DC2") {
			continue
		}
		n++
		if f.Decision == nil {
			return fmt.Errorf("%s: %s: %s", f.ID, f.Status, f.Incomplete)
		}
		if d := f.Decision.Name; d == "source_offline" || d == "stale_metadata" {
			return fmt.Errorf("%s: the running DC2 is diagnosed %s: %s", f.ID, d, f.Decision.Cause)
		}
		for _, a := range f.Actions {
			if a.Name == "metadata_cleanup" {
				return fmt.Errorf("%s: a cleanup of the running DC2 is proposed", f.ID)
			}
		}
	}
	if n == 0 {
		return fmt.Errorf("no finding for DC2")
	}
	return nil
}

func planJSON(t *testing.T, args ...string) *plan.Plan {
	t.Helper()
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, append(args, "--json")); code != exitProposed {
		t.Fatalf("%v: exit %d: %s", args, code, stderr)
	}
	var p plan.Plan
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatalf("%v: not a plan: %v", args, err)
	}
	return &p
}

// dnsInventory gives the DNS client settings of the source-records-lost forest's DCs.
func dnsInventory(t *testing.T) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "inventory.hcl")
	src := `dc "DC1" { dns_servers = ["192.0.2.11"] }
dc "DC2" { dns_servers = ["192.0.2.11"] }
dc "DC3" { dns_servers = ["192.0.2.13", "192.0.2.11"] }
`
	if err := os.WriteFile(file, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return file
}

// Issue 12 through the CLI: DC2 runs, its records lost on every DNS server. Whether the DCs'
// DNS client settings are read (source-records-lost), given in an inventory or assumed
// (source-records-lost-old: no WinRM credentials to read them), and at every age of the failure
// below the tombstone lifetime (the gathered facts, aged, planned with --facts), fix8524 never
// calls DC2 offline or gone and never proposes its cleanup: its liveness is unknown.
func TestCLINeverCallsARunningDCGone(t *testing.T) {
	inv := dnsInventory(t)
	dir := t.TempDir()
	for _, c := range []struct {
		mode string
		args []string
	}{
		{"read", []string{"--demo", "source-records-lost"}},
		{"inventory", []string{"--demo", "source-records-lost-old", "--inventory", inv}},
		{"assumed", []string{"--demo", "source-records-lost-old", "--assume-self-dns"}},
	} {
		p := planJSON(t, append([]string{"plan"}, c.args...)...)
		if err := runningVerdict(p); err != nil {
			t.Errorf("plan %s: %v", strings.Join(c.args, " "), err)
		}
		for _, f := range p.Findings {
			if f.Decision == nil || f.Decision.Name != "source_address_unknown" || !strings.Contains(f.Decision.Cause, "Whether it runs is unknown") {
				t.Errorf("plan %s: %s: %+v", strings.Join(c.args, " "), f.ID, f.Decision)
			}
		}
		// The same facts at every age below the tombstone lifetime.
		gathered := filepath.Join(dir, c.mode+".json")
		e, _, stderr := testEnv(nil)
		if code := run(context.Background(), e, append([]string{"gather", "-o", gathered}, c.args...)); code != exitOK {
			t.Fatalf("gather %v: exit %d: %s", c.args, code, stderr)
		}
		s, err := readFacts(e, gathered)
		if err != nil {
			t.Fatal(err)
		}
		if from := map[string]string{"read": "scenario", "inventory": "inventory", "assumed": facts.DNSServersAssumedSelf}[c.mode]; s.DCs[0].DNSServersFrom != from {
			t.Fatalf("%s: DC1's DNS client settings from %q, want %q", c.mode, s.DCs[0].DNSServersFrom, from)
		}
		for days := 0; days < facts.DefaultTombstoneLifetimeDays; days++ {
			aged := filepath.Join(dir, fmt.Sprintf("%s-%d.json", c.mode, days))
			writeAged(t, s, "DC2", days, aged)
			if err := runningVerdict(planJSON(t, "plan", "--facts", aged)); err != nil {
				t.Errorf("%s, %d days: %v", c.mode, days, err)
			}
		}
	}
}

// writeAged writes s with every link from source last succeeding days (and an hour) before the
// gathering.
func writeAged(t *testing.T, s *facts.Snapshot, source string, days int, path string) {
	t.Helper()
	src := facts.NewIndex(s).DCByName(source)
	c := *s
	c.Links = append([]facts.Link(nil), s.Links...)
	for i := range c.Links {
		if strings.EqualFold(c.Links[i].SourceDSAGUID, src.DSAGUID) {
			c.Links[i].LastSuccess = s.GatheredAt.Add(-time.Duration(days)*24*time.Hour - time.Hour)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := facts.Encode(f, &c); err != nil {
		t.Fatal(err)
	}
}

// A DC declared decommissioned that still answers on its address: stale metadata as told, and
// its cleanup refused by dsa_not_alive with the ports it answered on.
func TestCLIDecommissionedButAnswering(t *testing.T) {
	p := planJSON(t, "plan", "--demo", "decommissioned-still-answers", "-var", `decommissioned=["DC2"]`)
	if len(p.Findings) != 1 || p.Findings[0].Decision == nil || p.Findings[0].Decision.Name != "stale_metadata" || len(p.Findings[0].Actions) != 1 {
		t.Fatalf("findings %+v", p.Findings)
	}
	a := p.Findings[0].Actions[0]
	var guard plan.GuardResult
	for _, g := range a.Guards {
		if g.Name == "dsa_not_alive" {
			guard = g
		}
	}
	if !a.Blocked || guard.Status != plan.StatusFailed || !strings.Contains(guard.Message, "192.0.2.12:389") || !strings.Contains(guard.Message, "declared decommissioned") {
		t.Fatalf("cleanup %+v, guard %+v", a, guard)
	}
}

// A scenario whose expected diagnosis rests on an operator's declaration (its vars) says so when
// planned without it, and says nothing once the variable is given.
func TestDemoScenarioVarsNote(t *testing.T) {
	e, _, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--demo", "decommissioned-still-answers", "--json"}); code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if want := `assumes -var 'decommissioned=["DC2"]'`; !strings.Contains(stderr.String(), want) {
		t.Fatalf("stderr lacks %q:\n%s", want, stderr)
	}
	e, _, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--demo", "decommissioned-still-answers", "-var", `decommissioned=["DC2"]`, "--json"}); code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr.String(), "assumes -var") {
		t.Fatalf("the note with the variable given:\n%s", stderr)
	}
	e, _, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--demo", "--json"}); code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if strings.Contains(stderr.String(), "assumes -var") {
		t.Fatalf("a note for a scenario without vars:\n%s", stderr)
	}
}
