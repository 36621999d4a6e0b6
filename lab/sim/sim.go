// Package sim serves a simulated forest over real protocols on loopback: one LDAP server per DC
// (jimlambrt/gldap; LDAPS on the logical port 636, plain LDAP with StartTLS on 389) answering the
// searches fix8524's gatherer makes (AD's DNS zones included, as dnsNode objects with encoded
// dnsRecord values), and one DNS server (miekg/dns, UDP and TCP) per logical DNS server address,
// answering from the World. Logical addresses (the documentation IPs of a scenario) are never
// dialled: Forest.Dial maps them to 127.0.0.1 ephemeral ports, and applies per-endpoint latency
// and black-holing.
//
// The workstation is a DNS client like any other: Forest.Resolve (and Forest.Dial, for a name)
// resolves through the World's workstation DNS servers over DNS, from what they hold; a DC is
// reached on an address only (lab/workstation).
package sim

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/dnsprobe"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/facts/ldapread"
	"github.com/fix8524/fix8524/facts/locate"
	"github.com/fix8524/fix8524/facts/reach"
	"github.com/fix8524/fix8524/lab/workstation"
)

// World is what the simulated forest serves (its Served snapshot: the topology, the DCs' own
// views and real addresses, the links), what its DNS servers answer, what a TCP connect meets,
// the DCs' host facts and AD zones, and whom the workstation asks. *scenario.World satisfies it.
type World interface {
	workstation.Forest
}

// Options tune the simulation.
type Options struct {
	// Latency is added before every LDAP and DNS response.
	Latency time.Duration
	// EndpointLatency overrides Latency for a DC (name, host name or IP) or DNS server IP.
	EndpointLatency map[string]time.Duration
	// Blackhole makes an endpoint (DC name, host name or IP; DNS server IP) swallow everything:
	// dials to it hang until the caller's deadline.
	Blackhole map[string]bool
	// Stall makes a DC accept LDAP connections and then never answer.
	Stall map[string]bool
	// MaxValRange, when set, makes the DCs return multi-valued constructed attributes in ranges
	// of this many values (AD's MaxValRange), as ";range=a-b".
	MaxValRange int
	// Garbage makes a DC answer every LDAP search with garbage neighbor values and a huge value.
	Garbage map[string]bool
	// Flaky makes a DC (name, host name or IP) fail as a congested network does: its first N
	// LDAP connections (ports 389 and 636) are reset, and the workstation's first N lookups of
	// its host name time out. A gather that retries transient failures reads it.
	Flaky map[string]int
}

// Clock is implemented by a World that keeps its own time (*scenario.World: the scenario's
// clock). Every gather from a forest serving such a World is stamped with that time, so that
// "now"-dependent facts (days since the last success, events within a period) are the World's
// and do not depend on when, or by which command, the forest is read.
type Clock interface {
	Now() time.Time
}

// User is the account the simulated DCs accept (with Forest.Password).
const User = "fix8524-reader@sim.invalid"

// Forest is a running simulated forest.
type Forest struct {
	world    World
	opts     Options
	password string
	ca       *certAuthority

	mu    sync.Mutex
	dcs   map[string]*dcServer  // lower-case DC name
	dns   map[string]*dnsServer // logical IP
	open  net.Listener          // accepts and closes: any other open TCP port
	stop  chan struct{}
	close sync.Once
	// closing is set when Close begins: its own connections (dcServer.stop) are not counted.
	closing atomic.Bool

	// leftovers are the DCs whose NTDS Settings object an LDAP tree delete removed: as on a real
	// DC, their server object (now without children) and computer object remain.
	leftMu    sync.Mutex
	leftovers []facts.DC

	cacheMu sync.Mutex
	cached  *worldCache

	// flakyMu guards flaky: the failures Options.Flaky has served, per kind and DC.
	flakyMu sync.Mutex
	flaky   map[string]int

	// Requests counts LDAP requests and DNS queries served (for the benchmark's bound).
	LDAPRequests atomic.Int64
	DNSQueries   atomic.Int64
	// TLSHandshakes counts the simulated DCs' server TLS handshakes (LDAPS and StartTLS; counted
	// at the server's connection check, which a handshake reaches once its server side is done),
	// TLSResumed those that resumed a session.
	TLSHandshakes atomic.Int64
	TLSResumed    atomic.Int64
}

