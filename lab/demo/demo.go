// Package demo runs fix8524's demo forest: a lab scenario's simulated forest served over real
// LDAP and DNS on loopback (lab/sim), plus one WS-Management server per Windows DC (lab/winrm)
// whose Handler turns the playbook's remediation scripts into mutations of the scenario World.
// `fix8524 apply --demo` heals it through the real protocol path: remote/winrm client → HTTP
// with NTLM sealing → lab/winrm server → Handler → World; verification then asks the simulated
// DNS servers, and the replication retry changes what the destination's LDAP server reports.
//
// The Handler dispatches on the script's "# fix8524:<name>" marker and reads its $P parameters;
// it never guesses from free text. Each marker it knows names what the action does on a real
// DC, and the Handler checks that the script still contains that command (so a playbook change
// is noticed instead of being simulated wrongly):
//
//	register_cname     Restart-Service Netlogon / nltest /dsregdns  → World.Register(dc, "cname")
//	register_host      Register-DnsClient / ipconfig /registerdns   → World.Register(dc, "host")
//	retry_replication  repadmin /replicate $P.destination $P.source <nc> for each NC
//	                                                               → World.Replicate(dest, source)
//
// Samba DCs have no SSH server in the demo: their argv commands are run in-process by an
// explicit table (samba_dnsupdate → Register(dc, "all"), samba-tool drs replicate → Replicate).
package demo

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/lab/sim"
	labwinrm "github.com/fix8524/fix8524/lab/winrm"
	"github.com/fix8524/fix8524/remote"
	rwinrm "github.com/fix8524/fix8524/remote/winrm"
)

// SourcePrefix starts Snapshot.Source for facts gathered from a demo forest ("sim:NAME").
const SourcePrefix = "sim:"

// ScenarioOf returns the scenario name a facts source names ("sim:NAME" or "scenario:NAME").
func ScenarioOf(source string) (string, bool) {
	for _, p := range []string{SourcePrefix, "scenario:"} {
		if name, ok := strings.CutPrefix(source, p); ok && name != "" {
			return name, true
		}
	}
	return "", false
}

// User is the WinRM account of the demo's DCs (its password is random per run).
const User = `DEMO\fix8524`

// Demo is a running demo forest.
type Demo struct {
	Scenario *scenario.Scenario
	World    *scenario.World
	Forest   *sim.Forest

	password string
	mu       sync.Mutex
	winrm    map[string]*labwinrm.Server // lower-case DC name
	// Log, when set, receives one line per command the demo DCs run.
	Log func(format string, args ...any)
}

// Start builds the named scenario ("" = scenario.Default), broken as the scenario describes,
// and serves it on loopback.
func Start(ctx context.Context, name string) (*Demo, error) {
	if name == "" {
		name = scenario.Default
	}
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, fmt.Errorf("demo scenario %q: %w", name, err)
	}
	w := sc.NewWorld()
	f, err := sim.Start(ctx, w, sim.Options{})
	if err != nil {
		return nil, fmt.Errorf("demo forest: %w", err)
	}
	pw := make([]byte, 16)
	if _, err := rand.Read(pw); err != nil {
		f.Close()
		return nil, err
	}
	d := &Demo{Scenario: sc, World: w, Forest: f, password: hex.EncodeToString(pw), winrm: map[string]*labwinrm.Server{}}
	for _, dc := range w.Base().DCs {
		if p, _ := dc.Platform.Get(); p != facts.PlatformWindows {
			continue
		}
		srv, err := labwinrm.Start(labwinrm.Config{
			Users:    map[string]string{User: d.password},
			Domain:   "DEMO",
			Computer: strings.ToUpper(dc.Name),
			NTLM:     true, // HTTP with NTLM sealing, as a default Windows listener on 5985
			Handler:  d.Handler(dc.Name),
		})
		if err != nil {
			d.Close()
			return nil, fmt.Errorf("demo WinRM server for %s: %w", dc.Name, err)
		}
		d.winrm[strings.ToLower(dc.Name)] = srv
	}
	return d, nil
}

// Close stops every server.
func (d *Demo) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.winrm {
		_ = s.Close()
	}
	d.winrm = map[string]*labwinrm.Server{}
	if d.Forest != nil {
		return d.Forest.Close()
	}
	return nil
}

// Source is the facts source of this demo ("sim:NAME").
func (d *Demo) Source() string { return SourcePrefix + d.Scenario.Name }

