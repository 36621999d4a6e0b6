package scenario

import (
	"errors"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/workstation"
)

// Win32 results a destination records.
const (
	ResultOK              = 0
	ResultFileNotFound    = 2    // Samba's record of a failed lookup of the source's GUID CNAME
	ResultConnRefused     = 1225 // Samba: the source's port is closed
	ResultRPCUnavailable  = 1722 // Windows: the source does not answer RPC
	ResultDNSLookupFailed = 8524 // Windows: ERROR_DS_DNS_LOOKUP_FAILURE
)

// World is the mutable, concurrency-safe state of a simulated forest.
type World struct {
	mu      sync.RWMutex
	s       *Scenario
	now     time.Time
	dcs     []DC
	deleted map[string]bool                             // NTDS Settings DNs removed by metadata cleanup
	zones   map[string]map[string]map[string][]facts.RR // server IP -> zone -> owner name -> records
	servers map[string]*DNSServer
	links   []facts.Link
	// tomb: per server, the owner names whose records were deleted (their dnsNode objects are
	// tombstoned in AD's zones).
	tomb map[string]map[string]bool
}

// NewWorld builds the simulated forest of a scenario.
func (s *Scenario) NewWorld() *World {
	w := &World{s: s, now: s.Now, deleted: map[string]bool{}, zones: map[string]map[string]map[string][]facts.RR{}, servers: map[string]*DNSServer{}, tomb: map[string]map[string]bool{}}
	w.dcs = append([]DC(nil), s.DCs...)
	registered := w.registeredRecords()
	for i := range s.DNSServers {
		srv := &s.DNSServers[i]
		w.servers[srv.IP] = srv
		w.zones[srv.IP] = map[string]map[string][]facts.RR{}
		for _, z := range srv.Zones {
			w.zones[srv.IP][z] = map[string][]facts.RR{}
		}
		w.addZoneInfrastructure(srv)
		for _, rr := range registered {
			w.put(srv.IP, rr.rr)
		}
		for _, rr := range srv.Records {
			w.put(srv.IP, rr)
		}
		for _, m := range srv.Missing {
			w.remove(srv.IP, m)
		}
	}
	w.links = w.deriveLinks()
	return w
}

type ownedRR struct {
	dc   string
	kind string // "cname" | "host"
	rr   facts.RR
}

// registeredRecords lists every record the forest's DCs have registered.
func (w *World) registeredRecords() []ownedRR {
	var out []ownedRR
	for _, dc := range w.dcs {
		if dc.State == StateGone && !dc.RecordsRemain {
			continue
		}
		out = append(out, w.recordsOf(dc, "all", dc.Unregistered)...)
	}
	return out
}

func (w *World) recordsOf(dc DC, what string, skip []string) []ownedRR {
	var out []ownedRR
	has := func(k string) bool {
		for _, s := range skip {
			if s == k {
				return true
			}
		}
		return false
	}
	if (what == "all" || what == "cname") && !has("cname") {
		out = append(out, ownedRR{dc.Name, "cname", facts.RR{Name: dc.OwnGUID + "._msdcs." + w.s.RootDomain, Type: facts.TypeCNAME, TTL: 600, Data: dc.HostName + "."}})
	}
	if (what == "all" || what == "host") && !has("host") {
		for _, ip := range dc.IPs {
			typ := facts.TypeA
			if a, err := netip.ParseAddr(ip); err == nil && a.Is6() {
				typ = facts.TypeAAAA
			}
			out = append(out, ownedRR{dc.Name, "host", facts.RR{Name: dc.HostName, Type: typ, TTL: 1200, Data: ip}})
		}
	}
	return out
}

