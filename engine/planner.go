package engine

import (
	"errors"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/relay"
	"github.com/fix8524/fix8524/plan"
)

// PlanOptions are the planner's only inputs besides the playbook and the facts.
type PlanOptions struct {
	// Now is the plan's creation time. The planner reads no clock: time-relative facts
	// (event lookbacks, days since the last success) are measured from the facts'
	// GatheredAt, or from Now when the facts carry none.
	Now time.Time
}

// MakePlan walks the playbook's decision table for every partnership of failing links the
// playbook matches. It does no I/O and is deterministic: equal inputs give an equal plan.
// Hostile or invalid facts never make it fail: they are flagged, and the actions that would
// use them are blocked.
func MakePlan(pb *Playbook, s *facts.Snapshot, opts PlanOptions) (*plan.Plan, error) {
	if pb == nil {
		return nil, errors.New("plan: no playbook")
	}
	if s == nil {
		return nil, errors.New("plan: no facts")
	}
	p := newPlanner(pb, s, opts)
	parts, unmatched, failing := p.partnerships()
	out := &plan.Plan{
		FormatVersion: plan.FormatVersion,
		CreatedAt:     opts.Now.UTC(),
		Playbook:      plan.PlaybookRef{Name: pb.Name, Title: pb.Title, Files: append([]string(nil), pb.Files...), Digest: pb.Digest},
		Facts:         plan.FactsRef{Source: s.Source, GatheredAt: s.GatheredAt, SeedDC: s.SeedDC},
		Windows:       append([]plan.WindowSpec(nil), pb.Windows...),
		Findings:      make([]plan.Finding, 0, len(parts)),
		Unmatched:     unmatched,
	}
	out.Variables = pb.VariableValues()
	out.Findings = make([]plan.Finding, len(parts))
	parallel(len(parts), func(i int) { out.Findings[i] = p.finding(parts[i]) })
	if len(pb.Warnings) > 0 {
		out.Warnings = p.warnings(parts)
	}
	out.Summary = summarize(out, len(s.Links), failing)
	out.Topology = topologyOf(s, p.ix)
	cov := facts.CoverageOf(s)
	out.Coverage = &cov
	out.Summary.Partial, out.Summary.DCsNotRead = !cov.Complete, len(cov.NotRead)
	// Warnings stay out of the fingerprint: they carry no action, and approvals bind to what
	// apply would do (planFingerprint reads the findings only).
	out.Fingerprint = planFingerprint(out)
	return out, nil
}

type planner struct {
	pb   *Playbook
	s    *facts.Snapshot
	ix   *facts.Index
	now  time.Time
	ref  time.Time // the facts' clock
	base *hcl.EvalContext

	dcs         map[*facts.DC]*dcValue
	domainCount map[string]int
	seed        string
	root        string // the forest root domain, canonical
	// failingKeys are the partKeys of partnerships with a failing link (set by partnerships).
	failingKeys map[string]*partnership
	// assumed are the DCs whose DNS client settings were assumed (--assume-self-dns), in
	// snapshot order: what a read of forest.dcs may rest on (assumptions).
	assumed []*facts.DC
}

