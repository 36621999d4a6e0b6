// Package gather fills a facts.Snapshot from a live (or simulated) forest: the topology, the
// forest's tombstone lifetime and AD's DNS zones from a seed DC over LDAP, each DC's addresses
// from every source that can know them (package locate), each DC's own view (its DSA GUID and
// inbound replication status) from the DC itself on its known addresses through a bounded worker
// pool with a per-DC deadline, host facts (DNS client settings, events) from a HostReader or the
// inventory, then the DNS and TCP observations the planner needs (Needs), deep probes only for
// failing links, TCP probes on every known address of a DC.
//
// A DC is never dialled by name: a DC whose address no source knows is not dialled at all, and
// its reachability is unknown with where fix8524 looked.
//
// A DC that refuses, stalls, answers garbage or huge values gets unknown facts with the reason,
// and the gather goes on; only a seed DC that cannot be read is an error.
//
// Transient failures (a connection reset, a resolver timeout or temporary failure) are retried
// with backoff within the DC's deadline; a reason then says how many attempts were made. A
// silent DC, a refusal, a certificate or a bind failure is not retried. facts.CoverageOf says
// which DCs could not be read.
package gather

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/dnsprobe"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/facts/ldapread"
	"github.com/fix8524/fix8524/facts/locate"
	"github.com/fix8524/fix8524/facts/reach"
	"github.com/fix8524/fix8524/facts/replstatus"
	"github.com/fix8524/fix8524/internal/relay"
)

// DialFunc dials like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// HostFacts are facts read on the DC host itself (WinRM/SSH), not over LDAP.
type HostFacts struct {
	DNSServers     facts.Maybe[[]string]
	DNSServersFrom string
	Events         facts.Maybe[[]facts.Event]
}

// HostReader reads host facts of a DC (the WinRM/SSH transports implement it; the simulated
// forest serves its world's values).
type HostReader interface {
	ReadHost(ctx context.Context, dc facts.DC) HostFacts
}

// Needs lists the DNS queries and TCP probes the planner needs for a snapshot that has topology,
// DCs and links (engine.Playbook.Needs for a playbook; StandardNeeds without one).
type Needs func(s *facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe)

// Options configure a gather.
type Options struct {
	Seed           string // host name or IP of the seed DC
	SeedServerName string // TLS name of the seed when Seed is an IP (default: Seed)
	LDAP           ldapread.Options
	Dial           DialFunc // every LDAP, DNS and TCP dial; nil: net.Dialer
	// Resolve is the workstation's resolver: it maps a DC's dNSHostName to addresses (default:
	// the system resolver). It is one source of addresses among others (package locate).
	Resolve   func(ctx context.Context, host string) ([]string, error)
	Inventory *inventory.Inventory
	Host      HostReader
	// AssumeSelfDNS fills unknown DNS client settings with the DC's own addresses
	// (DNSServersFrom "assumed-self"), so that checks against "the destination's DNS servers"
	// have servers to ask when no WinRM/SSH credentials or inventory say better. It is a guess,
	// labelled as one.
	AssumeSelfDNS bool
	Needs         Needs
	// Parallelism bounds concurrent DC reads, DNS queries and TCP probes (default 64).
	Parallelism int
	DCTimeout   time.Duration // per-DC LDAP deadline (default 20s)
	DNS         dnsprobe.Prober
	Reach       reach.Prober
	Source      string // Snapshot.Source (default "ldap://SEED")
	// Progress, when set, is told how far the gather is (for a TTY progress bar).
	Progress func(phase string, done, total int)
	Now      func() time.Time
}

func (o *Options) parallelism() int {
	if o.Parallelism > 0 {
		return o.Parallelism
	}
	return 64
}

func (o *Options) dcTimeout() time.Duration {
	if o.DCTimeout > 0 {
		return o.DCTimeout
	}
	return 20 * time.Second
}

func (o *Options) progress(phase string, done, total int) {
	if o.Progress != nil {
		o.Progress(phase, done, total)
	}
}

