package engine

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// The plan keeps the topology: every DC with its site and whether its inbound status was read,
// every partnership (healthy ones too) with its failing links, a source outside the topology by
// the name in its DSA DN; it survives the JSON round trip and stays out of the fingerprint.
func TestPlanTopology(t *testing.T) {
	pb := mustLoad(t, testPlaybook)
	s := sampleFacts()
	s.DCs[1].Site = "Branch"
	s.DCs[1].Inbound = facts.Unknown[string]("missing the Monitor Active Directory Replication right")
	s.DCs[0].Inbound = facts.Some("msDS-ReplAllInboundNeighbors")
	ghost := link("DC1", guid1, "OLDDC", "0badc0de-0000-4000-8000-000000000001", "DC=contoso,DC=com", 0)
	s.Links = append(s.Links, ghost)
	p, err := MakePlan(pb, s, PlanOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := &plan.Topology{
		Forest: "contoso.com",
		DCs: []plan.TopologyDC{
			{Name: "DC2", Site: "Branch", Domain: "contoso.com", DSAGUID: guid2, Unread: "missing the Monitor Active Directory Replication right"},
			{Name: "DC1", Site: "Default-First-Site-Name", Domain: "contoso.com", DSAGUID: guid1},
		},
		Partnerships: []plan.TopologyLink{
			{Destination: "DC1", Source: "OLDDC", SourceDSAGUID: "0badc0de-0000-4000-8000-000000000001", NCs: 1},
			{Destination: "DC1", Source: "DC2", SourceDSAGUID: guid2, NCs: 2, Failing: 2},
			{Destination: "DC2", Source: "DC1", SourceDSAGUID: guid1, NCs: 1},
		},
	}
	if !reflect.DeepEqual(p.Topology, want) {
		t.Errorf("topology\n got %+v\nwant %+v", p.Topology, want)
	}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back plan.Plan
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back.Topology, want) {
		t.Errorf("round trip: %v %+v", err, back.Topology)
	}
	// One more healthy link changes the topology, not the fingerprint.
	s.Links = append(s.Links, link("DC2", guid2, "DC1", guid1, "CN=Configuration,DC=contoso,DC=com", 0))
	p2, err := MakePlan(pb, s, PlanOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Fingerprint != p.Fingerprint || p2.Topology.Partnerships[2].NCs != 2 {
		t.Errorf("fingerprint %s → %s, partnership %+v", p.Fingerprint, p2.Fingerprint, p2.Topology.Partnerships[2])
	}
}
