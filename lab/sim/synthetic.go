package sim

import (
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/locate"
	"github.com/fix8524/fix8524/lab/workstation"
)

// Synthetic is a generated, immutable forest of many Windows DCs for load tests: one domain,
// every DC hosting DNS and pointing at itself, each DC with Partners inbound partners on five
// NCs, and a fraction of partnerships failing with 8524 because the source's GUID CNAME is
// missing on the destination's DNS server.
type Synthetic struct {
	base    *facts.Snapshot
	ix      *facts.Index
	byIP    map[string]*facts.DC
	missing map[string]bool // server IP + "|" + CNAME owner
	root    string
}

// NewSynthetic builds a forest of n DCs (n <= 762: addresses come from the three documentation
// ranges) with partners inbound partners each and the given fraction of failing partnerships.
func NewSynthetic(n, partners int, failing float64, seed int64) (*Synthetic, error) {
	if n > 762 {
		return nil, fmt.Errorf("synthetic forest: n=%d partners=%d out of range", n, partners)
	}
	return NewSyntheticForest(SyntheticOptions{DCs: n, Partners: partners, Failing: failing, Seed: seed})
}

// SyntheticOptions shape a generated forest (NewSyntheticForest).
type SyntheticOptions struct {
	DCs      int     // 2..130,000; past 762 the addresses come from 198.18.0.0/15 (benchmarking)
	Partners int     // inbound partners per DC (within its site when SiteSize is set)
	NCs      int     // naming contexts replicated per partnership, 1..5 (default 5)
	SiteSize int     // DCs per site (0: one site); the first DC of each site also replicates from the previous site's first
	Failing  float64 // fraction of partnerships failing with 8524
	Seed     int64
}