// Gather reads the forest. ctx bounds the whole run.
func Gather(ctx context.Context, o Options) (*facts.Snapshot, error) {
	if o.Seed == "" {
		return nil, fmt.Errorf("no seed DC given")
	}
	lo := o.LDAP
	if o.Dial != nil {
		lo.Dial = ldapread.DialFunc(o.Dial)
	}
	lo.TLSConfig = withSessionCache(lo.TLSConfig)
	if lo.DialTimeout <= 0 {
		lo.DialTimeout = o.dcTimeout() // every connection step, the seed's first one included
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	snap := &facts.Snapshot{FormatVersion: facts.FormatVersion, GatheredAt: now().UTC(), Source: o.Source}
	if snap.Source == "" {
		snap.Source = "ldap://" + o.Seed
	}

	// 1. Topology from the seed.
	o.progress("topology", 0, 1)
	sctx, cancel := context.WithTimeout(ctx, 2*o.dcTimeout())
	seed, err := ldapread.Connect(sctx, o.Seed, o.SeedServerName, lo)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("seed DC %s: %w", o.Seed, err)
	}
	root, err := seed.ReadRootDSE(sctx, false)
	var topo *ldapread.Topology
	if err == nil {
		topo, err = seed.ReadTopology(sctx, root)
	}
	var zones []locate.ZoneRead
	if err == nil {
		topo.Forest.TombstoneLifetimeDays, topo.Forest.TombstoneLifetimeFrom = seed.ReadTombstoneLifetime(sctx, root.ConfigNC)
		// AD's DNS zones the seed holds: one paged read per partition.
		names := locate.NodeNames(topo.DCs)
		for _, p := range locate.ZonePartitions(&topo.Forest) {
			if holds(root.NamingNCs, locate.PartitionNC(p)) {
				zr := seed.ReadZones(sctx, p, names)
				zr.DC = seedName(topo.DCs, root.DSServiceName, o.Seed)
				zones = append(zones, zr)
			}
		}
	}
	seed.Close()
	cancel()
	if err != nil {
		return nil, fmt.Errorf("seed DC %s: %w", o.Seed, err)
	}
	o.progress("topology", 1, 1)
	snap.Forest = topo.Forest
	snap.DCs = topo.DCs
	snap.Problems = append(snap.Problems, topo.Problems...)
	for _, dc := range snap.DCs {
		if strings.EqualFold(dc.NTDSSettingsDN, root.DSServiceName) {
			snap.SeedDC = dc.Name
		}
	}

	// 2. Each DC's addresses and own view, in a bounded pool.
	g := &gatherer{o: &o, lo: lo, snap: snap, answered: map[string]string{}, held: map[string][]string{},
		ev: &locate.Evidence{Inventory: o.Inventory, Resolver: map[string]locate.Resolution{}, Zones: zones}}
	if ip := net.ParseIP(o.Seed); ip != nil && snap.SeedDC != "" {
		g.ev.Seed, g.ev.SeedAddress = snap.SeedDC, ip.String()
	}
	g.held[strings.ToLower(snap.SeedDC)] = root.NamingNCs
	g.readDCs(ctx, nil)

	// 3. Addresses from every source: the zones of partitions the seed does not hold, then every
	// DNS server of the forest for the DCs whose address is in doubt; DCs found only there are
	// read now.
	g.locate(ctx)

	// 3. Observations the planner needs. Some checks depend on earlier answers (a referral names
	// the servers to ask next), so ask again until nothing new is needed.
	needs := o.Needs
	if needs == nil {
		needs = StandardNeeds
	}
	for round := 0; round < MaxNeedsRounds && ctx.Err() == nil; round++ {
		qs, probes := needs(snap)
		newQ, newP := facts.Missing(snap, qs, probes)
		if len(newQ)+len(newP) == 0 {
			break
		}
		g.observe(ctx, newQ, newP)
		snap.Sort()
	}
	snap.Sort()
	return snap, nil
}

// MaxNeedsRounds bounds how often Needs is asked again after new observations.
const MaxNeedsRounds = 8

type gatherer struct {
	o    *Options
	lo   ldapread.Options
	snap *facts.Snapshot
	mu   sync.Mutex // guards snap.Problems, ev.Resolver, answered, held
	ev   *locate.Evidence
	// answered maps a lower-case DC name to the address its LDAP answered on; held to the
	// naming contexts its rootDSE lists.
	answered map[string]string
	held     map[string][]string
}

func holds(ncs []string, nc string) bool {
	for _, n := range ncs {
		if strings.EqualFold(n, nc) {
			return true
		}
	}
	return false
}