// Start serves w until Close.
func Start(ctx context.Context, w World, o Options) (*Forest, error) {
	pw := make([]byte, 12)
	if _, err := rand.Read(pw); err != nil {
		return nil, err
	}
	f := &Forest{world: w, opts: o, password: hex.EncodeToString(pw), dcs: map[string]*dcServer{}, dns: map[string]*dnsServer{}, stop: make(chan struct{})}
	base := w.Served()
	var err error
	if f.ca, err = newCA(); err != nil {
		return nil, fmt.Errorf("simulated forest CA: %w", err)
	}
	f.open, err = net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simulated forest: %w", err)
	}
	go acceptAndClose(f.open)
	for _, dc := range base.DCs {
		if err := ctx.Err(); err != nil {
			f.Close()
			return nil, err
		}
		s, err := f.startDC(dc.Name, dc.DNSHostName)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("simulated DC %s: %w", dc.Name, err)
		}
		f.dcs[strings.ToLower(dc.Name)] = s
	}
	return f, nil
}

func acceptAndClose(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}

// worldCache holds look-up tables of one World snapshot.
type worldCache struct {
	base    *facts.Snapshot
	ix      *facts.Index
	byIP    map[string]*facts.DC
	linksTo map[string][]facts.Link // lower-case destination DC name
	views   map[string]*view        // DC name; guarded by Forest.cacheMu
}

// cache returns the tables of the World's current Served snapshot; a World that returns the
// same snapshot pointer again (an immutable world, or one that has not changed) is indexed once.
func (f *Forest) cache() *worldCache {
	base := f.world.Served()
	f.cacheMu.Lock()
	defer f.cacheMu.Unlock()
	if f.cached == nil || f.cached.base != base {
		c := &worldCache{base: base, ix: facts.NewIndex(base), byIP: map[string]*facts.DC{}, linksTo: map[string][]facts.Link{}, views: map[string]*view{}}
		for i := range base.DCs {
			if ips, ok := base.DCs[i].IPs.Get(); ok {
				for _, ip := range ips {
					if c.byIP[ip] == nil {
						c.byIP[ip] = &base.DCs[i]
					}
				}
			}
		}
		for _, l := range base.Links {
			k := strings.ToLower(l.Destination)
			c.linksTo[k] = append(c.linksTo[k], l)
		}
		f.cached = c
	}
	return f.cached
}

// snapshot returns the World's Served snapshot and an index of it.
func (f *Forest) snapshot() (*facts.Snapshot, *facts.Index) {
	c := f.cache()
	return c.base, c.ix
}

// Password is the password of User on every simulated DC.
func (f *Forest) Password() string { return f.password }

// RootCAs trusts the simulated DCs' certificates.
func (f *Forest) RootCAs() *x509.CertPool { return f.ca.pool }

// World returns the world the forest serves.
func (f *Forest) World() World { return f.world }

// Close stops every server. It does not wait longer than a few seconds for clients that keep
// connections open.
func (f *Forest) Close() error {
	f.close.Do(func() {
		f.closing.Store(true)
		close(f.stop)
		f.mu.Lock()
		defer f.mu.Unlock()
		if f.open != nil {
			_ = f.open.Close()
		}
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16) // each stop opens a sync connection per server: bounded
		for _, s := range f.dcs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				s.stop()
			}()
		}
		for _, s := range f.dns {
			s.stop()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	return nil
}

func (f *Forest) latency(keys ...string) time.Duration {
	for _, k := range keys {
		if d, ok := f.opts.EndpointLatency[strings.ToLower(k)]; ok {
			return d
		}
		if d, ok := f.opts.EndpointLatency[k]; ok {
			return d
		}
	}
	return f.opts.Latency
}

func (f *Forest) sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-f.stop:
	}
}

func flagged(m map[string]bool, keys ...string) bool {
	for _, k := range keys {
		if k != "" && (m[k] || m[strings.ToLower(k)]) {
			return true
		}
	}
	return false
}

// dcKeys returns the names a DC may be addressed by.
func dcKeys(dc *facts.DC) []string {
	keys := []string{dc.Name, dc.DNSHostName}
	if ips, ok := dc.IPs.Get(); ok {
		keys = append(keys, ips...)
	}
	return keys
}

