package replstatus

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts/guid"
)

// A value in the shape the protocol-facts fixture shows: root element DS_REPL_NEIGHBOR, RFC 3339
// times, trailing NUL.
const windowsValue = "<DS_REPL_NEIGHBOR>\n" +
	"\t<pszNamingContext>DC=contoso,DC=com</pszNamingContext>\n" +
	"\t<pszSourceDsaDN>CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com</pszSourceDsaDN>\n" +
	"\t<pszSourceDsaAddress>52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8._msdcs.contoso.com</pszSourceDsaAddress>\n" +
	"\t<pszAsyncIntersiteTransportDN></pszAsyncIntersiteTransportDN>\n" +
	"\t<dwReplicaFlags>1879048304</dwReplicaFlags>\n" +
	"\t<dwReserved>0</dwReserved>\n" +
	"\t<uuidNamingContextObjGuid>{1a2b3c4d-0000-1111-2222-333344445555}</uuidNamingContextObjGuid>\n" +
	"\t<uuidSourceDsaObjGuid>52F6C43B-99EC-4040-A2B0-E9EBF2EC02B8</uuidSourceDsaObjGuid>\n" +
	"\t<uuidSourceDsaInvocationID>8356fe2f-d27e-40fe-9588-5ddbc2fd5788</uuidSourceDsaInvocationID>\n" +
	"\t<uuidAsyncIntersiteTransportObjGuid>00000000-0000-0000-0000-000000000000</uuidAsyncIntersiteTransportObjGuid>\n" +
	"\t<usnLastObjChangeSynced>20590</usnLastObjChangeSynced>\n" +
	"\t<usnAttributeFilter>20590</usnAttributeFilter>\n" +
	"\t<ftimeLastSyncSuccess>2026-10-03T23:50:00Z</ftimeLastSyncSuccess>\n" +
	"\t<ftimeLastSyncAttempt>2026-10-04T01:10:00Z</ftimeLastSyncAttempt>\n" +
	"\t<dwLastSyncResult>8524</dwLastSyncResult>\n" +
	"\t<cNumConsecutiveSyncFailures>7</cNumConsecutiveSyncFailures>\n" +
	"</DS_REPL_NEIGHBOR>\n\x00"

func TestParseNeighborXML(t *testing.T) {
	n, err := ParseNeighborXML([]byte(windowsValue))
	if err != nil {
		t.Fatal(err)
	}
	if n.LastResult != 8524 || n.ConsecutiveFailures != 7 || n.SourceDSAGUID != "52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8" ||
		n.NamingContext != "DC=contoso,DC=com" || n.TransportGUID != "" || n.NCGUID != "1a2b3c4d-0000-1111-2222-333344445555" ||
		!n.LastSuccess.Equal(time.Date(2026, 10, 3, 23, 50, 0, 0, time.UTC)) || n.ReplicaFlags != 1879048304 ||
		!strings.HasPrefix(n.SourceDSAAddress, "52f6c43b-") {
		t.Fatalf("parsed %+v", n)
	}
	// The documented root element name parses the same.
	alt := strings.ReplaceAll(windowsValue, "DS_REPL_NEIGHBOR>", "DS_REPL_NEIGHBORW>")
	m, err := ParseNeighborXML([]byte(alt))
	if err != nil || m != n {
		t.Fatalf("DS_REPL_NEIGHBORW: %+v, %v", m, err)
	}
	// Never-succeeded neighbors carry the 1601 epoch.
	never := strings.Replace(windowsValue, "2026-10-03T23:50:00Z", "1601-01-01T00:00:00Z", 1)
	if m, err := ParseNeighborXML([]byte(never)); err != nil || !m.LastSuccess.IsZero() {
		t.Fatalf("never: %+v, %v", m.LastSuccess, err)
	}
}

func TestParseNeighborXMLErrors(t *testing.T) {
	cases := map[string]string{
		"":                                      "empty",
		"\x00":                                  "empty",
		"<a>":                                   "neighbor XML",
		"<DS_REPL_NEIGHBOR></DS_REPL_NEIGHBOR>": "pszNamingContext",
		strings.Replace(windowsValue, ">8524<", ">lots<", 1):                               "dwLastSyncResult",
		strings.Replace(windowsValue, "2026-10-04T01:10:00Z", "yesterday", 1):              "ftimeLastSyncAttempt",
		strings.Replace(windowsValue, "52F6C43B-99EC", "52F6C43B_99EC", 1):                 "uuidSourceDsaObjGuid",
		strings.TrimSuffix(windowsValue, "\x00") + "<DS_REPL_NEIGHBOR></DS_REPL_NEIGHBOR>": "more than one",
		strings.Repeat(" ", MaxValueBytes+1):                                               "more than",
	}
	for in, want := range cases {
		if _, err := ParseNeighborXML([]byte(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseNeighborXML(%.40q) = %v, want %q", in, err, want)
		}
	}
}

func sample() Neighbor {
	return Neighbor{
		NamingContext:       "DC=lab,DC=example,DC=com",
		SourceDSADN:         "CN=NTDS Settings,CN=DC2,CN=Servers,CN=S,CN=Sites,CN=Configuration,DC=lab,DC=example,DC=com",
		SourceDSAAddress:    "23c41307-c735-4070-8192-5c7d76d452d2._msdcs.lab.example.com",
		SourceDSAGUID:       "23c41307-c735-4070-8192-5c7d76d452d2",
		SourceInvocationID:  "8356fe2f-d27e-40fe-9588-5ddbc2fd5788",
		LastSuccess:         time.Date(2026, 11, 26, 8, 42, 13, 0, time.UTC),
		LastAttempt:         time.Date(2026, 11, 26, 8, 44, 1, 0, time.UTC),
		LastResult:          8524,
		ConsecutiveFailures: 3,
		USNLastObjChange:    3887,
	}
}

func TestXMLRoundTrip(t *testing.T) {
	n := sample()
	got, err := ParseNeighborXML(EncodeNeighborXML(n))
	if err != nil {
		t.Fatal(err)
	}
	n.USNAttributeFilter = got.USNAttributeFilter
	if got != n {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, n)
	}
	// XML-special characters in DNs survive.
	n.SourceDSADN = `CN=NTDS Settings,CN=A<&>"B,CN=Servers`
	if got, err := ParseNeighborXML(EncodeNeighborXML(n)); err != nil || got.SourceDSADN != n.SourceDSADN {
		t.Fatalf("escaping: %q %v", got.SourceDSADN, err)
	}
}

