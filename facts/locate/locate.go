// Package locate finds where a forest's DCs are without trusting one resolver. Error 8524 means
// DNS is broken somewhere, and the admin workstation usually asks the same broken DNS servers, so a
// DC's addresses are collected from every source that can know them, each recorded with what it
// said (facts.AddressLookup):
//
//   - the address the operator gave for the seed DC (--dc IP) and the inventory (ips);
//   - AD's DNS zones, read over LDAP: the dnsNode objects of DC=DomainDnsZones, DC=ForestDnsZones
//     and CN=MicrosoftDNS,CN=System (ZoneRead; a tombstoned node holds no address);
//   - the workstation's resolver, for a DC none of these knows;
//   - A and AAAA of the DC's dNSHostName asked directly of every DNS server of the forest (the
//     servers in any DC's DNS client settings and the NS of the forest root zone and of
//     _msdcs.<root>), for the DCs whose address is in doubt (Doubtful).
//
// The package holds no transport: the gatherer feeds it what it read over LDAP and DNS, and the
// simulated forest feeds it what its servers hold, so both reach the same facts the same way.
package locate

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/inventory"
)

// Node is one dnsNode object of an AD-integrated zone, decoded.
type Node struct {
	Name string // the owner's FQDN, canonical ("@" resolved to the zone's name)
	Zone string // the zone, canonical
	// Tombstoned: dNSTombstoned is TRUE or the node holds only a tombstone record: it was deleted
	// and holds no record.
	Tombstoned   bool
	TombstonedAt time.Time
	Addresses    []string // A and AAAA
	NS           []string // NS targets, canonical
	// Problems are values that could not be decoded (never addresses).
	Problems []string
}

// ZoneRead is one read of the DNS zones an AD partition holds, on one DC.
type ZoneRead struct {
	// Partition is the DN searched below CN=MicrosoftDNS: DC=DomainDnsZones,<domain>,
	// DC=ForestDnsZones,<root> or CN=System,<domain>.
	Partition string
	DC        string // the DC whose copy was read
	Err       string // why it could not be read; "" when it was
	// Zones are the zones the partition holds (their apex nodes were read).
	Zones []string
	Nodes []Node
}

// Resolution is what the workstation's resolver said about a DC's host name.
type Resolution struct {
	Addresses []string
	NotFound  bool   // the name does not exist (NXDOMAIN or no address)
	Err       string // the failure, when it did not answer
}

// FromResolver turns what a resolver returned into a Resolution.
func FromResolver(host string, ips []string, err error) Resolution {
	if err != nil {
		var de *net.DNSError
		return Resolution{Err: err.Error(), NotFound: errors.As(err, &de) && de.IsNotFound}
	}
	if len(ips) == 0 {
		return Resolution{NotFound: true, Err: "no address"}
	}
	return Resolution{Addresses: ips}
}

// DNSError is the error a resolver returns for a failed Resolution (nil when it has addresses).
func (r Resolution) DNSError(host string) error {
	if len(r.Addresses) > 0 {
		return nil
	}
	return &net.DNSError{Err: r.Err, Name: host, IsNotFound: r.NotFound}
}

// Evidence is everything looked at so far.
type Evidence struct {
	// Seed is the address the operator gave for the seed DC (--dc IP), with the seed's name.
	Seed, SeedAddress string
	Inventory         *inventory.Inventory
	Resolver          map[string]Resolution // by lower-case DC name
	Zones             []ZoneRead
	// Servers are the DNS servers of the forest asked for DC addresses (Widen); their A and
	// AAAA answers are read from the snapshot's DNS observations.
	Servers []facts.ForestDNSServer
}

// ZonePartitions lists the partitions whose DNS zones hold DC host records, in reading order:
// for each domain its DomainDnsZones (when the forest has that NC) and CN=System, then the
// forest's ForestDnsZones.
func ZonePartitions(f *facts.Forest) []string {
	ncs := map[string]bool{}
	for _, nc := range f.NCs {
		ncs[strings.ToLower(nc)] = true
	}
	var out []string
	doms := append([]facts.Domain(nil), f.Domains...)
	sort.Slice(doms, func(i, j int) bool { return doms[i].DNSName < doms[j].DNSName })
	for _, d := range doms {
		if p := "DC=DomainDnsZones," + d.DN; ncs[strings.ToLower(p)] {
			out = append(out, p)
		}
		out = append(out, "CN=System,"+d.DN)
	}
	if f.RootDN != "" {
		if p := "DC=ForestDnsZones," + f.RootDN; ncs[strings.ToLower(p)] {
			out = append(out, p)
		}
	}
	return out
}

