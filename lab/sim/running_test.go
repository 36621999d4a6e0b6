package sim

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// Issue 12 through the protocols: DC2 runs, while DNS is broken (its records lost everywhere,
// or missing only on the destination's and the workstation's DNS server). Gathered from the
// simulated forest over LDAP, DNS and TCP, with the DNS client settings read, given in an
// inventory or assumed, at ages below and above gone_after_days and just below the tombstone
// lifetime: DC2 is never diagnosed offline or gone and never gets a cleanup.
func TestGatheredRunningSourceNeverOfflineOrGone(t *testing.T) {
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, name := range []string{"source-records-lost", "source-records-lost-old", "dest-dns-missing-source"} {
		base, err := scenario.Load(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []string{scenario.SettingsRead, scenario.SettingsInventory, scenario.SettingsAssumed} {
			for _, days := range []int{0, 20, facts.DefaultTombstoneLifetimeDays - 1} {
				sc, inv := base.Aged("DC2", days).WithDNSSettings(mode)
				f, err := Start(context.Background(), sc.NewWorld(), Options{})
				if err != nil {
					t.Fatal(err)
				}
				o, err := f.GatherOptions("sim:"+name, pb.Needs)
				if err != nil {
					t.Fatal(err)
				}
				if inv != nil {
					o.Inventory = inv
				}
				o.AssumeSelfDNS = mode == scenario.SettingsAssumed
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				s, err := gather.Gather(ctx, o)
				cancel()
				f.Close()
				if err != nil {
					t.Fatal(err)
				}
				p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: sc.Now})
				if err != nil {
					t.Fatal(err)
				}
				checked := 0
				for _, fd := range p.Findings {
					if !strings.HasSuffix(fd.ID, "<-DC2") {
						continue
					}
					checked++
					if fd.Status != plan.FindingDiagnosed {
						t.Errorf("%s %s %d days: %s %s: %s", name, mode, days, fd.ID, fd.Status, fd.Incomplete)
						continue
					}
					if d := fd.Decision.Name; d == "source_offline" || d == "stale_metadata" {
						t.Errorf("%s %s %d days: %s: the running DC2 is %s: %s", name, mode, days, fd.ID, d, fd.Decision.Cause)
					}
					for _, a := range fd.Actions {
						if a.Name == "metadata_cleanup" {
							t.Errorf("%s %s %d days: %s: cleanup of the running DC2 proposed", name, mode, days, fd.ID)
						}
					}
				}
				if checked == 0 {
					t.Errorf("%s %s %d days: no finding for DC2", name, mode, days)
				}
			}
		}
	}
}

// DC2's records are missing on DC1's DNS server, the one the workstation asks, and in DC1's copy
// of AD's zones (tombstoned). The gather finds DC2 through DC3's DNS server over DNS, reads its
// own view over LDAP on that address, and probes it there; each source says what it held.
func TestGatherFindsSourceThroughAnotherDNSServer(t *testing.T) {
	f, _ := startScenario(t, "dest-dns-missing-source", Options{})
	s, err := f.Gather(context.Background(), "sim:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	dc2 := facts.NewIndex(s).DCByName("DC2")
	if ips, ok := dc2.IPs.Get(); !ok || len(ips) != 1 || ips[0] != "192.0.2.12" {
		t.Fatalf("DC2 ips %+v", dc2.IPs)
	}
	if !dc2.OwnDSAGUID.Known || !dc2.Inbound.Known {
		t.Errorf("DC2's own view was not read on the address found: %+v %+v", dc2.OwnDSAGUID, dc2.Inbound)
	}
	said := map[string]string{}
	for _, l := range dc2.AddressLookups {
		said[l.Source+":"+l.Where] = l.Result + " " + l.Detail
	}
	for k, want := range map[string]string{
		"dns:192.0.2.13": "found",
		"dns:192.0.2.11": "absent A NXDOMAIN (authoritative)",
		"ad-zone:contoso.com in DC=DomainDnsZones,DC=contoso,DC=com on DC1": "absent dnsNode dc2.contoso.com is tombstoned",
		"resolver:": "absent",
	} {
		if !strings.HasPrefix(said[k], want) {
			t.Errorf("%s said %q, want %q...", k, said[k], want)
		}
	}
	if !facts.AddressesDisagree(dc2.AddressLookups) {
		t.Error("the sources disagree, and the facts do not say so")
	}
	if len(s.Forest.DNSServers) < 3 || s.Forest.TombstoneLifetimeDays.Value != 60 || s.Forest.TombstoneLifetimeFrom != "default" {
		t.Errorf("forest: %+v, tombstone %+v from %q", s.Forest.DNSServers, s.Forest.TombstoneLifetimeDays, s.Forest.TombstoneLifetimeFrom)
	}
	// DC1's and DC3's addresses come from AD's zone as well (decoded dnsRecord values).
	dc3 := facts.NewIndex(s).DCByName("DC3")
	found := false
	for _, l := range dc3.AddressLookups {
		found = found || (l.Source == facts.LookupADZone && l.Result == facts.LookupFound && len(l.Addresses) == 1 && l.Addresses[0] == "192.0.2.13")
	}
	if !found {
		t.Errorf("DC3's address is not read from AD's zone: %+v", dc3.AddressLookups)
	}
}

// A source no source knows an address of is not dialled: its probes are unknown, with where
// fix8524 looked; nothing dials its name.
func TestUnlocatedSourceIsNotDialled(t *testing.T) {
	f, _ := startScenario(t, "source-records-lost", Options{})
	s, err := f.Gather(context.Background(), "sim:test", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, o := range s.Reach {
		if o.Host != "DC2" {
			continue
		}
		n++
		if o.Result != facts.ReachUnknown || len(o.Attempts) != 0 || !strings.Contains(o.Error, "resolves on none of the") {
			t.Errorf("DC2 probe %+v", o)
		}
	}
	if n == 0 {
		t.Fatal("no probe of DC2")
	}
}

// The forest's tombstoneLifetime is read from the directory when it is set there.
func TestTombstoneLifetimeRead(t *testing.T) {
	sc, diags := scenario.Parse("t.hcl", []byte(`
scenario { title = "t" }
forest {
  root_domain             = "contoso.com"
  tombstone_lifetime_days = 180
}
dc "DC1" {
  guid = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips  = ["192.0.2.11"]
}
dns_server "192.0.2.11" { host = "DC1" }
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s, err := GatherWorld(context.Background(), sc.NewWorld(), "sim:t", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := s.Forest.TombstoneLifetimeDays.Get(); !ok || n != 180 || s.Forest.TombstoneLifetimeFrom != "directory" {
		t.Fatalf("tombstone lifetime %+v from %q", s.Forest.TombstoneLifetimeDays, s.Forest.TombstoneLifetimeFrom)
	}
}
