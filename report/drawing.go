package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/report/layered"
)

// Sizes of the drawing, in SVG user units (pixels at 100 %).
const (
	nodeW     = 176.0
	nodeH     = 44.0
	siteW     = 210.0 // a collapsed site
	sitePad   = 14.0
	siteHead  = 52.0
	siteFoot  = 36.0 // room for arrows bowed out of the last row
	innerGapX = 80.0
	margin    = 16.0
	labelRune = 19 // runes of a name shown in a node (the tooltip has all of it)
	// detailLimit is the number of DCs up to which every DC and every link is drawn; past it,
	// sites without trouble become one node each, and inside the others the DCs without
	// trouble become one node: every failing link is still drawn between its own DCs.
	detailLimit = 150
)

// Edge states, also the CSS classes of the arrows.
const (
	edgeOK         = "ok"
	edgeFail       = "fail"
	edgeIncomplete = "incomplete"
	edgeUnmatched  = "unmatched"
)

// drawing is the topology as the template draws it: everything is positioned already.
type drawing struct {
	W, H    float64
	Summary bool   // healthy parts collapsed
	Note    string // what the drawing shows
	Groups  []dGroup
	Nodes   []dNode
	Edges   []dEdge
	Legend  []legendItem
}

type dGroup struct {
	X, Y, W, H float64
	Label, Sub string
	Sub2       string // a collapsed site's second line
	Title      string
	Collapsed  bool
	Class      string
}

type dNode struct {
	X, Y, W, H float64
	Label, Sub string
	Title      string
	Class      string
	Href       string
}

type dEdge struct {
	D      string // SVG path data
	Class  string
	Marker string // the arrowhead's id
	Title  string
	Href   string
}

type legendItem struct{ Class, Text string }

// dc is one DC (or a DSA the topology does not hold) while the drawing is built.
type dcInfo struct {
	key    string // lower-case name, or "guid:<guid>" for a DSA outside the topology
	name   string
	site   string
	guid   string
	unread string
	ghost  bool // not in the topology
	in     int  // inbound partnerships
	bad    int  // of them not healthy
}

// edgeInfo is one partnership.
type edgeInfo struct {
	from, to string // dcInfo keys: source, destination
	state    string
	ncs      int
	failing  int
	href     string
	what     string // decision or status, for the tooltip
	warn     bool
}

const noSite = "(site not known)"
const outside = "(not in the topology)"

// scene is what the drawing shows, before it is placed: sites, the nodes in them (a DC, a
// site's "more DCs" node, or a collapsed site) and the arrows between nodes.
type scene struct {
	dcs      map[string]*dcInfo
	summary  bool
	sites    []*siteBox
	nodeSite map[string]int // node key -> index in sites
	agg      map[string]int // "more:" node key -> DCs it stands for
	inner    map[string]int // node key -> healthy partnerships inside it, not drawn
	shown    []*shownEdge
	dcCount  int
	parts    int
}

type siteBox struct {
	name      string
	nodes     []string // node keys inside
	collapsed bool
	dcs, bad  int
}

// shownEdge is one arrow: an unhealthy partnership, or the healthy ones between two nodes.
type shownEdge struct {
	from, to string
	e        edgeInfo
	count    int
}

// draw lays out the plan's topology.
func draw(m *model) *drawing {
	sc := newScene(m)
	if sc == nil {
		return nil
	}
	return sc.place(m)
}