func newPlanner(pb *Playbook, s *facts.Snapshot, opts PlanOptions) *planner {
	p := &planner{pb: pb, s: s, now: opts.Now, ref: s.GatheredAt, dcs: make(map[*facts.DC]*dcValue, len(s.DCs)), domainCount: map[string]int{}, seed: s.SeedDC, root: facts.CanonicalName(s.Forest.RootDomain)}
	if p.ref.IsZero() {
		p.ref = opts.Now
	}
	// The index and the DC values only read the facts: they are built side by side.
	ixDone := make(chan *facts.Index, 1)
	go func() { ixDone <- facts.NewIndex(s) }()
	for i := range s.DCs {
		p.domainCount[facts.CanonicalName(s.DCs[i].Domain)]++
		if s.DCs[i].DNSServersFrom == DNSServersAssumedSelf && s.DCs[i].DNSServers.Known {
			p.assumed = append(p.assumed, &s.DCs[i])
		}
	}
	// Every DC's value is built now: evaluation below runs on several goroutines and only
	// reads this cache.
	vals := make([]dcValue, len(s.DCs))
	parallel(len(s.DCs), func(i int) { vals[i] = buildDC(&s.DCs[i], p.seed, p.domainCount) })
	for i := range s.DCs {
		p.dcs[&s.DCs[i]] = &vals[i]
	}
	p.ix = <-ixDone
	byIP := map[string][]*facts.DC{}
	for i := range s.DCs {
		if ips, ok := s.DCs[i].IPs.Get(); ok {
			for _, ip := range ips {
				byIP[ip] = append(byIP[ip], &s.DCs[i])
			}
		}
	}
	p.base = &hcl.EvalContext{
		Variables: map[string]cty.Value{"forest": p.forestValue(), "var": cty.ObjectVal(pb.varValues)},
		Functions: withFacts(func(ips []string) []cty.Value {
			var out []cty.Value
			seen := map[*facts.DC]bool{}
			for _, ip := range ips {
				for _, dc := range byIP[ip] {
					if !seen[dc] {
						seen[dc] = true
						out = append(out, p.dcVal(dc).val)
					}
				}
			}
			return out
		}),
	}
	return p
}

func (p *planner) dcVal(dc *facts.DC) *dcValue {
	if v := p.dcs[dc]; v != nil {
		return v
	}
	v := buildDC(dc, p.seed, p.domainCount)
	p.dcs[dc] = &v
	return &v
}

func (p *planner) forestValue() cty.Value {
	f := p.s.Forest
	var doms []cty.Value
	for _, d := range f.Domains {
		doms = append(doms, cty.ObjectVal(map[string]cty.Value{
			"dns_name": cty.StringVal(facts.CanonicalName(d.DNSName)),
			"dn":       cty.StringVal(d.DN),
			"netbios":  cty.StringVal(d.NetBIOS),
		}))
	}
	dcs := cty.ListValEmpty(dcType)
	if p.pb.needForestDCs && len(p.s.DCs) > 0 {
		vs := make([]cty.Value, len(p.s.DCs))
		for i := range p.s.DCs {
			vs[i] = p.dcVal(&p.s.DCs[i]).val
		}
		dcs = cty.ListVal(vs)
	}
	root := facts.CanonicalName(f.RootDomain)
	tsl := cty.UnknownVal(cty.Number).RefineNotNull()
	if n, ok := f.TombstoneLifetimeDays.Get(); ok {
		tsl = cty.NumberIntVal(int64(n))
	}
	var servers []string
	for _, srv := range f.DNSServers {
		servers = append(servers, srv.Address)
	}
	return cty.ObjectVal(map[string]cty.Value{
		"root_domain":             cty.StringVal(root),
		"root_dn":                 cty.StringVal(f.RootDN),
		"config_dn":               cty.StringVal(f.ConfigDN),
		"schema_dn":               cty.StringVal(f.SchemaDN),
		"msdcs":                   cty.StringVal("_msdcs." + root),
		"domains":                 listOf(domainType, doms),
		"ncs":                     strList(f.NCs),
		"dc_count":                cty.NumberIntVal(int64(len(p.s.DCs))),
		"seed_dc":                 cty.StringVal(p.s.SeedDC),
		"dcs":                     dcs,
		"tombstone_lifetime_days": tsl,
		"dns_servers":             strList(servers),
	})
}

// partnership is every failing link from one source DSA to one destination.
type partnership struct {
	id       string
	dest     *dcValue
	src      *dcValue
	cur      *dcValue // nil: the source's own GUID is unknown
	curWhy   string
	guid     string
	links    []*facts.Link
	flags    []plan.Flag
	matchErr []string
	// matchUnknown: whether the playbook handles these links depends on unknown facts.
	matchUnknown bool
	// fe is the evaluation of all the partnership's links, when matching made it already.
	fe         *findingEval
	matchNeeds []plan.Need
}

func partKey(l *facts.Link) string {
	n := len(l.SourceDSAGUID)
	if n == 0 {
		n = len("dn:") + len(l.SourceDSADN)
	}
	var b strings.Builder
	b.Grow(len(l.Destination) + 1 + n)
	writeLower(&b, l.Destination)
	b.WriteByte('|')
	if l.SourceDSAGUID != "" {
		writeLower(&b, l.SourceDSAGUID)
	} else {
		b.WriteString("dn:")
		writeLower(&b, l.SourceDSADN)
	}
	return b.String()
}

