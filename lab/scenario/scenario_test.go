package scenario

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts"
)

func TestEveryEmbeddedScenarioParses(t *testing.T) {
	names := Names()
	if len(names) < 3 {
		t.Fatalf("only %d scenarios embedded", len(names))
	}
	for _, n := range names {
		s, err := Load(n)
		if err != nil {
			t.Errorf("%s: %v", n, err)
			continue
		}
		if s.Title == "" {
			t.Errorf("%s: no title", n)
		}
		base := s.NewWorld().Base()
		if len(base.DCs) == 0 || base.SeedDC == "" {
			t.Errorf("%s: no DCs or no seed DC", n)
		}
	}
}

func TestDefaultScenarioFailsWith8524(t *testing.T) {
	s, err := Load(Default)
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewWorld()
	base := w.Base()
	failing := map[string]int{}
	for _, l := range base.Links {
		if l.LastResult != 0 {
			failing[l.Destination+"<-"+facts.ServerNameFromDSADN(l.SourceDSADN)] = l.LastResult
		}
	}
	if len(failing) != 1 || failing["DC1<-DC2"] != ResultDNSLookupFailed {
		t.Fatalf("failing links = %v, want only DC1<-DC2 with 8524", failing)
	}
	cname := "8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com"
	for _, server := range []string{"192.0.2.11", "192.0.2.12"} {
		obs := w.QueryDNS(facts.DNSQuery{Server: server, Name: cname, Type: facts.TypeCNAME})
		if obs.Rcode != "NXDOMAIN" || !obs.Authoritative || len(obs.Authority) != 1 || obs.Authority[0].Type != facts.TypeSOA {
			t.Errorf("%s CNAME before repair = %+v", server, obs)
		}
		host := w.QueryDNS(facts.DNSQuery{Server: server, Name: "dc2.contoso.com", Type: facts.TypeA})
		if host.Rcode != "NOERROR" || len(host.Answers) != 1 || host.Answers[0].Data != "192.0.2.12" {
			t.Errorf("%s A dc2 = %+v", server, host)
		}
		soa := w.QueryDNS(facts.DNSQuery{Server: server, Name: "_msdcs.contoso.com", Type: facts.TypeSOA})
		if soa.Rcode != "NOERROR" || len(soa.Answers) != 1 {
			t.Errorf("%s SOA _msdcs = %+v", server, soa)
		}
	}
	// Restarting Netlogon on DC2 registers the CNAME; replication then succeeds.
	if err := w.Register("DC2", "cname"); err != nil {
		t.Fatal(err)
	}
	obs := w.QueryDNS(facts.DNSQuery{Server: "192.0.2.11", Name: cname, Type: facts.TypeCNAME})
	if obs.Rcode != "NOERROR" || len(obs.Answers) != 1 || obs.Answers[0].Data != "dc2.contoso.com." {
		t.Fatalf("CNAME after Register = %+v", obs)
	}
	a := w.QueryDNS(facts.DNSQuery{Server: "192.0.2.11", Name: cname, Type: facts.TypeA})
	if len(a.Answers) != 2 || a.Answers[1].Data != "192.0.2.12" {
		t.Fatalf("A via CNAME = %+v", a)
	}
	res, err := w.Replicate("DC1", "DC2")
	if err != nil || res != 0 {
		t.Fatalf("Replicate = %d, %v", res, err)
	}
	for _, l := range w.Base().Links {
		if l.LastResult != 0 {
			t.Errorf("after repair: %+v", l)
		}
	}
}

func TestSambaDestinationRecordsResult2(t *testing.T) {
	s, err := Load("samba-result-2")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range s.NewWorld().Base().Links {
		want := 0
		if l.Destination == "DC1" {
			want = ResultFileNotFound
		}
		if l.LastResult != want {
			t.Errorf("%s <- %s: result %d, want %d", l.Destination, l.SourceDSADN, l.LastResult, want)
		}
	}
}