// newScene decides what is shown: every DC, or (past detailLimit) the DCs with trouble.
func newScene(m *model) *scene {
	dcs, order, edges := collect(m)
	if len(order) == 0 {
		return nil
	}
	sc := &scene{dcs: dcs, summary: len(order) > detailLimit, nodeSite: map[string]int{}, agg: map[string]int{},
		inner: map[string]int{}, dcCount: len(order), parts: len(edges)}
	troubled := map[string]bool{}
	for _, k := range order {
		d := dcs[k]
		if d.unread != "" || d.ghost {
			troubled[k] = true
		}
	}
	for _, e := range edges {
		if e.state != edgeOK {
			troubled[e.from], troubled[e.to] = true, true
		}
	}
	// Sites in name order; each DC is shown by a node of its own, by its site's "more DCs"
	// node, or by its collapsed site.
	sites := map[string][]string{}
	var siteNames []string
	for _, k := range order {
		s := dcs[k].site
		if _, ok := sites[s]; !ok {
			siteNames = append(siteNames, s)
		}
		sites[s] = append(sites[s], k)
	}
	sort.Strings(siteNames)
	shownBy := map[string]string{} // DC key -> node key
	for _, name := range siteNames {
		st := &siteBox{name: name, dcs: len(sites[name])}
		hasTrouble := false
		for _, k := range sites[name] {
			if troubled[k] {
				hasTrouble = true
			}
			if d := dcs[k]; d.bad > 0 || d.unread != "" {
				st.bad++
			}
		}
		switch {
		case !sc.summary:
			for _, k := range sites[name] {
				shownBy[k] = k
				st.nodes = append(st.nodes, k)
			}
		case !hasTrouble:
			st.collapsed = true
			key := "site:" + name
			for _, k := range sites[name] {
				shownBy[k] = key
			}
			st.nodes = []string{key}
		default:
			key := "more:" + name
			for _, k := range sites[name] {
				if troubled[k] {
					shownBy[k] = k
					st.nodes = append(st.nodes, k)
				} else {
					shownBy[k] = key
					sc.agg[key]++
				}
			}
			if sc.agg[key] > 0 {
				st.nodes = append(st.nodes, key)
			}
		}
		for _, n := range st.nodes {
			sc.nodeSite[n] = len(sc.sites)
		}
		sc.sites = append(sc.sites, st)
	}
	// Edges between shown nodes: every unhealthy partnership on its own; healthy ones merged
	// per pair of shown nodes (inside one shown node they are only counted).
	merged := map[[2]string]*shownEdge{}
	for _, e := range edges {
		a, b := shownBy[e.from], shownBy[e.to]
		if e.state != edgeOK {
			sc.shown = append(sc.shown, &shownEdge{from: a, to: b, e: e, count: 1})
			continue
		}
		if a == b || (sc.summary && sc.nodeSite[a] == sc.nodeSite[b]) {
			// Inside one node, or (past detailLimit) inside one site: counted, not drawn.
			sc.inner[a]++
			continue
		}
		k := [2]string{a, b}
		if se := merged[k]; se != nil {
			se.count++
			se.e.ncs += e.ncs
			se.e.warn = se.e.warn || e.warn
			continue
		}
		se := &shownEdge{from: a, to: b, e: e, count: 1}
		merged[k] = se
		sc.shown = append(sc.shown, se)
	}
	return sc
}

// place lays the scene out: the nodes of each expanded site, then the sites, then the arrows.
func (sc *scene) place(m *model) *drawing {
	d := &drawing{Summary: sc.summary}
	local := map[string]rect{}
	groups := make([]layered.Node, len(sc.sites))
	for i, st := range sc.sites {
		if st.collapsed {
			groups[i] = layered.Node{W: siteW, H: 84}
			continue
		}
		g := layered.Graph{Nodes: make([]layered.Node, len(st.nodes))}
		idx := map[string]int{}
		for j, n := range st.nodes {
			g.Nodes[j] = layered.Node{W: nodeW, H: nodeH}
			idx[n] = j
		}
		for _, se := range sc.shown {
			if fi, ok := idx[se.from]; ok {
				if ti, ok := idx[se.to]; ok {
					g.Edges = append(g.Edges, layered.Edge{From: fi, To: ti})
				}
			}
		}
		cols := int(math.Ceil(math.Sqrt(float64(len(st.nodes)) * 1.6)))
		cols = max(2, min(cols, 6))
		r := layered.Layout(g, layered.Options{MaxWidth: float64(cols)*(nodeW+innerGapX) - innerGapX, GapX: innerGapX, GapY: 44})
		for j, n := range st.nodes {
			local[n] = rect{r.X[j], r.Y[j], nodeW, nodeH}
		}
		groups[i] = layered.Node{W: max(r.Width, nodeW) + 2*sitePad, H: r.Height + siteHead + siteFoot}
	}
	sg := layered.Graph{Nodes: groups}
	seen := map[[2]int]bool{}
	for _, se := range sc.shown {
		a, b := sc.nodeSite[se.from], sc.nodeSite[se.to]
		if a != b && !seen[[2]int{a, b}] {
			seen[[2]int{a, b}] = true
			sg.Edges = append(sg.Edges, layered.Edge{From: a, To: b})
		}
	}
	widest := 0.0
	for _, g := range groups {
		widest = max(widest, g.W)
	}
	sr := layered.Layout(sg, layered.Options{MaxWidth: max(1180, widest), GapX: 56, GapY: 56})
	d.W, d.H = sr.Width+2*margin, sr.Height+2*margin
	rects := map[string]rect{}
	for i, st := range sc.sites {
		gx, gy := sr.X[i]+margin, sr.Y[i]+margin
		// Bold 13 px text is about 8 px a character: the label fits the box, the tooltip has all.
		grp := dGroup{X: gx, Y: gy, W: groups[i].W, H: groups[i].H, Label: clip(termtext.Escape(st.name), max(8, int((groups[i].W-28)/8))), Collapsed: st.collapsed}
		grp.Title = termtext.Escape(st.name)
		switch {
		case st.collapsed:
			grp.Class = "site collapsed"
			grp.Sub = fmt.Sprintf("%s, all replicating", plural(st.dcs, "DC"))
			grp.Sub2 = plural(sc.inner["site:"+st.name], "partnership") + " inside"
			rects["site:"+st.name] = rect{gx, gy, grp.W, grp.H}
		default:
			grp.Class = "site"
			if st.bad > 0 {
				grp.Class += " troubled"
			}
			grp.Sub = plural(st.dcs, "DC")
			if st.bad > 0 {
				grp.Sub += fmt.Sprintf(" · %d failing or unread", st.bad)
			}
			for _, n := range st.nodes {
				p := local[n]
				p.x += gx + sitePad
				p.y += gy + siteHead
				rects[n] = p
				d.Nodes = append(d.Nodes, m.node(n, p.x, p.y, sc.dcs, sc.agg, sc.inner))
			}
		}
		d.Groups = append(d.Groups, grp)
	}
	d.Edges = sc.arrows(rects)
	d.Note = drawingNote(sc.summary, sc.dcCount, sc.parts)
	d.Legend = []legendItem{
		{"e-ok", "replicating"}, {"e-fail", "failing, diagnosed"}, {"e-incomplete", "failing, diagnosis incomplete"},
		{"e-unmatched", "failing with another error (not handled)"},
	}
	return d
}