// partnerships groups failing links by (destination, source DSA GUID), evaluates the
// playbook's matches for each link, and returns the partnerships it handles (sorted by id),
// the failing links it does not handle, and the number of failing links.
func (p *planner) partnerships() ([]*partnership, []plan.LinkRef, int) {
	groups := map[string]*partnership{}
	var order []string
	failing := 0
	for i := range p.s.Links {
		l := &p.s.Links[i]
		if l.LastResult == 0 {
			continue
		}
		failing++
		k := partKey(l)
		g := groups[k]
		if g == nil {
			g = &partnership{} // filled by newPartnership below, in parallel
			groups[k] = g
			order = append(order, k)
		}
		g.links = append(g.links, l)
	}
	var out []*partnership
	var unmatched []plan.LinkRef
	gs := make([]*partnership, len(order))
	unm := make([][]plan.LinkRef, len(order))
	for i, k := range order {
		gs[i] = groups[k]
	}
	parallel(len(gs), func(i int) {
		p.newPartnership(gs[i], gs[i].links[0])
		unm[i] = p.match(gs[i])
	})
	for i, g := range gs {
		unmatched = append(unmatched, unm[i]...)
		if len(g.links) > 0 {
			out = append(out, g)
		}
	}
	// ids: DEST<-SOURCE, disambiguated by GUID when two partnerships share names.
	count := map[string]int{}
	for _, g := range out {
		g.id = g.links[0].Destination + "<-" + g.src.name()
		count[strings.ToLower(g.id)]++
	}
	for _, g := range out {
		if count[strings.ToLower(g.id)] > 1 {
			short := g.guid
			if len(short) > 8 {
				short = short[:8]
			}
			g.id += "@" + short
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	p.failingKeys = groups
	sort.Slice(unmatched, func(i, j int) bool {
		a, b := unmatched[i], unmatched[j]
		if a.Destination != b.Destination {
			return a.Destination < b.Destination
		}
		if a.SourceDSAGUID != b.SourceDSAGUID {
			return a.SourceDSAGUID < b.SourceDSAGUID
		}
		return a.NC < b.NC
	})
	return out, unmatched, failing
}

// match evaluates the playbook's matches for a partnership's links: g.links keeps the matched
// ones (or, when none matched and some are unknown, those), and the unmatched are returned.
func (p *planner) match(g *partnership) []plan.LinkRef {
	var unmatched []plan.LinkRef
	all := g.links
	g.links = nil
	var unknownLinks []*facts.Link
	type verdict struct {
		v  cty.Value
		fe *findingEval
	}
	byResult := map[int]verdict{}
	if !p.pb.matchesPerLink && sameResult(all) {
		// One evaluation serves every NC, and the finding reuses it.
		sort.Slice(all, func(i, j int) bool { return all[i].NC < all[j].NC })
		g.fe = p.newEval(g, all)
		v := g.fe.evalBool(p.pb.matches)
		byResult[all[0].LastResult] = verdict{v, g.fe}
		if !v.IsKnown() || v.IsNull() {
			g.matchNeeds = append(g.matchNeeds, g.fe.factNeeds(p.pb.matches, "playbook.matches")...)
			g.matchErr = append(g.matchErr, g.fe.errors...)
		}
	}
	for _, l := range all {
		vd, ok := byResult[l.LastResult]
		if !ok || p.pb.matchesPerLink {
			v, fe := p.matchLink(g, l)
			vd = verdict{v, fe}
			byResult[l.LastResult] = vd
		}
		switch v, fe := vd.v, vd.fe; {
		case !v.IsKnown() || v.IsNull():
			unknownLinks = append(unknownLinks, l)
			if !ok || p.pb.matchesPerLink {
				g.matchNeeds = append(g.matchNeeds, fe.factNeeds(p.pb.matches, "playbook.matches")...)
				g.matchErr = append(g.matchErr, fe.errors...)
			}
		case v.True():
			g.links = append(g.links, l)
		default:
			unmatched = append(unmatched, plan.LinkRef{Destination: l.Destination, Source: g.src.name(), SourceDSAGUID: l.SourceDSAGUID, NC: l.NC, LastResult: l.LastResult})
		}
	}
	if len(g.links) == 0 && len(unknownLinks) > 0 {
		g.links, g.matchUnknown = unknownLinks, true
	}
	if len(g.links) != len(all) {
		g.fe = nil
	}
	sort.Slice(g.links, func(i, j int) bool { return g.links[i].NC < g.links[j].NC })
	return unmatched
}

// parallel runs f(0..n-1) on up to GOMAXPROCS goroutines. Every finding is independent and
// writes only its own slot, so the plan does not depend on the scheduling.
func parallel(n int, f func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n/8)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	var rl relay.Relay
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer rl.Catch()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		}()
	}
	wg.Wait()
	rl.Raise()
}