func (w *World) addZoneInfrastructure(srv *DNSServer) {
	mname := "dns." + w.s.RootDomain + "."
	if dc := w.s.dc(srv.Host); dc != nil {
		mname = dc.HostName + "."
	}
	for _, z := range srv.Zones {
		w.zones[srv.IP][z][z] = append(w.zones[srv.IP][z][z],
			facts.RR{Name: z, Type: facts.TypeSOA, TTL: 3600, Data: fmt.Sprintf("%s hostmaster.%s. 1 900 600 86400 3600", mname, z)},
			facts.RR{Name: z, Type: facts.TypeNS, TTL: 3600, Data: mname})
	}
	// NS records that delegate child zones (glue is the server address).
	for child, servers := range srv.Delegations {
		z := w.zoneFor(srv.IP, child)
		if z == "" || z == child {
			continue
		}
		for i, ip := range servers {
			ns := fmt.Sprintf("ns%d.%s", i+1, child)
			w.zones[srv.IP][z][child] = append(w.zones[srv.IP][z][child], facts.RR{Name: child, Type: facts.TypeNS, TTL: 3600, Data: ns + "."})
			w.zones[srv.IP][z][ns] = append(w.zones[srv.IP][z][ns], facts.RR{Name: ns, Type: facts.TypeA, TTL: 3600, Data: ip})
		}
	}
}

// zoneFor returns the longest zone the server hosts that contains name, or "".
func (w *World) zoneFor(server, name string) string {
	best := ""
	for z := range w.zones[server] {
		if (name == z || strings.HasSuffix(name, "."+z)) && len(z) > len(best) {
			best = z
		}
	}
	return best
}

func (w *World) put(server string, rr facts.RR) bool {
	rr.Name = facts.CanonicalName(rr.Name)
	z := w.zoneFor(server, rr.Name)
	if z == "" {
		return false
	}
	for _, have := range w.zones[server][z][rr.Name] {
		if have.Type == rr.Type && have.Data == rr.Data {
			return false
		}
	}
	w.zones[server][z][rr.Name] = append(w.zones[server][z][rr.Name], rr)
	delete(w.tomb[server], rr.Name)
	return true
}

// remove applies one `missing` entry to a server's zone copies.
func (w *World) remove(server, m string) {
	kind, arg, ok := strings.Cut(m, ":")
	if !ok {
		// "NAME TYPE"
		f := strings.Fields(m)
		if len(f) != 2 {
			return
		}
		w.drop(server, func(rr facts.RR) bool {
			return rr.Name == facts.CanonicalName(f[0]) && rr.Type == strings.ToUpper(f[1])
		})
		return
	}
	if kind == "zone" {
		z := facts.CanonicalName(arg)
		w.drop(server, func(rr facts.RR) bool {
			return (rr.Name == z || strings.HasSuffix(rr.Name, "."+z)) && !(rr.Name == z && (rr.Type == facts.TypeSOA || rr.Type == facts.TypeNS))
		})
		return
	}
	dc := w.s.dc(arg)
	if dc == nil {
		return
	}
	for _, o := range w.recordsOf(*dc, "all", nil) {
		match := kind == "all" || kind == o.kind ||
			(kind == "a" && o.rr.Type == facts.TypeA) || (kind == "aaaa" && o.rr.Type == facts.TypeAAAA)
		if match {
			rr := o.rr
			w.drop(server, func(have facts.RR) bool { return have.Name == facts.CanonicalName(rr.Name) && have.Type == rr.Type })
		}
	}
}

func (w *World) drop(server string, match func(facts.RR) bool) {
	for _, z := range w.zones[server] {
		for name, rrs := range z {
			kept := rrs[:0]
			for _, rr := range rrs {
				if !match(rr) {
					kept = append(kept, rr)
				}
			}
			if len(kept) == 0 {
				delete(z, name)
				if w.tomb[server] == nil {
					w.tomb[server] = map[string]bool{}
				}
				w.tomb[server][name] = true
			} else {
				z[name] = kept
			}
		}
	}
}

// Scenario returns the scenario the world was built from.
func (w *World) Scenario() *Scenario { return w.s }

// Now returns the simulated clock.
func (w *World) Now() time.Time {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.now
}

// QueryDNS returns what DNS server q.Server answers to q.
func (w *World) QueryDNS(q facts.DNSQuery) facts.DNSObservation {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.query(q, 0)
}

