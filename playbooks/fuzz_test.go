package playbooks

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
)

// FuzzPlanShipped plans arbitrary facts with the shipped playbook: no panic, no error, a
// fingerprint, an encodable plan, and no control character in a rendered command.
func FuzzPlanShipped(f *testing.F) {
	pb, _, diags := Load(engine.LoadOptions{})
	if diags.HasErrors() {
		f.Fatal(diags)
	}
	for _, name := range []string{"source-cname-missing", "stale-metadata", "guid-mismatch", "child-forwarder-broken", "samba-result-2"} {
		var buf bytes.Buffer
		if err := facts.Encode(&buf, scenarioFacts(f, pb, name)); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := facts.DecodeBytes(data)
		if err != nil {
			return
		}
		p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: benchNow})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.Fingerprint, "sha256:") {
			t.Fatal("no fingerprint")
		}
		if _, err := json.Marshal(p); err != nil {
			t.Fatal(err)
		}
		for _, fd := range p.Findings {
			for _, m := range fd.Manual {
				for _, c := range m.Commands {
					if strings.ContainsAny(c, "\x00\n\r") {
						t.Fatalf("control character in %q", c)
					}
				}
			}
		}
		pb.Needs(s)
	})
}
