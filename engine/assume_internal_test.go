package engine

import (
	"strings"
	"testing"
)

// forestDCsPlaybook decides on the DNS client settings of every DC of the forest (a playbook an
// admin might write: "does any DC point at the ISP resolver?"), and on the names only.
const forestDCsPlaybook = `
playbook "t" {
  title   = "test"
  matches = link.last_result == 8524
}

decision "any_dc_points_outside" {
  cause = "some DC points at a server outside the forest"
  see   = "outside"
  when  = anytrue([for d in forest.dcs : contains(d.dns_servers, "198.51.100.53")])
}

decision "names_only" {
  cause = "decided on the DC names alone"
  see   = "names"
  when  = forest.dcs[1].name != ""
}
`

// Settings assumed for a DC outside the partnership (DC3) are named when the walk read them
// through forest.dcs, and not when it read only names of its elements. (A for or splat over
// forest.dcs reads the whole list, settings included: that counts as reading them.)
func TestAssumedDNSThroughForestDCs(t *testing.T) {
	s := sampleFacts()
	d3 := dc("DC3", guid3, "192.0.2.13")
	d3.DNSServersFrom = DNSServersAssumedSelf
	s.DCs = append(s.DCs, d3)
	f := only(t, planOf(t, mustLoad(t, forestDCsPlaybook), s))
	if f.Decision == nil || f.Decision.Name != "names_only" {
		t.Fatalf("decision %+v, want names_only (no DC points at 198.51.100.53)", f.Decision)
	}
	if len(f.Assumptions) != 1 || !strings.HasPrefix(f.Assumptions[0], "DC3's DNS client settings were not read") {
		t.Fatalf("assumptions %q, want one about DC3 (the first decision read every DC's settings)", f.Assumptions)
	}

	namesOnly := strings.Replace(forestDCsPlaybook, `anytrue([for d in forest.dcs : contains(d.dns_servers, "198.51.100.53")])`, `forest.dcs[0].name == "NOSUCHDC"`, 1)
	f = only(t, planOf(t, mustLoad(t, namesOnly), s))
	if len(f.Assumptions) != 0 {
		t.Fatalf("assumptions %q for a walk that read no DNS settings", f.Assumptions)
	}

	// settings that were read are no assumption
	s.DCs[2].DNSServersFrom = "inventory"
	f = only(t, planOf(t, mustLoad(t, forestDCsPlaybook), s))
	if len(f.Assumptions) != 0 {
		t.Fatalf("assumptions %q for settings read from the inventory", f.Assumptions)
	}
}
