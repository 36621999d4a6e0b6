package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// warningBlocks extend testPlaybook: a fact-only check and two warnings over it.
const warningBlocks = `
check "addr_current" {
  condition = !endswith(link.source_address, "._msdcs.${forest.root_domain}") || link.source_address == link.cname
}

check "addr_current_too" {
  condition = check.addr_current.ok
}

warning "stale_address" {
  when    = !check.addr_current_too.ok
  message = "${link.destination.name} dials ${link.source_address} for ${link.source.name}"
  see     = "ping"
  doc     = "latent"

  manual "rebuild" {
    on       = link.destination
    shell    = "cmd"
    commands = [["repadmin", "/kcc", link.destination.dns_host_name], ["repadmin", "/showrepl", link.destination.name, link.source.name]]
  }
  manual "samba only" {
    when    = link.destination.platform == "samba"
    command = ["samba-tool", "drs", "kcc"]
  }
}

warning "also_stale" {
  when    = !check.addr_current.ok
  message = "also"
}
`

const oldGUID = "0b0b0b0b-1111-4222-8333-444455556666"

// healthyStale: sampleFacts, where the healthy partnership DC2<-DC1 dials the GUID name of an
// earlier incarnation of DC1.
func healthyStale() *facts.Snapshot {
	s := sampleFacts()
	s.Links[2].SourceAddress = oldGUID + "._msdcs.contoso.com"
	return s
}

func TestWarningReportedForHealthyPartnership(t *testing.T) {
	pb := mustLoad(t, testPlaybook+warningBlocks)
	s := healthyStale()
	s.Links = append(s.Links, link("DC2", guid2, "DC1", guid1, "CN=Configuration,DC=contoso,DC=com", 0))
	s.Links[3].SourceAddress = s.Links[2].SourceAddress
	p := planOf(t, pb, s)
	if len(p.Findings) != 1 || p.Findings[0].ID != "DC1<-DC2" {
		t.Fatalf("findings changed: %+v", p.Findings)
	}
	if len(p.Warnings) != 2 || p.Summary.Warnings != 2 {
		b, _ := json.MarshalIndent(p.Warnings, "", " ")
		t.Fatalf("want 2 warnings, got %d (summary %d):\n%s", len(p.Warnings), p.Summary.Warnings, b)
	}
	// Sorted by id, then name: also_stale before stale_address.
	if p.Warnings[0].Name != "also_stale" || p.Warnings[1].Name != "stale_address" {
		t.Fatalf("order: %s, %s", p.Warnings[0].Name, p.Warnings[1].Name)
	}
	w := p.Warnings[1]
	if w.ID != "DC2<-DC1" || w.See != "ping" || w.Doc != "latent" {
		t.Errorf("warning %+v", w)
	}
	if want := "DC2 dials " + oldGUID + "._msdcs.contoso.com for DC1"; w.Message != want {
		t.Errorf("message %q, want %q", w.Message, want)
	}
	if w.Link.Destination != "DC2" || w.Link.Source != "DC1" || w.Link.SourceDSAGUID != guid1 || len(w.Link.NCs) != 2 ||
		w.Link.NCs[0].NC != "CN=Configuration,DC=contoso,DC=com" || w.Link.NCs[0].LastResult != 0 {
		t.Errorf("link %+v", w.Link)
	}
	if len(w.Manual) != 1 || w.Manual[0].On != "DC2" ||
		strings.Join(w.Manual[0].Commands, "|") != "repadmin /kcc dc2.contoso.com|repadmin /showrepl DC2 DC1" {
		t.Errorf("manual %+v", w.Manual)
	}
	if len(w.Flags) != 0 {
		t.Errorf("flags %+v", w.Flags)
	}
	// A healthy partnership never asks for anything.
	if dns, tcp := pb.Needs(s); len(dns) != 2 || len(tcp) != 2 {
		t.Errorf("needs of the failing partnership only: %v %v", dns, tcp)
	}
}