func sameResult(links []*facts.Link) bool {
	for _, l := range links[1:] {
		if l.LastResult != links[0].LastResult {
			return false
		}
	}
	return true
}

// name is the DC's name, or its DSA GUID when it has none (computed once: see dcName).
func (v *dcValue) name() string { return v.nm }

func dcName(val cty.Value) string {
	n := val.GetAttr("name")
	if n.IsKnown() && !n.IsNull() && n.AsString() != "" {
		return n.AsString()
	}
	g := val.GetAttr("dsa_guid")
	if g.IsKnown() && !g.IsNull() {
		return g.AsString()
	}
	return "?"
}

// newPartnership fills in a partnership from its first link. It only reads the planner.
func (p *planner) newPartnership(g *partnership, l *facts.Link) {
	p.resolvePartnership(g, l)
	p.partnershipFlags(g, l)
}

// resolvePartnership finds the DCs of a partnership (destination, source, current source).
func (p *planner) resolvePartnership(g *partnership, l *facts.Link) {
	g.guid = strings.ToLower(l.SourceDSAGUID)
	if dc := p.ix.DCByName(l.Destination); dc != nil {
		g.dest = p.dcVal(dc)
	} else {
		d := absentDC(l.Destination, l.DestinationGUID, "", "the destination is not in the topology read from the seed DC")
		g.dest = &d
	}
	if dc := p.ix.SourceOf(l); dc != nil {
		g.src = p.dcVal(dc)
	} else {
		name := facts.ServerNameFromDSADN(l.SourceDSADN)
		d := absentDC(name, l.SourceDSAGUID, l.SourceDSADN, "the source DSA is not in the topology read from the seed DC")
		g.src = &d
	}
	// The DSA the source itself says it is.
	own := g.src.val.GetAttr("own_dsa_guid")
	switch {
	case !own.IsKnown():
		g.curWhy = "the source's own DSA GUID is unknown: " + g.src.reasons["own_dsa_guid"]
	case strings.EqualFold(own.AsString(), g.src.val.GetAttr("dsa_guid").AsString()):
		g.cur = g.src
	default:
		if dc := p.ix.DCByGUID(own.AsString()); dc != nil {
			g.cur = p.dcVal(dc)
		} else {
			d := absentDC(g.src.name(), own.AsString(), "", "no NTDS Settings object with the source's own GUID is in the topology")
			g.cur = &d
		}
	}
}

// partnershipFlags collects the flagged values of a resolved partnership's DCs and first link.
func (p *planner) partnershipFlags(g *partnership, l *facts.Link) {
	for _, f := range g.dest.flags {
		g.flags = append(g.flags, plan.Flag{Fact: "link.destination." + f.Fact, Value: f.Value, Problem: f.Problem, Raw: f.Raw})
	}
	for _, f := range g.src.flags {
		g.flags = append(g.flags, plan.Flag{Fact: "link.source." + f.Fact, Value: f.Value, Problem: f.Problem, Raw: f.Raw})
	}
	if g.cur != nil && g.cur != g.src {
		for _, f := range g.cur.flags {
			g.flags = append(g.flags, plan.Flag{Fact: "link.current_source." + f.Fact, Value: f.Value, Problem: f.Problem, Raw: f.Raw})
		}
	}
	for _, f := range linkFlags(l) {
		g.flags = append(g.flags, plan.Flag{Fact: "link." + f.Fact, Value: f.Value, Problem: f.Problem, Raw: f.Raw})
	}
}