// seedName names the seed DC among dcs (its NTDS Settings DN), else the address it was given by.
func seedName(dcs []facts.DC, dsServiceName, given string) string {
	for _, dc := range dcs {
		if strings.EqualFold(dc.NTDSSettingsDN, dsServiceName) {
			return dc.Name
		}
	}
	return given
}

func (g *gatherer) problem(scope, format string, a ...any) {
	g.mu.Lock()
	g.snap.Problems = append(g.snap.Problems, facts.Problem{Scope: scope, Message: fmt.Sprintf(format, a...)})
	g.mu.Unlock()
}

// withSessionCache returns a copy of base with a TLS session cache of its own for this gather:
// a second connection to the same DC (the seed, read for the topology and then as a DC) resumes
// the session instead of making a full handshake. Resumption keeps the server authenticated (the
// session was made with a verified certificate, and crypto/tls checks its expiry and runs
// VerifyConnection again). A cache the caller set is kept.
func withSessionCache(base *tls.Config) *tls.Config {
	tc := &tls.Config{}
	if base != nil {
		if base.ClientSessionCache != nil {
			return base
		}
		tc = base.Clone()
	}
	tc.ClientSessionCache = tls.NewLRUClientSessionCache(0)
	return tc
}

// readDCs reads the DCs (those named in only, when it is not nil) in a bounded pool and appends
// their inbound links.
func (g *gatherer) readDCs(ctx context.Context, only map[string]bool) {
	n := len(g.snap.DCs)
	links := make([][]facts.Link, n)
	sem := make(chan struct{}, g.o.parallelism())
	var wg sync.WaitGroup
	var done int
	var dmu sync.Mutex
	var rl relay.Relay
	// DCs by GUID (a copy: the DCs change while they are read) and the DNS observations so far.
	ix := facts.NewIndex(&facts.Snapshot{DCs: append([]facts.DC(nil), g.snap.DCs...), DNS: g.snap.DNS})
	// The seed DC first, while its TLS session from the topology read is fresh in the cache.
	order := make([]int, 0, n)
	for i := range g.snap.DCs {
		switch {
		case only != nil && !only[g.snap.DCs[i].Name]:
		case g.snap.DCs[i].Name == g.snap.SeedDC:
			order = append([]int{i}, order...)
		default:
			order = append(order, i)
		}
	}
	n = len(order)
	for _, i := range order {
		wg.Add(1)
		sem <- struct{}{} // a canceled gather drains fast: every call below honours ctx
		go func() {
			defer func() {
				<-sem
				dmu.Lock()
				done++
				g.o.progress("domain controllers", done, n)
				dmu.Unlock()
				wg.Done()
			}()
			defer rl.Catch()
			links[i] = g.readDC(ctx, &g.snap.DCs[i], ix)
		}()
	}
	wg.Wait()
	rl.Raise()
	for _, ls := range links {
		g.snap.Links = append(g.snap.Links, ls...)
	}
}

