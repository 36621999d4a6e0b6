package repadmin

import (
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts"
)

const sample = "showrepl_COLUMNS,Destination DSA Site,Destination DSA,Naming Context,Source DSA Site,Source DSA,Transport Type,Number of Failures,Last Failure Time,Last Success Time,Last Failure Status\r\n" +
	"showrepl_INFO,Default-First-Site-Name,DC1,\"DC=contoso,DC=com\",Default-First-Site-Name,DC2,RPC,23,2026-11-20 09:25:00,2026-11-20 07:30:00,8524\r\n" +
	"showrepl_INFO,Default-First-Site-Name,DC1,\"CN=Configuration,DC=contoso,DC=com\",Default-First-Site-Name,DC2,RPC,0,0,2026-11-20 09:20:00,0\r\n" +
	"showrepl_ERROR,DC3,,,,,,,,,\r\n" +
	"showrepl_INFO,Default-First-Site-Name,DC2,\"DC=contoso,DC=com\",Default-First-Site-Name,DC1,RPC,0,2026-11-01 10:00:00,2026-11-20 09:21:00,1722\r\n"

func TestParse(t *testing.T) {
	rows, err := Parse(strings.NewReader("\ufeff" + sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("rows = %d", len(rows))
	}
	r := rows[0]
	if r.Destination != "DC1" || r.Source != "DC2" || r.NC != "DC=contoso,DC=com" || r.Failures != 23 || r.LastStatus != 8524 ||
		!r.LastFailure.Equal(time.Date(2026, 11, 20, 9, 25, 0, 0, time.UTC)) || r.Line != 2 {
		t.Fatalf("row 0 = %+v", r)
	}
	if !rows[1].LastFailure.IsZero() {
		t.Errorf("0 time parsed as %v", rows[1].LastFailure)
	}
	s := Snapshot(rows)
	if len(s.DCs) != 2 || len(s.Links) != 3 {
		t.Fatalf("snapshot: %d DCs, %d links", len(s.DCs), len(s.Links))
	}
	ix := facts.NewIndex(s)
	for _, l := range s.Links {
		if src := ix.SourceOf(&l); src == nil {
			t.Errorf("link %s<-%s: source not found by name", l.Destination, l.SourceDSADN)
		}
		// A failure older than the last success no longer counts.
		if l.Destination == "DC2" && l.LastResult != 0 {
			t.Errorf("DC2 link result %d after a later success", l.LastResult)
		}
	}
}

func TestMerge(t *testing.T) {
	rows, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	s := &facts.Snapshot{Forest: facts.Forest{ConfigDN: "CN=Configuration,DC=contoso,DC=com"}, DCs: []facts.DC{
		{Name: "DC1", DSAGUID: "11111111-1111-1111-1111-111111111111", Inbound: facts.Unknown[string]("no right")},
		{Name: "DC2", DSAGUID: "22222222-2222-2222-2222-222222222222", Inbound: facts.Some("msDS-ReplAllInboundNeighbors")},
	}}
	Merge(s, rows)
	if len(s.Links) != 2 || !s.DCs[0].Inbound.Known || s.Links[0].SourceDSAGUID != "22222222-2222-2222-2222-222222222222" {
		t.Fatalf("merged: %+v", s.Links)
	}
}

func TestErrors(t *testing.T) {
	head := strings.SplitN(sample, "\n", 2)[0] + "\n"
	cases := map[string]string{
		"":               "no header",
		"a,b,c\n1,2,3\n": "no header",
		head + "showrepl_INFO,S,DC1,DC=x,S,DC2,RPC,lots,0,0,0\n":                 "line 2: Number of Failures",
		head + "showrepl_INFO,S,DC1,DC=x,S,DC2,RPC,1,yesterday,0,8524\n":         "Last Failure Time",
		head + "showrepl_INFO,S,,DC=x,S,DC2,RPC,1,0,0,8524\n":                    "without destination",
		head + "showrepl_INFO,S,DC1,DC=x,S,DC2,RPC,1,0,0,99999999999999999999\n": "Last Failure Status",
	}
	for in, want := range cases {
		if _, err := Parse(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%.60q) = %v, want %q", in, err, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(sample))
	f.Add([]byte("Destination DSA,Naming Context,Source DSA,Last Failure Status\nA,B,C,0x214c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, err := Parse(strings.NewReader(string(b)))
		if err != nil {
			return
		}
		s := Snapshot(rows)
		if len(s.Links) != len(rows) {
			t.Fatalf("%d rows, %d links", len(rows), len(s.Links))
		}
	})
}
