package facts

import (
	"bytes"
	"strings"
	"testing"
)

func TestMaybeJSON(t *testing.T) {
	s := &Snapshot{DCs: []DC{{Name: "DC1", IPs: Some([]string{"192.0.2.1"}), DNSServers: Unknown[[]string]("no WinRM credentials"), OwnDSAGUID: Some("")}}}
	var buf bytes.Buffer
	if err := Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{`"ips": [`, `"dns_servers": {`, `"unknown": "no WinRM credentials"`, `"own_dsa_guid": ""`, `"events": {`, `"unknown": "not gathered"`} {
		if !strings.Contains(out, want) {
			t.Errorf("encoded facts lack %q:\n%s", want, out)
		}
	}
	back, err := DecodeBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	dc := back.DCs[0]
	if ips, ok := dc.IPs.Get(); !ok || len(ips) != 1 || ips[0] != "192.0.2.1" {
		t.Errorf("ips = %+v", dc.IPs)
	}
	if dc.DNSServers.Known || dc.DNSServers.Why() != "no WinRM credentials" {
		t.Errorf("dns servers = %+v", dc.DNSServers)
	}
	// An empty known value stays known: "none" and "unknown" differ.
	if !dc.OwnDSAGUID.Known {
		t.Errorf("known empty string decoded as unknown")
	}
	if dc.Events.Known {
		t.Errorf("absent events decoded as known")
	}
}

func TestDecodeErrors(t *testing.T) {
	cases := map[string]string{
		`{}`:                     "no format_version",
		`{"format_version": 99}`: "not supported",
		`{"format_version": 1}`:  "earlier fix8524",
		`{"format_version": 2, "dcs": [{"nam": 1}]}`:              "unknown field",
		"{\"format_version\": 2,\n \"dcs\": [}":                   "line 2",
		`{"format_version": 2} {}`:                                "trailing data",
		`{"format_version": 2, "dcs": [{"ips": {"unknown": 1}}]}`: "unknown",
		// in JSON's words, as jsonerr words the other files' errors, never echoing the file
		`[1]`: "the document holds a list where an object is expected",
		`{"format_version": 2, "links": "\u001b[2J"}`: `"links" holds a string where a list is expected`,
		`{"format_version": 2, "nope": 1}`:            `decoding facts: unknown field "nope"`,
	}
	for in, want := range cases {
		_, err := DecodeBytes([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Decode(%q) = %v, want error containing %q", in, err, want)
		}
	}
}

func TestServerNameFromDSADN(t *testing.T) {
	cases := map[string]string{
		"CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=x": "DC2",
		`CN=NTDS Settings\0ADEL:0f0e,CN=DC2,CN=Servers,CN=S,CN=Sites,CN=Configuration,DC=x`:            "DC2",
		`CN=NTDS Settings,CN=A\,B,CN=Servers`:                                                          `A\,B`,
		"CN=DC2,CN=Servers":                                                                            "",
		"":                                                                                             "",
	}
	for in, want := range cases {
		if got := ServerNameFromDSADN(in); got != want {
			t.Errorf("ServerNameFromDSADN(%q) = %q, want %q", in, got, want)
		}
	}
	if !IsDeletedDN(`CN=NTDS Settings\0ADEL:0f0e,CN=DC2`) || IsDeletedDN("CN=NTDS Settings,CN=DC2") {
		t.Error("IsDeletedDN")
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"format_version":2,"dcs":[{"name":"DC1","ips":["192.0.2.1"],"dns_servers":{"unknown":"x"}}],"links":[{"destination":"DC1","last_result":8524}]}`))
	f.Add([]byte(`{"format_version":2,"dns":[{"server":"192.0.2.1","name":"a","type":"A","answers":[{"name":"a","type":"A","data":"1"}]}]}`))
	f.Add([]byte(`{"format_version":2,"dcs":[{"events":[{"id":2087}]}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeBytes(data)
		if err != nil {
			return
		}
		ix := NewIndex(s)
		for i := range s.Links {
			ix.SourceOf(&s.Links[i])
		}
		var buf bytes.Buffer
		if err := Encode(&buf, s); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		if _, err := DecodeBytes(buf.Bytes()); err != nil {
			t.Fatalf("round trip: %v\n%s", err, buf.Bytes())
		}
	})
}