func TestWarningNotForFailingPartnership(t *testing.T) {
	pb := mustLoad(t, testPlaybook+warningBlocks)
	s := sampleFacts()
	// DC1<-DC2 fails on two NCs and replicates one: it has a finding, never a warning.
	s.Links = append(s.Links, link("DC1", guid1, "DC2", guid2, "DC=ForestDnsZones,DC=contoso,DC=com", 0))
	for i := range s.Links {
		if s.Links[i].Destination == "DC1" {
			s.Links[i].SourceAddress = oldGUID + "._msdcs.contoso.com"
		}
	}
	// A partnership failing with an error the playbook does not handle: no warning either.
	d3 := dc("DC3", guid3, "192.0.2.13")
	s.DCs = append(s.DCs, d3)
	l := link("DC3", guid3, "DC1", guid1, "DC=contoso,DC=com", 1722)
	l.SourceAddress = oldGUID + "._msdcs.contoso.com"
	l2 := l
	l2.NC, l2.LastResult = "CN=Configuration,DC=contoso,DC=com", 0
	s.Links = append(s.Links, l, l2)
	p := planOf(t, pb, s)
	if len(p.Warnings) != 0 || p.Summary.Warnings != 0 {
		t.Fatalf("warnings for failing partnerships: %+v", p.Warnings)
	}
	if len(p.Findings) != 1 || len(p.Unmatched) != 1 {
		t.Fatalf("findings %d, unmatched %d", len(p.Findings), len(p.Unmatched))
	}
	b, _ := json.Marshal(p)
	if strings.Contains(string(b), `"warnings":[`) {
		t.Errorf("empty warnings are encoded: %s", b)
	}
}

func TestWarningUnknownIsSkippedSilently(t *testing.T) {
	src := testPlaybook + `
check "addr_current" {
  condition = link.source_address == link.cname
}

warning "samba_stale" {
  when    = link.destination.platform == "samba" && !check.addr_current.ok
  message = "x"
}
`
	pb := mustLoad(t, src)
	s := healthyStale()
	s.DCs[1].Platform = facts.Unknown[string]("no credentials") // DC2, the healthy partnership's destination
	s.Links = s.Links[2:]                                       // only the healthy link
	p := planOf(t, pb, s)
	if len(p.Warnings) != 0 || len(p.Findings) != 0 {
		t.Fatalf("warnings %+v, findings %+v", p.Warnings, p.Findings)
	}
	if dns, tcp := pb.Needs(s); len(dns)+len(tcp) != 0 {
		t.Errorf("healthy links asked for %v %v", dns, tcp)
	}
	// Known and samba: reported.
	s.DCs[1].Platform = facts.Some(facts.PlatformSamba)
	if p := planOf(t, pb, s); len(p.Warnings) != 1 {
		t.Fatalf("warnings %+v", p.Warnings)
	}
	// Known and windows: not reported.
	s.DCs[1].Platform = facts.Some(facts.PlatformWindows)
	if p := planOf(t, pb, s); len(p.Warnings) != 0 {
		t.Fatalf("warnings %+v", p.Warnings)
	}
}

func TestWarningIDsAndMemo(t *testing.T) {
	pb := mustLoad(t, testPlaybook+warningBlocks)
	if !pb.warnMemo || pb.warnNeedDCs || strings.Join(pb.warnLinkAttrs, ",") != "cname,source_address" {
		t.Fatalf("memo %v, needDCs %v, attrs %v", pb.warnMemo, pb.warnNeedDCs, pb.warnLinkAttrs)
	}
	s := sampleFacts()
	d3 := dc("DC3", guid3, "192.0.2.13")
	s.DCs = append(s.DCs, d3)
	stale := oldGUID + "._msdcs.contoso.com"
	// DC1 and DC2 both replicate from DC3 through the same stale name: one evaluation of when,
	// two warnings, each rendered for its own partnership.
	for _, dest := range []*facts.DC{&s.DCs[0], &s.DCs[1]} {
		l := link(dest.Name, dest.DSAGUID, "DC3", guid3, "DC=contoso,DC=com", 0)
		l.SourceAddress = stale
		s.Links = append(s.Links, l)
	}
	// A second DSA named DC2 (unknown to the topology under this GUID) replicates fine to DC1
	// through a stale name: its id must not be the finding's.
	l := link("DC1", guid1, "DC2", "5b2e7c41-0d9a-4f63-8e15-2a7c9b3d6f80", "DC=contoso,DC=com", 0)
	l.SourceAddress = stale
	s.Links = append(s.Links, l)
	p := planOf(t, pb, s)
	var got []string
	for _, w := range p.Warnings {
		if w.Name == "stale_address" {
			got = append(got, w.ID+": "+w.Message)
		}
	}
	want := []string{
		"DC1<-DC2@5b2e7c41: DC1 dials " + stale + " for DC2",
		"DC1<-DC3: DC1 dials " + stale + " for DC3",
		"DC2<-DC3: DC2 dials " + stale + " for DC3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(p.Findings) != 1 || p.Findings[0].ID != "DC1<-DC2" {
		t.Errorf("the finding's id changed: %+v", p.Findings)
	}
}

