package engine

import (
	"sort"
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// warnings evaluates the playbook's warning blocks for every partnership whose links all
// succeed (last result 0): links grouped by destination and source DSA GUID, like failing
// ones; a partnership with any failing link is left out (it has a finding, or is unmatched).
// Every warning whose when holds is reported; a when that is false, unknown or fails is not
// (healthy links never ask for facts). findings are the plan's failing partnerships, for ids.
//
// Healthy partnerships are most of a forest, so evaluating when costs as little as it can:
// `link` holds only the attributes the warnings' when expressions read (directly or through
// their checks: Playbook.warnLinkAttrs), checks keep no evidence, the partnership's DCs are
// looked up only when when reads them, and when it reads only link attributes that are
// strings (the source's DSA GUID and address, say) its value is computed once per distinct
// set of values: a source with many partners is evaluated once. The full evaluation context,
// the message, the manual steps and the flags are made only where a warning holds.
func (p *planner) warnings(findings []*partnership) []plan.Warning {
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
	var memo *sync.Map
	if p.pb.warnMemo {
		memo = &sync.Map{}
	}
	held := make([][]plan.Warning, len(healthy))
	parallel(len(healthy), func(i int) {
		g := healthy[i]
		sort.Slice(g.links, func(a, b int) bool { return g.links[a].NC < g.links[b].NC })
		held[i] = p.warningsFor(g, memo)
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
	var out []plan.Warning
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
// memo (when the playbook's whens allow it, Playbook.warnMemo) maps the values they read to
// the warnings that hold.
func (p *planner) warningsFor(g *partnership, memo *sync.Map) []plan.Warning {
	var holds []*WarningRule
	if memo != nil {
		key := p.warnKey(g.links[0])
		if v, ok := memo.Load(key); ok {
			holds = v.([]*WarningRule)
		} else {
			holds = p.warningsHolding(g)
			memo.Store(key, holds)
		}
	} else {
		holds = p.warningsHolding(g)
	}
	if len(holds) == 0 {
		return nil
	}
	if g.dest == nil {
		p.resolvePartnership(g, g.links[0])
	}
	p.partnershipFlags(g, g.links[0])
	fe := p.newEval(g, g.links)
	info := g.info()
	out := make([]plan.Warning, 0, len(holds))
	for _, w := range holds {
		fe.flags = nil
		wr := plan.Warning{Name: w.Name, See: w.See, Doc: w.Doc, Link: info, Message: safeText(fe.evalText(w.message))}
		for _, m := range w.manual {
			if ms, ok := fe.renderManual(m); ok {
				wr.Manual = append(wr.Manual, ms)
			}
		}
		wr.Flags = dedupFlags(append(append([]plan.Flag(nil), g.flags...), fe.flags...))
		out = append(out, wr)
	}
	return out
}

// warningsHolding evaluates the warnings' when expressions (nothing else) for a partnership.
func (p *planner) warningsHolding(g *partnership) []*WarningRule {
	fe := p.newWarnEval(g)
	var holds []*WarningRule
	for _, w := range p.pb.Warnings {
		if v := fe.evalBool(w.when); v.IsKnown() && !v.IsNull() && v.True() {
			holds = append(holds, w)
		}
	}
	return holds
}

// newWarnEval is newEval with a `link` made only of the attributes the warnings' when
// expressions read (Playbook.warnLinkAttrs), or the whole link when one reads it as a whole,
// and without evidence.
func (p *planner) newWarnEval(g *partnership) *findingEval {
	if p.pb.warnLinkAll || p.pb.warnNeedDCs {
		p.resolvePartnership(g, g.links[0])
	}
	if p.pb.warnLinkAll {
		fe := p.newEval(g, g.links)
		fe.quick = true
		return fe
	}
	fe := &findingEval{p: p, g: g, results: make(map[string]*checkEval, 2), quick: true}
	fe.ctx = p.base.NewChild()
	fe.linkAttrs = p.linkAttrsOnly(g, g.links, p.pb.warnLinkAttrs)
	fe.ctx.Variables = map[string]cty.Value{"link": cty.ObjectVal(fe.linkAttrs), "check": cty.EmptyObjectVal}
	return fe
}

// warnStringAttrs are the attributes of link that linkAttrsOnly makes from the first link's
// own fields alone: strings, the same for every NC, needing no DC of the topology.
var warnStringAttrs = map[string]bool{
	"destination_guid": true, "source_dsa_guid": true, "source_dsa_dn": true, "source_address": true, "cname": true,
}

// warnKey joins the raw fields the attributes of warnStringAttrs are made from (the forest
// root, which cname also uses, is the same for the whole plan).
func (p *planner) warnKey(l *facts.Link) string {
	var b strings.Builder
	for _, a := range p.pb.warnLinkAttrs {
		switch a {
		case "destination_guid":
			b.WriteString(l.DestinationGUID)
		case "source_dsa_guid", "cname":
			b.WriteString(l.SourceDSAGUID)
		case "source_dsa_dn":
			b.WriteString(l.SourceDSADN)
		case "source_address":
			b.WriteString(l.SourceAddress)
		}
		b.WriteByte(0)
	}
	return b.String()
}
