package engine

import (
	"sort"
	"strings"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// topologyOf summarizes the snapshot's DCs and links.
func topologyOf(s *facts.Snapshot, ix *facts.Index) *plan.Topology {
	t := &plan.Topology{Forest: s.Forest.RootDomain, DCs: make([]plan.TopologyDC, 0, len(s.DCs))}
	for i := range s.DCs {
		dc := &s.DCs[i]
		d := plan.TopologyDC{Name: dc.Name, Site: dc.Site, Domain: dc.Domain, DSAGUID: strings.ToLower(dc.DSAGUID)}
		if !dc.Inbound.Known {
			d.Unread = dc.Inbound.Why()
		}
		t.DCs = append(t.DCs, d)
	}
	sort.SliceStable(t.DCs, func(i, j int) bool {
		a, b := t.DCs[i], t.DCs[j]
		if a.Site != b.Site {
			return a.Site < b.Site
		}
		return a.Name < b.Name
	})
	byKey := map[string]int{}
	for i := range s.Links {
		l := &s.Links[i]
		k := partKey(l)
		n, ok := byKey[k]
		if !ok {
			tl := plan.TopologyLink{Destination: l.Destination, SourceDSAGUID: strings.ToLower(l.SourceDSAGUID)}
			if dc := ix.SourceOf(l); dc != nil {
				tl.Source = dc.Name
			} else {
				tl.Source = facts.ServerNameFromDSADN(l.SourceDSADN)
			}
			n = len(t.Partnerships)
			byKey[k] = n
			t.Partnerships = append(t.Partnerships, tl)
		}
		t.Partnerships[n].NCs++
		if l.LastResult != 0 {
			t.Partnerships[n].Failing++
		}
	}
	sort.SliceStable(t.Partnerships, func(i, j int) bool {
		a, b := t.Partnerships[i], t.Partnerships[j]
		if a.Destination != b.Destination {
			return a.Destination < b.Destination
		}
		return a.SourceDSAGUID < b.SourceDSAGUID
	})
	return t
}