func TestWarningFingerprintIgnoresWarnings(t *testing.T) {
	pb := mustLoad(t, testPlaybook+warningBlocks)
	a, b := planOf(t, pb, sampleFacts()), planOf(t, pb, healthyStale())
	if len(a.Warnings) != 0 || len(b.Warnings) == 0 {
		t.Fatalf("warnings: %d, %d", len(a.Warnings), len(b.Warnings))
	}
	if a.Fingerprint != b.Fingerprint || a.Findings[0].Fingerprint != b.Findings[0].Fingerprint {
		t.Errorf("warnings changed the fingerprint: %s vs %s", a.Fingerprint, b.Fingerprint)
	}
	// And a playbook without warnings plans the same findings.
	c := planOf(t, mustLoad(t, testPlaybook), healthyStale())
	if c.Fingerprint != b.Fingerprint || len(c.Warnings) != 0 {
		t.Errorf("fingerprint %s vs %s; warnings %d", c.Fingerprint, b.Fingerprint, len(c.Warnings))
	}
}

func TestWarningHostileValues(t *testing.T) {
	pb := mustLoad(t, testPlaybook+warningBlocks)
	for _, bad := range hostileNames {
		s := healthyStale()
		s.DCs[0].Name = bad // DC1: the healthy partnership's source (found by its GUID)
		s.Links[2].SourceAddress = "$(evil)\n" + oldGUID + "._msdcs.contoso.com"
		p, err := MakePlan(pb, s, PlanOptions{Now: t0})
		if err != nil {
			t.Fatalf("%q: %v", bad, err)
		}
		var w *plan.Warning
		for i := range p.Warnings {
			if p.Warnings[i].Name == "stale_address" {
				w = &p.Warnings[i]
			}
		}
		if w == nil {
			t.Fatalf("%q: no warning: %+v", bad, p.Warnings)
		}
		if !strings.Contains(w.Message, " for ") || strings.ContainsAny(w.Message, "\x00\n\r\u202e") {
			t.Errorf("%q: message not escaped: %q", bad, w.Message)
		}
		if len(w.Flags) == 0 {
			t.Errorf("%q: nothing flagged", bad)
		}
		for _, m := range w.Manual {
			for _, c := range m.Commands {
				if strings.Contains(c, bad) && !quotedIn(c, bad, m.Shell) {
					t.Errorf("%q: rendered unquoted: %s", bad, c)
				}
				if strings.ContainsAny(c, "\x00\n\r\u202e") {
					t.Errorf("%q: control character in %q", bad, c)
				}
			}
			if !m.Flagged && m.Title != "samba only" {
				t.Errorf("%q: manual step %q uses a flagged value but is not flagged", bad, m.Title)
			}
		}
		if _, err := json.Marshal(p); err != nil {
			t.Errorf("%q: %v", bad, err)
		}
	}
}