// flake reports whether this attempt of a kind ("dial", "lookup") on dc fails (Options.Flaky),
// counting it.
func (f *Forest) flake(kind string, dc *facts.DC) bool {
	n := 0
	for _, k := range dcKeys(dc) {
		if k == "" {
			continue
		}
		n = max(n, f.opts.Flaky[k], f.opts.Flaky[strings.ToLower(k)])
	}
	if n == 0 {
		return false
	}
	f.flakyMu.Lock()
	defer f.flakyMu.Unlock()
	if f.flaky == nil {
		f.flaky = map[string]int{}
	}
	key := kind + "|" + strings.ToLower(dc.Name)
	if f.flaky[key] >= n {
		return false
	}
	f.flaky[key]++
	return true
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout (black-holed by the simulation)" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

func blackhole(ctx context.Context, network, address string) (net.Conn, error) {
	<-ctx.Done()
	return nil, &net.OpError{Op: "dial", Net: network, Addr: fakeAddr(address), Err: timeoutError{}}
}

func refused(network, address string) error {
	return &net.OpError{Op: "dial", Net: network, Addr: fakeAddr(address), Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
}

type fakeAddr string

func (a fakeAddr) Network() string { return "tcp" }
func (a fakeAddr) String() string  { return string(a) }

// Dial connects to a logical address of the simulated forest: "IP:53" reaches the simulated DNS
// server of that IP (UDP or TCP); "IP:PORT" reaches what the World says is at that address (a
// DC's LDAP servers on 636 LDAPS and 389 LDAP, any other open port); "NAME:PORT" is resolved
// first, as the workstation resolves (Resolve), and fails as a real dial does when the name does
// not resolve. Nothing outside 127.0.0.1 is ever dialled.
func (f *Forest) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("bad port in %q", address)
	}
	var d net.Dialer
	if port == 53 {
		if net.ParseIP(host) == nil {
			return nil, fmt.Errorf("simulated DNS servers are addressed by IP, not %q", host)
		}
		if flagged(f.opts.Blackhole, host) {
			return blackhole(ctx, network, address)
		}
		s, err := f.dnsServer(host)
		if err != nil {
			return nil, err
		}
		c, err := d.DialContext(ctx, network, s.addr)
		if err != nil {
			return nil, err
		}
		return f.wrapDNSConn(c, host), nil
	}
	if network != "tcp" {
		return nil, refused(network, address)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return f.dialAddress(ctx, network, address, ip.String(), port)
	}
	r := f.resolve(ctx, host)
	if len(r.Addresses) == 0 {
		return nil, workstation.NameError(host, port, r)
	}
	var last error
	for _, ip := range r.Addresses {
		c, err := f.dialAddress(ctx, network, net.JoinHostPort(ip, portStr), ip, port)
		if err == nil {
			return c, nil
		}
		last = err
	}
	return nil, last
}

// dialAddress connects to what is at ip:port.
func (f *Forest) dialAddress(ctx context.Context, network, address, ip string, port int) (net.Conn, error) {
	var d net.Dialer
	c := f.cache()
	dc := c.byIP[ip]
	keys := []string{ip}
	if dc != nil {
		keys = dcKeys(dc)
	}
	if flagged(f.opts.Blackhole, keys...) {
		return blackhole(ctx, network, address)
	}
	if (port == 389 || port == 636) && dc != nil && f.flake("dial", dc) {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: fakeAddr(address), Err: os.NewSyscallError("connect", syscall.ECONNRESET)}
	}
	switch f.world.ProbeAddress(ip, port).Result {
	case facts.ReachOpen:
	case facts.ReachRefused:
		return nil, refused(network, address)
	default:
		return nil, silentPort(network, address)
	}
	var s *dcServer
	if dc != nil {
		f.mu.Lock()
		s = f.dcs[strings.ToLower(dc.Name)]
		f.mu.Unlock()
	}
	switch {
	case s != nil && port == 636:
		return d.DialContext(ctx, "tcp", s.ldaps)
	case s != nil && port == 389:
		return d.DialContext(ctx, "tcp", s.ldap)
	}
	return d.DialContext(ctx, "tcp", f.open.Addr().String())
}

