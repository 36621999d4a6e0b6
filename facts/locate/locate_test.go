package locate

import (
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/inventory"
)

func snap() *facts.Snapshot {
	return &facts.Snapshot{
		SeedDC: "DC1",
		Forest: facts.Forest{RootDomain: "contoso.com", RootDN: "DC=contoso,DC=com",
			NCs:     []string{"DC=contoso,DC=com", "DC=DomainDnsZones,DC=contoso,DC=com", "DC=ForestDnsZones,DC=contoso,DC=com"},
			Domains: []facts.Domain{{DNSName: "contoso.com", DN: "DC=contoso,DC=com"}}},
		DCs: []facts.DC{
			{Name: "DC1", DNSHostName: "dc1.contoso.com", Domain: "contoso.com", DNSServers: facts.Some([]string{"192.0.2.11"})},
			{Name: "DC2", DNSHostName: "dc2.contoso.com", Domain: "contoso.com", DNSServers: facts.Unknown[[]string]("no credentials")},
			{Name: "DC3", DNSHostName: "dc3.contoso.com", Domain: "contoso.com", DNSServers: facts.Some([]string{"192.0.2.13", "192.0.2.11"})},
		},
		Links: []facts.Link{{Destination: "DC1", SourceDSADN: "x", SourceDSAGUID: "g2", LastResult: 8524}},
	}
}

func obs(server, name, typ, rcode string, aa bool, addrs ...string) facts.DNSObservation {
	o := facts.DNSObservation{DNSQuery: facts.DNSQuery{Server: server, Name: name, Type: typ}, Rcode: rcode, Authoritative: aa}
	for _, a := range addrs {
		o.Answers = append(o.Answers, facts.RR{Name: name, Type: typ, Data: a})
	}
	return o
}