func (w *World) query(q facts.DNSQuery, depth int) facts.DNSObservation {
	name := facts.CanonicalName(q.Name)
	typ := strings.ToUpper(q.Type)
	obs := facts.DNSObservation{DNSQuery: q, ElapsedMS: 1}
	srv := w.servers[q.Server]
	if srv == nil || srv.Kind == KindDead || depth > 8 {
		obs.Error = "timeout"
		return obs
	}
	if srv.Kind == KindRefused {
		obs.Rcode = "REFUSED"
		return obs
	}
	z := w.zoneFor(q.Server, name)
	if z == "" {
		if q.NoRecurse {
			obs.Rcode = "REFUSED"
			return obs
		}
		for _, fwd := range srv.Forwarders {
			r := w.query(facts.DNSQuery{Server: fwd, Name: name, Type: typ}, depth+1)
			if r.Responded() && r.Rcode != "SERVFAIL" && r.Rcode != "REFUSED" {
				r.DNSQuery, r.Authoritative, r.ElapsedMS = q, false, r.ElapsedMS+1
				return r
			}
		}
		// Root hints or a public resolver: the forest's private namespace does not exist there.
		obs.Rcode = "NXDOMAIN"
		return obs
	}
	zone := w.zones[q.Server][z]
	// A delegation inside the zone that this server does not host itself.
	for child, servers := range srv.Delegations {
		if child == z || !(name == child || strings.HasSuffix(name, "."+child)) || w.zoneFor(q.Server, name) != z {
			continue
		}
		if q.NoRecurse || typ == facts.TypeNS && name == child {
			obs.Rcode = "NOERROR"
			obs.Authority = append(obs.Authority, zone[child]...)
			return obs
		}
		for _, ip := range servers {
			r := w.query(facts.DNSQuery{Server: ip, Name: name, Type: typ, NoRecurse: true}, depth+1)
			if r.Responded() && r.Rcode != "REFUSED" && r.Rcode != "SERVFAIL" {
				r.DNSQuery, r.Authoritative = q, false
				return r
			}
		}
		obs.Rcode = "SERVFAIL"
		return obs
	}
	obs.Authoritative = true
	soa := soaOf(zone, z)
	rrs := zone[name]
	if len(rrs) == 0 {
		obs.Authority = soa
		obs.Rcode = "NXDOMAIN"
		if hasDescendant(zone, name) {
			obs.Rcode = "NOERROR" // empty non-terminal
		}
		return obs
	}
	obs.Rcode = "NOERROR"
	for _, rr := range rrs {
		if rr.Type == typ {
			obs.Answers = append(obs.Answers, rr)
		}
	}
	if len(obs.Answers) == 0 {
		for _, rr := range rrs {
			if rr.Type == facts.TypeCNAME && typ != facts.TypeCNAME {
				obs.Answers = append(obs.Answers, rr)
				target := facts.CanonicalName(rr.Data)
				var r facts.DNSObservation
				if w.zoneFor(q.Server, target) != "" || !q.NoRecurse {
					r = w.query(facts.DNSQuery{Server: q.Server, Name: target, Type: typ, NoRecurse: q.NoRecurse}, depth+1)
				}
				obs.Answers = append(obs.Answers, r.Answers...)
				if len(r.Answers) == 0 && r.Rcode == "NXDOMAIN" && w.zoneFor(q.Server, target) != "" {
					obs.Rcode = "NXDOMAIN" // the alias target does not exist
					obs.Authority = r.Authority
				}
				return obs
			}
		}
		obs.Authority = soa
	}
	return obs
}

func soaOf(zone map[string][]facts.RR, z string) []facts.RR {
	for _, rr := range zone[z] {
		if rr.Type == facts.TypeSOA {
			return []facts.RR{rr}
		}
	}
	return nil
}

func hasDescendant(zone map[string][]facts.RR, name string) bool {
	for n := range zone {
		if strings.HasSuffix(n, "."+name) {
			return true
		}
	}
	return false
}

// resolve answers name (A/AAAA, following CNAMEs) through a DC's resolver, which sticks to the first
// server that responds at all (the article: the Windows resolver is "sticky").
func (w *World) resolve(dc *DC, name string) (ips []string, answered bool) {
	for _, server := range w.resolversOf(dc) {
		obs := w.query(facts.DNSQuery{Server: server, Name: name, Type: facts.TypeA}, 0)
		if !obs.Responded() {
			continue
		}
		for _, rr := range obs.Answers {
			if rr.Type == facts.TypeA || rr.Type == facts.TypeAAAA {
				ips = append(ips, rr.Data)
			}
		}
		return ips, true
	}
	return nil, false
}

