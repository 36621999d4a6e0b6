package workstation

import (
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/locate"
)

// fake is a one-DC forest whose only DNS server knows dc1 and not dc9.
type fake struct{}

func (fake) Served() *facts.Snapshot {
	return &facts.Snapshot{SeedDC: "DC1", DCs: []facts.DC{{Name: "DC1", DNSHostName: "dc1.contoso.com", IPs: facts.Some([]string{"192.0.2.11"})}}}
}
func (fake) QueryDNS(q facts.DNSQuery) facts.DNSObservation {
	o := facts.DNSObservation{DNSQuery: q, Rcode: "NXDOMAIN", Authoritative: true}
	if q.Name == "dc1.contoso.com" && q.Type == facts.TypeA {
		o.Rcode, o.Answers = "NOERROR", []facts.RR{{Name: q.Name, Type: "A", Data: "192.0.2.11"}}
	}
	return o
}
func (fake) ProbeAddress(address string, port int) facts.ReachAttempt {
	if address == "192.0.2.11" && port == 389 {
		return facts.ReachAttempt{Address: address, Result: facts.ReachOpen}
	}
	return facts.ReachAttempt{Address: address, Result: facts.ReachTimeout, Error: "no answer"}
}
func (fake) HostFacts(string) (facts.Maybe[[]string], string, facts.Maybe[[]facts.Event]) {
	return facts.Unknown[[]string]("x"), "", facts.Unknown[[]facts.Event]("x")
}
func (fake) ZoneNodes(dc, partition string) ([]string, []locate.Node, bool) {
	return []string{"contoso.com"}, []locate.Node{
		{Name: "contoso.com", Zone: "contoso.com"},
		{Name: "dc1.contoso.com", Zone: "contoso.com", Addresses: []string{"192.0.2.11"}},
		{Name: "pc7.contoso.com", Zone: "contoso.com", Addresses: []string{"192.0.2.77"}},
	}, true
}
func (fake) WorkstationDNS() []string { return []string{"192.0.2.11"} }

// A name is dialled through the workstation's resolver; one that does not resolve is an error
// (not observed), never a timeout.
func TestDialByName(t *testing.T) {
	if a := Dial(fake{}, "dc1.contoso.com", 389); a.Result != facts.ReachOpen || a.Address != "dc1.contoso.com" {
		t.Errorf("dc1 by name: %+v", a)
	}
	a := Dial(fake{}, "dc9.contoso.com", 389)
	if a.Result != facts.ReachError || !strings.Contains(a.Error, "does not resolve") || facts.ReachObserved(a.Result) {
		t.Errorf("dc9 by name: %+v", a)
	}
	if a := Dial(fake{}, "192.0.2.99", 389); a.Result != facts.ReachTimeout {
		t.Errorf("nothing at an address: %+v", a)
	}
}

// A zone read returns the nodes asked for (and every apex), as the LDAP filter does.
func TestZoneRead(t *testing.T) {
	zr := ZoneRead(fake{}, "DC1", "DC=DomainDnsZones,DC=contoso,DC=com", []string{"@", "dc1"})
	if zr.Err != "" || len(zr.Zones) != 1 || len(zr.Nodes) != 2 || zr.Nodes[1].Name != "dc1.contoso.com" {
		t.Fatalf("%+v", zr)
	}
}
