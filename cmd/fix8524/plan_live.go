package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/lab/demo"
)

// liveFlags let `fix8524 plan` gather before planning:
//
//	fix8524 plan --dc HOST [connection flags] [transport flags]   gather from a live forest, then plan
//
// runPlan registers them with addLiveFlags and, when requested() holds, plans from
// gather(...) through planFromFacts. simDemoFacts is `plan --demo` gathered over LDAP, DNS and
// TCP from the simulated forest instead of read from the World directly.
type liveFlags struct {
	conn      connFlags
	transport transportFlags
	fs        *flag.FlagSet
}

// addLiveFlags registers the connection and transport flags on plan's flag set.
func addLiveFlags(fs *flag.FlagSet) *liveFlags {
	l := &liveFlags{fs: fs}
	l.conn.register(fs)
	l.transport.register(fs)
	return l
}

// requested reports whether --dc was given.
func (l *liveFlags) requested() bool { return l.conn.dc != "" }

// gather reads the forest from --dc with the observations pb's checks need.
func (l *liveFlags) gather(ctx context.Context, e *env, pb *engine.Playbook) (*facts.Snapshot, error) {
	tlsSet := false
	l.fs.Visit(func(f *flag.Flag) { tlsSet = tlsSet || f.Name == "tls" })
	return l.conn.gatherLive(ctx, e, tlsSet, pb.Needs, &l.transport)
}

// demoSettings are the connection flags that mean the same for the demo forest as for a real
// one: --inventory (it replaces the scenario's own) and --assume-self-dns.
func (c *connFlags) demoSettings() (demo.Settings, error) {
	set := demo.Settings{AssumeSelfDNS: c.assumeSelf}
	if c.inventory != "" {
		inv, diags := inventory.Load(c.inventory)
		if diags.HasErrors() {
			return set, fmt.Errorf("--inventory: %s", diags.Error())
		}
		set.Inventory = inv
	}
	return set, nil
}

// simDemoFacts serves the scenario as the demo forest on loopback and gathers from it the
// observations pb's checks need (`plan --demo`, `gather --demo`). It is demo.GatherForPlan: the
// gathering `apply --demo`'s drift check and heal do through demo.Lazy, stamped with the
// scenario's clock, so that a demo plan is not refused for drift it does not have.
func simDemoFacts(ctx context.Context, pb *engine.Playbook, name string, set demo.Settings) (*facts.Snapshot, error) {
	return demo.GatherForPlanWith(ctx, name, pb, set)
}