// Each source says what it holds; the union is the addresses; a source that holds none says so;
// no address at all is unknown, with where fix8524 looked.
func TestApply(t *testing.T) {
	s := snap()
	s.DCs[1].DSAGUID = "g2"
	zones := []ZoneRead{{Partition: "DC=DomainDnsZones,DC=contoso,DC=com", DC: "DC1", Zones: []string{"contoso.com"}, Nodes: []Node{
		{Name: "contoso.com", Zone: "contoso.com", NS: []string{"dc1.contoso.com", "dc3.contoso.com"}},
		{Name: "dc1.contoso.com", Zone: "contoso.com", Addresses: []string{"192.0.2.11"}},
		{Name: "dc2.contoso.com", Zone: "contoso.com", Tombstoned: true, TombstonedAt: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)},
		{Name: "dc3.contoso.com", Zone: "contoso.com", Addresses: []string{"192.0.2.13"}},
	}}}
	inv := &inventory.Inventory{Filename: "inv.hcl", DCs: map[string]*inventory.DC{"dc3": {Name: "DC3", IPs: []string{"192.0.2.33"}}}}
	ev := &Evidence{Seed: "DC1", SeedAddress: "192.0.2.11", Inventory: inv, Zones: zones, Resolver: map[string]Resolution{
		"dc1": {Addresses: []string{"192.0.2.11"}},
		"dc2": FromResolver("dc2.contoso.com", nil, &net.DNSError{Err: "no such host", Name: "dc2.contoso.com", IsNotFound: true}),
		"dc3": FromResolver("dc3.contoso.com", nil, errors.New("i/o timeout")),
	}}
	Apply(s, ev)
	dc1, dc2, dc3 := &s.DCs[0], &s.DCs[1], &s.DCs[2]
	if ips, _ := dc1.IPs.Get(); len(ips) != 1 || ips[0] != "192.0.2.11" {
		t.Errorf("DC1 ips %+v", dc1.IPs)
	}
	if ips, _ := dc3.IPs.Get(); len(ips) != 2 || ips[0] != "192.0.2.33" || ips[1] != "192.0.2.13" {
		t.Errorf("DC3 ips %+v (inventory first, then AD's zone)", dc3.IPs)
	}
	if dc2.IPs.Known || !strings.Contains(dc2.IPs.Why(), "tombstoned") || !strings.Contains(dc2.IPs.Why(), "no address for it in the inventory") ||
		!strings.Contains(dc2.IPs.Why(), "asked of no DNS server") {
		t.Errorf("DC2 ips %+v", dc2.IPs)
	}
	if facts.HostRecords(dc2.AddressLookups) != facts.HostRecordsAbsent || facts.HostRecords(dc1.AddressLookups) != facts.HostRecordsPresent {
		t.Errorf("host records: DC2 %s, DC1 %s", facts.HostRecords(dc2.AddressLookups), facts.HostRecords(dc1.AddressLookups))
	}
	// DC3: the resolver timed out (unknown), AD's zone holds it: no disagreement.
	if facts.AddressesDisagree(dc3.AddressLookups) {
		t.Errorf("DC3 lookups disagree: %+v", dc3.AddressLookups)
	}

	// DC2 is in doubt (no address): ask every DNS server of the forest. One holds it.
	doubt := Doubtful(s, func(string) bool { return true })
	if len(doubt) != 1 || doubt[0] != "DC2" {
		t.Fatalf("doubtful %v", doubt)
	}
	servers := Servers(s, ev, nil)
	var addrs []string
	for _, srv := range servers {
		addrs = append(addrs, srv.Address)
	}
	// Client settings of DC1 and DC3, then the NS targets' addresses (from AD's apex node).
	if strings.Join(addrs, ",") != "192.0.2.11,192.0.2.13,192.0.2.33" {
		t.Fatalf("servers %v", servers)
	}
	qs := WidenQueries(s, servers, doubt)
	if len(qs) != 6 {
		t.Fatalf("queries %v", qs)
	}
	s.DNS = []facts.DNSObservation{
		obs("192.0.2.11", "dc2.contoso.com", "A", "NXDOMAIN", true), obs("192.0.2.11", "dc2.contoso.com", "AAAA", "NXDOMAIN", true),
		obs("192.0.2.13", "dc2.contoso.com", "A", "NOERROR", true, "192.0.2.12"), obs("192.0.2.13", "dc2.contoso.com", "AAAA", "NOERROR", true),
		{DNSQuery: facts.DNSQuery{Server: "192.0.2.33", Name: "dc2.contoso.com", Type: "A"}, Error: "timeout"},
	}
	ev.Servers = servers
	Apply(s, ev)
	if ips, ok := dc2.IPs.Get(); !ok || len(ips) != 1 || ips[0] != "192.0.2.12" {
		t.Fatalf("DC2 after widening: %+v %+v", dc2.IPs, dc2.AddressLookups)
	}
	if !facts.AddressesDisagree(dc2.AddressLookups) {
		t.Errorf("DC2: 192.0.2.11 says NXDOMAIN, 192.0.2.13 holds it: that is a disagreement")
	}
	sum := facts.AddressSummary(dc2.AddressLookups)
	for _, want := range []string{"192.0.2.12 from dns:192.0.2.13", "absent on", "dns:192.0.2.11 (A NXDOMAIN (authoritative)", "could not ask dns:192.0.2.33"} {
		if !strings.Contains(sum, want) {
			t.Errorf("summary lacks %q: %s", want, sum)
		}
	}
	if len(s.Forest.DNSServers) != 3 {
		t.Errorf("forest DNS servers %+v", s.Forest.DNSServers)
	}
}

// The reason names every DNS server asked, the AD zones and the resolver.
func TestNotFoundReason(t *testing.T) {
	dc := &facts.DC{Name: "DC2", DNSHostName: "dc2.contoso.com"}
	lk := []facts.AddressLookup{
		{Source: facts.LookupDNS, Where: "192.0.2.11", Result: facts.LookupAbsent},
		{Source: facts.LookupDNS, Where: "192.0.2.12", Result: facts.LookupUnknown, Detail: "timeout"},
		{Source: facts.LookupDNS, Where: "192.0.2.13", Result: facts.LookupAbsent},
		{Source: facts.LookupADZone, Where: "contoso.com in DC=DomainDnsZones,DC=contoso,DC=com on DC1", Result: facts.LookupAbsent},
		{Source: facts.LookupResolver, Result: facts.LookupAbsent, Detail: "no such host"},
	}
	got := NotFoundReason(dc, lk)
	for _, want := range []string{"dc2.contoso.com resolves on none of the 3 DNS servers of the forest", "1 of them did not answer (192.0.2.12)",
		"has no record in AD's zones", "the workstation's resolver: no such host", "no inventory address"} {
		if !strings.Contains(got, want) {
			t.Errorf("reason lacks %q: %s", want, got)
		}
	}
	if got := NotFoundReason(&facts.DC{Name: "DC9"}, nil); !strings.Contains(got, "no dNSHostName") {
		t.Errorf("no host name: %s", got)
	}
}