// arrows draws the shown edges between the placed nodes: healthy first, so that the trouble
// is drawn on top.
func (sc *scene) arrows(rects map[string]rect) []dEdge {
	rank := map[string]int{edgeOK: 0, edgeUnmatched: 1, edgeIncomplete: 2, edgeFail: 3}
	shown := append([]*shownEdge(nil), sc.shown...)
	sort.SliceStable(shown, func(i, j int) bool { return rank[shown[i].e.state] < rank[shown[j].e.state] })
	pairs := map[[2]string]bool{}
	for _, se := range shown {
		pairs[[2]string{se.from, se.to}] = true
	}
	var out []dEdge
	for _, se := range shown {
		a, b := rects[se.from], rects[se.to]
		if a.w == 0 || b.w == 0 {
			continue
		}
		bend := 0.12
		if pairs[[2]string{se.to, se.from}] {
			bend = 0.22 // both directions: the two arrows bow apart
		}
		e := dEdge{Class: "e-" + se.e.state, Marker: "m-" + se.e.state, Href: se.e.href}
		if se.e.warn && se.e.state == edgeOK {
			e.Class += " e-warn"
		}
		e.D = curve(a, b, bend)
		e.Title = edgeTitle(se.from, se.to, se.e, se.count, sc.dcs)
		out = append(out, e)
	}
	return out
}

// node makes the drawn node of key n.
func (m *model) node(n string, x, y float64, dcs map[string]*dcInfo, agg map[string]int, inner map[string]int) dNode {
	nd := dNode{X: x, Y: y, W: nodeW, H: nodeH, Class: "dc"}
	if strings.HasPrefix(n, "more:") {
		nd.Class = "dc more"
		nd.Label = fmt.Sprintf("+ %s", plural(agg[n], "DC"))
		nd.Sub = "inbound replicating"
		nd.Title = fmt.Sprintf("%s of site %s whose inbound links all replicate (%s among them)", plural(agg[n], "more DC"), termtext.Escape(strings.TrimPrefix(n, "more:")), plural(inner[n], "partnership"))
		return nd
	}
	dc := dcs[n]
	nd.Label = clip(termtext.Escape(dc.name), labelRune)
	var tip []string
	tip = append(tip, termtext.Escape(dc.name))
	switch {
	case dc.ghost:
		nd.Class += " ghost"
		nd.Sub = "not in the topology"
		tip = append(tip, "a source DSA the seed DC's topology does not hold")
	case dc.unread != "":
		nd.Class += " unread"
		nd.Sub = "inbound not read"
		tip = append(tip, "inbound replication status not read: "+termtext.Escape(dc.unread))
	case dc.bad > 0:
		nd.Class += " bad"
		nd.Sub = fmt.Sprintf("%d of %d inbound failing", dc.bad, dc.in)
	default:
		nd.Sub = fmt.Sprintf("%s inbound", plural(dc.in, "partner"))
	}
	if dc.site != "" && dc.site != noSite && dc.site != outside {
		tip = append(tip, "site "+termtext.Escape(dc.site))
	}
	if dc.guid != "" {
		tip = append(tip, "DSA "+termtext.Escape(dc.guid))
	}
	nd.Title = strings.Join(tip, "\n")
	return nd
}