func TestResolutionPaths(t *testing.T) {
	src := `
scenario { title = "t" }
forest { root_domain = "contoso.com" }
domain "contoso.com" {}
domain "child.contoso.com" {}
dc "DC1" {
  guid = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips = ["192.0.2.11"]
}
dc "C1" {
  domain = "child.contoso.com"
  guid = "8a7baee5-cd81-4c8c-9c0f-b10030574016"
  ips = ["192.0.2.21"]
  dns_servers = ["203.0.113.53"]
}
dns_server "192.0.2.11" {
  host = "DC1"
  zones = ["contoso.com", "_msdcs.contoso.com"]
  delegation "child.contoso.com" { servers = ["192.0.2.21"] }
}
dns_server "192.0.2.21" {
  host = "C1"
  zones = ["child.contoso.com"]
  forwarders = ["192.0.2.11"]
}
dns_server "203.0.113.53" { kind = "isp" }
dns_server "198.51.100.1" { kind = "dead" }
dns_server "198.51.100.2" {
  host = "DC1"
  zones = ["contoso.com"]
  missing = ["zone:contoso.com"]
}
`
	s, diags := Parse("t.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	w := s.NewWorld()
	cases := []struct {
		q     facts.DNSQuery
		rcode string
		nans  int
		err   string
	}{
		{facts.DNSQuery{Server: "192.0.2.11", Name: "c1.child.contoso.com", Type: "A"}, "NOERROR", 1, ""},                  // via delegation
		{facts.DNSQuery{Server: "192.0.2.11", Name: "c1.child.contoso.com", Type: "A", NoRecurse: true}, "NOERROR", 0, ""}, // referral
		{facts.DNSQuery{Server: "192.0.2.21", Name: "dc1.contoso.com", Type: "A"}, "NOERROR", 1, ""},                       // via forwarder
		{facts.DNSQuery{Server: "203.0.113.53", Name: "dc1.contoso.com", Type: "A"}, "NXDOMAIN", 0, ""},                    // ISP
		{facts.DNSQuery{Server: "203.0.113.53", Name: "contoso.com", Type: "SOA"}, "NXDOMAIN", 0, ""},
		{facts.DNSQuery{Server: "198.51.100.1", Name: "contoso.com", Type: "SOA"}, "", 0, "timeout"},
		{facts.DNSQuery{Server: "198.51.100.2", Name: "dc1.contoso.com", Type: "A"}, "NXDOMAIN", 0, ""}, // emptied secondary
		{facts.DNSQuery{Server: "198.51.100.2", Name: "contoso.com", Type: "SOA"}, "NOERROR", 1, ""},
		{facts.DNSQuery{Server: "192.0.2.11", Name: "_msdcs.contoso.com", Type: "SOA"}, "NOERROR", 1, ""},
	}
	for _, c := range cases {
		obs := w.QueryDNS(c.q)
		if obs.Rcode != c.rcode || len(obs.Answers) != c.nans || obs.Error != c.err {
			t.Errorf("%+v = %+v", c.q, obs)
		}
	}
	// C1 points at an ISP resolver: its registration is refused.
	if err := w.Register("C1", "all"); err == nil {
		t.Error("registration through an ISP resolver succeeded")
	}
}

func TestParseErrorsAreLocated(t *testing.T) {
	bad := map[string]string{
		`scenario {}`: "title",
		`scenario { title = "t" }
forest { root_domain = "x.com" }
dc "A" {
  guid = "NOT-A-GUID"
  ips = ["192.0.2.1"]
}`: "lower-case GUIDs",
		`scenario { title = "t" }
forest { root_domain = "x.com" }
dc "A" {
  guid = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips = ["not-an-ip"]
}`: "not an IP",
		`scenario { title = "t" }
forest { root_domain = "x.com" }
bogus {}`: "Unsupported block type",
		`scenario { title = "t" }
forest { root_domain = "x.com" }
dc "A" {
  guid = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips = ["192.0.2.1"]
}
dc "B" {
  guid = "5b2e7c41-0d9a-4f63-8e15-2a7c9b3d6f80"
  ips = ["192.0.2.2"]
}
link {
  destination  = "A"
  source       = "B"
  address_guid = "x; rm -rf /"
}`: "address_guid must be a lower-case GUID",
		`scenario {
  title = "t"
  expect_warnings = { "A<-B" = [] }
}
forest { root_domain = "x.com" }
dc "A" {
  guid = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips = ["192.0.2.1"]
}`: "list at least one warning",
	}
	for src, want := range bad {
		_, diags := Parse("bad.hcl", []byte(src))
		var all strings.Builder
		for _, d := range diags {
			fmt.Fprintf(&all, "%s: %s; %s\n", d.Subject, d.Summary, d.Detail)
		}
		if !diags.HasErrors() || !strings.Contains(all.String(), want) || !strings.Contains(all.String(), "bad.hcl:") {
			t.Errorf("Parse(%q) = %v, want located error containing %q", src, diags, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range Names() {
		s, _ := Load(n)
		_ = s
	}
	f.Add([]byte(`scenario { title = "t" }
forest { root_domain = "x.com" }
dc "A" {
  guid = "e15fc9a1-82f8-4a99-97f2-8e715f06e747"
  ips = ["192.0.2.1"]
  unregistered = ["cname"]
}
dns_server "192.0.2.1" { host = "A" }
link {
  destination = "A"
  source = "A"
}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		s, diags := Parse("f.hcl", src)
		if diags.HasErrors() || s == nil {
			return
		}
		w := s.NewWorld()
		base := w.Base()
		for _, dc := range base.DCs {
			w.QueryDNS(facts.DNSQuery{Server: "192.0.2.1", Name: dc.DSAGUID + "._msdcs." + base.Forest.RootDomain, Type: "A"})
			_ = w.Register(dc.Name, "all")
		}
	})
}
