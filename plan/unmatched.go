package plan

import (
	"fmt"
	"sort"
	"strings"

	"github.com/fix8524/fix8524/internal/termtext"
)

// maxText bounds a line rendered from values of the facts (4 KiB, as the planner bounds text).
const maxText = 4 << 10

// UnmatchedGroup is one partnership's failing links that the playbook does not handle, with
// one result code: what plan and heal print, and heal escalates, for them.
type UnmatchedGroup struct {
	Destination, Source string
	Result              int
	NCs                 []string
	more                int // > 0: this entry stands for that many further groups
}

// ID is the partnership, "DEST<-SOURCE" ("" for the entry that stands for further groups).
func (u UnmatchedGroup) ID() string {
	if u.more > 0 {
		return ""
	}
	return u.Destination + "<-" + u.Source
}

func (u UnmatchedGroup) String() string {
	if u.more > 0 {
		return fmt.Sprintf("%d more partnership(s) fail with other errors", u.more)
	}
	ncs := u.NCs
	more := ""
	if len(ncs) > 3 {
		ncs, more = ncs[:3], fmt.Sprintf(" and %d more", len(u.NCs)-3)
	}
	// names and NCs come from AD: printed on one line, escaped, bounded
	return termtext.Escape(termtext.Clip(fmt.Sprintf("%s fails with result %d on %d naming context(s) (%s%s)", u.ID(), u.Result, len(u.NCs),
		strings.Join(ncs, ", "), more), maxText))
}

// MaxUnmatchedGroups bounds what one run prints and notifies about links it does not handle:
// a forest-wide outage of another kind must not turn into thousands of lines.
const MaxUnmatchedGroups = 20

// GroupUnmatched groups a plan's unmatched links by partnership and result, sorted, at most
// MaxUnmatchedGroups (the last one then says how many more there are).
func GroupUnmatched(links []LinkRef) []UnmatchedGroup {
	out := GroupAllUnmatched(links)
	if len(out) > MaxUnmatchedGroups {
		rest := len(out) - MaxUnmatchedGroups + 1
		out = append(out[:MaxUnmatchedGroups-1], UnmatchedGroup{more: rest})
	}
	return out
}

// GroupAllUnmatched is GroupUnmatched without the bound: every group (what a report lists).
func GroupAllUnmatched(links []LinkRef) []UnmatchedGroup {
	idx := map[string]int{}
	var out []UnmatchedGroup
	for _, l := range links {
		src := l.Source
		if src == "" {
			src = l.SourceDSAGUID
		}
		k := fmt.Sprintf("%s\x00%s\x00%d", strings.ToLower(l.Destination), strings.ToLower(src), l.LastResult)
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, UnmatchedGroup{Destination: l.Destination, Source: src, Result: l.LastResult})
		}
		out[i].NCs = append(out[i].NCs, l.NC)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Destination != b.Destination {
			return a.Destination < b.Destination
		}
		if a.Source != b.Source {
			return a.Source < b.Source
		}
		return a.Result < b.Result
	})
	return out
}