// readDC fills one DC's addresses, own view and host facts, and returns its inbound links.
func (g *gatherer) readDC(ctx context.Context, dc *facts.DC, ix *facts.Index) []facts.Link {
	if ctx.Err() != nil {
		reason := "the gather ran out of time before this DC was read"
		dc.OwnDSAGUID, dc.Inbound = facts.Unknown[string](reason), facts.Unknown[string](reason)
		dc.IPs = facts.Unknown[[]string](reason)
		dc.DNSServers, dc.Events = facts.Unknown[[]string](reason), facts.Unknown[[]facts.Event](reason)
		return nil
	}
	dctx, cancel := context.WithTimeout(ctx, g.o.dcTimeout())
	defer cancel()
	inv := g.o.Inventory.DC(dc.Name)

	// Addresses: what the sources read so far know (the seed address, the inventory, AD's zones);
	// the workstation's resolver when they know none. DNS may be the broken thing: none is
	// trusted alone.
	g.mu.Lock()
	locate.ApplyDC(dc, g.ev, ix, g.snap.Forest.RootDomain)
	_, asked := g.ev.Resolver[strings.ToLower(dc.Name)]
	g.mu.Unlock()
	if !dc.IPs.Known && dc.DNSHostName != "" && !asked {
		r := g.resolveHost(dctx, dc.DNSHostName)
		g.mu.Lock()
		g.ev.Resolver[strings.ToLower(dc.Name)] = r
		locate.ApplyDC(dc, g.ev, ix, g.snap.Forest.RootDomain)
		g.mu.Unlock()
	}
	addrs, _ := dc.IPs.Get()

	// Host facts.
	hf := HostFacts{
		DNSServers: facts.Unknown[[]string]("no WinRM/SSH credentials to read the DNS client settings"),
		Events:     facts.Unknown[[]facts.Event]("no WinRM credentials to read the event log"),
	}
	if g.o.Host != nil {
		hf = g.o.Host.ReadHost(dctx, *dc)
	}
	if inv != nil && len(inv.DNSServers) > 0 && !hf.DNSServers.Known {
		hf.DNSServers, hf.DNSServersFrom = facts.Some(append([]string(nil), inv.DNSServers...)), "inventory"
	}
	if ips, ok := dc.IPs.Get(); ok && len(ips) > 0 && !hf.DNSServers.Known && g.o.AssumeSelfDNS {
		hf.DNSServers, hf.DNSServersFrom = facts.Some(append([]string(nil), ips...)), facts.DNSServersAssumedSelf
	}
	dc.DNSServers, dc.DNSServersFrom, dc.Events = hf.DNSServers, hf.DNSServersFrom, hf.Events

	// The DC's own LDAP view, on the first of its addresses that answers.
	if len(addrs) == 0 {
		reason := "no address of the DC is known: " + dc.IPs.Why()
		dc.OwnDSAGUID, dc.Inbound = facts.Unknown[string](reason), facts.Unknown[string](reason)
		return nil
	}
	c, root, err := g.connect(dctx, dc, addrs)
	if err != nil {
		return g.unreachable(dc, err)
	}
	defer c.Close()
	if own, err := c.ObjectGUID(dctx, root.DSServiceName); err != nil {
		dc.OwnDSAGUID = facts.Unknown[string]("reading the DC's own NTDS Settings objectGUID: " + err.Error())
		g.problem("dc:"+dc.Name, "own DSA GUID: %v", err)
	} else {
		dc.OwnDSAGUID = facts.Some(own)
	}
	if !dc.Platform.Known {
		if root.IsSamba() {
			dc.Platform = facts.Some(facts.PlatformSamba)
		} else {
			dc.Platform = facts.Some(facts.PlatformWindows)
		}
	}
	var st ldapread.ReplStatus
	if dc.Platform.Value == facts.PlatformSamba || root.IsSamba() {
		st, err = c.ReadNeighborsSamba(dctx, root.NamingNCs)
		if err != nil {
			dc.Inbound = facts.Unknown[string]("reading repsFrom: " + err.Error())
			g.problem("dc:"+dc.Name, "repsFrom: %v", err)
			return nil
		}
	} else {
		st = ldapread.ReadNeighborsWindows(root)
	}
	for _, p := range st.Problems {
		g.problem("dc:"+dc.Name, "%s: %s", st.Via, p)
	}
	switch {
	case st.Missing && len(g.snap.DCs) > 1:
		dc.Inbound = facts.Unknown[string](st.Via + " was not returned: the account may lack Monitor Active Directory Replication")
		return nil
	case len(st.Neighbors) == 0 && len(st.Problems) > 0:
		dc.Inbound = facts.Unknown[string](st.Via + " values could not be decoded")
		return nil
	}
	dc.Inbound = facts.Some(st.Via)
	destGUID := dc.DSAGUID
	if own, ok := dc.OwnDSAGUID.Get(); ok {
		destGUID = own
	}
	var out []facts.Link
	for _, n := range st.Neighbors {
		l := linkOf(dc.Name, destGUID, n, st.Via)
		if l.SourceDSADN == "" {
			if src := ix.DCByGUID(n.SourceDSAGUID); src != nil {
				l.SourceDSADN = src.NTDSSettingsDN
			} else if dn, err := c.DNOfGUID(dctx, n.SourceDSAGUID); err == nil {
				l.SourceDSADN = dn
			}
			l.SourceDeleted = facts.IsDeletedDN(l.SourceDSADN)
		}
		out = append(out, l)
	}
	return out
}

