package ldapread

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/fix8524/fix8524/facts/dnsrecord"
)

func TestValidate(t *testing.T) {
	cases := []struct {
		o    Options
		want string
	}{
		{Options{}, ""},
		{Options{TLS: "tls13"}, "want ldaps"},
		{Options{TLS: TLSNone, Auth: Auth{User: "u", Password: "p"}}, "refusing to send a password over plain LDAP"},
		{Options{TLS: TLSNone, AllowPlaintextCredentials: true, Auth: Auth{User: "u", Password: "p"}}, ""},
		{Options{TLS: TLSNone, Auth: Auth{Method: BindNTLM, User: "D\\u", Password: "p"}}, "refusing"},
		{Options{Auth: Auth{Method: BindNTLM}}, "needs a user"},
		{Options{Auth: Auth{Method: BindKerberos, Keytab: "/k"}}, "keytab needs"},
		{Options{Auth: Auth{Method: "digest"}}, "unknown bind method"},
	}
	for _, c := range cases {
		err := c.o.Validate()
		if (c.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}
}

func TestRedact(t *testing.T) {
	base := errors.New("boom")
	err := redactErr(fmt.Errorf("bind as u with hunter2: %w", base), "hunter2")
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "[redacted]") {
		t.Fatalf("%v", err)
	}
	if !errors.Is(err, base) {
		t.Fatal("redaction lost the error chain")
	}
	if e := redactErr(base, ""); e != base {
		t.Fatal("no secret: error changed")
	}
}

func TestDNHelpers(t *testing.T) {
	ntds := `CN=NTDS Settings,CN=DC\,2,CN=Servers,CN=Branch-1,CN=Sites,CN=Configuration,DC=contoso,DC=com`
	server := parentDN(ntds)
	if server != `CN=DC\,2,CN=Servers,CN=Branch-1,CN=Sites,CN=Configuration,DC=contoso,DC=com` || rdnValue(server) != `DC\,2` || siteOf(server) != "Branch-1" {
		t.Fatalf("server %q rdn %q site %q", server, rdnValue(server), siteOf(server))
	}
	domains := map[string]string{"dc=contoso,dc=com": "contoso.com", "dc=child,dc=contoso,dc=com": "child.contoso.com"}
	if d := domainOf("CN=DC3,OU=Domain Controllers,DC=child,DC=contoso,DC=com", domains); d != "child.contoso.com" {
		t.Fatalf("domainOf = %q", d)
	}
	if dnFromDCLabels("DC=Contoso,DC=com") != "contoso.com" {
		t.Fatal("dnFromDCLabels")
	}
	u, d := splitNTLMUser(`CONTOSO\svc`)
	u2, d2 := splitNTLMUser("svc@contoso.com")
	if u != "CONTOSO" || d != "svc" || u2 != "contoso.com" || d2 != "svc" {
		t.Fatalf("%q %q %q %q", u, d, u2, d2)
	}
	tm, err := parseGeneralizedTime("20261120093000.0Z")
	if err != nil || !tm.Equal(time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)) || FormatGeneralizedTime(tm) != "20261120093000.0Z" {
		t.Fatalf("%v %v", tm, err)
	}
	if _, err := parseGeneralizedTime("yesterday"); err == nil {
		t.Fatal("bad time parsed")
	}
}

func TestPlatformOf(t *testing.T) {
	for os, want := range map[string]string{"Windows Server 2022 Datacenter": "windows", "Samba 4.17.12-Debian": "samba", "Samba": "samba"} {
		if p := platformOf(os); !p.Known || p.Value != want {
			t.Errorf("%q: %+v", os, p)
		}
	}
	if p := platformOf("OS/2"); p.Known {
		t.Error("unknown OS classified")
	}
}