func (w *World) resolversOf(dc *DC) []string {
	if dc.DNSServers != nil {
		return dc.DNSServers
	}
	var own []string
	for _, ip := range dc.IPs {
		if w.servers[ip] != nil {
			own = append(own, ip)
		}
	}
	if len(own) > 0 {
		return own
	}
	for _, s := range w.s.DNSServers {
		if s.Kind == KindAD {
			return []string{s.IP}
		}
	}
	return nil
}

// resultFor computes what dest records when it replicates from src now.
func (w *World) resultFor(dest, src *DC, sourceGUID, address string) int {
	ips, _ := w.resolve(dest, address)
	if len(ips) == 0 {
		if dest.Platform == facts.PlatformSamba {
			return ResultFileNotFound
		}
		return ResultDNSLookupFailed
	}
	if src.State != StateOnline || sourceGUID != src.OwnGUID {
		// The name resolves, but nothing (or a different DSA) answers there.
		if dest.Platform == facts.PlatformSamba {
			return ResultConnRefused
		}
		return ResultRPCUnavailable
	}
	return ResultOK
}

// ncsBetween lists the NCs a destination replicates from a source.
func (w *World) ncsBetween(dest, src *DC) []string {
	root := domainDN(w.s.RootDomain)
	ncs := []string{"CN=Configuration," + root, "CN=Schema,CN=Configuration," + root, "DC=ForestDnsZones," + root}
	if dest.Domain == src.Domain {
		ncs = append(ncs, domainDN(dest.Domain), "DC=DomainDnsZones,"+domainDN(dest.Domain))
	}
	sort.Strings(ncs)
	return ncs
}

func (w *World) override(dest, src string) *LinkOverride {
	for i := range w.s.Links {
		o := &w.s.Links[i]
		if strings.EqualFold(o.Destination, dest) && strings.EqualFold(o.Source, src) {
			return o
		}
	}
	return nil
}

func (w *World) deriveLinks() []facts.Link {
	var links []facts.Link
	for i := range w.dcs {
		dest := &w.dcs[i]
		if dest.State != StateOnline {
			continue
		}
		for j := range w.dcs {
			src := &w.dcs[j]
			if i == j || w.deleted[w.ntdsDN(src)] {
				continue
			}
			o := w.override(dest.Name, src.Name)
			guid := src.GUID
			if o != nil && o.SourceGUID != "" {
				guid = o.SourceGUID
			}
			address := guid + "._msdcs." + w.s.RootDomain
			if o != nil && o.AddressGUID != "" {
				address = o.AddressGUID + "._msdcs." + w.s.RootDomain
			}
			result := w.resultFor(dest, src, guid, address)
			failures := 0
			if result != ResultOK {
				failures = 1
			}
			lastSuccess := w.now.Add(-2 * time.Hour)
			if result == ResultOK {
				lastSuccess = w.now.Add(-5 * time.Minute)
			}
			ncs := w.ncsBetween(dest, src)
			if o != nil {
				if o.Result != nil {
					result = *o.Result
				}
				if o.Failures != nil {
					failures = *o.Failures
				}
				if o.LastSuccess != nil {
					lastSuccess = *o.LastSuccess
				}
				if len(o.NCs) > 0 {
					ncs = o.NCs
				}
			}
			for _, nc := range ncs {
				links = append(links, facts.Link{
					Destination: dest.Name, DestinationGUID: dest.OwnGUID, NC: nc,
					SourceDSAGUID: guid, SourceDSADN: w.ntdsDN(src), SourceAddress: address,
					LastResult: result, ConsecutiveFailures: failures, LastSuccess: lastSuccess, LastAttempt: w.now.Add(-5 * time.Minute),
					ReadVia: readVia(dest.Platform),
				})
			}
		}
	}
	return links
}

func readVia(platform string) string {
	if platform == facts.PlatformSamba {
		return "repsFrom"
	}
	return "msDS-ReplAllInboundNeighbors"
}

func (w *World) ntdsDN(dc *DC) string {
	return "CN=NTDS Settings," + w.serverDN(dc)
}

func (w *World) serverDN(dc *DC) string {
	return fmt.Sprintf("CN=%s,CN=Servers,CN=%s,CN=Sites,CN=Configuration,%s", dc.Name, dc.Site, domainDN(w.s.RootDomain))
}