// connect binds to the DC on the first address that answers and reads its rootDSE.
func (g *gatherer) connect(ctx context.Context, dc *facts.DC, addrs []string) (*ldapread.Client, *ldapread.RootDSE, error) {
	var errs []string
	for _, a := range addrs {
		c, err := g.connectAddr(ctx, a, dc.DNSHostName)
		if err == nil {
			var root *ldapread.RootDSE
			if root, err = c.ReadRootDSE(ctx, true); err == nil {
				g.mu.Lock()
				g.answered[strings.ToLower(dc.Name)] = a
				g.held[strings.ToLower(dc.Name)] = root.NamingNCs
				g.mu.Unlock()
				return c, root, nil
			}
			c.Close()
		}
		errs = append(errs, err.Error())
		if ctx.Err() != nil {
			break
		}
	}
	return nil, nil, errors.New(strings.Join(errs, "; "))
}

func (g *gatherer) unreachable(dc *facts.DC, err error) []facts.Link {
	reason := "the DC does not answer LDAP: " + err.Error()
	dc.OwnDSAGUID, dc.Inbound = facts.Unknown[string](reason), facts.Unknown[string](reason)
	g.problem("dc:"+dc.Name, "LDAP: %v", err)
	return nil
}

func linkOf(dest, destGUID string, n replstatus.Neighbor, via string) facts.Link {
	return facts.Link{
		Destination: dest, DestinationGUID: destGUID, NC: n.NamingContext,
		SourceDSAGUID: n.SourceDSAGUID, SourceDSADN: n.SourceDSADN, SourceAddress: n.SourceDSAAddress,
		SourceDeleted: facts.IsDeletedDN(n.SourceDSADN), ReplicaFlags: n.ReplicaFlags,
		LastResult: int(int32(n.LastResult)), ConsecutiveFailures: int(n.ConsecutiveFailures),
		LastSuccess: n.LastSuccess, LastAttempt: n.LastAttempt, ReadVia: via,
	}
}