// NewSyntheticForest builds a forest as o says. Within a site each DC replicates from the next
// Partners DCs of the site (a ring, as the KCC builds it).
func NewSyntheticForest(o SyntheticOptions) (*Synthetic, error) {
	n, partners := o.DCs, o.Partners
	size := o.SiteSize
	if size <= 0 || size > n {
		size = n
	}
	ncs := o.NCs
	if ncs == 0 {
		ncs = 5
	}
	if n < 2 || n > 130000 || partners < 1 || partners >= size || ncs < 1 || ncs > 5 {
		return nil, fmt.Errorf("synthetic forest: n=%d partners=%d site size %d NCs %d out of range", n, partners, size, ncs)
	}
	failing, seed := o.Failing, o.Seed
	rng := rand.New(rand.NewSource(seed))
	root := "bench.example"
	rootDN := "DC=bench,DC=example"
	config := "CN=Configuration," + rootDN
	now := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	s := &facts.Snapshot{
		FormatVersion: facts.FormatVersion, GatheredAt: now, Source: "synthetic",
		Forest: facts.Forest{
			RootDomain: root, RootDN: rootDN, ConfigDN: config, SchemaDN: "CN=Schema," + config,
			Domains: []facts.Domain{{DNSName: root, DN: rootDN, NetBIOS: "BENCH"}},

			TombstoneLifetimeDays: facts.Some(facts.DefaultTombstoneLifetimeDays), TombstoneLifetimeFrom: "default",
		},
	}
	s.Forest.NCs = []string{config, s.Forest.SchemaDN, "DC=DomainDnsZones," + rootDN, "DC=ForestDnsZones," + rootDN, rootDN}
	sort.Strings(s.Forest.NCs)
	ranges := []string{"192.0.2.", "198.51.100.", "203.0.113."}
	sy := &Synthetic{byIP: map[string]*facts.DC{}, missing: map[string]bool{}, root: root}
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("DC%04d", i+1)
		var ip string
		if i < 762 {
			ip = fmt.Sprintf("%s%d", ranges[i/254], i%254+1)
		} else {
			ip = fmt.Sprintf("198.%d.%d.%d", 18+(i-762)/65024, (i-762)/254%256, (i-762)%254+1)
		}
		site := "Default-First-Site-Name"
		if size < n {
			site = fmt.Sprintf("Site%03d", i/size+1)
		}
		server := fmt.Sprintf("CN=%s,CN=Servers,CN=%s,CN=Sites,%s", name, site, config)
		g := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Intn(1<<16), rng.Intn(1<<12), rng.Intn(1<<12), rng.Int63n(1<<48))
		dc := facts.DC{
			Name: name, DNSHostName: strings.ToLower(name) + "." + root, Domain: root, Site: site,
			ServerDN: server, NTDSSettingsDN: "CN=NTDS Settings," + server, ComputerDN: "CN=" + name + ",OU=Domain Controllers," + rootDN,
			DSAGUID: g, InvocationID: g, WhenCreated: now.Add(-time.Duration(i+10) * 24 * time.Hour), IsGC: true, Options: 1,
			MasterNCs: []string{config, s.Forest.SchemaDN, rootDN},
			Platform:  facts.Some(facts.PlatformWindows), OperatingSystem: facts.Some("Windows Server 2022 Datacenter"),
			IPs: facts.Some([]string{ip}), DNSServers: facts.Some([]string{ip}), DNSServersFrom: "scenario",
			Events: facts.Some([]facts.Event{}), ProtectedFromDeletion: facts.Some(false),
			OwnDSAGUID: facts.Some(g), Inbound: facts.Some("msDS-ReplAllInboundNeighbors"),
		}
		sort.Strings(dc.MasterNCs)
		if i == 0 {
			dc.FSMORoles = []string{facts.RoleSchema, facts.RoleNaming, facts.RolePDC, facts.RoleRID, facts.RoleInfrastructure}
			for _, r := range dc.FSMORoles {
				s.Forest.FSMO = append(s.Forest.FSMO, facts.FSMORole{Role: r, Scope: rootDN, OwnerDSA: dc.NTDSSettingsDN})
			}
		}
		s.DCs = append(s.DCs, dc)
	}
	ncList := s.Forest.NCs[len(s.Forest.NCs)-ncs:]
	for i := range s.DCs {
		dest := &s.DCs[i]
		lo := i / size * size
		span := min(size, n-lo)
		var srcs []*facts.DC
		for k := 1; k <= partners && k < span; k++ {
			srcs = append(srcs, &s.DCs[lo+(i-lo+k)%span])
		}
		if size < n && i == lo {
			srcs = append(srcs, &s.DCs[(lo-size+n)%n/size*size])
		}
		for _, src := range srcs {
			result, failures, success := 0, 0, now.Add(-5*time.Minute)
			if rng.Float64() < failing {
				result, failures, success = 8524, 12, now.Add(-26*time.Hour)
				sy.missing[dest.IPs.Value[0]+"|"+src.DSAGUID+"._msdcs."+root] = true
			}
			for _, nc := range ncList {
				s.Links = append(s.Links, facts.Link{
					Destination: dest.Name, DestinationGUID: dest.DSAGUID, NC: nc,
					SourceDSAGUID: src.DSAGUID, SourceDSADN: src.NTDSSettingsDN, SourceAddress: src.DSAGUID + "._msdcs." + root,
					LastResult: result, ConsecutiveFailures: failures, LastSuccess: success, LastAttempt: now.Add(-5 * time.Minute),
					ReadVia: "msDS-ReplAllInboundNeighbors",
				})
			}
		}
	}
	s.SeedDC = s.DCs[0].Name
	s.Sort()
	sy.base = s
	sy.ix = facts.NewIndex(s)
	for i := range s.DCs {
		sy.byIP[s.DCs[i].IPs.Value[0]] = &s.DCs[i]
	}
	return sy, nil
}

// Served returns the (shared, read-only) snapshot the DCs serve.
func (sy *Synthetic) Served() *facts.Snapshot { return sy.base }

// Base returns what a gather learns of the forest before the playbook's observations
// (lab/workstation.View).
func (sy *Synthetic) Base() *facts.Snapshot { return workstation.View(sy, workstation.Options{}) }

// WorkstationDNS: the workstation asks the seed DC's DNS server.
func (sy *Synthetic) WorkstationDNS() []string { return []string{sy.base.DCs[0].IPs.Value[0]} }

// HostFacts: every DC points at itself; no events.
func (sy *Synthetic) HostFacts(name string) (facts.Maybe[[]string], string, facts.Maybe[[]facts.Event]) {
	dc := sy.ix.DCByName(name)
	if dc == nil {
		return facts.Unknown[[]string]("no such DC"), "", facts.Unknown[[]facts.Event]("no such DC")
	}
	return dc.DNSServers, dc.DNSServersFrom, dc.Events
}

