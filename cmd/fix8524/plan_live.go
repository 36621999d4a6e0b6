package main

import (
	"context"
	"flag"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
)

// liveFlags let `fix8524 plan` gather before planning:
//
//	fix8524 plan --dc HOST [connection flags] [transport flags]   gather from a live forest, then plan
//
// runPlan registers them with addLiveFlags and, when requested() holds, plans from
// gather(...) through planFromFacts. connFlags.demoGather (demo.go) is
// `plan --demo`, gathered over LDAP, DNS and TCP from the simulated forest.
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
	return l.conn.gatherLive(ctx, e, flagSet(l.fs, "tls"), pb.Needs, &l.transport)
}