// The first 48 bytes of a value holding 8524, captured from the Samba lab (samba-lab.md §4.1),
// completed with the GUIDs and other_info of §4.1's ldbsearch decode.
func labValue(t *testing.T) []byte {
	head, err := hex.DecodeString("01000000000000001001000003000000cd83182103000000cd831821030000004c210000d000000040000000" + "00000000")
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 272)
	copy(b, head)
	src, _ := guid.ToBytes("23c41307-c735-4070-8192-5c7d76d452d2")
	inv, _ := guid.ToBytes("8356fe2f-d27e-40fe-9588-5ddbc2fd5788")
	copy(b[160:], src)
	copy(b[176:], inv)
	name := "23c41307-c735-4070-8192-5c7d76d452d2._msdcs.lab.example.com\x00"
	binary.LittleEndian.PutUint32(b[208:], uint32(len(name)))
	copy(b[212:], name)
	return b
}

func TestParseRepsFromLab(t *testing.T) {
	n, err := ParseRepsFrom("DC=lab,DC=example,DC=com", labValue(t))
	if err != nil {
		t.Fatal(err)
	}
	if n.LastResult != 8524 || n.ConsecutiveFailures != 3 || n.SourceDSAGUID != "23c41307-c735-4070-8192-5c7d76d452d2" ||
		n.SourceDSAAddress != "23c41307-c735-4070-8192-5c7d76d452d2._msdcs.lab.example.com" || n.TransportGUID != "" ||
		n.LastSuccess.Year() != 2026 || n.SourceInvocationID != "8356fe2f-d27e-40fe-9588-5ddbc2fd5788" {
		t.Fatalf("parsed %+v", n)
	}
}

func TestRepsFromRoundTrip(t *testing.T) {
	n := sample()
	n.SourceDSADN = ""
	got, err := ParseRepsFrom(n.NamingContext, EncodeRepsFrom(n))
	if err != nil {
		t.Fatal(err)
	}
	if got != n {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, n)
	}
}

func TestParseRepsFromErrors(t *testing.T) {
	good := EncodeRepsFrom(sample())
	mut := func(f func(b []byte)) []byte { b := bytes.Clone(good); f(b); return b }
	cases := map[string][]byte{
		"shorter":    good[:100],
		"version 2":  mut(func(b []byte) { b[0] = 2 }),
		"says it is": mut(func(b []byte) { b[8] = 1 }),
		"outside":    mut(func(b []byte) { binary.LittleEndian.PutUint32(b[36:], 4000) }),
		"exceeds":    mut(func(b []byte) { binary.LittleEndian.PutUint32(b[208:], 900) }),
		"nil source": mut(func(b []byte) { copy(b[160:176], make([]byte, 16)) }),
		"year 9999":  mut(func(b []byte) { binary.LittleEndian.PutUint64(b[16:], 1<<62) }),
		"printable":  mut(func(b []byte) { b[214] = 0x01 }),
		"more than":  make([]byte, MaxValueBytes+1),
	}
	for want, in := range cases {
		if _, err := ParseRepsFrom("DC=x", in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v", want, err)
		}
	}
}

func FuzzNeighborXML(f *testing.F) {
	f.Add([]byte(windowsValue))
	f.Add(EncodeNeighborXML(sample()))
	f.Add([]byte("<x><pszNamingContext>a</pszNamingContext><uuidSourceDsaObjGuid>52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8</uuidSourceDsaObjGuid></x>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseNeighborXML(b)
		if err != nil {
			return
		}
		// What parses must survive our own encoding (the simulated forest serves that).
		back, err := ParseNeighborXML(EncodeNeighborXML(n))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		back.USNAttributeFilter = n.USNAttributeFilter
		if back.NamingContext != n.NamingContext || back.SourceDSAGUID != n.SourceDSAGUID || back.LastResult != n.LastResult ||
			!back.LastAttempt.Equal(n.LastAttempt) {
			t.Fatalf("round trip %+v != %+v", back, n)
		}
	})
}

func FuzzRepsFrom(f *testing.F) {
	f.Add(EncodeRepsFrom(sample()))
	f.Add(make([]byte, rfFixed))
	f.Fuzz(func(t *testing.T, b []byte) {
		n, err := ParseRepsFrom("DC=x", b)
		if err != nil {
			return
		}
		back, err := ParseRepsFrom("DC=x", EncodeRepsFrom(n))
		if err != nil {
			t.Fatalf("re-parse: %v", err)
		}
		if back.SourceDSAGUID != n.SourceDSAGUID || back.LastResult != n.LastResult || back.SourceDSAAddress != n.SourceDSAAddress ||
			!back.LastSuccess.Equal(n.LastSuccess) {
			t.Fatalf("round trip %+v != %+v", back, n)
		}
	})
}