// The stub resolver keeps the first answer of a responding server, a negative one included,
// and skips servers that fail or refuse.
func TestResolve(t *testing.T) {
	answers := map[string]facts.DNSObservation{
		"192.0.2.1|A": {Error: "timeout"},
		"192.0.2.2|A": {Rcode: "REFUSED"},
		"192.0.2.3|A": {Rcode: "NXDOMAIN", Authoritative: true},
		"192.0.2.4|A": {Rcode: "NOERROR", Answers: []facts.RR{{Type: "A", Data: "192.0.2.12"}}},
	}
	query := func(q facts.DNSQuery) facts.DNSObservation {
		o := answers[q.Server+"|"+q.Type]
		if q.Type == "AAAA" {
			o = facts.DNSObservation{Rcode: "NOERROR"}
		}
		o.DNSQuery = q
		return o
	}
	if r := Resolve([]string{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"}, "dc2.contoso.com", query); !r.NotFound || len(r.Addresses) != 0 || !strings.Contains(r.Err, "from 192.0.2.3") {
		t.Errorf("NXDOMAIN from the first responding server: %+v", r)
	}
	if r := Resolve([]string{"192.0.2.1", "192.0.2.4"}, "dc2.contoso.com", query); len(r.Addresses) != 1 || r.Addresses[0] != "192.0.2.12" {
		t.Errorf("found: %+v", r)
	}
	if r := Resolve([]string{"192.0.2.1"}, "dc2.contoso.com", query); r.NotFound || r.Err == "" {
		t.Errorf("no server answered: %+v", r)
	}
}

// A DC whose sources agree and that answered is not asked again; one that did not answer is.
func TestDoubtful(t *testing.T) {
	s := snap()
	s.DCs[1].DSAGUID = "g2"
	s.DCs[1].IPs = facts.Some([]string{"192.0.2.12"})
	s.DCs[1].AddressLookups = []facts.AddressLookup{{Source: facts.LookupResolver, Result: facts.LookupFound, Addresses: []string{"192.0.2.12"}}}
	if d := Doubtful(s, func(string) bool { return true }); len(d) != 0 {
		t.Errorf("answered, agreeing: %v", d)
	}
	if d := Doubtful(s, func(string) bool { return false }); len(d) != 1 {
		t.Errorf("silent: %v", d)
	}
	s.DCs[1].AddressLookups = append(s.DCs[1].AddressLookups, facts.AddressLookup{Source: facts.LookupADZone, Result: facts.LookupAbsent})
	if d := Doubtful(s, func(string) bool { return true }); len(d) != 1 {
		t.Errorf("disagreeing: %v", d)
	}
	s.Links[0].LastResult = 0
	if d := Doubtful(s, func(string) bool { return false }); len(d) != 0 {
		t.Errorf("no failing link: %v", d)
	}
}

func TestNodeNamesAndPartitions(t *testing.T) {
	s := snap()
	s.DCs = append(s.DCs, facts.DC{Name: "C1", DNSHostName: "c1.child.contoso.com"})
	got := strings.Join(NodeNames(s.DCs), ",")
	if got != "@,dc1,dc1.contoso,dc2,dc2.contoso,dc3,dc3.contoso,c1,c1.child,c1.child.contoso" {
		t.Errorf("names %s", got)
	}
	if p := strings.Join(ZonePartitions(&s.Forest), ";"); p != "DC=DomainDnsZones,DC=contoso,DC=com;CN=System,DC=contoso,DC=com;DC=ForestDnsZones,DC=contoso,DC=com" {
		t.Errorf("partitions %s", p)
	}
	if PartitionNC("CN=System,DC=contoso,DC=com") != "DC=contoso,DC=com" || PartitionNC("DC=ForestDnsZones,DC=x") != "DC=ForestDnsZones,DC=x" {
		t.Error("PartitionNC")
	}
}
