package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
)

// selfDNSFactsFile writes the destination-dns-isp scenario's facts with DC1's DNS client
// settings replaced by its own addresses, labelled from, observed as --demo observes.
func selfDNSFactsFile(t *testing.T, from string) string {
	t.Helper()
	var pf playbookFlags
	pb, _, diags := pf.load()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sc, err := scenario.Load("destination-dns-isp")
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	s := w.Base()
	for i := range s.DCs {
		if s.DCs[i].Name == "DC1" {
			ips, _ := s.DCs[i].IPs.Get()
			s.DCs[i].DNSServers, s.DCs[i].DNSServersFrom = facts.Some(append([]string(nil), ips...)), from
		}
	}
	w.ObserveNeeds(s, 8, pb.Needs)
	file := filepath.Join(t.TempDir(), "facts-"+from+".json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := facts.Encode(f, s); err != nil {
		t.Fatal(err)
	}
	return file
}

// TestPlanShowsAssumed: a diagnosis concluded on assumed DNS client settings says so in the
// human view (an "Assumed:" block under the diagnosis, and the summary) and in the JSON; the
// same addresses read over WinRM show nothing of the kind.
func TestPlanShowsAssumed(t *testing.T) {
	file := selfDNSFactsFile(t, engine.DNSServersAssumedSelf)
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", file}); code != exitProposed {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	text := out.String()
	diag := strings.Index(text, "Diagnosis: dns_resolves_now")
	assumed := strings.Index(text, "  Assumed: ")
	evidence := strings.Index(text, "  Evidence:")
	if diag < 0 || assumed < diag || evidence < assumed {
		t.Errorf("want the Assumed: block between the diagnosis and the evidence:\n%s", text)
	}
	for _, want := range []string{"DC1's DNS client settings were not read", "its own addresses 192.0.2.11", "Verify with ipconfig /all on DC1", "1 resting on assumed settings"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan output lacks %q:\n%s", want, text)
		}
	}

	e, out, _ = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", file, "--json"}); code != exitProposed {
		t.Fatalf("--json: exit %d", code)
	}
	var p plan.Plan
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Findings) != 1 || len(p.Findings[0].Assumptions) != 1 || !strings.HasPrefix(p.Findings[0].Assumptions[0], "DC1's") {
		t.Errorf("JSON findings: %+v", p.Findings)
	}

	e, out, _ = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", selfDNSFactsFile(t, "winrm")}); code != exitProposed {
		t.Fatalf("winrm: exit %d", code)
	}
	if strings.Contains(out.String(), "Assumed") || strings.Contains(out.String(), "assumed settings") {
		t.Errorf("settings read over WinRM shown as assumed:\n%s", out)
	}
}

// approve warns about a finding that rests on an assumption (and still records the approval:
// the person decides).
func TestApproveWarnsAboutAssumptions(t *testing.T) {
	dir := t.TempDir()
	planPath := filepath.Join(dir, "p.json")
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", selfDNSFactsFile(t, engine.DNSServersAssumedSelf), "-o", planPath}); code != exitProposed {
		t.Fatalf("plan: exit %d: %s%s", code, out, stderr)
	}
	st := filepath.Join(dir, "st")
	if err := os.Mkdir(st, 0o700); err != nil {
		t.Fatal(err)
	}
	e, out, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"approve", planPath, "--by", "me", "--state", st}); code != exitOK {
		t.Fatalf("approve: exit %d: %s%s", code, out, stderr)
	}
	if !strings.Contains(stderr.String(), "warning: DC1<-DC2 rests on an assumption: DC1's DNS client settings were not read") {
		t.Errorf("no assumption warning:\n%s", stderr)
	}
}
