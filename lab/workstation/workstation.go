// Package workstation models the admin workstation fix8524 runs on, in a simulated forest: what
// it can learn of the forest, and how. It is a DNS client like any other: it resolves through the
// DNS servers it is configured with, from what those servers hold; it reaches a DC only on an
// address it knows; it reads AD's DNS zones from the DCs it reaches.
//
// View is the facts a gather makes of a forest, step by step as facts/gather makes them (the
// topology and the zones the seed holds; each DC's addresses from the seed address, the inventory,
// AD's zones and the resolver, then its own view and host facts on a known address; the zones of
// partitions the seed does not hold; every DNS server of the forest for the DCs in doubt), with
// the same package (facts/locate) deciding what each source says. The simulated forest of lab/sim
// serves the same Forest over real LDAP, DNS and TCP, and its tests compare a real gather with
// View: what the protocols carry (dnsRecord values, DNS messages, TCP connects) is what View
// assumed.
package workstation

import (
	"net"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/facts/locate"
	"github.com/fix8524/fix8524/facts/reach"
)

// Forest is a simulated forest's truth, as the workstation asks it.
type Forest interface {
	// Served is the forest as its DCs serve it: the topology, every DC's own view (its real
	// addresses in IPs), and every link as its destination records it.
	Served() *facts.Snapshot
	// QueryDNS answers one DNS question as the addressed server would.
	QueryDNS(q facts.DNSQuery) facts.DNSObservation
	// ProbeAddress says what a TCP connect to address:port meets: open, refused, or no answer
	// (a timeout: nothing there, a DC that is down, a firewall).
	ProbeAddress(address string, port int) facts.ReachAttempt
	// HostFacts are a DC's DNS client settings (and where they came from) and events, as a
	// read-only WinRM/SSH probe on the DC reads them.
	HostFacts(dc string) (dnsServers facts.Maybe[[]string], from string, events facts.Maybe[[]facts.Event])
	// ZoneNodes are the DNS zones (canonical names) and dnsNode objects DC dc holds in an AD
	// partition (DC=DomainDnsZones,..., DC=ForestDnsZones,..., CN=System,<domain>); ok is false
	// when it holds none there.
	ZoneNodes(dc, partition string) (zones []string, nodes []locate.Node, ok bool)
	// WorkstationDNS are the DNS servers the workstation's resolver asks, in order.
	WorkstationDNS() []string
}

// Options say what the operator gives fix8524.
type Options struct {
	Inventory     *inventory.Inventory
	AssumeSelfDNS bool
	// LDAPPort is the port the gather's LDAP connections use (default 636, LDAPS).
	LDAPPort int
}

func (o Options) ldapPort() int {
	if o.LDAPPort > 0 {
		return o.LDAPPort
	}
	return 636
}

// HostPort is the port a read-only host probe uses on a DC: WinRM on Windows, SSH on Samba.
func HostPort(dc *facts.DC) int {
	if p, _ := dc.Platform.Get(); p == facts.PlatformSamba {
		return 22
	}
	return 5985
}

// SeedAddress is the address a gather of f is seeded with: the seed DC's first address.
func SeedAddress(f Forest) (string, *facts.DC) {
	t := f.Served()
	dc := facts.NewIndex(t).DCByName(t.SeedDC)
	if dc == nil {
		return "", nil
	}
	ips, _ := dc.IPs.Get()
	if len(ips) == 0 {
		return "", dc
	}
	return ips[0], dc
}

// Resolve is the workstation's resolver: a stub resolver over its DNS servers.
func Resolve(f Forest, host string) locate.Resolution {
	return locate.Resolve(f.WorkstationDNS(), host, f.QueryDNS)
}

// resolveAsGather is what the gatherer records of the workstation's resolver: its answer, or
// the error a resolver returns (lab/sim's Forest.Resolve returns the same).
func resolveAsGather(f Forest, host string) locate.Resolution {
	r := Resolve(f, host)
	return locate.FromResolver(host, r.Addresses, r.DNSError(host))
}

// Owns reports whether address is one of dc's (real) addresses.
func Owns(dc *facts.DC, address string) bool {
	ips, _ := dc.IPs.Get()
	for _, ip := range ips {
		if ip == address {
			return true
		}
	}
	return false
}

// answersOn returns the first of addrs on which port of dc answers, or "".
func answersOn(f Forest, dc *facts.DC, addrs []string, port int) string {
	for _, a := range addrs {
		if Owns(dc, a) && f.ProbeAddress(a, port).Result == facts.ReachOpen {
			return a
		}
	}
	return ""
}

// HeldNCs are the naming contexts a DC's rootDSE lists: the NCs it masters, those it replicates
// in (its inbound links), the configuration and schema NCs; in the forest's NC order.
func HeldNCs(t *facts.Snapshot, dc *facts.DC) []string {
	held := map[string]bool{strings.ToLower(t.Forest.ConfigDN): true, strings.ToLower(t.Forest.SchemaDN): true}
	for _, nc := range dc.MasterNCs {
		held[strings.ToLower(nc)] = true
	}
	for _, l := range t.Links {
		if strings.EqualFold(l.Destination, dc.Name) {
			held[strings.ToLower(l.NC)] = true
		}
	}
	var out []string
	for _, nc := range t.Forest.NCs {
		if held[strings.ToLower(nc)] {
			out = append(out, nc)
		}
	}
	return out
}

