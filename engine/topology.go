package engine

import (
	"sort"
	"strings"

	"github.com/fix8524/fix8524/facts"
)

// Topology is the replication topology a plan was made from, kept in the plan so that a saved
// plan can be drawn without the facts (fix8524 report): every DC with its site, and every
// inbound partnership (destination, source DSA) with how many of its links fail. It is not part
// of any fingerprint: apply acts on the findings only.
type Topology struct {
	Forest       string         `json:"forest,omitempty"` // the forest root domain's DNS name
	DCs          []TopologyDC   `json:"dcs"`              // sorted by site, then name
	Partnerships []TopologyLink `json:"partnerships"`     // sorted by destination, then source DSA GUID
}

// TopologyDC is one DC of the topology.
type TopologyDC struct {
	Name    string `json:"name"`
	Site    string `json:"site,omitempty"` // "" when the site is not known
	Domain  string `json:"domain,omitempty"`
	DSAGUID string `json:"dsa_guid,omitempty"`
	// Unread is why the DC's inbound replication status could not be read ("" when it was):
	// its inbound partnerships are missing from Partnerships, which does not mean it has none.
	Unread string `json:"unread,omitempty"`
}

// TopologyLink is one inbound partnership: the links of one destination from one source DSA,
// one per naming context.
type TopologyLink struct {
	Destination   string `json:"destination"`
	Source        string `json:"source,omitempty"` // the source DC's name; "" when its DSA is not in the topology
	SourceDSAGUID string `json:"source_dsa_guid"`
	NCs           int    `json:"ncs"`     // links of the partnership (one per NC)
	Failing       int    `json:"failing"` // of them, those whose last result is not 0
}

// topologyOf summarizes the snapshot's DCs and links.
func topologyOf(s *facts.Snapshot, ix *facts.Index) *Topology {
	t := &Topology{Forest: s.Forest.RootDomain, DCs: make([]TopologyDC, 0, len(s.DCs))}
	for i := range s.DCs {
		dc := &s.DCs[i]
		d := TopologyDC{Name: dc.Name, Site: dc.Site, Domain: dc.Domain, DSAGUID: strings.ToLower(dc.DSAGUID)}
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
			tl := TopologyLink{Destination: l.Destination, SourceDSAGUID: strings.ToLower(l.SourceDSAGUID)}
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
