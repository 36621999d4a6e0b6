package sim

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"
)

// The hand-written encoder produces what a BER decoder (go-asn1-ber, as go-ldap uses it) reads
// back: lengths in every form (short, one, two and three bytes), negative and large message IDs.
func TestSearchEntryEncoding(t *testing.T) {
	for _, id := range []int64{0, 1, 127, 128, 255, 256, 1<<31 - 1, -1} {
		attrs := map[string][]string{
			"b":     {"x", strings.Repeat("y", 200)},
			"a":     {strings.Repeat("z", 70000)},
			"empty": {""},
			"none":  {},
		}
		enc := appendSearchEntry(nil, id, "CN=Test,DC=example", attrs)
		p, err := ber.ReadPacket(bytes.NewReader(enc))
		if err != nil {
			t.Fatalf("id %d: %v", id, err)
		}
		if got := p.Children[0].Value.(int64); got != id {
			t.Fatalf("message ID %d, want %d", got, id)
		}
		e := p.Children[1]
		if e.ClassType != ber.ClassApplication || e.Tag != opSearchEntry || e.Children[0].Data.String() != "CN=Test,DC=example" {
			t.Fatalf("not the search entry: %s", e.Description)
		}
		got := map[string][]string{}
		var order []string
		for _, a := range e.Children[1].Children {
			name := a.Children[0].Data.String()
			order = append(order, name)
			vals := []string{}
			for _, v := range a.Children[1].Children {
				vals = append(vals, v.Data.String())
			}
			got[name] = vals
		}
		if strings.Join(order, ",") != "a,b,empty,none" {
			t.Fatalf("attribute order %v", order)
		}
		for n, want := range attrs {
			if strings.Join(got[n], "|") != strings.Join(want, "|") || len(got[n]) != len(want) {
				t.Fatalf("attribute %s: %d values, want %d", n, len(got[n]), len(want))
			}
		}
	}
	res := appendResult(nil, 300, opSearchDone, ldapResult{code: ldap.LDAPResultNoSuchObject, diag: "gone"})
	p, err := ber.ReadPacket(bytes.NewReader(res))
	if err != nil {
		t.Fatal(err)
	}
	r := p.Children[1]
	if p.Children[0].Value.(int64) != 300 || r.Tag != opSearchDone || r.Children[0].Value.(int64) != ldap.LDAPResultNoSuchObject || r.Children[2].Data.String() != "gone" {
		t.Fatalf("search done decodes wrong: %v %v", p.Children[0].Value, r.Children[0].Value)
	}
}

// FuzzLDAPRequest feeds arbitrary bytes to a simulated DC's connection handler: it must neither
// panic nor hang.
func FuzzLDAPRequest(f *testing.F) {
	search := ldap.NewSearchRequest("DC=example", ldap.ScopeBaseObject, ldap.NeverDerefAliases, 0, 0, false, "(&(objectClass=*)(cn=a*))", []string{"cn"}, []ldap.Control{ldap.NewControlPaging(10)})
	sp := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	sp.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(7), ""))
	req := ber.Encode(ber.ClassApplication, ber.TypeConstructed, opSearch, nil, "")
	req.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, search.BaseDN, ""))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(search.Scope), ""))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagEnumerated, int64(0), ""))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), ""))
	req.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(0), ""))
	req.AppendChild(ber.NewBoolean(ber.ClassUniversal, ber.TypePrimitive, ber.TagBoolean, false, ""))
	filter, err := ldap.CompileFilter(search.Filter)
	if err != nil {
		f.Fatal(err)
	}
	req.AppendChild(filter)
	attrs := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	attrs.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "cn", ""))
	req.AppendChild(attrs)
	sp.AppendChild(req)
	ctl := ber.Encode(ber.ClassContext, ber.TypeConstructed, 0, nil, "")
	ctl.AppendChild(search.Controls[0].Encode())
	sp.AppendChild(ctl)
	f.Add(sp.Bytes())
	bind := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	bind.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(1), ""))
	br := ber.Encode(ber.ClassApplication, ber.TypeConstructed, opBind, nil, "")
	br.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(3), ""))
	br.AppendChild(ber.NewString(ber.ClassUniversal, ber.TypePrimitive, ber.TagOctetString, "user", ""))
	br.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, "pw", ""))
	bind.AppendChild(br)
	f.Add(bind.Bytes())
	del := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "")
	del.AppendChild(ber.NewInteger(ber.ClassUniversal, ber.TypePrimitive, ber.TagInteger, int64(2), ""))
	del.AppendChild(ber.NewString(ber.ClassApplication, ber.TypePrimitive, opDelete, "CN=x", ""))
	f.Add(del.Bytes())
	f.Add([]byte{0x30, 0x05, 0x02, 0x01, 0x01, 0x77, 0x00})
	f.Add([]byte{0x30, 0x84, 0xff, 0xff, 0xff, 0xff})

	h := &ldapHandlers{
		bind: func(*ldapConnState, string, string, bool) (ldapResult, bool) { return ldapResult{}, true },
		search: func(_ *ldapConnState, m *searchMsg, emit func(string, map[string][]string)) (ldapResult, bool) {
			emit(m.BaseDN, map[string][]string{"filter": {m.Filter}, "attrs": m.Attributes, "controls": m.Controls})
			return ldapResult{}, true
		},
		del: func(*ldapConnState, string, []string) (ldapResult, bool) { return ldapResult{}, true },
	}
	s := &ldapServer{h: h, conns: map[net.Conn]struct{}{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		client, server := net.Pipe()
		go func() { _, _ = io.Copy(io.Discard, client) }()
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer server.Close() // as accept does: the client's write then fails instead of blocking
			s.serveConn(server)
		}()
		_ = client.SetWriteDeadline(time.Now().Add(2 * time.Second))
		_, _ = client.Write(data)
		_ = client.Close()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("the connection handler did not return after the client closed")
		}
	})
}
