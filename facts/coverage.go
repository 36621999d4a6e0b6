package facts

import (
	"fmt"
	"sort"
	"strings"
)

// Coverage says how much of the forest a snapshot read: a plan made from a partial read says
// so, and names every DC it could not read. A DC counts as read when its inbound replication
// status was read (DC.Inbound known): its links are then in the snapshot. The links of a DC
// that was not read are not known at all (that status is what could not be read), so links are
// counted as read, and what is missing is named by DC.
type Coverage struct {
	// Complete: every DC of the topology was read.
	Complete bool `json:"complete"`
	DCs      int  `json:"dcs"`      // DCs in the topology
	DCsRead  int  `json:"dcs_read"` // DCs whose inbound replication status was read
	// LinksRead counts the links (destination, source, NC) read, all from the DCs read.
	LinksRead int `json:"links_read"`
	// NotRead lists every DC not read, with the reason, by name.
	NotRead []DCNotRead `json:"dcs_not_read,omitempty"`
	// Problems are every gathering problem of the snapshot (Snapshot.Problems), in order.
	Problems []Problem `json:"problems,omitempty"`
}

// DCNotRead is one DC whose inbound replication status could not be read.
type DCNotRead struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// CoverageOf computes the coverage of s.
func CoverageOf(s *Snapshot) Coverage {
	c := Coverage{DCs: len(s.DCs), LinksRead: len(s.Links)}
	for i := range s.DCs {
		dc := &s.DCs[i]
		if dc.Inbound.Known {
			c.DCsRead++
			continue
		}
		c.NotRead = append(c.NotRead, DCNotRead{Name: dc.Name, Reason: dc.Inbound.Why()})
	}
	sort.Slice(c.NotRead, func(i, j int) bool { return c.NotRead[i].Name < c.NotRead[j].Name })
	c.Complete = len(c.NotRead) == 0
	c.Problems = append([]Problem(nil), s.Problems...)
	return c
}

// String is one line for people: "complete: 12 of 12 DCs read, 96 links" or "partial: 10 of
// 12 DCs read (2 not read), 80 links".
func (c Coverage) String() string {
	if c.Complete {
		return fmt.Sprintf("complete: %d of %d DCs read, %d links", c.DCsRead, c.DCs, c.LinksRead)
	}
	return fmt.Sprintf("partial: %d of %d DCs read (%d not read, their inbound links unknown), %d links read", c.DCsRead, c.DCs, len(c.NotRead), c.LinksRead)
}

// Names lists the DCs not read, comma-separated.
func (c Coverage) Names() string {
	n := make([]string, len(c.NotRead))
	for i, d := range c.NotRead {
		n[i] = d.Name
	}
	return strings.Join(n, ", ")
}