// resolve looks host up, retrying transient failures (a resolver timeout) within ctx.
func (g *gatherer) resolve(ctx context.Context, host string) ([]string, error) {
	var ips []string
	n, err := retry(ctx, func() error {
		var err error
		if g.o.Resolve != nil {
			ips, err = g.o.Resolve(ctx, host)
		} else {
			ips, err = net.DefaultResolver.LookupHost(ctx, host)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, attemptsNote(n))
	}
	return ips, nil
}

// connectAddr connects and binds to a DC at one address, retrying transient failures (a reset
// connection) within ctx; a refusal, a certificate or a bind failure is not retried.
func (g *gatherer) connectAddr(ctx context.Context, addr, serverName string) (*ldapread.Client, error) {
	var c *ldapread.Client
	n, err := retry(ctx, func() error {
		var err error
		c, err = ldapread.Connect(ctx, addr, serverName, g.lo)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%w%s", err, attemptsNote(n))
	}
	return c, nil
}

// resolveHost asks the workstation's resolver for a host name.
func (g *gatherer) resolveHost(ctx context.Context, host string) locate.Resolution {
	ips, err := g.resolve(ctx, host)
	return locate.FromResolver(host, ips, err)
}

// locate completes the DCs' addresses: AD's zones in partitions the seed does not hold, read on
// the first DC (by name) that answered and holds them; then, for the DCs whose addresses are in
// doubt (locate.Doubtful), A and AAAA asked of every DNS server of the forest. A DC found only
// now is read now.
func (g *gatherer) locate(ctx context.Context) {
	s := g.snap
	seedHeld := g.held[strings.ToLower(s.SeedDC)]
	names := locate.NodeNames(s.DCs)
	for _, p := range locate.ZonePartitions(&s.Forest) {
		nc := locate.PartitionNC(p)
		if holds(seedHeld, nc) {
			continue
		}
		g.ev.Zones = append(g.ev.Zones, g.readZonesElsewhere(ctx, p, nc, names))
	}
	locate.Apply(s, g.ev)
	doubt := locate.Doubtful(s, func(dc string) bool { return g.answered[strings.ToLower(dc)] != "" })
	if len(doubt) == 0 || ctx.Err() != nil {
		return
	}
	g.o.progress("addresses", 0, len(doubt))
	tried := map[string][]string{}
	for _, name := range doubt {
		if dc := facts.NewIndex(s).DCByName(name); dc != nil {
			tried[name], _ = dc.IPs.Get()
		}
	}
	g.observeDNS(ctx, locate.NSQueries(s))
	g.ev.Servers = locate.Servers(s, g.ev, func(host string) []string {
		r := g.resolveHost(ctx, host)
		return r.Addresses
	})
	g.observeDNS(ctx, locate.WidenQueries(s, g.ev.Servers, doubt))
	locate.Apply(s, g.ev)
	again := map[string]bool{}
	ix := facts.NewIndex(s)
	for _, name := range doubt {
		dc := ix.DCByName(name)
		if dc == nil || g.answered[strings.ToLower(name)] != "" {
			continue
		}
		if ips, ok := dc.IPs.Get(); ok && !locate.SameAddresses(ips, tried[name]) {
			again[name] = true
		}
	}
	g.o.progress("addresses", len(doubt), len(doubt))
	if len(again) > 0 {
		g.readDCs(ctx, again)
	}
	locate.NoAddressReasons(s)
	s.Sort()
}

// readZonesElsewhere reads a zone partition on the first DC (by name) that answered LDAP and
// lists the partition's NC among its naming contexts.
func (g *gatherer) readZonesElsewhere(ctx context.Context, partition, nc string, names []string) locate.ZoneRead {
	dcs := append([]facts.DC(nil), g.snap.DCs...)
	sort.Slice(dcs, func(i, j int) bool { return dcs[i].Name < dcs[j].Name })
	for i := range dcs {
		dc := &dcs[i]
		addr := g.answered[strings.ToLower(dc.Name)]
		if addr == "" || !holds(g.held[strings.ToLower(dc.Name)], nc) {
			continue
		}
		dctx, cancel := context.WithTimeout(ctx, g.o.dcTimeout())
		defer cancel()
		c, err := ldapread.Connect(dctx, addr, dc.DNSHostName, g.lo)
		if err != nil {
			return locate.ZoneRead{Partition: partition, DC: dc.Name, Err: err.Error()}
		}
		zr := c.ReadZones(dctx, partition, names)
		c.Close()
		zr.DC = dc.Name
		return zr
	}
	return locate.ZoneRead{Partition: partition, Err: "no DC that answered holds " + nc}
}

// observeDNS asks the queries s does not hold an answer to yet.
func (g *gatherer) observeDNS(ctx context.Context, qs []facts.DNSQuery) {
	qs, _ = facts.Missing(g.snap, DedupQueries(qs), nil)
	if len(qs) == 0 {
		return
	}
	dp := g.dnsProber()
	g.snap.DNS = append(g.snap.DNS, dp.QueryAll(ctx, qs)...)
	g.snap.Sort()
}

func (g *gatherer) dnsProber() dnsprobe.Prober {
	dp := g.o.DNS
	if g.o.Dial != nil {
		dp.Dial = dnsprobe.DialFunc(g.o.Dial)
	}
	if dp.Parallel == 0 {
		dp.Parallel = g.o.parallelism()
	}
	return dp
}

// observe runs the DNS queries and TCP probes.
func (g *gatherer) observe(ctx context.Context, qs []facts.DNSQuery, probes []facts.TCPProbe) {
	qs = DedupQueries(qs)
	probes = dedupProbes(probes)
	dp := g.dnsProber()
	g.o.progress("dns", 0, len(qs))
	g.snap.DNS = append(g.snap.DNS, dp.QueryAll(ctx, qs)...)
	g.o.progress("dns", len(qs), len(qs))

	rp := g.o.Reach
	if g.o.Dial != nil {
		rp.Dial = reach.DialFunc(g.o.Dial)
	}
	if rp.Parallel == 0 {
		rp.Parallel = g.o.parallelism()
	}
	ix := facts.NewIndex(g.snap)
	targets := make([]reach.Target, len(probes))
	for i, p := range probes {
		targets[i] = ProbeTarget(ix, p)
	}
	g.o.progress("tcp", 0, len(targets))
	g.snap.Reach = append(g.snap.Reach, rp.ProbeAll(ctx, targets)...)
	g.o.progress("tcp", len(targets), len(targets))
}

// ProbeTarget says what to dial for a probe: every known address of a DC (none, with where
// fix8524 looked, when it has none: a DC is never dialled by name); a host that is not a DC is
// dialled as given.
func ProbeTarget(ix *facts.Index, p facts.TCPProbe) reach.Target {
	dc := ix.DCByName(p.Host)
	if dc == nil {
		return reach.Target{Probe: p, Addresses: []string{p.Host}}
	}
	if ips, ok := dc.IPs.Get(); ok && len(ips) > 0 {
		return reach.Target{Probe: p, Addresses: ips}
	}
	return reach.Target{Probe: p, Why: "no address of " + dc.Name + " is known: " + dc.IPs.Why()}
}

// DedupQueries drops repeated queries (same Key), keeping the first.
func DedupQueries(qs []facts.DNSQuery) []facts.DNSQuery {
	seen := map[string]bool{}
	var out []facts.DNSQuery
	for _, q := range qs {
		if k := q.Key(); !seen[k] {
			seen[k] = true
			out = append(out, q)
		}
	}
	return out
}

func dedupProbes(ps []facts.TCPProbe) []facts.TCPProbe {
	seen := map[string]bool{}
	var out []facts.TCPProbe
	for _, p := range ps {
		if k := p.Key(); !seen[k] {
			seen[k] = true
			out = append(out, p)
		}
	}
	return out
}

// StandardNeeds is the 8524 article's checklist for every failing link (last result not 0),
// against each DNS server of the destination and of the source (their DNS client settings when
// known, else the DC's own addresses): CNAME <guid>._msdcs.<root>; A and AAAA of the source's
// dNSHostName; SOA of the source's domain and of _msdcs.<root>; NS of _msdcs.<root> without
// recursion (delegation). TCP: the standard ports of both DCs.
func StandardNeeds(s *facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe) {
	ix := facts.NewIndex(s)
	root := s.Forest.RootDomain
	msdcs := "_msdcs." + root
	var qs []facts.DNSQuery
	var ps []facts.TCPProbe
	for i := range s.Links {
		l := &s.Links[i]
		if l.LastResult == 0 {
			continue
		}
		dest := ix.DCByName(l.Destination)
		src := ix.SourceOf(l)
		servers := append(ServersOf(dest), ServersOf(src)...)
		guids := []string{l.SourceDSAGUID}
		if src != nil {
			if own, ok := src.OwnDSAGUID.Get(); ok && own != "" && !strings.EqualFold(own, l.SourceDSAGUID) {
				guids = append(guids, own)
			}
		}
		for _, srv := range servers {
			for _, g := range guids {
				if g != "" {
					qs = append(qs, facts.DNSQuery{Server: srv, Name: g + "." + msdcs, Type: facts.TypeCNAME})
				}
			}
			if src != nil && src.DNSHostName != "" {
				qs = append(qs,
					facts.DNSQuery{Server: srv, Name: src.DNSHostName, Type: facts.TypeA},
					facts.DNSQuery{Server: srv, Name: src.DNSHostName, Type: facts.TypeAAAA})
			}
			if src != nil && src.Domain != "" {
				qs = append(qs, facts.DNSQuery{Server: srv, Name: src.Domain, Type: facts.TypeSOA})
			}
			qs = append(qs,
				facts.DNSQuery{Server: srv, Name: msdcs, Type: facts.TypeSOA},
				facts.DNSQuery{Server: srv, Name: msdcs, Type: facts.TypeNS, NoRecurse: true})
		}
		for _, dc := range []*facts.DC{dest, src} {
			if dc == nil {
				continue
			}
			for _, port := range reach.StandardPorts {
				ps = append(ps, facts.TCPProbe{Host: dc.Name, Port: port})
			}
		}
	}
	return DedupQueries(qs), dedupProbes(ps)
}

// ServersOf returns the DNS servers to ask on behalf of dc: its DNS client settings when known,
// else its own addresses (a DC that hosts DNS usually points at itself).
func ServersOf(dc *facts.DC) []string {
	if dc == nil {
		return nil
	}
	if srv, ok := dc.DNSServers.Get(); ok && len(srv) > 0 {
		return srv
	}
	if ips, ok := dc.IPs.Get(); ok {
		var out []string
		for _, ip := range ips {
			if net.ParseIP(ip) != nil {
				out = append(out, ip)
			}
		}
		sort.Strings(out)
		return out
	}
	return nil
}
