package playbooks

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
)

// The scenarios whose source DC2 runs and answers on its address, while DNS is broken.
var runningSource = []string{"source-records-lost", "source-records-lost-old", "dest-dns-missing-source"}

// How fix8524 knows the DCs' DNS client settings.
var dnsSettingModes = []string{scenario.SettingsRead, scenario.SettingsInventory, scenario.SettingsAssumed}

// runningSourceVerdict fails a plan that calls a running source offline or gone, or proposes
// its cleanup.
func runningSourceVerdict(p *plan.Plan) error {
	for _, f := range p.Findings {
		if !strings.HasSuffix(f.ID, "<-DC2") {
			continue
		}
		if f.Status != plan.FindingDiagnosed {
			return fmt.Errorf("%s: %s (%s)", f.ID, f.Status, f.Incomplete)
		}
		switch f.Decision.Name {
		case "source_offline", "stale_metadata":
			return fmt.Errorf("%s: the running DC2 is diagnosed %s: %s", f.ID, f.Decision.Name, f.Decision.Cause)
		}
		for _, a := range f.Actions {
			if a.Name == "metadata_cleanup" {
				return fmt.Errorf("%s: a cleanup of the running DC2 is proposed", f.ID)
			}
		}
	}
	return nil
}

// Issue 12: no running DC is ever diagnosed offline or gone, nor gets a cleanup proposed,
// whether the DNS client settings are read, given in the inventory or assumed, at any age of the
// failure below the tombstone lifetime (every day from 0 to 59 of the default 60). Planned from
// the scenario World's facts (the workstation's view, lab/workstation); lab/sim and cmd/fix8524
// check the same through the protocols and the CLI.
func TestNoRunningDCCalledOfflineOrGone(t *testing.T) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, name := range runningSource {
		base, err := scenario.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range dnsSettingModes {
			for days := 0; days < facts.DefaultTombstoneLifetimeDays; days++ {
				sc, inv := base.Aged("DC2", days).WithDNSSettings(mode)
				w := sc.NewWorld()
				s := w.BaseWith(inv, mode == scenario.SettingsAssumed)
				w.ObserveNeeds(s, 8, pb.Needs)
				p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
				if err != nil {
					t.Fatal(err)
				}
				if len(p.Findings) == 0 {
					t.Fatalf("%s %s %d days: no finding", name, mode, days)
				}
				if err := runningSourceVerdict(p); err != nil {
					t.Errorf("%s, DNS client settings %s, failing for %d days: %v", name, mode, days, err)
				}
			}
		}
	}
}

// The sweep can fail: DC2 gone for good with its last address in the inventory, old enough,
// is stale metadata (and, at 59 days, source-gone-old's DC2 would be too with an address).
func TestRunningVerdictCanFail(t *testing.T) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	base, err := scenario.Load("source-gone-old")
	if err != nil {
		t.Fatal(err)
	}
	sc := base.Aged("DC2", 30)
	inv := &inventory.Inventory{Filename: "inventory.hcl", DCs: map[string]*inventory.DC{"dc2": {Name: "DC2", IPs: []string{netip.MustParseAddr("192.0.2.12").String()}}}}
	w := sc.NewWorld()
	s := w.BaseWith(inv, false)
	w.ObserveNeeds(s, 8, pb.Needs)
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := runningSourceVerdict(p); err == nil || !strings.Contains(err.Error(), "stale_metadata") {
		t.Fatalf("a gone DC with a silent known address, 30 days: %v", err)
	}
}

// The facts of issue 12's report, in the shape fix8524 gathered them before it looked for
// addresses anywhere but the workstation's resolver: DC2's address unknown ("no such host"), its
// probes dialled by name and failed with a resolution error, its records NXDOMAIN on every DNS
// server asked, the DNS client settings known, the failure older than gone_after_days. The old
// playbook called DC2 gone and proposed its cleanup with every guard ok; now its liveness is
// unknown and nothing is proposed for it, at any age below the tombstone lifetime.
func TestResolutionErrorIsNotSilence(t *testing.T) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	base, err := scenario.Load("source-records-lost")
	if err != nil {
		t.Fatal(err)
	}
	for _, days := range []int{0, 13, 14, 20, 45, 59} {
		sc := base.Aged("DC2", days)
		w := sc.NewWorld()
		s := w.Base()
		w.ObserveNeeds(s, 8, pb.Needs)
		// The old gather's shape.
		for i := range s.DCs {
			if s.DCs[i].Name == "DC2" {
				s.DCs[i].IPs = facts.Unknown[[]string]("resolving dc2.contoso.com from this workstation: lookup dc2.contoso.com: no such host")
				s.DCs[i].AddressLookups = nil
			}
		}
		for i := range s.Reach {
			if s.Reach[i].Host == "dc2.contoso.com" {
				s.Reach[i] = facts.ReachObservation{TCPProbe: s.Reach[i].TCPProbe, Address: "dc2.contoso.com", Result: facts.ReachError,
					Error: "dial tcp: lookup dc2.contoso.com: no such host"}
			}
		}
		p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
		if err != nil {
			t.Fatal(err)
		}
		if err := runningSourceVerdict(p); err != nil {
			t.Errorf("%d days: %v", days, err)
		}
		for _, f := range p.Findings {
			if f.Decision == nil || f.Decision.Name != "source_address_unknown" {
				t.Errorf("%d days: %s: %+v", days, f.ID, f.Decision)
			}
		}
	}
}