func FuzzDN(f *testing.F) {
	f.Add(`CN=NTDS Settings,CN=DC\,2,CN=Servers,CN=S,CN=Sites,CN=Configuration,DC=x`)
	f.Add(`\`)
	f.Fuzz(func(t *testing.T, dn string) {
		_ = siteOf(parentDN(dn))
		_ = rdnValue(dn)
		_ = dnFromDCLabels(dn)
		_ = domainOf(dn, map[string]string{"dc=x": "x"})
		_, _ = parseGeneralizedTime(dn)
	})
}

func TestCollectRanged(t *testing.T) {
	e := ldap.NewEntry("", nil)
	e.Attributes = []*ldap.EntryAttribute{{Name: "msDS-ReplAllInboundNeighbors;range=0-1", ByteValues: [][]byte{[]byte("a"), []byte("b")}}}
	var r RootDSE
	if next := collectRanged(e, AttrReplAllInboundNeighbors, &r); next != 2 || len(r.Neighbors) != 2 || !r.HasNeighborsAttr {
		t.Fatalf("next %d, %d values", next, len(r.Neighbors))
	}
	e.Attributes = []*ldap.EntryAttribute{{Name: "msDS-ReplAllInboundNeighbors;range=2-*", ByteValues: [][]byte{[]byte("c")}}}
	if next := collectRanged(e, AttrReplAllInboundNeighbors, &r); next != -1 || len(r.Neighbors) != 3 {
		t.Fatalf("next %d, %d values", next, len(r.Neighbors))
	}
	e.Attributes = []*ldap.EntryAttribute{{Name: "other", ByteValues: [][]byte{[]byte("x")}}}
	var empty RootDSE
	if next := collectRanged(e, AttrReplAllInboundNeighbors, &empty); next != -1 || empty.HasNeighborsAttr {
		t.Fatal("unrelated attribute collected")
	}
}

// nodeOf decodes hostile dnsNode entries without panicking; a tombstoned node holds no address.
func FuzzNodeOf(f *testing.F) {
	a, _ := dnsrecord.Encode(dnsrecord.Record{Type: dnsrecord.TypeA, Address: netip.MustParseAddr("192.0.2.12")})
	tomb, _ := dnsrecord.Encode(dnsrecord.Record{Type: dnsrecord.TypeZero})
	f.Add("DC=dc2,DC=contoso.com,CN=MicrosoftDNS,DC=DomainDnsZones,DC=contoso,DC=com", "dc2", "", a, tomb)
	f.Add("DC=@,DC=contoso.com,CN=MicrosoftDNS,DC=DomainDnsZones,DC=contoso,DC=com", "@", "TRUE", a, []byte{5})
	f.Add(`DC=x\,y,DC=a`, "", "FALSE", []byte{}, a)
	f.Fuzz(func(t *testing.T, dn, name, tombstoned string, v1, v2 []byte) {
		e := ldap.NewEntry(dn, map[string][]string{"name": {name}, AttrDNSTombstoned: {tombstoned}, AttrDNSRecord: {string(v1), string(v2)}})
		n, ok := nodeOf(e, "DC=DomainDnsZones,DC=contoso,DC=com")
		if !ok {
			return
		}
		if n.Tombstoned && (len(n.Addresses) > 0 || len(n.NS) > 0) {
			t.Fatalf("a tombstoned node holds records: %+v", n)
		}
		for _, addr := range n.Addresses {
			if _, err := netip.ParseAddr(addr); err != nil {
				t.Fatalf("address %q", addr)
			}
		}
	})
}

func TestNodeOf(t *testing.T) {
	a, _ := dnsrecord.Encode(dnsrecord.Record{Type: dnsrecord.TypeA, Address: netip.MustParseAddr("192.0.2.12")})
	ns, _ := dnsrecord.Encode(dnsrecord.Record{Type: dnsrecord.TypeNS, Target: "dc1.contoso.com"})
	tomb, _ := dnsrecord.Encode(dnsrecord.Record{Type: dnsrecord.TypeZero})
	base := ",CN=MicrosoftDNS,DC=DomainDnsZones,DC=contoso,DC=com"
	n, ok := nodeOf(ldap.NewEntry("DC=dc2,DC=contoso.com"+base, map[string][]string{"name": {"DC2"}, AttrDNSRecord: {string(a), "garbage"}}), "")
	if !ok || n.Name != "dc2.contoso.com" || n.Zone != "contoso.com" || len(n.Addresses) != 1 || n.Addresses[0] != "192.0.2.12" || len(n.Problems) != 1 {
		t.Errorf("live node %+v", n)
	}
	n, _ = nodeOf(ldap.NewEntry("DC=@,DC=contoso.com"+base, map[string][]string{"name": {"@"}, AttrDNSRecord: {string(ns)}}), "")
	if n.Name != "contoso.com" || len(n.NS) != 1 || n.NS[0] != "dc1.contoso.com" {
		t.Errorf("apex %+v", n)
	}
	// Tombstoned by the attribute, or by holding only a tombstone record: no address either way.
	for _, e := range []*ldap.Entry{
		ldap.NewEntry("DC=dc3,DC=contoso.com"+base, map[string][]string{"name": {"dc3"}, AttrDNSTombstoned: {"TRUE"}, AttrDNSRecord: {string(a)}}),
		ldap.NewEntry("DC=dc3,DC=contoso.com"+base, map[string][]string{"name": {"dc3"}, AttrDNSRecord: {string(tomb)}}),
	} {
		if n, _ := nodeOf(e, ""); !n.Tombstoned || len(n.Addresses) != 0 {
			t.Errorf("tombstoned %+v", n)
		}
	}
}