func holds(ncs []string, nc string) bool {
	for _, n := range ncs {
		if strings.EqualFold(n, nc) {
			return true
		}
	}
	return false
}

// ZoneRead is what reading a partition's zones on a DC returns (ldapread.Client.ReadZones).
func ZoneRead(f Forest, dc, partition string, names []string) locate.ZoneRead {
	zr := locate.ZoneRead{Partition: partition, DC: dc}
	zones, nodes, ok := f.ZoneNodes(dc, partition)
	if !ok {
		return zr // no CN=MicrosoftDNS container there: no zone (ldapread.Client.ReadZones)
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	inZones := map[string]bool{}
	for _, z := range zones {
		inZones[z] = true
	}
	for _, n := range nodes {
		if want[RelativeName(n)] && inZones[n.Zone] {
			zr.Nodes = append(zr.Nodes, n)
			if n.Name == n.Zone {
				zr.Zones = append(zr.Zones, n.Zone)
			}
		}
	}
	return zr
}

// RelativeName is a node's name within its zone ("@" for the apex).
func RelativeName(n locate.Node) string {
	if n.Name == n.Zone {
		return "@"
	}
	return strings.TrimSuffix(n.Name, "."+n.Zone)
}

// View is the facts a gather of f makes before the playbook's observations: see the package doc.
func View(f Forest, o Options) *facts.Snapshot {
	t := f.Served()
	tix := facts.NewIndex(t)
	s := &facts.Snapshot{FormatVersion: t.FormatVersion, GatheredAt: t.GatheredAt, Source: t.Source, SeedDC: t.SeedDC, Forest: t.Forest}
	s.Forest.DNSServers = nil
	s.DCs = make([]facts.DC, len(t.DCs))
	for i, dc := range t.DCs {
		dc.IPs, dc.AddressLookups = facts.Maybe[[]string]{}, nil
		dc.OwnDSAGUID, dc.Inbound = facts.Maybe[string]{}, facts.Maybe[string]{}
		dc.DNSServers, dc.DNSServersFrom, dc.Events = facts.Maybe[[]string]{}, "", facts.Maybe[[]facts.Event]{}
		s.DCs[i] = dc
	}
	ev := &locate.Evidence{Inventory: o.Inventory, Resolver: map[string]locate.Resolution{}}
	if addr, seed := SeedAddress(f); seed != nil && addr != "" {
		ev.Seed, ev.SeedAddress = seed.Name, canonicalIP(addr)
	}
	names := locate.NodeNames(s.DCs)
	seedHeld := []string(nil)
	if seed := tix.DCByName(t.SeedDC); seed != nil {
		seedHeld = HeldNCs(t, seed)
	}
	for _, p := range locate.ZonePartitions(&s.Forest) {
		if holds(seedHeld, locate.PartitionNC(p)) {
			ev.Zones = append(ev.Zones, ZoneRead(f, t.SeedDC, p, names))
		}
	}

	answered := map[string]string{}
	read := func(dc *facts.DC, ix *facts.Index) {
		truth := tix.DCByName(dc.Name)
		locate.ApplyDC(dc, ev, ix, s.Forest.RootDomain)
		if _, asked := ev.Resolver[strings.ToLower(dc.Name)]; !dc.IPs.Known && dc.DNSHostName != "" && !asked {
			ev.Resolver[strings.ToLower(dc.Name)] = resolveAsGather(f, dc.DNSHostName)
			locate.ApplyDC(dc, ev, ix, s.Forest.RootDomain)
		}
		addrs, _ := dc.IPs.Get()
		// Host facts: a read-only probe on a known address of the DC.
		dc.DNSServers = facts.Unknown[[]string]("the DC does not answer on a known address")
		dc.DNSServersFrom, dc.Events = "", facts.Unknown[[]facts.Event]("the DC does not answer on a known address")
		if answersOn(f, truth, addrs, HostPort(truth)) != "" {
			dc.DNSServers, dc.DNSServersFrom, dc.Events = f.HostFacts(dc.Name)
		}
		if inv := o.Inventory.DC(dc.Name); inv != nil && len(inv.DNSServers) > 0 && !dc.DNSServers.Known {
			dc.DNSServers, dc.DNSServersFrom = facts.Some(append([]string(nil), inv.DNSServers...)), "inventory"
		}
		if len(addrs) > 0 && !dc.DNSServers.Known && o.AssumeSelfDNS {
			dc.DNSServers, dc.DNSServersFrom = facts.Some(append([]string(nil), addrs...)), facts.DNSServersAssumedSelf
		}
		if len(addrs) == 0 {
			why := "no address of the DC is known: " + dc.IPs.Why()
			dc.OwnDSAGUID, dc.Inbound = facts.Unknown[string](why), facts.Unknown[string](why)
			return
		}
		at := answersOn(f, truth, addrs, o.ldapPort())
		if at == "" {
			why := "the DC does not answer LDAP"
			dc.OwnDSAGUID, dc.Inbound = facts.Unknown[string](why), facts.Unknown[string](why)
			return
		}
		answered[strings.ToLower(dc.Name)] = at
		dc.OwnDSAGUID, dc.Inbound = truth.OwnDSAGUID, truth.Inbound
		for _, l := range t.Links {
			if strings.EqualFold(l.Destination, dc.Name) {
				s.Links = append(s.Links, l)
			}
		}
	}
	for i := range s.DCs {
		read(&s.DCs[i], nil)
	}

	// The zones of partitions the seed does not hold, on the first DC (by name) that answered
	// and holds them.
	byName := make([]*facts.DC, len(t.DCs))
	for i := range t.DCs {
		byName[i] = &t.DCs[i]
	}
	sort.Slice(byName, func(i, j int) bool { return byName[i].Name < byName[j].Name })
	for _, p := range locate.ZonePartitions(&s.Forest) {
		nc := locate.PartitionNC(p)
		if holds(seedHeld, nc) {
			continue
		}
		zr := locate.ZoneRead{Partition: p, Err: "no DC that answered holds " + nc}
		for _, dc := range byName {
			if answered[strings.ToLower(dc.Name)] != "" && holds(HeldNCs(t, dc), nc) {
				zr = ZoneRead(f, dc.Name, p, names)
				break
			}
		}
		ev.Zones = append(ev.Zones, zr)
	}
	locate.Apply(s, ev)

	// Every DNS server of the forest, for the DCs in doubt.
	doubt := locate.Doubtful(s, func(dc string) bool { return answered[strings.ToLower(dc)] != "" })
	if len(doubt) > 0 {
		tried := map[string][]string{}
		ix := facts.NewIndex(s)
		for _, name := range doubt {
			tried[name], _ = ix.DCByName(name).IPs.Get()
		}
		ObserveDNS(f, s, locate.NSQueries(s))
		ev.Servers = locate.Servers(s, ev, func(host string) []string { return resolveAsGather(f, host).Addresses })
		ObserveDNS(f, s, locate.WidenQueries(s, ev.Servers, doubt))
		locate.Apply(s, ev)
		ix = facts.NewIndex(s)
		for _, name := range doubt {
			dc := ix.DCByName(name)
			if answered[strings.ToLower(name)] != "" {
				continue
			}
			if ips, ok := dc.IPs.Get(); ok && !locate.SameAddresses(ips, tried[name]) {
				read(dc, ix)
			}
		}
		locate.NoAddressReasons(s)
	}
	s.Sort()
	return s
}

func canonicalIP(a string) string {
	if ip, err := netip.ParseAddr(a); err == nil {
		return ip.String()
	}
	return a
}

// ObserveDNS appends the answers to the queries s holds no observation of.
func ObserveDNS(f Forest, s *facts.Snapshot, qs []facts.DNSQuery) {
	fresh, _ := facts.Missing(s, gather.DedupQueries(qs), nil)
	for _, q := range fresh {
		s.DNS = append(s.DNS, f.QueryDNS(q))
	}
	s.Sort()
}

// Observe appends the answers to dns and tcp, as a gather makes them: a DC is probed on each of
// its known addresses (none: unknown, with where fix8524 looked); another host is dialled as
// named, a name through the workstation's resolver.
func Observe(f Forest, s *facts.Snapshot, dns []facts.DNSQuery, tcp []facts.TCPProbe) {
	for _, q := range dns {
		s.DNS = append(s.DNS, f.QueryDNS(q))
	}
	ix := facts.NewIndex(s)
	for _, p := range tcp {
		t := gather.ProbeTarget(ix, p)
		s.Reach = append(s.Reach, reach.Observe(t, func(address string) facts.ReachAttempt {
			return Dial(f, address, p.Port)
		}))
	}
	s.Sort()
}

// Dial is what a TCP connect from the workstation to address:port meets; a name is resolved
// through the workstation's resolver first (the simulated forest's Dial does the same).
func Dial(f Forest, address string, port int) facts.ReachAttempt {
	if _, err := netip.ParseAddr(address); err == nil {
		a := f.ProbeAddress(address, port)
		a.Address = address
		return a
	}
	r := Resolve(f, address)
	if len(r.Addresses) == 0 {
		res, msg := reach.Classify(NameError(address, port, r), false)
		return facts.ReachAttempt{Address: address, Result: res, Error: msg}
	}
	var last facts.ReachAttempt
	for _, ip := range r.Addresses {
		last = f.ProbeAddress(ip, port)
		if last.Result == facts.ReachOpen {
			break
		}
	}
	last.Address = address
	return last
}

// NameError is the error dialling an unresolvable name gives.
func NameError(host string, port int, r locate.Resolution) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: nameAddr(net.JoinHostPort(host, strconv.Itoa(port))), Err: r.DNSError(host)}
}

type nameAddr string

func (a nameAddr) Network() string { return "tcp" }
func (a nameAddr) String() string  { return string(a) }