// PartitionNC returns the naming context a zone partition lives in (CN=System,<domain> is in
// the domain NC).
func PartitionNC(partition string) string {
	if rest, ok := cutPrefixFold(partition, "CN=System,"); ok {
		return rest
	}
	return partition
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// NodeNames returns the relative names of the dnsNode objects a zone read asks for: "@" (every
// zone's apex, for its NS records) and each left part of each DC host name, since the zone a
// host is in is not known before the read ("dc2" in contoso.com, "dc2.child" in contoso.com when
// child.contoso.com is no zone of its own).
func NodeNames(dcs []facts.DC) []string {
	seen := map[string]bool{"@": true}
	out := []string{"@"}
	for i := range dcs {
		labels := strings.Split(facts.CanonicalName(dcs[i].DNSHostName), ".")
		for n := 1; n < len(labels); n++ {
			rel := strings.Join(labels[:n], ".")
			if rel != "" && !seen[rel] {
				seen[rel] = true
				out = append(out, rel)
			}
		}
	}
	return out
}

// Apply sets every DC's AddressLookups and IPs from the evidence and the snapshot's DNS
// observations.
func Apply(s *facts.Snapshot, ev *Evidence) {
	ix := facts.NewIndex(s)
	for i := range s.DCs {
		ApplyDC(&s.DCs[i], ev, ix, s.Forest.RootDomain)
	}
	s.Forest.DNSServers = append([]facts.ForestDNSServer(nil), ev.Servers...)
}

// ApplyDC sets one DC's AddressLookups and IPs from the evidence; ix (may be nil) gives the DNS
// observations of the forest's DNS servers.
func ApplyDC(dc *facts.DC, ev *Evidence, ix *facts.Index, root string) {
	host := facts.CanonicalName(dc.DNSHostName)
	var lk []facts.AddressLookup
	if ev.SeedAddress != "" && strings.EqualFold(ev.Seed, dc.Name) {
		lk = append(lk, facts.AddressLookup{Source: facts.LookupSeed, Result: facts.LookupFound, Addresses: []string{ev.SeedAddress}, Detail: "the address given for the seed DC"})
	}
	if inv := ev.Inventory.DC(dc.Name); inv != nil && len(inv.IPs) > 0 {
		lk = append(lk, facts.AddressLookup{Source: facts.LookupInventory, Result: facts.LookupFound, Addresses: cleanAddrs(inv.IPs)})
	} else if ev.Inventory != nil {
		lk = append(lk, facts.AddressLookup{Source: facts.LookupInventory, Result: facts.LookupAbsent, Detail: "no ips for " + dc.Name + " in " + ev.Inventory.Filename})
	}
	if host != "" {
		if r, ok := ev.Resolver[strings.ToLower(dc.Name)]; ok {
			lk = append(lk, resolverLookup(r))
		}
		lk = append(lk, zoneLookups(host, dc, ev.Zones)...)
		if ix != nil {
			for _, srv := range ev.Servers {
				if l, ok := dnsLookup(ix, srv.Address, host); ok {
					lk = append(lk, l)
				}
			}
		}
	}
	dc.AddressLookups = lk
	var ips []string
	seen := map[string]bool{}
	for _, l := range lk {
		for _, a := range l.Addresses {
			if !seen[a] {
				seen[a] = true
				ips = append(ips, a)
			}
		}
	}
	if len(ips) > 0 {
		dc.IPs = facts.Some(ips)
	} else {
		dc.IPs = facts.Unknown[[]string](NotFoundReason(dc, lk))
	}
}

func resolverLookup(r Resolution) facts.AddressLookup {
	l := facts.AddressLookup{Source: facts.LookupResolver}
	switch {
	case len(r.Addresses) > 0:
		l.Result, l.Addresses = facts.LookupFound, cleanAddrs(r.Addresses)
	case r.NotFound:
		l.Result, l.Detail = facts.LookupAbsent, clip(r.Err)
	default:
		l.Result, l.Detail = facts.LookupUnknown, clip(r.Err)
	}
	return l
}

// zoneLookups: for each zone read whose zones cover the host, what the longest such zone holds.
func zoneLookups(host string, dc *facts.DC, reads []ZoneRead) []facts.AddressLookup {
	var out []facts.AddressLookup
	for _, zr := range reads {
		if zr.Err != "" {
			// A partition that could hold the DC's records and could not be read.
			if relevantPartition(zr.Partition, dc) {
				out = append(out, facts.AddressLookup{Source: facts.LookupADZone, Where: zr.Partition + " on " + zr.DC, Result: facts.LookupUnknown, Detail: clip(zr.Err)})
			}
			continue
		}
		zone := ""
		for _, z := range zr.Zones {
			if (host == z || strings.HasSuffix(host, "."+z)) && len(z) > len(zone) {
				zone = z
			}
		}
		if zone == "" {
			continue
		}
		l := facts.AddressLookup{Source: facts.LookupADZone, Where: zone + " in " + zr.Partition + " on " + zr.DC, Result: facts.LookupAbsent, Detail: "no dnsNode " + host}
		for _, n := range zr.Nodes {
			if n.Name != host || n.Zone != zone {
				continue
			}
			switch {
			case n.Tombstoned:
				l.Detail = "dnsNode " + host + " is tombstoned"
				if !n.TombstonedAt.IsZero() {
					l.Detail += " since " + n.TombstonedAt.UTC().Format(time.RFC3339)
				}
			case len(n.Addresses) > 0:
				l.Result, l.Addresses, l.Detail = facts.LookupFound, cleanAddrs(n.Addresses), ""
			default:
				l.Detail = "dnsNode " + host + " holds no A or AAAA record"
			}
			if len(n.Problems) > 0 {
				l.Detail = strings.TrimPrefix(l.Detail+"; undecodable values: "+strings.Join(n.Problems, "; "), "; ")
			}
		}
		out = append(out, l)
	}
	return out
}

// relevantPartition: the DC's own domain's partitions and the forest's.
func relevantPartition(p string, dc *facts.DC) bool {
	lp := strings.ToLower(p)
	if strings.HasPrefix(lp, "dc=forestdnszones,") {
		return true
	}
	dn := strings.ToLower(domainDN(dc.Domain))
	return dn != "" && strings.HasSuffix(lp, ","+dn)
}

func domainDN(dns string) string {
	dns = facts.CanonicalName(dns)
	if dns == "" {
		return ""
	}
	parts := strings.Split(dns, ".")
	for i, p := range parts {
		parts[i] = "DC=" + p
	}
	return strings.Join(parts, ",")
}

// dnsLookup reads what one DNS server answered to A and AAAA of host.
func dnsLookup(ix *facts.Index, server, host string) (facts.AddressLookup, bool) {
	a := ix.DNS(facts.DNSQuery{Server: server, Name: host, Type: facts.TypeA})
	aaaa := ix.DNS(facts.DNSQuery{Server: server, Name: host, Type: facts.TypeAAAA})
	if a == nil && aaaa == nil {
		return facts.AddressLookup{}, false
	}
	l := facts.AddressLookup{Source: facts.LookupDNS, Where: server}
	var addrs, details []string
	absent, unknown := 0, 0
	for _, o := range []*facts.DNSObservation{a, aaaa} {
		if o == nil {
			unknown++
			continue
		}
		got, state := Answer(o)
		addrs = append(addrs, got...)
		switch state {
		case facts.LookupAbsent:
			absent++
		case facts.LookupUnknown:
			unknown++
		}
		details = append(details, o.Type+" "+Describe(o))
	}
	l.Detail = strings.Join(details, "; ")
	switch {
	case len(addrs) > 0:
		l.Result, l.Addresses = facts.LookupFound, cleanAddrs(addrs)
	case unknown == 0 && absent > 0:
		l.Result = facts.LookupAbsent
	default:
		l.Result = facts.LookupUnknown
	}
	return l, true
}

// Answer reads the addresses an A or AAAA observation holds, and whether the server said the
// name has none (absent) or could not be asked (unknown).
func Answer(o *facts.DNSObservation) ([]string, string) {
	if !o.Responded() {
		return nil, facts.LookupUnknown
	}
	var out []string
	for _, rr := range o.Answers {
		if (rr.Type == facts.TypeA || rr.Type == facts.TypeAAAA) && strings.EqualFold(rr.Type, o.Type) {
			if a, err := netip.ParseAddr(rr.Data); err == nil {
				out = append(out, a.String())
			}
		}
	}
	if len(out) > 0 {
		return out, facts.LookupFound
	}
	switch strings.ToUpper(o.Rcode) {
	case "NXDOMAIN", "NOERROR":
		return nil, facts.LookupAbsent
	}
	return nil, facts.LookupUnknown // SERVFAIL, REFUSED: the server would not say
}

// Describe renders an observation briefly: "NXDOMAIN (authoritative)", "NOERROR 192.0.2.12",
// "timeout".
func Describe(o *facts.DNSObservation) string {
	if !o.Responded() {
		if o.Error != "" {
			return clip(o.Error)
		}
		return "no response"
	}
	s := strings.ToUpper(o.Rcode)
	if o.Authoritative {
		s += " (authoritative)"
	}
	var data []string
	for _, rr := range o.Answers {
		data = append(data, clip(rr.Data))
	}
	if len(data) > 0 {
		s += " " + strings.Join(data, ", ")
	} else if s == "NOERROR" || strings.HasPrefix(s, "NOERROR ") {
		s += ", no record"
	}
	return s
}

// NotFoundReason says where fix8524 looked for a DC that has no known address.
func NotFoundReason(dc *facts.DC, lk []facts.AddressLookup) string {
	host := facts.CanonicalName(dc.DNSHostName)
	if host == "" {
		return "the server object of " + dc.Name + " has no dNSHostName and the inventory gives no address"
	}
	var dnsAsked, dnsUnknown []string
	var zonesRead, zonesUnknown []string
	resolver := ""
	inventory := "no inventory address"
	for _, l := range lk {
		switch l.Source {
		case facts.LookupDNS:
			dnsAsked = append(dnsAsked, l.Where)
			if l.Result == facts.LookupUnknown {
				dnsUnknown = append(dnsUnknown, l.Where)
			}
		case facts.LookupADZone:
			if l.Result == facts.LookupUnknown {
				zonesUnknown = append(zonesUnknown, l.Where+parenthesized(l.Detail))
			} else {
				zonesRead = append(zonesRead, l.Where+parenthesized(l.Detail))
			}
		case facts.LookupResolver:
			resolver = "the workstation's resolver: " + orDash(l.Detail)
		case facts.LookupInventory:
			inventory = "no address for it in the inventory"
		}
	}
	var parts []string
	switch {
	case len(dnsAsked) > 0:
		p := fmt.Sprintf("%s resolves on none of the %d DNS servers of the forest (%s)", host, len(dnsAsked), strings.Join(dnsAsked, ", "))
		if len(dnsUnknown) > 0 {
			p += fmt.Sprintf("; %d of them did not answer (%s)", len(dnsUnknown), strings.Join(dnsUnknown, ", "))
		}
		parts = append(parts, p)
	default:
		parts = append(parts, host+" was asked of no DNS server of the forest")
	}
	switch {
	case len(zonesRead) > 0 && len(zonesUnknown) == 0:
		parts = append(parts, "has no record in AD's zones ("+strings.Join(zonesRead, "; ")+")")
	case len(zonesRead) > 0:
		parts = append(parts, "has no record in the AD zones read ("+strings.Join(zonesRead, "; ")+"); unread: "+strings.Join(zonesUnknown, "; "))
	case len(zonesUnknown) > 0:
		parts = append(parts, "AD's zones could not be read ("+strings.Join(zonesUnknown, "; ")+")")
	default:
		parts = append(parts, "no AD zone read holds its zone")
	}
	if resolver != "" {
		parts = append(parts, resolver)
	}
	parts = append(parts, inventory)
	return strings.Join(parts, "; ")
}

func parenthesized(d string) string {
	if d == "" {
		return ""
	}
	return ": " + d
}

func orDash(s string) string {
	if s == "" {
		return "no address"
	}
	return s
}

// NoAddressReasons says, for every DC still without a known address, why its own view is unknown
// with where fix8524 finally looked.
func NoAddressReasons(s *facts.Snapshot) {
	for i := range s.DCs {
		dc := &s.DCs[i]
		if dc.IPs.Known {
			continue
		}
		why := "no address of the DC is known: " + dc.IPs.Why()
		if !dc.OwnDSAGUID.Known {
			dc.OwnDSAGUID = facts.Unknown[string](why)
		}
		if !dc.Inbound.Known {
			dc.Inbound = facts.Unknown[string](why)
		}
	}
}

// Doubtful lists the DCs whose addresses must be asked of every DNS server of the forest: the
// sources of failing links that have no known address, that did not answer LDAP on any known
// address (answered reports whether it did), or whose sources disagree. Sorted by name.
func Doubtful(s *facts.Snapshot, answered func(dc string) bool) []string {
	ix := facts.NewIndex(s)
	seen := map[string]bool{}
	var out []string
	for i := range s.Links {
		l := &s.Links[i]
		if l.LastResult == 0 {
			continue
		}
		dc := ix.SourceOf(l)
		if dc == nil || seen[dc.Name] || dc.DNSHostName == "" {
			continue
		}
		seen[dc.Name] = true
		ips, ok := dc.IPs.Get()
		if !ok || len(ips) == 0 || !answered(dc.Name) || facts.AddressesDisagree(dc.AddressLookups) {
			out = append(out, dc.Name)
		}
	}
	sort.Strings(out)
	return out
}

// nsAsked bounds the servers asked for the NS records: AD-integrated servers answer alike, and
// AD's own zones name them too.
const nsAsked = 3

// NSQueries are the questions that name the forest's DNS servers: NS of the forest root zone and
// of _msdcs.<root>, asked of the first servers in the DCs' DNS client settings (the seed DC's
// first).
func NSQueries(s *facts.Snapshot) []facts.DNSQuery {
	root := facts.CanonicalName(s.Forest.RootDomain)
	if root == "" {
		return nil
	}
	var out []facts.DNSQuery
	srvs := clientServers(s)
	if len(srvs) > nsAsked {
		srvs = srvs[:nsAsked]
	}
	for _, srv := range srvs {
		out = append(out,
			facts.DNSQuery{Server: srv.Address, Name: root, Type: facts.TypeNS},
			facts.DNSQuery{Server: srv.Address, Name: "_msdcs." + root, Type: facts.TypeNS})
	}
	return out
}

// clientServers: every server in any DC's DNS client settings, the seed DC's first, then in DC
// order.
func clientServers(s *facts.Snapshot) []facts.ForestDNSServer {
	var out []facts.ForestDNSServer
	at := map[string]int{}
	order := make([]*facts.DC, 0, len(s.DCs))
	for i := range s.DCs {
		if strings.EqualFold(s.DCs[i].Name, s.SeedDC) {
			order = append([]*facts.DC{&s.DCs[i]}, order...)
		} else {
			order = append(order, &s.DCs[i])
		}
	}
	for _, dc := range order {
		srvs, ok := dc.DNSServers.Get()
		if !ok {
			continue
		}
		why := "dns-client:" + dc.Name
		if dc.DNSServersFrom == facts.DNSServersAssumedSelf {
			why += " (assumed)"
		}
		for _, a := range srvs {
			ip, err := netip.ParseAddr(a)
			if err != nil {
				continue
			}
			out = addServer(out, at, ip.String(), why)
		}
	}
	return out
}

func addServer(out []facts.ForestDNSServer, at map[string]int, addr, why string) []facts.ForestDNSServer {
	if i, ok := at[addr]; ok {
		for _, w := range out[i].Why {
			if w == why {
				return out
			}
		}
		out[i].Why = append(out[i].Why, why)
		return out
	}
	at[addr] = len(out)
	return append(out, facts.ForestDNSServer{Address: addr, Why: []string{why}})
}

// NSTargets lists the NS targets the evidence names for the forest root zone and _msdcs.<root>:
// from the NS observations in s and the apex nodes of AD's zones, with the zone that names them.
func NSTargets(s *facts.Snapshot, ev *Evidence) [][2]string {
	root := facts.CanonicalName(s.Forest.RootDomain)
	zones := map[string]bool{root: true, "_msdcs." + root: true}
	var out [][2]string
	seen := map[string]bool{}
	add := func(zone, target string) {
		target = facts.CanonicalName(target)
		if k := zone + "|" + target; target != "" && !seen[k] {
			seen[k] = true
			out = append(out, [2]string{zone, target})
		}
	}
	ix := facts.NewIndex(s)
	for _, q := range NSQueries(s) {
		o := ix.DNS(q)
		if o == nil || !o.Responded() {
			continue
		}
		for _, rr := range o.Answers {
			if rr.Type == facts.TypeNS && zones[facts.CanonicalName(rr.Name)] {
				add(facts.CanonicalName(rr.Name), rr.Data)
			}
		}
	}
	for _, zr := range ev.Zones {
		for _, n := range zr.Nodes {
			if n.Name == n.Zone && zones[n.Zone] {
				for _, t := range n.NS {
					add(n.Zone, t)
				}
			}
		}
	}
	return out
}

// Servers returns the DNS servers of the forest: every server in any DC's DNS client settings,
// then the addresses of the NS targets (a DC's known addresses; resolved, for a target that is
// no DC, by resolve, which may be nil).
func Servers(s *facts.Snapshot, ev *Evidence, resolve func(host string) []string) []facts.ForestDNSServer {
	out := clientServers(s)
	at := map[string]int{}
	for i, srv := range out {
		at[srv.Address] = i
	}
	ix := facts.NewIndex(s)
	for _, zt := range NSTargets(s, ev) {
		zone, target := zt[0], zt[1]
		var addrs []string
		if dc := ix.DCByName(target); dc != nil {
			addrs, _ = dc.IPs.Get()
		} else if resolve != nil {
			addrs = resolve(target)
		}
		for _, a := range addrs {
			if ip, err := netip.ParseAddr(a); err == nil {
				out = addServer(out, at, ip.String(), "ns:"+zone)
			}
		}
	}
	return out
}

// WidenQueries are A and AAAA of each named DC's host name, asked of every server.
func WidenQueries(s *facts.Snapshot, servers []facts.ForestDNSServer, dcs []string) []facts.DNSQuery {
	ix := facts.NewIndex(s)
	var out []facts.DNSQuery
	for _, name := range dcs {
		dc := ix.DCByName(name)
		if dc == nil || dc.DNSHostName == "" {
			continue
		}
		host := facts.CanonicalName(dc.DNSHostName)
		for _, srv := range servers {
			out = append(out,
				facts.DNSQuery{Server: srv.Address, Name: host, Type: facts.TypeA},
				facts.DNSQuery{Server: srv.Address, Name: host, Type: facts.TypeAAAA})
		}
	}
	return out
}

// Resolve is a stub resolver over a query function, as the workstation's: it asks the servers in
// order and keeps the answer of the first that responds (a negative answer included), A then
// AAAA. (The simulated workstation resolves this way.)
func Resolve(servers []string, host string, query func(facts.DNSQuery) facts.DNSObservation) Resolution {
	host = facts.CanonicalName(host)
	for _, srv := range servers {
		a := query(facts.DNSQuery{Server: srv, Name: host, Type: facts.TypeA})
		if !a.Responded() {
			continue
		}
		addrs, state := Answer(&a)
		if rc := strings.ToUpper(a.Rcode); rc == "SERVFAIL" || rc == "REFUSED" {
			continue // a stub resolver tries the next server
		}
		aaaa := query(facts.DNSQuery{Server: srv, Name: host, Type: facts.TypeAAAA})
		more, _ := Answer(&aaaa)
		addrs = append(addrs, more...)
		if len(addrs) > 0 {
			return Resolution{Addresses: cleanAddrs(addrs)}
		}
		if state == facts.LookupAbsent {
			return Resolution{NotFound: true, Err: Describe(&a) + " from " + srv}
		}
	}
	if len(servers) == 0 {
		return Resolution{Err: "the workstation has no DNS server"}
	}
	return Resolution{Err: "no DNS server of the workstation answered (" + strings.Join(servers, ", ") + ")"}
}

// SameAddresses reports whether a and b hold the same addresses, in any order.
func SameAddresses(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

// cleanAddrs keeps valid addresses in canonical form, once each, in their order.
func cleanAddrs(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range in {
		ip, err := netip.ParseAddr(strings.TrimSpace(a))
		if err != nil {
			continue
		}
		s := ip.String()
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func clip(s string) string {
	if len(s) > 200 {
		return s[:200] + "..."
	}
	return s
}
