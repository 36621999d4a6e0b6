package engine

import (
	"sort"
	"strings"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// Needs lists the DNS queries and TCP probes the playbook's dns and tcp checks ask for every
// partnership of failing links the playbook matches (or might match), deduplicated and sorted.
// The gatherer calls it on the topology and link facts and answers each; because a check's
// inputs may depend on other checks' observations, call it again after observing until it
// returns nothing new. A dns or tcp check a user adds to a playbook is gathered this way
// without any Go change.
func (pb *Playbook) Needs(s *facts.Snapshot) (dns []facts.DNSQuery, tcp []facts.TCPProbe) {
	if pb == nil || s == nil {
		return nil, nil
	}
	p := newPlanner(pb, s, PlanOptions{})
	parts, _, _ := p.partnerships()
	seenD := map[string]bool{}
	seenT := map[string]bool{}
	for _, g := range parts {
		fe := p.newEval(g, g.links)
		for _, ck := range pb.Checks {
			switch ck.Kind {
			case "dns":
				_, qs, _, _ := fe.dnsQueries(ck)
				for _, q := range qs {
					if k := q.Key(); !seenD[k] {
						seenD[k] = true
						dns = append(dns, q)
					}
				}
			case "tcp":
				_, ps, _ := fe.tcpProbes(ck)
				for _, pr := range ps {
					if k := pr.Key(); !seenT[k] {
						seenT[k] = true
						tcp = append(tcp, pr)
					}
				}
			}
		}
	}
	sort.Slice(dns, func(i, j int) bool { return dns[i].Key() < dns[j].Key() })
	sort.Slice(tcp, func(i, j int) bool { return tcp[i].Key() < tcp[j].Key() })
	return dns, tcp
}

// Verify evaluates the named checks for one finding of a plan against fresh facts: what apply
// re-runs after an action until the checks pass. The finding's links are looked up in the
// fresh facts by destination and source DSA GUID whatever their result now (a healed link has
// result 0); when they are gone (a metadata cleanup removed them) the plan's own link data is
// used. Missing observations leave a check unknown; VerifyNeeds lists them.
func Verify(pb *Playbook, s *facts.Snapshot, f *plan.Finding, checks []string, opts PlanOptions) ([]plan.CheckResult, error) {
	fe, err := verifyEval(pb, s, f, opts)
	if err != nil {
		return nil, err
	}
	out := make([]plan.CheckResult, 0, len(checks))
	for _, name := range checks {
		if pb.checkByName[name] == nil {
			return nil, errorf("verify: the playbook has no check %q", name)
		}
		out = append(out, fe.check(name).result)
	}
	return out, nil
}

// VerifyNeeds lists the DNS queries and TCP probes the named checks need for a finding.
func VerifyNeeds(pb *Playbook, s *facts.Snapshot, f *plan.Finding, checks []string) (dns []facts.DNSQuery, tcp []facts.TCPProbe, err error) {
	fe, err := verifyEval(pb, s, f, PlanOptions{})
	if err != nil {
		return nil, nil, err
	}
	for _, name := range checks {
		ck := pb.checkByName[name]
		if ck == nil {
			return nil, nil, errorf("verify: the playbook has no check %q", name)
		}
		for _, n := range fe.check(name).needs {
			switch n.Kind {
			case plan.NeedDNS:
				dns = append(dns, *n.DNS)
			case plan.NeedTCP:
				tcp = append(tcp, *n.TCP)
			}
		}
	}
	return dns, tcp, nil
}

func verifyEval(pb *Playbook, s *facts.Snapshot, f *plan.Finding, opts PlanOptions) (*findingEval, error) {
	if pb == nil || s == nil || f == nil {
		return nil, errorf("verify: playbook, facts and finding are required")
	}
	p := newPlanner(pb, s, opts)
	var links []*facts.Link
	for i := range s.Links {
		l := &s.Links[i]
		if strings.EqualFold(l.Destination, f.Link.Destination) && strings.EqualFold(l.SourceDSAGUID, f.Link.SourceDSAGUID) {
			links = append(links, l)
		}
	}
	if len(links) == 0 {
		for _, nc := range f.Link.NCs {
			links = append(links, &facts.Link{
				Destination: f.Link.Destination, DestinationGUID: f.Link.DestinationGUID, NC: nc.NC,
				SourceDSAGUID: f.Link.SourceDSAGUID, SourceDSADN: f.Link.SourceDSADN, SourceAddress: f.Link.SourceAddress,
				LastResult: nc.LastResult, ConsecutiveFailures: nc.ConsecutiveFailures, LastSuccess: nc.LastSuccess, LastAttempt: nc.LastAttempt,
			})
		}
	}
	if len(links) == 0 {
		return nil, errorf("verify: finding %s has no links", f.ID)
	}
	sort.Slice(links, func(i, j int) bool { return links[i].NC < links[j].NC })
	g := &partnership{id: f.ID, links: links}
	p.newPartnership(g, links[0])
	return p.newEval(g, links), nil
}