// Served returns the forest as its DCs serve it: the topology, every DC's real addresses and
// own view, and every link as its destination records it (what lab/sim serves; never the
// workstation's knowledge: see Base).
func (w *World) Served() *facts.Snapshot {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.served()
}

// Base returns the facts fix8524 can gather of the world from the admin workstation, before the
// playbook's observations: the topology, each DC's addresses as the workstation finds them (its
// resolver, AD's zones, the forest's DNS servers, the scenario's inventory), each DC's own view
// and host facts where it answers on a known address, the links of the DCs that answer
// (lab/workstation.View).
func (w *World) Base() *facts.Snapshot {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return workstation.View(locked{w}, workstation.Options{Inventory: w.inventory()})
}

// served is Served with w.mu held.
func (w *World) served() *facts.Snapshot {
	root := domainDN(w.s.RootDomain)
	snap := &facts.Snapshot{
		FormatVersion: facts.FormatVersion,
		GatheredAt:    w.now,
		Source:        "scenario:" + w.s.Name,
		Forest: facts.Forest{
			RootDomain: w.s.RootDomain, RootDN: root,
			ConfigDN: "CN=Configuration," + root, SchemaDN: "CN=Schema,CN=Configuration," + root,
		},
	}
	snap.Forest.NCs = []string{snap.Forest.ConfigDN, snap.Forest.SchemaDN, "DC=ForestDnsZones," + root}
	snap.Forest.TombstoneLifetimeDays, snap.Forest.TombstoneLifetimeFrom = facts.Some(facts.DefaultTombstoneLifetimeDays), "default"
	if n := w.s.TombstoneLifetimeDays; n > 0 {
		snap.Forest.TombstoneLifetimeDays, snap.Forest.TombstoneLifetimeFrom = facts.Some(n), "directory"
	}
	for _, d := range w.s.Domains {
		snap.Forest.Domains = append(snap.Forest.Domains, facts.Domain{DNSName: d.Name, DN: domainDN(d.Name), NetBIOS: d.NetBIOS})
		snap.Forest.NCs = append(snap.Forest.NCs, domainDN(d.Name), "DC=DomainDnsZones,"+domainDN(d.Name))
	}
	sort.Strings(snap.Forest.NCs)
	for i := range w.dcs {
		dc := &w.dcs[i]
		if w.deleted[w.ntdsDN(dc)] {
			continue
		}
		for _, role := range dc.FSMO {
			scope := root
			if role == facts.RolePDC || role == facts.RoleRID || role == facts.RoleInfrastructure {
				scope = domainDN(dc.Domain)
			}
			snap.Forest.FSMO = append(snap.Forest.FSMO, facts.FSMORole{Role: role, Scope: scope, OwnerDSA: w.ntdsDN(dc)})
		}
		snap.DCs = append(snap.DCs, w.factsDC(dc))
	}
	snap.SeedDC = w.seed()
	snap.Links = append([]facts.Link(nil), w.links...)
	snap.Sort()
	return snap
}

func (w *World) seed() string {
	if w.s.Seed != "" {
		return w.s.Seed
	}
	for _, l := range w.links {
		if l.LastResult != ResultOK {
			return l.Destination
		}
	}
	for _, dc := range w.dcs {
		if dc.State == StateOnline {
			return dc.Name
		}
	}
	return ""
}

