package ldapdelete_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/jimlambrt/gldap"

	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/facts"
)

const (
	config   = "CN=Configuration,DC=contoso,DC=com"
	serverDN = "CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites," + config
	ntdsDN   = "CN=NTDS Settings," + serverDN
	connDN   = "CN=from DC1," + ntdsDN
	compDN   = "CN=DC2,OU=Domain Controllers,DC=contoso,DC=com"
)

// directory is a tiny LDAP server: a set of DNs, deletes that honour (only) a critical
// tree-delete control, and base/one-level searches.
type directory struct {
	mu      sync.Mutex
	objects map[string]bool // lower-case DN
	deletes []string        // DNs deleted, in order
	sawCtl  []string        // "oid critical" of every delete's controls
	refuse  int             // result code to answer every delete with (0 = normal)
}

func (d *directory) children(dn string) []string {
	var out []string
	suffix := "," + strings.ToLower(dn)
	for o := range d.objects {
		if strings.HasSuffix(o, suffix) && !strings.Contains(strings.TrimSuffix(o, suffix), ",") {
			out = append(out, o)
		}
	}
	return out
}

func startDirectory(t *testing.T, dns ...string) (*directory, *ldap.Conn) {
	t.Helper()
	d := &directory{objects: map[string]bool{}}
	for _, dn := range dns {
		d.objects[strings.ToLower(dn)] = true
	}
	mux, err := gldap.NewMux()
	if err != nil {
		t.Fatal(err)
	}
	_ = mux.Bind(func(w *gldap.ResponseWriter, r *gldap.Request) {
		_ = w.Write(r.NewBindResponse(gldap.WithResponseCode(gldap.ResultSuccess)))
	})
	_ = mux.Delete(func(w *gldap.ResponseWriter, r *gldap.Request) {
		res := r.NewResponse(gldap.WithApplicationCode(gldap.ApplicationDelResponse), gldap.WithResponseCode(gldap.ResultSuccess))
		defer func() { _ = w.Write(res) }()
		m, err := r.GetDeleteMessage()
		if err != nil {
			res.SetResultCode(gldap.ResultProtocolError)
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		tree := false
		for _, c := range m.Controls {
			cs, ok := c.(*gldap.ControlString)
			if !ok {
				continue
			}
			d.sawCtl = append(d.sawCtl, cs.ControlType+" "+map[bool]string{true: "critical", false: "non-critical"}[cs.Criticality])
			if cs.ControlType == ldapdelete.TreeDeleteOID {
				tree = true
			}
		}
		if d.refuse != 0 {
			res.SetResultCode(d.refuse)
			return
		}
		dn := strings.ToLower(m.DN)
		if !d.objects[dn] {
			res.SetResultCode(gldap.ResultNoSuchObject)
			return
		}
		if len(d.children(dn)) > 0 && !tree {
			res.SetResultCode(gldap.ResultNotAllowedOnNonLeaf)
			return
		}
		for o := range d.objects {
			if o == dn || strings.HasSuffix(o, ","+dn) {
				delete(d.objects, o)
			}
		}
		d.deletes = append(d.deletes, m.DN)
	})
	_ = mux.Search(func(w *gldap.ResponseWriter, r *gldap.Request) {
		res := r.NewSearchDoneResponse(gldap.WithResponseCode(gldap.ResultSuccess))
		defer func() { _ = w.Write(res) }()
		m, err := r.GetSearchMessage()
		if err != nil {
			res.SetResultCode(gldap.ResultProtocolError)
			return
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		base := strings.ToLower(m.BaseDN)
		if !d.objects[base] {
			res.SetResultCode(gldap.ResultNoSuchObject)
			return
		}
		switch m.Scope {
		case gldap.BaseObject:
			_ = w.Write(r.NewSearchResponseEntry(m.BaseDN))
		case gldap.SingleLevel:
			for _, c := range d.children(base) {
				_ = w.Write(r.NewSearchResponseEntry(c))
			}
		}
	})
	s, err := gldap.NewServer()
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Router(mux)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	go func() { _ = s.Run(addr) }()
	t.Cleanup(func() { _ = s.Stop() })
	var conn *ldap.Conn
	for i := 0; i < 200; i++ {
		if s.Ready() {
			conn, err = ldap.DialURL("ldap://" + addr)
			if err == nil {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	if conn == nil {
		t.Fatalf("test LDAP server did not start: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return d, conn
}

func TestTreeDeleteSendsCriticalControl(t *testing.T) {
	d, conn := startDirectory(t, serverDN, ntdsDN, connDN)
	if err := ldapdelete.TreeDelete(conn, ntdsDN); err != nil {
		t.Fatalf("TreeDelete: %v", err)
	}
	if len(d.sawCtl) != 1 || d.sawCtl[0] != "1.2.840.113556.1.4.805 critical" {
		t.Fatalf("controls sent: %q, want the critical tree-delete control", d.sawCtl)
	}
	for _, dn := range []string{ntdsDN, connDN} {
		ok, err := ldapdelete.Exists(conn, dn)
		if err != nil || ok {
			t.Fatalf("Exists(%s) = %v, %v after the tree delete; want false, nil", dn, ok, err)
		}
	}
	ok, err := ldapdelete.Exists(conn, serverDN)
	if err != nil || !ok {
		t.Fatalf("server object must survive the tree delete: %v %v", ok, err)
	}
}

func TestPlainDeleteOfNonLeafFails(t *testing.T) {
	_, conn := startDirectory(t, serverDN, ntdsDN, connDN)
	err := ldapdelete.Delete(conn, ntdsDN, false)
	var le *ldapdelete.Error
	if !errors.As(err, &le) || le.Code != ldap.LDAPResultNotAllowedOnNonLeaf || le.Hint == "" {
		t.Fatalf("plain delete of a non-leaf: %v, want result 66 with a hint", err)
	}
}

func TestTreeDeleteRefusals(t *testing.T) {
	d, conn := startDirectory(t, serverDN, ntdsDN)
	for _, dn := range []string{"", serverDN, compDN, "CN=NTDS Settings,CN=x\n,CN=Servers,CN=s,CN=Sites," + config, "not a dn"} {
		if err := ldapdelete.TreeDelete(conn, dn); err == nil {
			t.Errorf("TreeDelete(%q) succeeded; want a refusal", dn)
		}
	}
	if len(d.deletes) != 0 {
		t.Fatalf("refused deletes reached the server: %q", d.deletes)
	}
	d.refuse = gldap.ResultInsufficientAccessRights
	err := ldapdelete.TreeDelete(conn, ntdsDN)
	var le *ldapdelete.Error
	if !errors.As(err, &le) || le.Code != ldap.LDAPResultInsufficientAccessRights || !strings.Contains(err.Error(), "protected from accidental deletion") {
		t.Fatalf("access denied: %v", err)
	}
}

func TestIsNTDSSettingsDN(t *testing.T) {
	cases := map[string]bool{
		ntdsDN:                  true,
		strings.ToLower(ntdsDN): true,
		serverDN:                false,
		"CN=NTDS Settings,CN=DC2,CN=Servers,CN=Site,CN=Sites,CN=Configuration": false,
		"CN=NTDS Settings,CN=DC2,CN=Computers,CN=Site,CN=Sites," + config:      false,
		"CN=NTDS Settings,CN=,CN=Servers,CN=Site,CN=Sites," + config:           false,
		"CN=NTDS Settings+CN=x,CN=DC2,CN=Servers,CN=S,CN=Sites," + config:      false,
	}
	for dn, want := range cases {
		if got := ldapdelete.IsNTDSSettingsDN(dn); got != want {
			t.Errorf("IsNTDSSettingsDN(%q) = %v, want %v", dn, got, want)
		}
	}
	if s, err := ldapdelete.ServerDNOf(ntdsDN); err != nil || !strings.EqualFold(s, serverDN) {
		t.Fatalf("ServerDNOf = %q, %v", s, err)
	}
}

// fakeDNS answers from a fixed table: server -> "NAME TYPE" -> answers.
type fakeDNS map[string]map[string][]facts.RR

func (f fakeDNS) Query(_ context.Context, q facts.DNSQuery) facts.DNSObservation {
	obs := facts.DNSObservation{DNSQuery: q}
	zone, ok := f[q.Server]
	if !ok {
		obs.Error = "timeout"
		return obs
	}
	obs.Rcode = "NOERROR"
	obs.Answers = zone[facts.CanonicalName(q.Name)+" "+q.Type]
	return obs
}

func TestLeftovers(t *testing.T) {
	_, conn := startDirectory(t, serverDN, ntdsDN, connDN, compDN)
	if err := ldapdelete.TreeDelete(conn, ntdsDN); err != nil {
		t.Fatal(err)
	}
	guid := "8a7baee5-cd81-4c8c-9c0f-b10030574016"
	records := map[string][]facts.RR{
		guid + "._msdcs.contoso.com CNAME": {{Name: guid + "._msdcs.contoso.com.", Type: "CNAME", TTL: 600, Data: "dc2.contoso.com."}},
		"dc2.contoso.com A":                {{Name: "dc2.contoso.com.", Type: "A", TTL: 1200, Data: "192.0.2.12"}},
		"_ldap._tcp.contoso.com SRV": {
			{Name: "_ldap._tcp.contoso.com.", Type: "SRV", Data: "0 100 389 dc1.contoso.com."},
			{Name: "_ldap._tcp.contoso.com.", Type: "SRV", Data: "0 100 389 dc2.contoso.com."},
		},
		"contoso.com NS":          {{Name: "contoso.com.", Type: "NS", Data: "dc1.contoso.com."}, {Name: "contoso.com.", Type: "NS", Data: "dc2.contoso.com."}},
		"gc._msdcs.contoso.com A": {{Name: "gc._msdcs.contoso.com.", Type: "A", Data: "192.0.2.12"}, {Name: "gc._msdcs.contoso.com.", Type: "A", Data: "192.0.2.11"}},
	}
	dns := fakeDNS{"192.0.2.11": records, "192.0.2.13": nil}
	dc := facts.DC{Name: "DC2", DNSHostName: "dc2.contoso.com", Domain: "contoso.com", Site: "Default-First-Site-Name",
		ServerDN: serverDN, NTDSSettingsDN: ntdsDN, ComputerDN: compDN, DSAGUID: guid, IPs: facts.Some([]string{"192.0.2.12"})}
	got := ldapdelete.Leftovers(context.Background(), conn, dns, ldapdelete.LeftoversInput{
		Forest: facts.Forest{RootDomain: "contoso.com"}, DC: dc, DNSServers: []string{"192.0.2.11", "192.0.2.99"},
	})
	want := map[string]bool{
		"server_object " + serverDN:             false,
		"computer_object " + compDN:             false,
		"CNAME " + guid + "._msdcs.contoso.com": false,
		"A dc2.contoso.com":                     false,
		"SRV _ldap._tcp.contoso.com":            false,
		"NS contoso.com":                        false,
		"A gc._msdcs.contoso.com":               false,
	}
	var unknown, nltest int
	for _, l := range got {
		switch {
		case l.Kind == ldapdelete.LeftoverServerObject || l.Kind == ldapdelete.LeftoverComputerObject:
			want[l.Kind+" "+l.DN] = true
			if len(l.PowerShell) == 0 || !strings.Contains(l.PowerShell[0], "'"+l.DN+"'") {
				t.Errorf("%s: command %q does not quote the DN", l.What, l.PowerShell)
			}
			if l.Kind == ldapdelete.LeftoverServerObject && !l.Deletable {
				t.Errorf("server object without children should be deletable: %+v", l)
			}
		case l.Kind == ldapdelete.LeftoverDNSRecord && l.Record != nil:
			k := l.Record.Type + " " + facts.CanonicalName(l.Record.Name)
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected DNS leftover %s %s", k, l.Record.Data)
			}
			want[k] = true
			if strings.Contains(l.Record.Data, "dc1") || l.Record.Data == "192.0.2.11" {
				t.Errorf("a surviving DC's record was reported: %+v", l.Record)
			}
			if len(l.PowerShell) != 1 || !strings.HasPrefix(l.PowerShell[0], "Remove-DnsServerResourceRecord -ComputerName '192.0.2.11'") {
				t.Errorf("command: %q", l.PowerShell)
			}
		case l.Kind == ldapdelete.LeftoverDNSRecord:
			nltest++
			if !strings.Contains(l.PowerShell[0], "'/DsaGUID:"+guid+"'") {
				t.Errorf("nltest command: %q", l.PowerShell)
			}
		case l.Kind == ldapdelete.LeftoverUnknown:
			unknown++
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("leftover %s not reported", k)
		}
	}
	if nltest != 1 || unknown == 0 {
		t.Errorf("nltest steps %d (want 1), unknown %d (want > 0: server 192.0.2.99 does not answer)", nltest, unknown)
	}
}

// A re-promoted DC still runs under a new GUID: after the stale object's delete, only the old
// GUID's CNAME is a leftover; the live DC's server and computer objects and its host, SRV, NS and
// gc records must never be offered for deletion.
func TestLeftoversOfARepromotedDC(t *testing.T) {
	_, conn := startDirectory(t, serverDN, ntdsDN, connDN, compDN)
	if err := ldapdelete.TreeDelete(conn, ntdsDN); err != nil {
		t.Fatal(err)
	}
	oldGUID := "8a7baee5-cd81-4c8c-9c0f-b10030574016"
	records := map[string][]facts.RR{
		oldGUID + "._msdcs.contoso.com CNAME": {{Name: oldGUID + "._msdcs.contoso.com.", Type: "CNAME", TTL: 600, Data: "dc2.contoso.com."}},
		"dc2.contoso.com A":                   {{Name: "dc2.contoso.com.", Type: "A", TTL: 1200, Data: "192.0.2.12"}},
		"contoso.com NS":                      {{Name: "contoso.com.", Type: "NS", Data: "dc2.contoso.com."}},
		"gc._msdcs.contoso.com A":             {{Name: "gc._msdcs.contoso.com.", Type: "A", Data: "192.0.2.12"}},
	}
	dc := facts.DC{Name: "DC2", DNSHostName: "dc2.contoso.com", Domain: "contoso.com", ServerDN: serverDN,
		NTDSSettingsDN: ntdsDN, ComputerDN: compDN, DSAGUID: oldGUID, IPs: facts.Some([]string{"192.0.2.12"})}
	got := ldapdelete.Leftovers(context.Background(), conn, fakeDNS{"192.0.2.11": records}, ldapdelete.LeftoversInput{
		Forest: facts.Forest{RootDomain: "contoso.com"}, DC: dc, DNSServers: []string{"192.0.2.11"}, Alive: true,
	})
	cnames := 0
	for _, l := range got {
		switch {
		case l.Kind == ldapdelete.LeftoverServerObject || l.Kind == ldapdelete.LeftoverComputerObject:
			t.Errorf("the live DC's %s was offered for deletion: %+v", l.Kind, l)
		case l.Record != nil && l.Record.Type == facts.TypeCNAME && strings.HasPrefix(l.Record.Name, oldGUID):
			cnames++
		case l.Record != nil:
			t.Errorf("the live DC's record was offered for deletion: %+v", l.Record)
		default:
			t.Errorf("unexpected leftover for a live DC (nltest /dsderegdns would remove its locator records): %+v", l)
		}
	}
	if cnames != 1 {
		t.Errorf("stale CNAME reported %d times, want 1: %+v", cnames, got)
	}
}

func FuzzIsNTDSSettingsDN(f *testing.F) {
	for _, s := range []string{ntdsDN, serverDN, "", "CN=NTDS Settings,CN=\\,x,CN=Servers,CN=a,CN=Sites,CN=Configuration,DC=x", "cn=ntds settings,cn=a+b=c,cn=servers,cn=s,cn=sites,cn=configuration,dc=a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dn string) {
		if !ldapdelete.IsNTDSSettingsDN(dn) {
			return
		}
		s, err := ldapdelete.ServerDNOf(dn)
		if err != nil {
			t.Fatalf("ServerDNOf(%q): %v for an NTDS Settings DN", dn, err)
		}
		if _, err := ldapdelete.ValidateDN(s); err != nil {
			t.Fatalf("server DN %q of %q does not parse: %v", s, dn, err)
		}
	})
}
