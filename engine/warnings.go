package engine

import (
	"sort"
	"strings"

	"github.com/zclconf/go-cty/cty"
)

// warnings evaluates the playbook's warning blocks for every partnership whose links all
// succeed (last result 0): links grouped by destination and source DSA GUID, like failing
// ones; a partnership with any failing link is left out (it has a finding, or is unmatched).
// Every warning whose when holds is reported; a when that is false, unknown or fails is not
// (healthy links never ask for facts). findings are the plan's failing partnerships, for ids.
//
// Healthy partnerships are most of a forest, so a when is first evaluated on a `link` built
// from the attributes it reads only (WarningRule.linkAttrs); the full evaluation context, the
// message and the manual steps are made only for a partnership where a warning holds.
func (p *planner) warnings(findings []*partnership) []Warning {
	groups := map[string]*partnership{}
	var healthy []*partnership
	for i := range p.s.Links {
		l := &p.s.Links[i]
		if l.LastResult != 0 {
			continue
		}
		k := partKey(l)
		if p.failingKeys[k] != nil {
			continue
		}
		g := groups[k]
		if g == nil {
			g = &partnership{}
			groups[k] = g
			healthy = append(healthy, g)
		}
		g.links = append(g.links, l)
	}
	held := make([][]Warning, len(healthy))
	parallel(len(healthy), func(i int) {
		g := healthy[i]
		sort.Slice(g.links, func(a, b int) bool { return g.links[a].NC < g.links[b].NC })
		p.newPartnership(g, g.links[0])
		held[i] = p.warningsFor(g)
	})
	// ids: DEST<-SOURCE, with @guid when another reported partnership (a finding or a warning)
	// has the same names. Findings keep their own ids (approvals name them).
	count := map[string]int{}
	for _, g := range findings {
		count[strings.ToLower(g.links[0].Destination+"<-"+g.src.name())]++
	}
	for i, g := range healthy {
		if len(held[i]) > 0 {
			g.id = g.links[0].Destination + "<-" + g.src.name()
			count[strings.ToLower(g.id)]++
		}
	}
	var out []Warning
	for i, g := range healthy {
		if len(held[i]) == 0 {
			continue
		}
		if count[strings.ToLower(g.id)] > 1 {
			short := g.guid
			if len(short) > 8 {
				short = short[:8]
			}
			g.id += "@" + short
		}
		for _, w := range held[i] {
			w.ID = g.id
			out = append(out, w)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ID != out[j].ID {
			return out[i].ID < out[j].ID
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// warningsFor evaluates every warning for one healthy partnership and renders those that hold.
func (p *planner) warningsFor(g *partnership) []Warning {
	quick := p.newWarnEval(g)
	var holds []*WarningRule
	for _, w := range p.pb.Warnings {
		if v := quick.evalBool(w.when); v.IsKnown() && !v.IsNull() && v.True() {
			holds = append(holds, w)
		}
	}
	if len(holds) == 0 {
		return nil
	}
	fe := quick
	if !p.pb.warnLinkAll {
		fe = p.newEval(g, g.links)
	}
	info := g.info()
	out := make([]Warning, 0, len(holds))
	for _, w := range holds {
		fe.flags = nil
		wr := Warning{Name: w.Name, See: w.See, Doc: w.Doc, Link: info, Message: safeText(fe.evalText(w.message))}
		for _, m := range w.manual {
			if ms, ok := fe.renderManual(m); ok {
				wr.Manual = append(wr.Manual, ms)
			}
		}
		wr.Flags = dedupFlags(append(append([]Flag(nil), g.flags...), fe.flags...))
		out = append(out, wr)
	}
	return out
}

// newWarnEval is newEval with a `link` made only of the attributes the warnings' when
// expressions read (Playbook.warnLinkAttrs), or the whole link when one reads it as a whole.
func (p *planner) newWarnEval(g *partnership) *findingEval {
	if p.pb.warnLinkAll {
		return p.newEval(g, g.links)
	}
	fe := &findingEval{p: p, g: g, results: map[string]*checkEval{}}
	fe.ctx = p.base.NewChild()
	all := p.linkAttrMap(g, g.links)
	part := make(map[string]cty.Value, len(p.pb.warnLinkAttrs))
	for _, a := range p.pb.warnLinkAttrs {
		if v, ok := all[a]; ok {
			part[a] = v
		}
	}
	fe.linkAttrs = part
	fe.ctx.Variables = map[string]cty.Value{"link": cty.ObjectVal(part), "check": cty.EmptyObjectVal}
	return fe
}
