// Package gather fills a facts.Snapshot from a live (or simulated) forest: the topology from a
// seed DC over LDAP, each DC's own view (its DSA GUID and inbound replication status) from the DC
// itself through a bounded worker pool with a per-DC deadline, host facts (DNS client settings,
// events) from a HostReader or the inventory, then the DNS and TCP observations the planner needs
// (Needs), deep probes only for failing links.
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
// DCs and links (engine.Needs for a playbook; StandardNeeds without one).
type Needs func(s *facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe)

// Options configure a gather.
type Options struct {
	Seed           string // host name or IP of the seed DC
	SeedServerName string // TLS name of the seed when Seed is an IP (default: Seed)
	LDAP           ldapread.Options
	Dial           DialFunc // every LDAP, DNS and TCP dial; nil: net.Dialer
	// Resolve maps a DC's dNSHostName to addresses (default: the system resolver).
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

	// 2. Each DC's own view, in a bounded pool.
	g := &gatherer{o: &o, lo: lo, snap: snap}
	g.readDCs(ctx)

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
	mu   sync.Mutex
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

func (g *gatherer) readDCs(ctx context.Context) {
	n := len(g.snap.DCs)
	links := make([][]facts.Link, n)
	sem := make(chan struct{}, g.o.parallelism())
	var wg sync.WaitGroup
	var done int
	var dmu sync.Mutex
	var rl relay.Relay
	ix := facts.NewIndex(&facts.Snapshot{DCs: append([]facts.DC(nil), g.snap.DCs...)})
	// The seed DC first, while its TLS session from the topology read is fresh in the cache.
	order := make([]int, 0, n)
	for i := range g.snap.DCs {
		if g.snap.DCs[i].Name == g.snap.SeedDC {
			order = append([]int{i}, order...)
		} else {
			order = append(order, i)
		}
	}
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

	// Addresses: the inventory overrides DNS (which may be the broken thing).
	addr := dc.DNSHostName
	switch {
	case inv != nil && len(inv.IPs) > 0:
		dc.IPs = facts.Some(append([]string(nil), inv.IPs...))
		addr = inv.IPs[0]
	case dc.DNSHostName == "":
		dc.IPs = facts.Unknown[[]string]("the server object has no dNSHostName")
	default:
		ips, err := g.resolve(dctx, dc.DNSHostName)
		if err != nil {
			dc.IPs = facts.Unknown[[]string]("resolving " + dc.DNSHostName + " from this workstation: " + err.Error())
		} else {
			dc.IPs = facts.Some(ips)
		}
	}

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

	// The DC's own LDAP view.
	if addr == "" {
		reason := "no address to reach the DC (no dNSHostName and no inventory IP)"
		dc.OwnDSAGUID, dc.Inbound = facts.Unknown[string](reason), facts.Unknown[string](reason)
		return nil
	}
	c, err := g.connect(dctx, addr, dc.DNSHostName)
	if err != nil {
		return g.unreachable(dc, err)
	}
	defer c.Close()
	root, err := c.ReadRootDSE(dctx, true)
	if err != nil {
		return g.unreachable(dc, err)
	}
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

// connect connects and binds to a DC, retrying transient failures (no answer, a reset
// connection) within ctx; a refusal, a certificate or a bind failure is not retried.
func (g *gatherer) connect(ctx context.Context, addr, serverName string) (*ldapread.Client, error) {
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

// observe runs the DNS queries and TCP probes.
func (g *gatherer) observe(ctx context.Context, qs []facts.DNSQuery, probes []facts.TCPProbe) {
	qs = dedupQueries(qs)
	probes = dedupProbes(probes)
	dp := g.o.DNS
	if g.o.Dial != nil {
		dp.Dial = dnsprobe.DialFunc(g.o.Dial)
	}
	if dp.Parallel == 0 {
		dp.Parallel = g.o.parallelism()
	}
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
		targets[i] = reach.Target{Probe: p, Address: addressOf(ix, p.Host)}
	}
	g.o.progress("tcp", 0, len(targets))
	g.snap.Reach = append(g.snap.Reach, rp.ProbeAll(ctx, targets)...)
	g.o.progress("tcp", len(targets), len(targets))
}

// addressOf picks the address to dial for a probe host: a DC's first known IP, else its DNS
// host name; a host that is not a DC is dialled as given.
func addressOf(ix *facts.Index, host string) string {
	dc := ix.DCByName(host)
	if dc == nil {
		return host
	}
	if ips, ok := dc.IPs.Get(); ok && len(ips) > 0 {
		return ips[0]
	}
	return dc.DNSHostName
}

func dedupQueries(qs []facts.DNSQuery) []facts.DNSQuery {
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
	return dedupQueries(qs), dedupProbes(ps)
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