// linkValue builds `link` for a set of links of one partnership, and returns the attributes
// it is made of.
func (p *planner) linkValue(g *partnership, links []*facts.Link) (cty.Value, map[string]cty.Value) {
	attrs := p.linkAttrMap(g, links)
	return cty.ObjectVal(attrs), attrs
}

// linkAttrsOnly returns the named attributes of `link` (see linkAttrMap); the attributes that
// are the same for every NC are made one by one, without the others.
func (p *planner) linkAttrsOnly(g *partnership, links []*facts.Link, names []string) map[string]cty.Value {
	first := links[0]
	out := make(map[string]cty.Value, len(names))
	var all map[string]cty.Value
	for _, n := range names {
		var v cty.Value
		switch n {
		case "destination":
			v = g.dest.val
		case "source":
			v = g.src.val
		case "current_source":
			v = unknownDC
			if g.cur != nil {
				v = g.cur.val
			}
		case "destination_guid":
			v = cty.StringVal(strings.ToLower(first.DestinationGUID))
		case "source_dsa_guid":
			v = cty.StringVal(strings.ToLower(first.SourceDSAGUID))
		case "source_dsa_dn":
			v = cty.StringVal(first.SourceDSADN)
		case "source_address":
			v = cty.StringVal(facts.CanonicalName(first.SourceAddress))
		case "source_name":
			v = cty.StringVal(g.src.name())
		case "cname":
			v = cty.StringVal(strings.ToLower(first.SourceDSAGUID) + "._msdcs." + p.root)
		default:
			if all == nil {
				all = p.linkAttrMap(g, links)
			}
			var ok bool
			if v, ok = all[n]; !ok {
				continue
			}
		}
		out[n] = v
	}
	return out
}

// linkAttrMap returns the attributes of `link` for a set of links of one partnership.
func (p *planner) linkAttrMap(g *partnership, links []*facts.Link) map[string]cty.Value {
	first := links[0]
	ncs := make([]string, len(links))
	results := make([]int, len(links))
	maxFail := 0
	var lastSuccess, lastAttempt time.Time
	for i, l := range links {
		ncs[i], results[i] = l.NC, l.LastResult
		maxFail = max(maxFail, l.ConsecutiveFailures)
		if l.LastSuccess.After(lastSuccess) {
			lastSuccess = l.LastSuccess
		}
		if l.LastAttempt.After(lastAttempt) {
			lastAttempt = l.LastAttempt
		}
	}
	days := int64(-1)
	if !lastSuccess.IsZero() {
		days = int64(p.ref.Sub(lastSuccess) / (24 * time.Hour))
		if days < 0 {
			days = 0
		}
	}
	cur := unknownDC
	if g.cur != nil {
		cur = g.cur.val
	}
	srcName := g.src.name()
	root := p.root
	resultList := numList(results)
	lastResult := resultList.Index(smallInts[0])
	attrs := map[string]cty.Value{
		"destination":          g.dest.val,
		"source":               g.src.val,
		"current_source":       cur,
		"nc":                   cty.StringVal(first.NC),
		"ncs":                  strList(ncs),
		"last_result":          lastResult,
		"results":              resultList,
		"consecutive_failures": intVal(int64(maxFail)),
		"destination_guid":     cty.StringVal(strings.ToLower(first.DestinationGUID)),
		"source_dsa_guid":      cty.StringVal(strings.ToLower(first.SourceDSAGUID)),
		"source_dsa_dn":        cty.StringVal(first.SourceDSADN),
		"source_address":       cty.StringVal(facts.CanonicalName(first.SourceAddress)),
		"source_deleted":       cty.BoolVal(first.SourceDeleted || facts.IsDeletedDN(first.SourceDSADN)),
		"source_name":          cty.StringVal(srcName),
		"cname":                cty.StringVal(strings.ToLower(first.SourceDSAGUID) + "._msdcs." + root),
		"last_success":         cty.StringVal(timeStr(lastSuccess)),
		"last_success_unix":    timeUnix(lastSuccess),
		"last_attempt":         cty.StringVal(timeStr(lastAttempt)),
		"never_succeeded":      cty.BoolVal(lastSuccess.IsZero()),
		"days_since_success":   intVal(days),
	}
	return attrs
}

