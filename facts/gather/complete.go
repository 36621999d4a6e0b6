package gather

import (
	"context"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/dnsprobe"
	"github.com/fix8524/fix8524/facts/reach"
)

// Source reads facts: a live forest, a simulated one (the lab's demo), or a test's.
type Source interface {
	// Gather reads topology, links and host facts, and answers the DNS queries and TCP
	// probes needs lists.
	Gather(ctx context.Context, needs Needs) (*facts.Snapshot, error)
	// Observe answers DNS queries and TCP probes and appends the observations to s (whose
	// DCs say where to dial probe hosts).
	Observe(ctx context.Context, s *facts.Snapshot, dns []facts.DNSQuery, tcp []facts.TCPProbe) error
}

// Live is the Source of Gather with Options (a live forest, or a simulated one: the options'
// Dial decides).
type Live struct {
	Options Options
}

// Gather implements Source.
func (g Live) Gather(ctx context.Context, needs Needs) (*facts.Snapshot, error) {
	o := g.Options
	o.Needs = needs
	return Gather(ctx, o)
}

// Observe implements Source.
func (g Live) Observe(ctx context.Context, s *facts.Snapshot, dns []facts.DNSQuery, tcp []facts.TCPProbe) error {
	dp := g.Options.DNS
	if g.Options.Dial != nil {
		dp.Dial = dnsprobe.DialFunc(g.Options.Dial)
	}
	s.DNS = append(s.DNS, dp.QueryAll(ctx, dns)...)
	rp := g.Options.Reach
	if g.Options.Dial != nil {
		rp.Dial = reach.DialFunc(g.Options.Dial)
	}
	ix := facts.NewIndex(s)
	targets := make([]reach.Target, len(tcp))
	for i, p := range tcp {
		targets[i] = ProbeTarget(ix, p)
	}
	s.Reach = append(s.Reach, rp.ProbeAll(ctx, targets)...)
	s.Sort()
	return ctx.Err()
}

// MaxCompleteRounds bounds how often Complete (and a caller completing observations its own
// way) asks for observations again: a check whose inputs depend on other checks' observations
// needs another round.
const MaxCompleteRounds = 4

// Complete gathers from src what needs asks for (for a playbook: engine.Playbook.Needs),
// completing the observations until needs asks for nothing new. `plan`, apply's drift check,
// heal and the demo gather this way, or the fingerprints of their plans would differ.
func Complete(ctx context.Context, src Source, needs Needs) (*facts.Snapshot, error) {
	s, err := src.Gather(ctx, needs)
	if err != nil {
		return nil, err
	}
	for round := 1; round < MaxCompleteRounds; round++ {
		nd, nt := needs(s)
		dns, tcp := facts.Missing(s, nd, nt)
		if len(dns) == 0 && len(tcp) == 0 {
			break
		}
		if err := src.Observe(ctx, s, dns, tcp); err != nil {
			return nil, err
		}
	}
	return s, nil
}
