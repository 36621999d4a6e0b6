package engine

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// checkPlanInvariants: whatever the facts, a plan encodes, has fingerprints, renders no control
// character into a command, and is the same when made twice.
func checkPlanInvariants(t *testing.T, pb *Playbook, s *facts.Snapshot) {
	p, err := MakePlan(pb, s, PlanOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	a, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(p.Fingerprint, "sha256:") {
		t.Fatalf("fingerprint %q", p.Fingerprint)
	}
	for _, f := range p.Findings {
		if !strings.HasPrefix(f.Fingerprint, "sha256:") {
			t.Fatalf("finding fingerprint %q", f.Fingerprint)
		}
		for _, m := range f.Manual {
			for _, c := range m.Commands {
				if unrenderable(c) != "" && !strings.HasPrefix(c, "(commands unknown") {
					t.Fatalf("command with an unsafe character: %q", c)
				}
			}
		}
		for _, a := range f.Assumptions {
			if unrenderable(a) != "" {
				t.Fatalf("assumption with an unsafe character: %q", a)
			}
		}
		for _, ac := range f.Actions {
			if unrenderable(ac.Title) != "" && len(ac.Title) <= maxValueBytes {
				t.Fatalf("title with an unsafe character: %q", ac.Title)
			}
			for _, g := range ac.Guards {
				if g.Status != plan.StatusOK && !ac.Blocked {
					t.Fatalf("action %s not blocked by guard %s", ac.Name, g.Name)
				}
			}
		}
	}
	p2, err := MakePlan(pb, s, PlanOptions{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(p2)
	if !bytes.Equal(a, b) {
		t.Fatal("two plans of the same facts differ")
	}
	pb.Needs(s)
}

// FuzzPlanFacts plans over arbitrary facts JSON (what `plan --facts FILE` reads).
func FuzzPlanFacts(f *testing.F) {
	var buf bytes.Buffer
	if err := facts.Encode(&buf, sampleFacts()); err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Clone(buf.Bytes()))
	assumed := sampleFacts()
	for i := range assumed.DCs {
		if ips, ok := assumed.DCs[i].IPs.Get(); ok {
			assumed.DCs[i].DNSServers, assumed.DCs[i].DNSServersFrom = facts.Some(ips), DNSServersAssumedSelf
		}
	}
	buf.Reset()
	if err := facts.Encode(&buf, assumed); err != nil {
		f.Fatal(err)
	}
	f.Add(bytes.Clone(buf.Bytes()))
	f.Add([]byte(`{"format_version":2,"forest":{},"dcs":[],"links":[{"destination":"A","source_dsa_guid":"x","last_result":8524}],"dns":[],"reachability":[]}`))
	f.Add([]byte(`{"format_version":2,"forest":{"root_domain":"a"},"dcs":[{"name":"A","dns_servers":{"unknown":"x"},"platform":"samba"}],"links":[{"destination":"A","last_result":2}],"dns":null,"reachability":null}`))
	pb := mustLoad(f, testPlaybook)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := facts.DecodeBytes(data)
		if err != nil {
			return
		}
		checkPlanInvariants(t, pb, s)
	})
}

// FuzzPlanValues puts arbitrary strings into the facts the playbook renders and probes.
func FuzzPlanValues(f *testing.F) {
	f.Add("DC2", "dc2.contoso.com", guid2, "192.0.2.12", "Default-First-Site-Name", 8524, "NXDOMAIN")
	f.Add(`DC2"; calc & rem`, "dc2\x00.contoso.com", "not-a-guid", "$(x)", "`y`", 2, "")
	f.Add(strings.Repeat("x", 10000), "-rf", "", "::1", "\u202e", 8524, "NOERROR")
	pb := mustLoad(f, testPlaybook)
	f.Fuzz(func(t *testing.T, name, host, guid, server, site string, result int, rcode string) {
		s := sampleFacts()
		s.DCs[1].Name, s.DCs[1].DNSHostName, s.DCs[1].DSAGUID, s.DCs[1].Site = name, host, guid, site
		s.DCs[1].DNSServers = facts.Some([]string{server, "192.0.2.12"})
		s.DCs[1].DNSServersFrom = DNSServersAssumedSelf // the name and servers reach Finding.Assumptions
		s.DCs[1].OwnDSAGUID = facts.Some(guid)
		s.Links[0].SourceDSAGUID, s.Links[0].LastResult = guid, result
		s.DNS[0].Rcode = rcode
		s.Reach[0].Host = host
		checkPlanInvariants(t, pb, s)
	})
}