// ZoneNodes: every DC holds bench.example (a host record per DC) in DomainDnsZones and
// _msdcs.bench.example (each DC's GUID CNAME, minus those missing on its copy) in ForestDnsZones.
func (sy *Synthetic) ZoneNodes(dc, partition string) ([]string, []locate.Node, bool) {
	d := sy.ix.DCByName(dc)
	if d == nil {
		return nil, nil, false
	}
	rootDN := sy.base.Forest.RootDN
	msdcs := "_msdcs." + sy.root
	switch {
	case strings.EqualFold(partition, "DC=DomainDnsZones,"+rootDN):
		nodes := []locate.Node{{Name: sy.root, Zone: sy.root, NS: []string{d.DNSHostName}}}
		for i := range sy.base.DCs {
			o := &sy.base.DCs[i]
			nodes = append(nodes, locate.Node{Name: o.DNSHostName, Zone: sy.root, Addresses: []string{o.IPs.Value[0]}})
		}
		return []string{sy.root}, nodes, true
	case strings.EqualFold(partition, "DC=ForestDnsZones,"+rootDN):
		return []string{msdcs}, []locate.Node{{Name: msdcs, Zone: msdcs, NS: []string{d.DNSHostName}}}, true
	case strings.EqualFold(partition, "CN=System,"+rootDN):
		return nil, nil, true
	}
	return nil, nil, false
}

// Failing returns the number of failing partnerships.
func (sy *Synthetic) Failing() int { return len(sy.missing) }

// QueryDNS answers from each DC's copy of the zones bench.example and _msdcs.bench.example.
func (sy *Synthetic) QueryDNS(q facts.DNSQuery) facts.DNSObservation {
	obs := facts.DNSObservation{DNSQuery: q, ElapsedMS: 1}
	if sy.byIP[q.Server] == nil {
		obs.Error = "timeout"
		return obs
	}
	name := facts.CanonicalName(q.Name)
	msdcs := "_msdcs." + sy.root
	zone := sy.root
	if name == msdcs || strings.HasSuffix(name, "."+msdcs) {
		zone = msdcs
	}
	if name != zone && !strings.HasSuffix(name, "."+zone) {
		obs.Rcode = "REFUSED"
		return obs
	}
	soa := facts.RR{Name: zone, Type: facts.TypeSOA, TTL: 3600, Data: fmt.Sprintf("%s. hostmaster.%s. 1 900 600 86400 3600", sy.byIP[q.Server].DNSHostName, zone)}
	obs.Authoritative, obs.Rcode = true, "NOERROR"
	var rrs []facts.RR
	switch {
	case name == zone:
		rrs = []facts.RR{soa, {Name: zone, Type: facts.TypeNS, TTL: 3600, Data: sy.byIP[q.Server].DNSHostName + "."}}
	case zone == msdcs:
		g := strings.TrimSuffix(name, "."+msdcs)
		if dc := sy.ix.DCByGUID(g); dc != nil && !sy.missing[q.Server+"|"+name] {
			rrs = []facts.RR{{Name: name, Type: facts.TypeCNAME, TTL: 600, Data: dc.DNSHostName + "."}}
		}
	default:
		if dc := sy.ix.DCByName(name); dc != nil {
			rrs = []facts.RR{{Name: name, Type: facts.TypeA, TTL: 1200, Data: dc.IPs.Value[0]}}
		}
	}
	if len(rrs) == 0 {
		obs.Rcode, obs.Authority = "NXDOMAIN", []facts.RR{soa}
		return obs
	}
	for _, rr := range rrs {
		if rr.Type == strings.ToUpper(q.Type) || (rr.Type == facts.TypeCNAME && q.Type != facts.TypeCNAME) {
			obs.Answers = append(obs.Answers, rr)
		}
	}
	if len(obs.Answers) == 0 {
		obs.Authority = []facts.RR{soa}
	}
	return obs
}

// ProbeAddress: LDAP, RPC and WinRM over HTTP open; everything else refused; nothing at an
// address no DC has.
func (sy *Synthetic) ProbeAddress(address string, port int) facts.ReachAttempt {
	obs := facts.ReachAttempt{Address: address, ElapsedMS: 1}
	if sy.byIP[address] == nil {
		obs.Result, obs.Error = facts.ReachTimeout, "no answer"
		return obs
	}
	switch port {
	case 88, 135, 389, 445, 636, 3268, 3269, 5985, 53:
		obs.Result = facts.ReachOpen
	default:
		obs.Result, obs.Error = facts.ReachRefused, "connection refused"
	}
	return obs
}
