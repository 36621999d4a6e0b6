package report

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts"
)

// partialPlanFacts is the demo's facts read partially: DC2's inbound replication status could
// not be read (its links are missing), a DC the seed knows was silent, and the gathering met
// the same timeout on many DNS servers.
func partialPlanFacts(t testing.TB) *facts.Snapshot {
	t.Helper()
	s := scenarioFacts(t, loadPlaybook(t), "source-cname-missing")
	for i := range s.DCs {
		if s.DCs[i].Name == "DC2" {
			s.DCs[i].Inbound = facts.Unknown[string]("LDAP: dc2.contoso.com:636: i/o timeout after 20s (3 tries)")
		}
	}
	links := s.Links[:0]
	for _, l := range s.Links {
		if l.Destination != "DC2" {
			links = append(links, l)
		}
	}
	s.Links = links
	s.DCs = append(s.DCs, facts.DC{Name: "DC3", Site: "Branch", DNSHostName: "dc3.contoso.com", Inbound: facts.Unknown[string]("the DC does not answer LDAP")})
	s.Problems = append(s.Problems, facts.Problem{Scope: "dc:DC2", Message: "LDAP: dc2.contoso.com:636: i/o timeout after 20s (3 tries)"},
		facts.Problem{Scope: "dc:DC3", Message: "the DC does not answer LDAP"})
	for i := range 30 {
		s.Problems = append(s.Problems, facts.Problem{Scope: fmt.Sprintf("dns:192.0.2.%d", 100+i), Message: "DNS: no answer within 2s (timeout)"})
	}
	return s
}

// A partial plan's report says so everywhere: the counts (DCs read of known), a PARTIAL banner,
// the DCs not read with their reasons, the gathering problems folded by message, and the
// drawing marks exactly those DCs, even one the topology lacks; a complete plan has no banner.
func TestPartialPlanReport(t *testing.T) {
	p := planOf(t, loadPlaybook(t), partialPlanFacts(t))
	if !p.Summary.Partial || p.Coverage == nil || len(p.Coverage.NotRead) != 2 {
		t.Fatalf("the plan is not partial as meant: %+v", p.Coverage)
	}
	// A plan file whose coverage names a DC its topology lacks (an edited or inconsistent
	// plan): the report still names and draws it.
	p.Coverage.NotRead = append(p.Coverage.NotRead, facts.DCNotRead{Name: "DC4", Reason: "named by the coverage only"})
	page, err := HTML(Input{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	h := string(page)
	for _, want := range []string{
		`<div class="banner partial" role="alert"><b>PARTIAL</b> 3 of 3 DCs could not be read`,
		`<b>1</b><span>DCs read</span><small>of 3 known: PARTIAL</small>`,
		`<td><code>DC2</code></td><td>LDAP: dc2.contoso.com:636: i/o timeout after 20s (3 tries)</td>`,
		`<td><code>DC3</code></td><td>the DC does not answer LDAP</td>`,
		`<td><code>DC4</code></td><td>named by the coverage only</td>`,
		`<summary>Gathering problems (32, 3 kinds)</summary>`,
		`<tr><td>DNS: no answer within 2s (timeout)</td><td>30</td>`,
		`<span class="muted">and 10 more</span>`,
	} {
		if !strings.Contains(h, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	m, err := build(Input{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	var marked []string
	for _, n := range draw(m).Nodes {
		if strings.Contains(n.Class, "unread") {
			marked = append(marked, n.Label)
		}
	}
	sort.Strings(marked)
	if strings.Join(marked, " ") != "DC2 DC3 DC4" {
		t.Errorf("the drawing marks %q as not read, want DC2 DC3 DC4", marked)
	}
	md, err := Markdown(Input{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"> **PARTIAL:** 3 of 3 DCs could not be read", "| 1 (of 3 known: PARTIAL) |", "| `DC4` | named by the coverage only |",
		"Gathering problems (32):", "| DNS: no answer within 2s (timeout) | 30 | `dns:192.0.2.100`"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, md)
		}
	}

	complete := scenarioPlan(t, "source-cname-missing")
	for _, f := range []string{FormatHTML, FormatMarkdown} {
		b, err := Render(f, Input{Plan: complete})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "PARTIAL") || !strings.Contains(string(b), "Complete: 2 of 2 DCs read, 10 links read.") {
			t.Errorf("%s of a complete plan: PARTIAL, or no coverage line", f)
		}
	}
}
