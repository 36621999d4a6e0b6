package engine_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// scenarioPlanWith plans an embedded scenario with the shipped playbook after edit changes its
// base facts, observing what the playbook asks for from the simulated world (as --demo does).
func scenarioPlanWith(t *testing.T, name string, edit func(*facts.Snapshot)) *plan.Plan {
	t.Helper()
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	sc, err := scenario.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	w := sc.NewWorld()
	s := w.Base()
	edit(s)
	w.ObserveNeeds(s, 4, pb.Needs)
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// selfDNS replaces a DC's DNS client settings with its own addresses, labelled from.
func selfDNS(t *testing.T, dc, from string) func(*facts.Snapshot) {
	return func(s *facts.Snapshot) {
		for i := range s.DCs {
			if s.DCs[i].Name == dc {
				ips, ok := s.DCs[i].IPs.Get()
				if !ok || len(ips) == 0 {
					t.Fatalf("%s has no IPs in the scenario", dc)
				}
				s.DCs[i].DNSServers = facts.Some(append([]string(nil), ips...))
				s.DCs[i].DNSServersFrom = from
				return
			}
		}
		t.Fatalf("no DC %s in the scenario", dc)
	}
}

// only returns the plan's single finding.
func only(t *testing.T, p *plan.Plan) plan.Finding {
	t.Helper()
	if len(p.Findings) != 1 {
		t.Fatalf("%d findings, want 1", len(p.Findings))
	}
	return p.Findings[0]
}

// TestAssumedDestinationDNSIsSaid is the known gap of --assume-self-dns: DC1's DNS client
// really points at an ISP resolver first, but with its settings assumed to be DC1 itself the
// shipped playbook concludes "resolves now, retry". The finding must say that it rests on a
// guess, naming DC1 and the assumed addresses; the JSON carries it.
func TestAssumedDestinationDNSIsSaid(t *testing.T) {
	p := scenarioPlanWith(t, "destination-dns-isp", selfDNS(t, "DC1", engine.DNSServersAssumedSelf))
	f := only(t, p)
	if f.Status != plan.FindingDiagnosed || len(f.Actions) == 0 {
		t.Fatalf("status %s (%s), %d actions: the test needs a diagnosis with actions", f.Status, f.Incomplete, len(f.Actions))
	}
	if len(f.Assumptions) != 1 {
		t.Fatalf("assumptions = %q, want one about DC1", f.Assumptions)
	}
	a := f.Assumptions[0]
	for _, want := range []string{"DC1's DNS client settings were not read", "192.0.2.11", "Verify with", "on DC1"} {
		if !strings.Contains(a, want) {
			t.Errorf("assumption %q lacks %q", a, want)
		}
	}
	if strings.Contains(a, "DC2") {
		t.Errorf("assumption %q names DC2, whose settings were read", a)
	}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"assumptions":["DC1's DNS client settings`) {
		t.Errorf("plan JSON does not carry the assumption: %s", js)
	}
}

// TestReadDNSIsNotAssumed: the same addresses read over WinRM are no assumption, and the JSON
// has no assumptions field. The fingerprint tells the two apart (apply's drift check must not
// take an approved guess for the same evidence as a read), but the provenance of settings
// that were read does not enter it.
func TestReadDNSIsNotAssumed(t *testing.T) {
	assumed := only(t, scenarioPlanWith(t, "destination-dns-isp", selfDNS(t, "DC1", engine.DNSServersAssumedSelf)))
	p := scenarioPlanWith(t, "destination-dns-isp", selfDNS(t, "DC1", "winrm"))
	read := only(t, p)
	if len(read.Assumptions) != 0 {
		t.Fatalf("assumptions = %q for settings read over WinRM", read.Assumptions)
	}
	if read.Decision == nil || assumed.Decision == nil || read.Decision.Name != assumed.Decision.Name {
		t.Fatalf("decisions differ: %+v vs %+v", read.Decision, assumed.Decision)
	}
	js, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), `"assumptions"`) {
		t.Errorf("plan JSON has an assumptions field without assumptions")
	}
	if read.Fingerprint == assumed.Fingerprint {
		t.Errorf("fingerprint %s is the same for assumed and read settings", read.Fingerprint)
	}
	inv := only(t, scenarioPlanWith(t, "destination-dns-isp", selfDNS(t, "DC1", "inventory")))
	if inv.Fingerprint != read.Fingerprint {
		t.Errorf("fingerprint changed with the provenance of settings that were read: %s vs %s", inv.Fingerprint, read.Fingerprint)
	}
}

// TestAssumedSourceDNSIsSaid: a source whose settings are assumed is named when the walk asks
// its DNS servers (source-cname-missing asks them for the source's CNAME); the destination,
// read, is not.
func TestAssumedSourceDNSIsSaid(t *testing.T) {
	f := only(t, scenarioPlanWith(t, "source-cname-missing", selfDNS(t, "DC2", engine.DNSServersAssumedSelf)))
	if len(f.Assumptions) != 1 || !strings.HasPrefix(f.Assumptions[0], "DC2's DNS client settings were not read") {
		t.Fatalf("assumptions = %q, want one about DC2", f.Assumptions)
	}
}

// TestAssumedButNotReadIsNotSaid: a finding whose walk never reads the assumed settings (the
// GUID mismatch is decided on the directory alone) does not rest on them.
func TestAssumedButNotReadIsNotSaid(t *testing.T) {
	p := scenarioPlanWith(t, "guid-mismatch", func(s *facts.Snapshot) {
		for _, dc := range s.DCs {
			selfDNS(t, dc.Name, engine.DNSServersAssumedSelf)(s)
		}
	})
	f := only(t, p)
	if f.Status != plan.FindingDiagnosed {
		t.Fatalf("status %s: %s", f.Status, f.Incomplete)
	}
	if len(f.Assumptions) != 0 {
		t.Errorf("assumptions = %q, but the walk read no DNS client setting", f.Assumptions)
	}
}
