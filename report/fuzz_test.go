package report

import (
	"bytes"
	"encoding/json"
	"testing"

	"golang.org/x/net/html"

	"github.com/fix8524/fix8524/plan"
)

// FuzzReport feeds plan files (as JSON, from an untrusted source) to both renderers: no panic,
// and when the plan parses, the HTML parses with the page's one script and no other. Seeds: the
// demo's plan and a few broken ones.
//
//	go test -run '^$' -fuzz '^FuzzReport$' -fuzztime 60000x ./report
func FuzzReport(f *testing.F) {
	b, err := json.Marshal(scenarioPlan(f, "source-cname-missing"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"plan_format_version":1,"fingerprint":"x","findings":[{"id":"a<-b","status":"diagnosed","needs":[{"kind":"dns"},{"kind":"tcp"}],"actions":[{"id":"x","name":"y","kind":"ldap_delete"}]}]}`))
	f.Add([]byte(`{"topology":{"dcs":[{"name":"A","site":"S"},{"name":"a","site":""}],"partnerships":[{"destination":"A","source":"","source_dsa_guid":"","ncs":-1,"failing":3},{"destination":"Z","source":"A","source_dsa_guid":"g"}]},"unmatched":[{"destination":"A","source_dsa_guid":"g","last_result":5}],"warnings":[{"id":"w","link":{"destination":"A","source_dsa_guid":"g"}}]}`))
	f.Add([]byte(`{"findings":[{"id":"\u202e<script>","link":{"destination":"\u0000","ncs":[{"nc":"x","last_result":-1}]},"evidence":[{"status":"??","observations":[{"target":"<"}]}],"manual":[{"shell":"cmd","commands":["echo ` + "```" + `"]}]}]}`))
	f.Add([]byte(`{"summary":{"partial":true,"dcs_not_read":9},"coverage":{"complete":false,"dcs":1,"dcs_read":5,"dcs_not_read":[{"name":"\u2028<b>","reason":""},{"name":"A","reason":"x"},{"name":"a","reason":"y"}],"problems":[{"scope":"","message":""},{"scope":"s","message":""}]},"topology":{"dcs":[{"name":"A","unread":"z"}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var p plan.Plan
		if err := json.Unmarshal(data, &p); err != nil {
			return
		}
		if len(p.Findings)+len(p.Warnings)+len(p.Unmatched) > 200 || (p.Topology != nil && len(p.Topology.DCs)+len(p.Topology.Partnerships) > 2000) {
			return // size is the scale test's business
		}
		in := Input{Plan: &p, Journal: &Journal{}, Approval: &Approval{Status: ApprovalRefused, Problem: string(data[:min(len(data), 40)])}}
		out, err := HTML(in)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatal(err)
		}
		scripts := 0
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode && (n.Data == "script" || n.Data == "img" || n.Data == "iframe" || n.Data == "object") {
				scripts++
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
		if scripts != 1 {
			t.Fatalf("%d script-like elements", scripts)
		}
		if _, err := Markdown(in); err != nil {
			t.Fatal(err)
		}
	})
}
