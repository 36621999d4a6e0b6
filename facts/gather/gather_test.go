package gather

import (
	"crypto/tls"
	"crypto/x509"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts"
)

func TestStandardNeeds(t *testing.T) {
	s := &facts.Snapshot{
		Forest: facts.Forest{RootDomain: "contoso.com"},
		DCs: []facts.DC{
			{Name: "DC1", DNSHostName: "dc1.contoso.com", Domain: "contoso.com", DSAGUID: "11111111-1111-1111-1111-111111111111",
				DNSServers: facts.Some([]string{"192.0.2.11", "192.0.2.12"}), IPs: facts.Some([]string{"192.0.2.11"})},
			{Name: "DC2", DNSHostName: "dc2.child.contoso.com", Domain: "child.contoso.com", DSAGUID: "22222222-2222-2222-2222-222222222222",
				DNSServers: facts.Unknown[[]string]("no WinRM"), IPs: facts.Some([]string{"192.0.2.22"}),
				OwnDSAGUID: facts.Some("33333333-3333-3333-3333-333333333333")},
		},
		Links: []facts.Link{
			{Destination: "DC1", SourceDSAGUID: "22222222-2222-2222-2222-222222222222", NC: "DC=contoso,DC=com", LastResult: 8524},
			{Destination: "DC1", SourceDSAGUID: "22222222-2222-2222-2222-222222222222", NC: "CN=Configuration,DC=contoso,DC=com", LastResult: 8524},
			{Destination: "DC2", SourceDSAGUID: "11111111-1111-1111-1111-111111111111", NC: "DC=contoso,DC=com", LastResult: 0},
		},
	}
	qs, ps := StandardNeeds(s)
	ix := map[string]bool{}
	for _, q := range qs {
		ix[q.Key()] = true
	}
	// DC1's two servers and DC2's own address (no DNS client settings known).
	for _, srv := range []string{"192.0.2.11", "192.0.2.12", "192.0.2.22"} {
		for _, q := range []facts.DNSQuery{
			{Server: srv, Name: "22222222-2222-2222-2222-222222222222._msdcs.contoso.com", Type: "CNAME"},
			{Server: srv, Name: "33333333-3333-3333-3333-333333333333._msdcs.contoso.com", Type: "CNAME"}, // the source's own view
			{Server: srv, Name: "dc2.child.contoso.com", Type: "A"},
			{Server: srv, Name: "dc2.child.contoso.com", Type: "AAAA"},
			{Server: srv, Name: "child.contoso.com", Type: "SOA"},
			{Server: srv, Name: "_msdcs.contoso.com", Type: "SOA"},
			{Server: srv, Name: "_msdcs.contoso.com", Type: "NS", NoRecurse: true},
		} {
			if !ix[q.Key()] {
				t.Errorf("missing %s", q.Key())
			}
		}
	}
	if len(qs) != 21 {
		t.Errorf("%d queries (two failing NCs of one partnership must not duplicate), want 21", len(qs))
	}
	if len(ps) != 12 {
		t.Errorf("%d probes, want 6 ports x 2 DCs", len(ps))
	}
	// A healthy forest needs nothing.
	s.Links = s.Links[2:]
	if qs, ps := StandardNeeds(s); len(qs)+len(ps) != 0 {
		t.Errorf("healthy: %d queries %d probes", len(qs), len(ps))
	}
}

// A DC is dialled on every known address and never by name: with no address it is not dialled
// at all, and the probe says where fix8524 looked.
func TestProbeTarget(t *testing.T) {
	s := &facts.Snapshot{DCs: []facts.DC{
		{Name: "DC1", DNSHostName: "dc1.contoso.com", IPs: facts.Some([]string{"192.0.2.11", "2001:db8::11"})},
		{Name: "DC2", DNSHostName: "dc2.contoso.com", IPs: facts.Unknown[[]string]("dc2.contoso.com resolves on none of the 2 DNS servers")},
	}}
	ix := facts.NewIndex(s)
	one := ProbeTarget(ix, facts.TCPProbe{Host: "dc1", Port: 389})
	if len(one.Addresses) != 2 || one.Addresses[1] != "2001:db8::11" {
		t.Errorf("DC1: %+v", one)
	}
	two := ProbeTarget(ix, facts.TCPProbe{Host: "DC2", Port: 389})
	if len(two.Addresses) != 0 || !strings.Contains(two.Why, "resolves on none") {
		t.Errorf("DC2: %+v", two)
	}
	if other := ProbeTarget(ix, facts.TCPProbe{Host: "198.51.100.7", Port: 53}); len(other.Addresses) != 1 || other.Addresses[0] != "198.51.100.7" {
		t.Errorf("other host: %+v", other)
	}
}

func TestWithSessionCache(t *testing.T) {
	if tc := withSessionCache(nil); tc == nil || tc.ClientSessionCache == nil {
		t.Fatalf("nil config: got %+v, want a config with a session cache", tc)
	}
	roots := x509.NewCertPool()
	base := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS13}
	tc := withSessionCache(base)
	if tc == base || base.ClientSessionCache != nil {
		t.Fatal("the caller's config was changed")
	}
	if tc.ClientSessionCache == nil || tc.RootCAs != roots || tc.MinVersion != tls.VersionTLS13 || tc.InsecureSkipVerify {
		t.Fatalf("copy lost settings or has no cache: %+v", tc)
	}
	own := tls.NewLRUClientSessionCache(1)
	base.ClientSessionCache = own
	if tc := withSessionCache(base); tc.ClientSessionCache != own {
		t.Fatal("the caller's session cache was replaced")
	}
}