func (p *planner) matchLink(g *partnership, l *facts.Link) (cty.Value, *findingEval) {
	fe := p.newEval(g, []*facts.Link{l})
	v := fe.evalBool(p.pb.matches)
	return v, fe
}

// finding evaluates one partnership.
func (p *planner) finding(g *partnership) plan.Finding {
	fe := g.fe
	if fe == nil {
		fe = p.newEval(g, g.links)
	}
	f := plan.Finding{ID: g.id, Link: g.info(), Walk: make([]plan.WalkStep, 0, len(p.pb.Decisions)), Evidence: []plan.CheckResult{}, Flags: append([]plan.Flag(nil), g.flags...)}
	fe.addLinkDeps()
	if g.matchUnknown {
		f.Status = plan.FindingIncomplete
		f.Incomplete = "cannot tell whether the playbook handles these links: " + needList(g.matchNeeds)
		f.Needs = dedupNeeds(g.matchNeeds)
		for _, r := range p.pb.matches.refs {
			fe.addFactRef(r)
		}
		f.Errors = g.matchErr
		f.Fingerprint = fe.fingerprint()
		return f
	}
	var winner *Decision
walk:
	for _, d := range p.pb.Decisions {
		v := fe.evalBool(d.when)
		fe.addExprDeps(d.when)
		switch {
		case !v.IsKnown() || v.IsNull():
			unk := fe.unknownsOf(d.when)
			if len(d.optional) > 0 && fe.coveredBy(d, d.when, 0) {
				f.Walk = append(f.Walk, plan.WalkStep{Decision: d.Name, Result: plan.WalkSkipped, Unknown: unk})
				continue
			}
			f.Walk = append(f.Walk, plan.WalkStep{Decision: d.Name, Result: plan.WalkUnknown, Unknown: unk})
			f.Status = plan.FindingIncomplete
			f.Needs = dedupNeeds(fe.needsOf(d.when, d.Name))
			f.Incomplete = fmt.Sprintf("the walk stopped at decision %q: gather %s", d.Name, needList(f.Needs))
			break walk
		case v.True():
			f.Walk = append(f.Walk, plan.WalkStep{Decision: d.Name, Result: plan.WalkHolds})
			winner = d
			break walk
		default:
			f.Walk = append(f.Walk, plan.WalkStep{Decision: d.Name, Result: plan.WalkFalse})
		}
	}
	if winner != nil {
		f.Status = plan.FindingDiagnosed
		f.Decision = &plan.DecisionRef{Name: winner.Name, See: winner.See, Doc: winner.Doc, Cause: safeText(fe.evalText(winner.cause))}
		if len(winner.Remedy) > 0 {
			f.Actions = make([]plan.Action, 0, len(winner.Remedy))
		}
		for _, name := range winner.Remedy {
			pa, needs := fe.planAction(p.pb.actionByName[name])
			f.Actions = append(f.Actions, pa)
			f.Needs = append(f.Needs, needs...)
		}
	} else if f.Status == "" {
		f.Status = plan.FindingUndiagnosed
		f.Incomplete = "no decision of the playbook holds for this partnership"
	}
	// What the walk and the actions read is known now; manual steps (advice for a human, who
	// reads the assumptions anyway) do not add any.
	f.Assumptions = fe.assumptions()
	if winner != nil {
		for _, m := range winner.manual {
			if ms, ok := fe.renderManual(m); ok {
				if f.Manual == nil {
					f.Manual = make([]plan.ManualStep, 0, len(winner.manual))
				}
				f.Manual = append(f.Manual, ms)
			}
		}
		f.Needs = dedupNeeds(f.Needs)
	}
	for _, name := range p.pb.evidence {
		fe.check(name)
	}
	f.Evidence = make([]plan.CheckResult, 0, len(fe.results))
	for _, ck := range p.pb.Checks {
		if ce := fe.results[ck.Name]; ce != nil {
			f.Evidence = append(f.Evidence, ce.result)
		}
	}
	f.Flags = append(f.Flags, fe.flags...)
	f.Flags = dedupFlags(f.Flags)
	f.Errors = fe.errors
	f.Fingerprint = fe.fingerprint()
	return f
}