func edgeTitle(from, to string, e edgeInfo, count int, dcs map[string]*dcInfo) string {
	name := func(k string) string {
		if d := dcs[k]; d != nil {
			return termtext.Escape(d.name)
		}
		if i := strings.IndexByte(k, ':'); i >= 0 {
			return termtext.Escape(k[i+1:])
		}
		return termtext.Escape(k)
	}
	s := name(to) + " ← " + name(from)
	if count > 1 {
		s += fmt.Sprintf(": %d partnerships, %s", count, plural(e.ncs, "link"))
	} else {
		s += ": " + plural(e.ncs, "link")
		if e.failing > 0 {
			s += fmt.Sprintf(", %d failing", e.failing)
		}
	}
	if e.what != "" {
		s += " — " + e.what
	}
	if e.warn {
		s += " (a warning holds)"
	}
	return s
}

func drawingNote(summary bool, dcs, parts int) string {
	if !summary {
		return fmt.Sprintf("Every DC (%d) and every inbound partnership (%d) is drawn; an arrow points from the source to the destination that replicates from it.", dcs, parts)
	}
	return fmt.Sprintf("%d DCs, %d partnerships: every failing partnership is drawn between its own DCs; a site without trouble is one box, and in the other sites the DCs without trouble are one node. Healthy partnerships are drawn only between sites, merged into one grey arrow per pair of nodes.", dcs, parts)
}

// collect gathers the DCs and partnerships: from the plan's topology when it has one, and in
// any case every DC and partnership its findings, unmatched links and warnings name.
func collect(m *model) (map[string]*dcInfo, []string, []edgeInfo) {
	p := m.Plan
	dcs := map[string]*dcInfo{}
	var order []string
	byGUID := map[string]string{}
	addDC := func(d *dcInfo) {
		if _, ok := dcs[d.key]; ok {
			return
		}
		dcs[d.key] = d
		order = append(order, d.key)
		if d.guid != "" {
			byGUID[strings.ToLower(d.guid)] = d.key
		}
	}
	if t := p.Topology; t != nil {
		for _, dc := range t.DCs {
			site := dc.Site
			if site == "" {
				site = noSite
			}
			addDC(&dcInfo{key: strings.ToLower(dc.Name), name: dc.Name, site: site, guid: dc.DSAGUID})
		}
	}
	// The DCs not read are those the coverage names (and the topology marks): marked the same
	// way as the report lists them, and drawn even when the topology lacks them.
	for _, k := range slices.Sorted(maps.Keys(m.unread)) {
		nr := m.unread[k]
		d := dcs[k]
		if d == nil {
			d = &dcInfo{key: k, name: nr.Name, site: noSite}
			addDC(d)
		}
		d.unread = nr.Reason
	}
	// resolve names the source of a partnership: the DC of that name, else the DC of that GUID,
	// else a DSA outside the topology.
	resolve := func(name, guid string) string {
		if name != "" {
			if _, ok := dcs[strings.ToLower(name)]; ok {
				return strings.ToLower(name)
			}
		}
		if k, ok := byGUID[strings.ToLower(guid)]; ok && guid != "" {
			return k
		}
		if name != "" && p.Topology == nil {
			addDC(&dcInfo{key: strings.ToLower(name), name: name, site: noSite, guid: guid})
			return strings.ToLower(name)
		}
		label := name
		if label == "" {
			label = guid
		}
		key := "guid:" + strings.ToLower(guid) + "|" + strings.ToLower(name)
		addDC(&dcInfo{key: key, name: label, site: outside, guid: guid, ghost: true})
		return key
	}
	dest := func(name string) string {
		k := strings.ToLower(name)
		if _, ok := dcs[k]; !ok {
			site := noSite
			if p.Topology != nil {
				site = outside
			}
			addDC(&dcInfo{key: k, name: name, site: site, ghost: p.Topology != nil})
		}
		return k
	}
	pk := func(d, guid string) string { return strings.ToLower(d) + "|" + strings.ToLower(guid) }
	findings := map[string]int{}
	for i, f := range m.Findings {
		findings[pk(f.Link.Destination, f.Link.SourceDSAGUID)] = i
	}
	unmatched := map[string]int{}
	for _, u := range p.Unmatched {
		unmatched[pk(u.Destination, u.SourceDSAGUID)]++
	}
	warned := map[string]int{}
	for i, w := range p.Warnings {
		warned[pk(w.Link.Destination, w.Link.SourceDSAGUID)] = i
	}
	var edges []edgeInfo
	done := map[string]bool{}
	classify := func(e *edgeInfo, key string) {
		if i, ok := findings[key]; ok {
			f := m.Findings[i]
			e.href = "#" + f.Anchor
			if f.Status == plan.FindingDiagnosed && f.Decision != nil {
				e.state, e.what = edgeFail, termtext.Escape(f.Decision.Name)
			} else {
				e.state, e.what = edgeIncomplete, "diagnosis "+f.StatusText
			}
			return
		}
		if unmatched[key] > 0 || e.failing > 0 {
			e.state, e.href, e.what = edgeUnmatched, "#unmatched", "another error, not handled by this playbook"
			return
		}
		e.state = edgeOK
		if i, ok := warned[key]; ok {
			e.warn, e.href = true, "#"+m.Warnings[i].Anchor
		}
	}
	// add adds the partnership of destination d from source src (DSA guid), once.
	add := func(d, src, guid string, ncs, failing int) {
		key := pk(d, guid)
		if done[key] {
			return
		}
		done[key] = true
		e := edgeInfo{to: dest(d), from: resolve(src, guid), ncs: ncs, failing: failing}
		classify(&e, key)
		edges = append(edges, e)
	}
	if t := p.Topology; t != nil {
		for _, l := range t.Partnerships {
			add(l.Destination, l.Source, l.SourceDSAGUID, l.NCs, l.Failing)
		}
	}
	// Whatever the topology lacks (or a plan without one): findings, unmatched, warnings.
	for _, f := range m.Findings {
		add(f.Link.Destination, f.Link.Source, f.Link.SourceDSAGUID, len(f.Link.NCs), len(f.Link.NCs))
	}
	for _, u := range p.Unmatched {
		n := unmatched[pk(u.Destination, u.SourceDSAGUID)]
		add(u.Destination, u.Source, u.SourceDSAGUID, n, n)
	}
	for _, w := range p.Warnings {
		add(w.Link.Destination, w.Link.Source, w.Link.SourceDSAGUID, len(w.Link.NCs), 0)
	}
	for _, e := range edges {
		if d := dcs[e.to]; d != nil {
			d.in++
			if e.state != edgeOK {
				d.bad++
			}
		}
	}
	return dcs, order, edges
}

