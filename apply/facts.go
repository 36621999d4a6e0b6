package apply

import (
	"strings"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// noNeeds asks for no observations (link status only).
func noNeeds(*facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe) { return nil, nil }

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