func (w *World) factsDC(dc *DC) facts.DC {
	answers := dc.State == StateOnline
	out := facts.DC{
		Name: dc.Name, DNSHostName: dc.HostName, Domain: dc.Domain, Site: dc.Site,
		ServerDN: w.serverDN(dc), NTDSSettingsDN: w.ntdsDN(dc),
		ComputerDN: fmt.Sprintf("CN=%s,OU=Domain Controllers,%s", dc.Name, domainDN(dc.Domain)),
		DSAGUID:    dc.GUID, InvocationID: dc.InvocationID, WhenCreated: dc.Created,
		IsGC: dc.GC, IsRODC: dc.RODC, FSMORoles: append([]string(nil), dc.FSMO...),
		Platform:              facts.Some(dc.Platform),
		OperatingSystem:       facts.Some(dc.OS),
		IPs:                   facts.Some(append([]string(nil), dc.IPs...)),
		ProtectedFromDeletion: facts.Some(dc.Protected),
	}
	if dc.GC {
		out.Options = 1
	}
	out.MasterNCs = []string{"CN=Configuration," + domainDN(w.s.RootDomain), "CN=Schema,CN=Configuration," + domainDN(w.s.RootDomain), domainDN(dc.Domain)}
	sort.Strings(out.MasterNCs)
	if answers {
		out.OwnDSAGUID = facts.Some(dc.OwnGUID)
		out.Inbound = facts.Some(readVia(dc.Platform))
	} else {
		out.OwnDSAGUID = facts.Unknown[string]("the DC does not answer LDAP")
		out.Inbound = facts.Unknown[string]("the DC does not answer LDAP")
	}
	if answers {
		out.DNSServers, out.DNSServersFrom, out.Events = w.hostFacts(dc.Name)
	} else {
		out.DNSServers = facts.Unknown[[]string]("the DC does not answer")
		out.Events = facts.Unknown[[]facts.Event]("the DC does not answer")
	}
	return out
}

// DCs returns the DC facts of the world as its DCs serve them.
func (w *World) DCs() []facts.DC { return w.Served().DCs }

// ProbeAddress answers a TCP connect to address:port by the state of the DC at that address:
// nothing there, a DC that is down or behind a firewall that drops the workstation's packets:
// no answer; a closed port: refused.
func (w *World) ProbeAddress(address string, port int) facts.ReachAttempt {
	w.mu.RLock()
	defer w.mu.RUnlock()
	return w.probeAddress(address, port)
}

func (w *World) probeAddress(address string, port int) facts.ReachAttempt {
	obs := facts.ReachAttempt{Address: address, ElapsedMS: 1}
	dc := w.dcAt(address)
	if dc == nil || dc.State != StateOnline || dc.Filtered {
		obs.Result, obs.Error, obs.ElapsedMS = facts.ReachTimeout, "no answer", 2000
		return obs
	}
	for _, c := range dc.ClosedPorts {
		if c == port {
			obs.Result, obs.Error = facts.ReachRefused, "connection refused"
			return obs
		}
	}
	open := map[int]bool{88: true, 135: true, 389: true, 445: true, 464: true, 636: true, 3268: true, 3269: true}
	if w.servers[address] != nil {
		open[53] = true
	}
	if dc.Platform == facts.PlatformWindows {
		open[5985] = true
	} else {
		open[22] = true
	}
	if open[port] {
		obs.Result = facts.ReachOpen
	} else {
		obs.Result, obs.Error = facts.ReachRefused, "connection refused"
	}
	return obs
}

// dcAt returns the DC that has address, or nil.
func (w *World) dcAt(address string) *DC {
	for i := range w.dcs {
		for _, ip := range w.dcs[i].IPs {
			if ip == address {
				return &w.dcs[i]
			}
		}
	}
	return nil
}

// ObserveNeeds observes, round after round (at most rounds), what needs asks of s that s does
// not hold yet, the way a gather answers a playbook's needs (engine.Playbook.Needs); it stops when
// nothing is missing.
func (w *World) ObserveNeeds(s *facts.Snapshot, rounds int, needs func(*facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe)) {
	for range rounds {
		dns, tcp := needs(s)
		md, mt := facts.Missing(s, dns, tcp)
		if len(md)+len(mt) == 0 {
			return
		}
		w.Observe(s, md, mt)
	}
}

// Observe appends the answers to dns and tcp to s, as the workstation makes them: a DC is probed
// on each of the addresses s knows for it (lab/workstation.Observe).
func (w *World) Observe(s *facts.Snapshot, dns []facts.DNSQuery, tcp []facts.TCPProbe) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	workstation.Observe(locked{w}, s, dns, tcp)
}

// Facts returns Base with the answers to dns and tcp (those Base does not hold already).
func (w *World) Facts(dns []facts.DNSQuery, tcp []facts.TCPProbe) *facts.Snapshot {
	s := w.Base()
	dns, tcp = facts.Missing(s, dns, tcp)
	w.Observe(s, dns, tcp)
	return s
}

