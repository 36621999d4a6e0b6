package dnsrecord

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"testing"
	"time"
)

// A value as a Windows DNS server writes it (MS-DNSP 2.3.2.2): an A record for 192.0.2.12, TTL
// 1200 (big-endian), serial 5, rank zone, aging stamp 3 (hours since 1601).
const aValue = "0400" + "0100" + "05" + "f0" + "0000" + "05000000" + "000004b0" + "00000000" + "03000000" + "c000020c"

func TestDecodeKnownValues(t *testing.T) {
	b, _ := hex.DecodeString(aValue)
	r, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if r.Type != TypeA || r.Address != netip.MustParseAddr("192.0.2.12") || r.TTL != 1200 || r.Serial != 5 || r.Rank != RankZone || r.Stamp != 3 {
		t.Fatalf("decoded %+v", r)
	}
	// CNAME dc2.contoso.com: DNS_COUNT_NAME = length 17, 3 labels, 3dc2 7contoso 3com 0.
	cname := []byte{17, 3, 3, 'd', 'c', '2', 7, 'c', 'o', 'n', 't', 'o', 's', 'o', 3, 'c', 'o', 'm', 0}
	v := append([]byte{byte(len(cname)), 0, 5, 0, 5, 0xf0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x58, 0, 0, 0, 0, 0, 0, 0, 0}, cname...)
	r, err = Decode(v)
	if err != nil || r.Type != TypeCNAME || r.Target != "dc2.contoso.com" || r.TTL != 600 {
		t.Fatalf("CNAME: %+v %v", r, err)
	}
	// A tombstone: type 0, data the FILETIME of the deletion.
	when := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	tb, err := Encode(Record{Type: TypeZero, Tombstoned: when})
	if err != nil {
		t.Fatal(err)
	}
	r, err = Decode(tb)
	if err != nil || r.Type != TypeZero || !r.Tombstoned.Equal(when) {
		t.Fatalf("tombstone: %+v %v", r, err)
	}
}

func TestRoundTrip(t *testing.T) {
	for _, r := range []Record{
		{Type: TypeA, Rank: RankZone, TTL: 1200, Serial: 9, Stamp: 3_700_000, Address: netip.MustParseAddr("203.0.113.7")},
		{Type: TypeAAAA, Rank: RankZone, TTL: 1200, Address: netip.MustParseAddr("2001:db8::12")},
		{Type: TypeNS, Rank: RankZone, TTL: 3600, Target: "dc1.contoso.com"},
		{Type: TypeCNAME, Rank: RankZone, TTL: 600, Target: "dc2.child.contoso.com"},
	} {
		b, err := Encode(r)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(b)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		if got.Type != r.Type || got.Address != r.Address || got.Target != r.Target || got.TTL != r.TTL || got.Serial != r.Serial || got.Stamp != r.Stamp || got.Rank != r.Rank {
			t.Errorf("round trip %+v -> %+v", r, got)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good, _ := hex.DecodeString(aValue)
	cases := map[string][]byte{
		"empty":         nil,
		"header only":   good[:23],
		"bad version":   func() []byte { b := bytes.Clone(good); b[4] = 4; return b }(),
		"data too long": func() []byte { b := bytes.Clone(good); b[0] = 9; return b }(),
		"A of 3 bytes":  func() []byte { b := bytes.Clone(good[:27]); b[0] = 3; return b }(),
		"bad name":      append([]byte{4, 0, 5, 0, 5, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2, 1, 9, 'x'),
		"label count":   append([]byte{5, 0, 2, 0, 5, 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 3, 2, 1, 'x', 0),
	}
	for name, b := range cases {
		if r, err := Decode(b); err == nil {
			t.Errorf("%s: decoded %+v", name, r)
		}
	}
	if _, err := Encode(Record{Type: TypeA, Address: netip.MustParseAddr("2001:db8::1")}); err == nil {
		t.Error("an IPv6 address encoded as an A record")
	}
}

func FuzzDecode(f *testing.F) {
	good, _ := hex.DecodeString(aValue)
	f.Add(good)
	for _, r := range []Record{{Type: TypeCNAME, Target: "a.b"}, {Type: TypeZero, Tombstoned: time.Unix(1e9, 0)}, {Type: TypeAAAA, Address: netip.MustParseAddr("2001:db8::1")}} {
		b, _ := Encode(r)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		if (r.Type == TypeA && !r.Address.Is4()) || (r.Type == TypeAAAA && !r.Address.Is6()) {
			t.Fatalf("type %d with address %v", r.Type, r.Address)
		}
		// What decodes re-encodes to a value that decodes to the same record.
		again, err := Encode(r)
		if err != nil {
			if r.Type == TypeNS || r.Type == TypeCNAME {
				return // a target with odd labels (dots inside a label) need not encode
			}
			t.Fatalf("re-encoding %+v: %v", r, err)
		}
		r2, err := Decode(again)
		if err != nil || r2.Type != r.Type || r2.Address != r.Address || r2.Target != r.Target {
			t.Fatalf("re-decoded %+v (%v), want %+v", r2, err, r)
		}
	})
}
