package report

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/sim"
	"github.com/fix8524/fix8524/lab/workstation"
	"github.com/fix8524/fix8524/plan"
)

// bigPlan is the plan of a synthetic forest of 2,000 DCs in 100 sites of 20, each DC with 3
// inbound partners in its site on 4 NCs (24,000 links, plus the sites' bridgehead links), 2 %
// of the partnerships failing with 8524, 5 DCs whose inbound status could not be read and 3
// partnerships failing with another error. Made once: planning it takes a few seconds.
var bigPlan = sync.OnceValues(func() (*plan.Plan, error) {
	sy, err := sim.NewSyntheticForest(sim.SyntheticOptions{DCs: 2000, Partners: 3, NCs: 4, SiteSize: 20, Failing: 0.02, Seed: 14})
	if err != nil {
		return nil, err
	}
	base := sy.Base()
	s := *base
	s.DCs = append([]facts.DC(nil), base.DCs...)
	s.Links = append([]facts.Link(nil), base.Links...)
	unread := map[string]bool{}
	for _, i := range []int{17, 412, 999, 1500, 1999} {
		s.DCs[i].Inbound = facts.Unknown[string]("LDAP bind failed: timeout")
		unread[s.DCs[i].Name] = true
	}
	links := s.Links[:0]
	other := 0
	for _, l := range s.Links {
		if unread[l.Destination] {
			continue
		}
		if l.LastResult == 0 && other < 3 && strings.HasSuffix(l.Destination, "7") && strings.HasPrefix(l.NC, "CN=Schema") {
			l.LastResult, l.ConsecutiveFailures = 1722, 3
			other++
		}
		links = append(links, l)
	}
	s.Links = links
	pb, _, diags := loadPlaybookDiags()
	if diags != nil {
		return nil, diags
	}
	for range 8 {
		dns, tcp := pb.Needs(&s)
		md, mt := facts.Missing(&s, dns, tcp)
		if len(md)+len(mt) == 0 {
			break
		}
		workstation.Observe(sy, &s, md, mt)
	}
	return engine.MakePlan(pb, &s, engine.PlanOptions{Now: planTime})
})

// TestScale2000 draws the 2,000-DC plan: under 10 MB of HTML, every failing partnership drawn
// between its own DCs and linked to its finding, healthy sites collapsed, unread DCs marked.
// BenchmarkReport2000 measures the time.
func TestScale2000(t *testing.T) {
	if testing.Short() {
		t.Skip("plans a 2,000-DC forest")
	}
	p, err := bigPlan()
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Links < 24000 || len(p.Topology.DCs) != 2000 || len(p.Findings) < 50 || len(p.Unmatched) == 0 {
		t.Fatalf("synthetic plan: %d links, %d DCs, %d findings, %d unmatched", p.Summary.Links, len(p.Topology.DCs), len(p.Findings), len(p.Unmatched))
	}
	start := time.Now()
	out, err := HTML(Input{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d findings, %d links: %d bytes of HTML in %s", len(p.Findings), p.Summary.Links, len(out), time.Since(start))
	keepArtifact(t, "synthetic-2000.html", out)
	if len(out) >= 10<<20 {
		t.Errorf("%d bytes of HTML (limit 10 MB)", len(out))
	}
	m, err := build(Input{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	d := draw(m)
	if !d.Summary {
		t.Error("2,000 DCs drawn one by one")
	}
	fails := 0
	hrefs := map[string]bool{}
	for _, e := range d.Edges {
		if e.Class == "e-fail" || e.Class == "e-incomplete" {
			fails++
			hrefs[e.Href] = true
		}
	}
	if fails != len(p.Findings) || len(hrefs) != len(p.Findings) {
		t.Errorf("%d failing arrows (%d distinct findings) for %d findings", fails, len(hrefs), len(p.Findings))
	}
	collapsed, unreadNodes := 0, 0
	for _, g := range d.Groups {
		if g.Collapsed {
			collapsed++
		}
	}
	for _, n := range d.Nodes {
		if strings.Contains(n.Class, "unread") {
			unreadNodes++
		}
	}
	if collapsed == 0 || unreadNodes != 5 {
		t.Errorf("%d collapsed sites, %d unread DCs marked (want 5)", collapsed, unreadNodes)
	}
	if len(d.Nodes) > 1000 {
		t.Errorf("%d nodes drawn: not readable", len(d.Nodes))
	}
	md, err := Markdown(Input{Plan: p})
	if err != nil || !bytes.Contains(md, []byte(p.Findings[0].ID)) {
		t.Errorf("markdown: %v", err)
	}
}

// BenchmarkReport2000: the HTML report of the 2,000-DC / 24,000-link plan (target: under 2 s
// and 10 MB).
func BenchmarkReport2000(b *testing.B) {
	p, err := bigPlan()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	size := 0
	for range b.N {
		out, err := HTML(Input{Plan: p})
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(size)/(1<<20), "MB-html")
}

// BenchmarkDraw2000: the topology's layout alone.
func BenchmarkDraw2000(b *testing.B) {
	p, err := bigPlan()
	if err != nil {
		b.Fatal(err)
	}
	m, err := build(Input{Plan: p})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		draw(m)
	}
}