func (g *partnership) info() plan.LinkInfo {
	first := g.links[0]
	li := plan.LinkInfo{
		Destination: first.Destination, DestinationGUID: strings.ToLower(first.DestinationGUID),
		Source: g.src.name(), SourceDSAGUID: strings.ToLower(first.SourceDSAGUID),
		SourceDSADN: first.SourceDSADN, SourceAddress: first.SourceAddress,
	}
	li.NCs = make([]plan.NCLink, 0, len(g.links))
	for _, l := range g.links {
		li.NCs = append(li.NCs, plan.NCLink{NC: l.NC, LastResult: l.LastResult, ConsecutiveFailures: l.ConsecutiveFailures, LastSuccess: l.LastSuccess, LastAttempt: l.LastAttempt})
	}
	return li
}

// covered reports whether every unknown item is listed (or under a listed prefix) in optional.
func covered(optional []hcl.Traversal, unknown []string) bool {
	if len(optional) == 0 || len(unknown) == 0 {
		return false
	}
	var prefixes []string
	for _, t := range optional {
		prefixes = append(prefixes, traversalString(t))
	}
	for _, u := range unknown {
		ok := false
		for _, pre := range prefixes {
			if u == pre || strings.HasPrefix(u, pre+".") || strings.HasPrefix(u, pre+"[") {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func summarize(p *plan.Plan, links, failing int) plan.Summary {
	s := plan.Summary{Links: links, FailingLinks: failing, Findings: len(p.Findings), Unmatched: len(p.Unmatched), ByRisk: map[plan.Risk]int{}, ByDecision: map[string]int{}}
	for _, f := range p.Findings {
		s.MatchedLinks += len(f.Link.NCs)
		switch f.Status {
		case plan.FindingDiagnosed:
			s.Diagnosed++
			s.ByDecision[f.Decision.Name]++
		default:
			s.Incomplete++
		}
		for _, a := range f.Actions {
			s.Actions++
			s.ByRisk[a.Risk]++
			if a.Blocked {
				s.Blocked++
			}
		}
		s.ManualSteps += len(f.Manual)
		s.Flags += len(f.Flags)
	}
	s.Warnings = len(p.Warnings)
	for _, w := range p.Warnings {
		s.Flags += len(w.Flags)
	}
	if len(s.ByRisk) == 0 {
		s.ByRisk = nil
	}
	if len(s.ByDecision) == 0 {
		s.ByDecision = nil
	}
	return s
}

func needList(needs []plan.Need) string {
	var parts []string
	for _, n := range needs {
		parts = append(parts, n.String())
	}
	if len(parts) > 6 {
		parts = append(parts[:6], fmt.Sprintf("and %d more", len(parts)-6))
	}
	if len(parts) == 0 {
		return "(nothing gatherable: see errors)"
	}
	return strings.Join(parts, "; ")
}

func needKey(n plan.Need) string {
	switch n.Kind {
	case plan.NeedDNS:
		return "dns|" + n.DNS.Key()
	case plan.NeedTCP:
		return "tcp|" + n.TCP.Key()
	default:
		return "fact|" + n.Fact + "|" + n.DC
	}
}

func dedupNeeds(needs []plan.Need) []plan.Need {
	if len(needs) == 0 {
		return nil
	}
	idx := map[string]int{}
	var out []plan.Need
	for _, n := range needs {
		k := needKey(n)
		if i, ok := idx[k]; ok {
			for _, f := range n.For {
				if !contains(out[i].For, f) {
					out[i].For = append(out[i].For, f)
				}
			}
			continue
		}
		idx[k] = len(out)
		n.For = append([]string(nil), n.For...)
		out = append(out, n)
	}
	sort.SliceStable(out, func(i, j int) bool { return needKey(out[i]) < needKey(out[j]) })
	return out
}

func dedupFlags(flags []plan.Flag) []plan.Flag {
	if len(flags) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []plan.Flag
	for _, f := range flags {
		k := f.Fact + "\x00" + f.Value + "\x00" + f.Problem
		if !seen[k] {
			seen[k] = true
			out = append(out, f)
		}
	}
	return out
}
