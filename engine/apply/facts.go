package apply

import (
	"context"
	"strings"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/dnsprobe"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/facts/reach"
	"github.com/fix8524/fix8524/plan"
)

// Facts reads fresh facts from the forest the plan is about.
type Facts interface {
	// Gather reads topology, links and host facts, and answers the DNS queries and TCP
	// probes needs lists.
	Gather(ctx context.Context, needs gather.Needs) (*facts.Snapshot, error)
	// Observe answers DNS queries and TCP probes and appends the observations to s (whose
	// DCs say where to dial probe hosts).
	Observe(ctx context.Context, s *facts.Snapshot, dns []facts.DNSQuery, tcp []facts.TCPProbe) error
}

// GatherFacts reads facts with facts/gather (a live forest, or a simulated one: the options'
// Dial decides).
type GatherFacts struct {
	Options gather.Options
}

// Gather implements Facts.
func (g GatherFacts) Gather(ctx context.Context, needs gather.Needs) (*facts.Snapshot, error) {
	o := g.Options
	o.Needs = needs
	return gather.Gather(ctx, o)
}

// Observe implements Facts.
func (g GatherFacts) Observe(ctx context.Context, s *facts.Snapshot, dns []facts.DNSQuery, tcp []facts.TCPProbe) error {
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
		targets[i] = gather.ProbeTarget(ix, p)
	}
	s.Reach = append(s.Reach, rp.ProbeAll(ctx, targets)...)
	s.Sort()
	return ctx.Err()
}

// PlanNeeds returns the gather.Needs of a playbook: engine.Needs.
func PlanNeeds(pb *engine.Playbook) gather.Needs {
	return func(s *facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe) { return engine.Needs(pb, s) }
}

// noNeeds asks for no observations (link status only).
func noNeeds(*facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe) { return nil, nil }

// maxRounds bounds how often observations are completed (a check whose inputs depend on other
// checks' observations needs another round).
const maxRounds = 4

// GatherForPlan gathers what the playbook needs, completing observations until the playbook
// asks for nothing new. `plan` and apply's drift check must gather the same way, or the
// fingerprints differ.
func GatherForPlan(ctx context.Context, f Facts, pb *engine.Playbook) (*facts.Snapshot, error) {
	s, err := f.Gather(ctx, PlanNeeds(pb))
	if err != nil {
		return nil, err
	}
	for round := 1; round < maxRounds; round++ {
		nd, nt := engine.Needs(pb, s)
		dns, tcp := facts.Missing(s, nd, nt)
		if len(dns) == 0 && len(tcp) == 0 {
			break
		}
		if err := f.Observe(ctx, s, dns, tcp); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// linkState is what fresh facts say about a finding's links.
type linkState struct {
	present    int      // links found
	failing    []string // "NC: result" of links with a non-zero result
	failingNCs []string
}

func (ls linkState) healthy() bool { return ls.present > 0 && len(ls.failing) == 0 }

// dsaRemoved reports whether the DSA guid is gone from the topology of s (no nTDSDSA object
// with that objectGUID). After a metadata cleanup the destination's repsFrom values still name
// the deleted DSA ("deleted DSA" in repadmin /showrepl, "is deleted" in samba-tool showrepl)
// until its KCC removes them; they are not replication links to verify or retry any more.
func dsaRemoved(s *facts.Snapshot, guid string) bool {
	return guid != "" && facts.NewIndex(s).DCByGUID(guid) == nil
}

func linksOf(s *facts.Snapshot, f *plan.Finding) linkState {
	var ls linkState
	for _, l := range s.Links {
		if !strings.EqualFold(l.Destination, f.Link.Destination) || !strings.EqualFold(l.SourceDSAGUID, f.Link.SourceDSAGUID) {
			continue
		}
		ls.present++
		if l.LastResult != 0 {
			ls.failing = append(ls.failing, l.NC+": result "+itoa(l.LastResult))
			ls.failingNCs = append(ls.failingNCs, l.NC)
		}
	}
	return ls
}