// TestBadWarnings: a warning's diagnostics point at the right place.
func TestBadWarnings(t *testing.T) {
	good := `
warning "w" {
  when    = !check.fact.ok
  message = "m ${link.source.name}"
}
`
	cases := []struct {
		name    string
		src     string
		summary string
		detail  string
		line    int // in the warning part (1 = the line after minimal)
	}{
		{"dns check in when", `
warning "w" {
  when    = !check.cname.ok
  message = "m"
}
`, "Warning uses a check that needs observations", `uses check "cname", a dns check`, 3},
		{"tcp check through an assert", `
warning "w" {
  when    = true
  message = "${check.both.ok}"
}
`, "Warning uses a check that needs observations", `(through both)`, 4},
		{"dns check in a manual step", `
warning "w" {
  when    = true
  message = "m"
  manual "x" {
    when    = check.cname.ok
    command = ["a"]
  }
}
`, "Warning uses a check that needs observations", `a dns check`, 6},
		{"duplicate", good + good, `Duplicate warning "w"`, "already declared", 7},
		{"missing when", `
warning "w" {
  message = "m"
}
`, "Missing required argument", `"when"`, 0},
		{"missing message", `
warning "w" {
  when = true
}
`, "Missing required argument", `"message"`, 0},
		{"unknown attribute", `
warning "w" {
  when    = true
  message = "m"
  remedy  = [action.fix]
}
`, "Unsupported argument", "remedy", 5},
		{"undeclared check", `
warning "w" {
  when    = check.nope.ok
  message = "m"
}
`, "Reference to undeclared check", "", 3},
		{"when not a bool", `
warning "w" {
  when    = link.source.name
  message = "m"
}
`, "Incorrect value type", "", 3},
		{"empty manual step", `
warning "w" {
  when    = true
  message = "m"
  manual "x" {}
}
`, "Empty manual step", "", 5},
	}
	base := minimal + "\ncheck \"fact\" {\n  condition = link.source_address == link.cname\n}\n"
	baseLines := strings.Count(base, "\n")
	if _, _, diags := load(t, base+good); diags.HasErrors() {
		t.Fatalf("the valid warning does not load: %s", diags.Error())
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pb, files, diags := load(t, base+tc.src)
			if !diags.HasErrors() || pb != nil {
				t.Fatalf("no error; diags: %v", diags)
			}
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Severity == hcl.DiagError && strings.Contains(d.Summary, tc.summary) && strings.Contains(d.Detail, tc.detail) {
					found = d
					break
				}
			}
			if found == nil {
				t.Fatalf("no error %q (%q) among: %v", tc.summary, tc.detail, diags.Error())
			}
			if tc.line > 0 {
				if found.Subject == nil || found.Subject.Filename != "test.hcl" || found.Subject.Start.Line != baseLines+tc.line {
					t.Errorf("error %q at %v, want test.hcl line %d", found.Summary, found.Subject, baseLines+tc.line)
				}
			}
			var sb strings.Builder
			if err := WriteDiagnostics(&sb, files, diags, false); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestWarningsDeterministicInParallel: many healthy partnerships (evaluated on several
// goroutines, sharing the memo) give the same warnings every time (run it with -race).
func TestWarningsDeterministicInParallel(t *testing.T) {
	pb := mustLoad(t, testPlaybook+warningBlocks)
	s := sampleFacts()
	const n = 60
	for i := 0; i < n; i++ {
		d := dc(fmt.Sprintf("DC%d", 10+i), fmt.Sprintf("%08x-0000-4000-8000-%012x", i, i), fmt.Sprintf("192.0.2.%d", 20+i))
		s.DCs = append(s.DCs, d)
	}
	for i := 0; i < n; i++ {
		dest, src := &s.DCs[2+i], &s.DCs[2+(i/3)*3] // every third DC is the source of three partnerships
		if dest == src {
			src = &s.DCs[2+(i+1)%n]
		}
		for _, nc := range []string{"DC=contoso,DC=com", "CN=Configuration,DC=contoso,DC=com"} {
			l := link(dest.Name, dest.DSAGUID, src.Name, src.DSAGUID, nc, 0)
			if i%2 == 0 {
				l.SourceAddress = oldGUID + "._msdcs.contoso.com"
			}
			s.Links = append(s.Links, l)
		}
	}
	first, _ := json.Marshal(planOf(t, pb, s))
	p := planOf(t, pb, s)
	if p.Summary.Warnings != n { // half the partnerships, two warnings each
		t.Fatalf("%d warnings, want %d", p.Summary.Warnings, n)
	}
	for range 3 {
		again, _ := json.Marshal(planOf(t, pb, s))
		if string(again) != string(first) {
			t.Fatal("two plans of the same facts differ")
		}
	}
}
