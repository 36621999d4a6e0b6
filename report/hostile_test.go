package report

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// hostile values: each carries the marker INJECTED, so that whatever of it became markup can
// be found.
var hostile = []string{
	`<script>alert("INJECTED")</script>`,
	`"><img src=x onerror=alert(1) id=INJECTED>`,
	`' onmouseover='alert(1)' data-x='INJECTED`,
	"INJECTED\u202eexe.txt\u202c and \u2066isolate\u2069, soft\u00adhyphen, tag\U000e0041",
	"</title><title>INJECTED</title><svg onload=alert(1)>",
	"INJECTED```\n# heading\n| a | b |\n<!-- comment -->",
	"javascript:alert('INJECTED')",
	"INJECTED\x1b[31mred\x00nul",
}

// hostileFacts is the demo's facts with hostile values wherever AD or a DNS server could put
// them: DC names (as destination and as source), site, domain, naming contexts, DNS answers,
// event text and a 10 kB name; written to a facts file and read back as gather's output is.
func hostileFacts(t testing.TB) *facts.Snapshot {
	t.Helper()
	pb := loadPlaybook(t)
	s := scenarioFacts(t, pb, "source-cname-missing")
	long := "INJECTED-" + strings.Repeat("<b>x</b>\u202e", 10240/12)
	rename := map[string]string{"DC1": "DC1" + hostile[0] + hostile[3], "DC2": "DC2" + hostile[1] + hostile[4]}
	for i := range s.DCs {
		dc := &s.DCs[i]
		if n, ok := rename[dc.Name]; ok {
			dc.Name = n
		}
		dc.Site = hostile[i%len(hostile)] + long
		dc.Domain = dc.Domain + hostile[2]
		if ev, ok := dc.Events.Get(); ok {
			for j := range ev {
				ev[j].Message = hostile[5]
				ev[j].FailingName = hostile[6]
			}
		}
	}
	s.SeedDC = rename[s.SeedDC]
	for i := range s.Links {
		l := &s.Links[i]
		if n, ok := rename[l.Destination]; ok {
			l.Destination = n
		}
		l.NC = l.NC + hostile[7]
	}
	for i := range s.DNS {
		for j := range s.DNS[i].Answers {
			s.DNS[i].Answers[j].Data = hostile[(i+j)%len(hostile)]
		}
		for j := range s.DNS[i].Authority {
			s.DNS[i].Authority[j].Data = hostile[(i+j+3)%len(hostile)]
		}
	}
	// A DC that could not be read and gathering problems, all with hostile names and text: the
	// coverage section, the banner and the drawing show them.
	s.DCs = append(s.DCs, facts.DC{Name: "DC9" + hostile[0], Site: hostile[4], Inbound: facts.Unknown[string](hostile[1] + hostile[7])})
	for i, h := range hostile {
		s.Problems = append(s.Problems, facts.Problem{Scope: "dc:" + h, Message: hostile[(i+2)%len(hostile)]}, facts.Problem{Scope: h, Message: hostile[5]})
	}
	file := filepath.Join(t.TempDir(), "hostile.facts.json")
	var b bytes.Buffer
	if err := facts.Encode(&b, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s2, err := facts.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return s2
}

// The elements and attributes the template writes; anything else came from a value.
var (
	allowedElements = words(`html head meta title style body header div h1 h2 h3 p main section table thead tbody tr th td
		code nav a span ul li svg line rect defs marker path pattern g text details summary label input button ol q pre
		footer script b small`)
	allowedAttrs = words(`lang charset http-equiv content name class id scope href aria-label aria-hidden width height x1 y1 x2 y2 x y rx
		xmlns viewbox role refx refy markerwidth markerheight markerunits orient d fill stroke stroke-width patternunits
		patterntransform text-anchor marker-end open hidden type placeholder autocomplete title data-prompt`)
)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// TestHostileValuesStayText renders the plan of hostile facts and parses the page as a browser
// would: every element and attribute is one the template writes, no attribute holds a value,
// the only script and style are the page's own (and the CSP admits exactly them), and the
// values show as text, their bidirectional overrides as visible escapes.
func TestHostileValuesStayText(t *testing.T) {
	pb := loadPlaybook(t)
	p := planOf(t, pb, hostileFacts(t))
	if len(p.Findings) == 0 || !p.Summary.Partial {
		t.Fatal("the hostile facts give no finding or no DC not read: the test would prove nothing")
	}
	out, err := HTML(Input{Plan: p, PlanFile: hostile[0] + ".json", Approval: &Approval{Status: ApprovalValid, By: hostile[1], Reason: hostile[3]},
		Journal: &Journal{Source: hostile[4]}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []string{"\u202e", "\u2066", "\x1b", "\x00", "\u00ad", "\U000e0041"} {
		if bytes.Contains(out, []byte(r)) {
			t.Errorf("the page holds the raw character %q", r)
		}
	}
	if !bytes.Contains(out, []byte(`\u202e`)) {
		t.Error("the RTL override is not shown as an escape")
	}
	doc, err := html.Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	var scripts, styles []string
	var text strings.Builder
	var csp string
	var walk func(n *html.Node, inSVG bool)
	walk = func(n *html.Node, inSVG bool) {
		switch n.Type {
		case html.ElementNode:
			if !allowedElements[n.Data] {
				t.Errorf("element <%s> does not come from the template", n.Data)
			}
			for _, a := range n.Attr {
				k := strings.ToLower(a.Key)
				if !allowedAttrs[k] {
					t.Errorf("attribute %s=%q on <%s> does not come from the template", a.Key, clip(a.Val, 60), n.Data)
				}
				if strings.Contains(a.Val, "INJECTED") || strings.Contains(strings.ToLower(a.Val), "javascript:") {
					t.Errorf("attribute %s on <%s> holds a value: %q", a.Key, n.Data, clip(a.Val, 60))
				}
				if k == "href" && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("link to %q leaves the page", a.Val)
				}
				if k == "http-equiv" {
					for _, b := range n.Attr {
						if b.Key == "content" {
							csp = b.Val
						}
					}
				}
			}
			switch n.Data {
			case "script":
				scripts = append(scripts, textOf(n))
			case "style":
				styles = append(styles, textOf(n))
			}
		case html.TextNode:
			text.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inSVG || n.Data == "svg")
		}
	}
	walk(doc, false)
	if len(scripts) != 1 || scripts[0] != pageJS {
		t.Errorf("want exactly the page's own script, got %d scripts", len(scripts))
	}
	if len(styles) != 1 || styles[0] != pageCSS {
		t.Errorf("want exactly the page's own style, got %d styles", len(styles))
	}
	for _, src := range append(scripts, styles...) {
		h := sha256.Sum256([]byte(src))
		if want := "'sha256-" + base64.StdEncoding.EncodeToString(h[:]) + "'"; !strings.Contains(csp, want) {
			t.Errorf("the CSP %q does not admit %s", csp, want)
		}
	}
	if !strings.HasPrefix(csp, "default-src 'none'") || strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q", csp)
	}
	txt := text.String()
	for _, want := range []string{`<script>alert("INJECTED")</script>`, `"><img src=x onerror=alert(1) id=INJECTED>`, `INJECTED\u202eexe.txt`, "INJECTED-<b>x</b>"} {
		if !strings.Contains(txt, want) {
			t.Errorf("the page's text lacks %q", want)
		}
	}
	if len(out) > 4<<20 {
		t.Errorf("%d bytes: the 10 kB names are repeated too often", len(out))
	}
}