// GatherOptions returns options that gather from the demo forest over LDAP, DNS and TCP, with
// the given needs, stamped with the scenario's clock (the World is a sim.Clock).
func (d *Demo) GatherOptions(needs gather.Needs) (gather.Options, error) {
	return d.Forest.GatherOptions(d.Source(), needs)
}

// WinRMAddress returns the loopback address of a DC's WS-Management server.
func (d *Demo) WinRMAddress(dc string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	s, ok := d.winrm[strings.ToLower(dc)]
	if !ok {
		return "", false
	}
	return s.Addr(), true
}

// Runner implements remote.Runners: a real WinRM client (HTTP with NTLM sealing) to the
// DC's WS-Management server for winrm targets, and the in-process Samba table for ssh targets.
func (d *Demo) Runner(ctx context.Context, t remote.DC) (remote.Runner, error) {
	dc := d.dc(t.Name)
	if dc == nil {
		return nil, fmt.Errorf("demo: no DC %q in the demo forest", t.Name)
	}
	// A DC the World says does not answer on the transport's port (gone, offline, port closed)
	// is not reached through the demo's in-process servers either: what the gatherer's probes
	// saw is what the actions get.
	if port, ok := map[string]int{"winrm": 5985, "ssh": 22}[t.Transport]; ok {
		obs := facts.ReachAttempt{Result: facts.ReachTimeout, Error: "no address"}
		ips, _ := dc.IPs.Get()
		for _, ip := range ips {
			if obs = d.World.ProbeAddress(ip, port); obs.Result == facts.ReachOpen {
				break
			}
		}
		if obs.Result != facts.ReachOpen {
			kind := remote.KindTimeout
			if obs.Result == facts.ReachRefused {
				kind = remote.KindRefused
			}
			return nil, &remote.TransportError{Kind: kind, Op: "connect", Target: t.String(),
				Err: fmt.Errorf("port %d of %s: %s (as the demo forest's probes see it)", port, dc.Name, obs.Error)}
		}
	}
	switch t.Transport {
	case "winrm":
		addr, ok := d.WinRMAddress(dc.Name)
		if !ok {
			return nil, &remote.TransportError{Kind: remote.KindRefused, Op: "connect", Target: t.String(),
				Err: errors.New("no WinRM listener (the DC is not a Windows DC in this demo)")}
		}
		host, port, _ := net.SplitHostPort(addr)
		p, _ := strconv.Atoi(port)
		return rwinrm.New(rwinrm.Config{
			Target:   remote.Target{Host: dc.DNSHostName, Address: host, Port: p},
			User:     User,
			Password: d.password,
			Timeout:  time.Minute,
		})
	case "ssh":
		return &sambaRunner{d: d, dc: dc.Name}, nil
	}
	return nil, fmt.Errorf("demo: no transport %q", t.Transport)
}

// LDAP implements actions.LDAPConns: an LDAPS connection, bound, to the DC's simulated LDAP
// server.
func (d *Demo) LDAP(ctx context.Context, t remote.DC) (ldapdelete.Conn, func(), error) {
	dc := d.dc(t.Name)
	if dc == nil {
		return nil, nil, fmt.Errorf("demo: no DC %q in the demo forest", t.Name)
	}
	nc, err := d.Forest.Dial(ctx, "tcp", net.JoinHostPort(dc.DNSHostName, "636"))
	if err != nil {
		return nil, nil, err
	}
	tc := tls.Client(nc, &tls.Config{RootCAs: d.Forest.RootCAs(), ServerName: dc.DNSHostName, MinVersion: tls.VersionTLS12})
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, nil, err
	}
	conn := ldap.NewConn(tc, true)
	conn.Start()
	conn.SetTimeout(10 * time.Second)
	if err := conn.Bind(sim.User, d.Forest.Password()); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("bind: %w", err)
	}
	return conn, func() { conn.Close() }, nil
}

// dc is a DC as the demo forest serves it (its real addresses).
func (d *Demo) dc(name string) *facts.DC {
	return facts.NewIndex(d.World.Served()).DCByName(name)
}

func (d *Demo) logf(format string, args ...any) {
	if d.Log != nil {
		d.Log(format, args...)
	}
}

// WinRMServer returns a DC's WS-Management server (nil if it has none), e.g. to inject faults.
func (d *Demo) WinRMServer(dc string) *labwinrm.Server {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.winrm[strings.ToLower(dc)]
}