// Resolve is the workstation's resolver inside the simulation: a stub resolver that asks the
// World's workstation DNS servers over DNS, the first that responds deciding.
func (f *Forest) Resolve(ctx context.Context, host string) ([]string, error) {
	// A flaky resolver (Options.Flaky) times out first; which DC a name belongs to only keys
	// the fault, it never answers the lookup.
	if _, ix := f.snapshot(); ix.DCByName(host) != nil && f.flake("lookup", ix.DCByName(host)) {
		return nil, &net.DNSError{Err: "i/o timeout (a flaky resolver in the simulation)", Name: host, IsTimeout: true}
	}
	r := f.resolve(ctx, host)
	if len(r.Addresses) == 0 {
		return nil, r.DNSError(host)
	}
	return r.Addresses, nil
}

func (f *Forest) resolve(ctx context.Context, host string) locate.Resolution {
	p := dnsprobe.Prober{Dial: f.Dial, Timeout: 400 * time.Millisecond, Retries: -1}
	return locate.Resolve(f.world.WorkstationDNS(), host, func(q facts.DNSQuery) facts.DNSObservation { return p.Query(ctx, q) })
}

// ReadHost serves the host facts (DNS client settings, events) the World gives a DC, as a
// read-only WinRM/SSH probe would read them on one of the addresses the gatherer knows for it;
// a DC that answers on none of them (or is black-holed) does not answer.
func (f *Forest) ReadHost(ctx context.Context, dc facts.DC) gather.HostFacts {
	_, ix := f.snapshot()
	w := ix.DCByName(dc.Name)
	if w == nil {
		return gather.HostFacts{DNSServers: facts.Unknown[[]string]("the DC is not in the simulated forest"), Events: facts.Unknown[[]facts.Event]("the DC is not in the simulated forest")}
	}
	known, _ := dc.IPs.Get()
	reached := false
	for _, a := range known {
		if workstation.Owns(w, a) && f.world.ProbeAddress(a, workstation.HostPort(w)).Result == facts.ReachOpen {
			reached = true
			break
		}
	}
	if !reached || flagged(f.opts.Blackhole, dcKeys(w)...) {
		why := "the DC does not answer on a known address"
		return gather.HostFacts{DNSServers: facts.Unknown[[]string](why), Events: facts.Unknown[[]facts.Event](why)}
	}
	srv, from, evs := f.world.HostFacts(w.Name)
	return gather.HostFacts{DNSServers: srv, DNSServersFrom: from, Events: evs}
}

// Inventoried is implemented by a World that comes with the operator's inventory
// (*scenario.World: its workstation block).
type Inventoried interface {
	Inventory() *inventory.Inventory
}

// GatherOptions returns options that gather from this forest in-process, seeded at the World's
// seed DC, reading with the playbook's needs (nil: gather.StandardNeeds), stamped with the
// World's clock when it has one (Clock; else the wall clock).
func (f *Forest) GatherOptions(source string, needs gather.Needs) (gather.Options, error) {
	seedIP, seed := workstation.SeedAddress(f.world)
	if seed == nil || seedIP == "" {
		return gather.Options{}, errors.New("the simulated forest has no seed DC")
	}
	var inv *inventory.Inventory
	if i, ok := f.world.(Inventoried); ok {
		inv = i.Inventory()
	}
	var now func() time.Time
	if c, ok := f.world.(Clock); ok {
		now = c.Now
	}
	return gather.Options{
		Seed:           seedIP,
		SeedServerName: seed.DNSHostName,
		Inventory:      inv,
		LDAP: ldapread.Options{
			TLS:         ldapread.TLSLDAPS,
			TLSConfig:   &tls.Config{RootCAs: f.ca.pool},
			Auth:        ldapread.Auth{Method: ldapread.BindSimple, User: User, Password: f.password},
			Timeout:     5 * time.Second,
			DialTimeout: 2 * time.Second,
		},
		Dial:      f.Dial,
		Resolve:   f.Resolve,
		Host:      f,
		Needs:     needs,
		DCTimeout: 5 * time.Second,
		// As long as real probes wait: the World's silent servers and ports answer "timeout" at
		// once (silence.go), so only a slow live server could run into these deadlines.
		DNS:    dnsprobe.Prober{Timeout: 2 * time.Second},
		Reach:  reach.Prober{Timeout: 2 * time.Second},
		Source: source,
		Now:    now,
	}, nil
}

// Gather gathers from the forest in-process.
func (f *Forest) Gather(ctx context.Context, source string, needs gather.Needs) (*facts.Snapshot, error) {
	o, err := f.GatherOptions(source, needs)
	if err != nil {
		return nil, err
	}
	return gather.Gather(ctx, o)
}