func textOf(n *html.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// TestHostileMarkdown: in the Markdown, hostile values are inside code spans or escaped, and
// a command holding ``` does not end its fence.
func TestHostileMarkdown(t *testing.T) {
	pb := loadPlaybook(t)
	p := planOf(t, pb, hostileFacts(t))
	p.Findings[0].Manual = append(p.Findings[0].Manual, plan.ManualStep{Title: hostile[5], Shell: "cmd",
		Commands: []string{"echo ```", "echo ````not the end", "# still inside"}})
	out, err := Markdown(Input{Plan: p})
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	for _, r := range []string{"\u202e", "\x1b", "\x00", "\u00ad", "\U000e0041"} {
		if strings.Contains(s, r) {
			t.Errorf("the Markdown holds the raw character %q", r)
		}
	}
	i := strings.Index(s, "`````bat\n")
	if i < 0 {
		t.Fatalf("no five-backtick fence for a command with a run of four backticks:\n%s", s)
	}
	body := s[i+len("`````bat\n"):]
	end := strings.Index(body, "\n   `````\n")
	if end < 0 || !strings.Contains(body[:end], "# still inside") {
		t.Errorf("the fence does not hold the commands:\n%s", clip(body, 400))
	}
	// Outside code spans and fences, no raw HTML tag from a value.
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, "<script>") && !strings.Contains(line, "`") {
			t.Errorf("raw tag outside a code span: %q", clip(line, 120))
		}
	}
}