// rect is a placed box: top-left corner and size.
type rect struct{ x, y, w, h float64 }

// curve is the path of an arrow from rectangle a to rectangle b: a quadratic curve bowed to the
// left of its direction by bend (a fraction of its length; out of the row when it passes other
// nodes of its row), clipped to both rectangles.
func curve(a, b rect, bend float64) string {
	ax, ay := a.x+a.w/2, a.y+a.h/2
	bx, by := b.x+b.w/2, b.y+b.h/2
	dx, dy := bx-ax, by-ay
	l := math.Hypot(dx, dy)
	if l < 1 {
		return ""
	}
	off := math.Min(36, l*bend)
	if math.Abs(dy) < 1 && math.Abs(dx) > a.w+innerGapX+1 {
		// Along a row past other nodes: bow out of the row (a quadratic curve reaches half
		// its control point's offset).
		off = 2 * (a.h/2 + 14)
	}
	cx, cy := (ax+bx)/2-dy/l*off, (ay+by)/2+dx/l*off
	sx, sy := clipToRect(a, cx, cy)
	ex, ey := clipToRect(b, cx, cy)
	var s strings.Builder
	s.WriteString("M")
	for i, v := range []float64{sx, sy, cx, cy, ex, ey} {
		switch i {
		case 2:
			s.WriteString(" Q")
		case 0:
		default:
			s.WriteString(" ")
		}
		s.WriteString(strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64))
	}
	return s.String()
}

// clipToRect is where the line from r's centre towards (px, py) leaves r (2 units outside).
func clipToRect(r rect, px, py float64) (float64, float64) {
	cx, cy := r.x+r.w/2, r.y+r.h/2
	dx, dy := px-cx, py-cy
	if dx == 0 && dy == 0 {
		return cx, cy
	}
	hw, hh := r.w/2+2, r.h/2+2
	t := math.Inf(1)
	if dx != 0 {
		t = math.Min(t, hw/math.Abs(dx))
	}
	if dy != 0 {
		t = math.Min(t, hh/math.Abs(dy))
	}
	return cx + dx*t, cy + dy*t
}