// Zones returns a copy of a DNS server's zone data: zone -> records.
func (w *World) Zones(server string) map[string][]facts.RR {
	w.mu.RLock()
	defer w.mu.RUnlock()
	out := map[string][]facts.RR{}
	for z, names := range w.zones[server] {
		for _, rrs := range names {
			out[z] = append(out[z], rrs...)
		}
	}
	return out
}

// ErrUpdateRefused is returned when a DC's DNS server does not accept its dynamic update.
var ErrUpdateRefused = errors.New("dynamic DNS update refused: the DC's DNS server does not host the zone")

// Register makes a DC (re)register its records, as restarting Netlogon ("cname"), ipconfig
// /registerdns ("host") or samba_dnsupdate ("all") does: the update goes to the first DNS server
// of the DC that responds and hosts the zone, and AD replication carries it to every other AD DNS
// server that receives replication.
func (w *World) Register(dcName, what string) error {
	if what != "cname" && what != "host" && what != "all" {
		return fmt.Errorf("register %q: want cname, host or all", what)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	var dc *DC
	for i := range w.dcs {
		if strings.EqualFold(w.dcs[i].Name, dcName) {
			dc = &w.dcs[i]
		}
	}
	if dc == nil {
		return fmt.Errorf("no DC %q in the simulated forest", dcName)
	}
	if dc.State != StateOnline {
		return fmt.Errorf("DC %s is not running", dc.Name)
	}
	var primary *DNSServer
	for _, ip := range w.resolversOf(dc) {
		srv := w.servers[ip]
		if srv == nil || srv.Kind == KindDead {
			continue
		}
		if srv.Kind == KindAD {
			primary = srv
		}
		break // sticky: the first responsive server takes the update or refuses it
	}
	if primary == nil {
		return ErrUpdateRefused
	}
	recs := w.recordsOf(*dc, what, nil)
	for _, o := range recs {
		w.put(primary.IP, o.rr)
		if !primary.Replicates {
			continue
		}
		for _, srv := range w.s.DNSServers {
			if srv.Kind == KindAD && srv.Replicates && srv.IP != primary.IP {
				w.put(srv.IP, o.rr)
			}
		}
	}
	var still []string
	for _, u := range dc.Unregistered {
		if what != "all" && u != what {
			still = append(still, u)
		}
	}
	dc.Unregistered = still
	w.now = w.now.Add(time.Second)
	return nil
}

// Replicate makes dest retry replication from source on every shared NC and returns the result.
func (w *World) Replicate(dest, source string) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.now = w.now.Add(time.Second)
	found, result := false, 0
	for i := range w.links {
		l := &w.links[i]
		if !strings.EqualFold(l.Destination, dest) || !strings.EqualFold(facts.ServerNameFromDSADN(l.SourceDSADN), source) {
			continue
		}
		d, s := w.dcNamed(dest), w.dcNamed(source)
		if d == nil || s == nil {
			continue
		}
		found = true
		result = w.resultFor(d, s, l.SourceDSAGUID, l.SourceAddress)
		l.LastResult, l.LastAttempt = result, w.now
		if result == ResultOK {
			l.ConsecutiveFailures, l.LastSuccess = 0, w.now
		} else {
			l.ConsecutiveFailures++
		}
	}
	if !found {
		return 0, fmt.Errorf("%s has no inbound link from %s", dest, source)
	}
	return result, nil
}

func (w *World) dcNamed(name string) *DC {
	for i := range w.dcs {
		if strings.EqualFold(w.dcs[i].Name, name) {
			return &w.dcs[i]
		}
	}
	return nil
}

// DeleteDSA removes a DC's NTDS Settings object (metadata cleanup) and the links that name it.
func (w *World) DeleteDSA(ntdsDN string) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range w.dcs {
		dn := w.ntdsDN(&w.dcs[i])
		if strings.EqualFold(dn, ntdsDN) && !w.deleted[dn] {
			w.deleted[dn] = true
			kept := w.links[:0]
			for _, l := range w.links {
				if !strings.EqualFold(l.SourceDSADN, dn) && !strings.EqualFold(l.Destination, w.dcs[i].Name) {
					kept = append(kept, l)
				}
			}
			w.links = kept
			w.now = w.now.Add(time.Second)
			return nil
		}
	}
	return fmt.Errorf("no NTDS Settings object %q", ntdsDN)
}
