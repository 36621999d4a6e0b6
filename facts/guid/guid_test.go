package guid

import (
	"bytes"
	"strings"
	"testing"
)

// The worked example of protocol-facts §B3 (MS-ADTS 6.3.2.4 / MS-DTYP 2.3.4.2).
var example = []byte{0x3b, 0xc4, 0xf6, 0x52, 0xec, 0x99, 0x40, 0x40, 0xa2, 0xb0, 0xe9, 0xeb, 0xf2, 0xec, 0x02, 0xb8}

func TestWorkedExample(t *testing.T) {
	s, err := FromBytes(example)
	if err != nil {
		t.Fatal(err)
	}
	if s != "52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8" {
		t.Fatalf("FromBytes = %s", s)
	}
	b, err := ToBytes("{52F6C43B-99EC-4040-A2B0-E9EBF2EC02B8}")
	if err != nil || !bytes.Equal(b, example) {
		t.Fatalf("ToBytes = %x, %v", b, err)
	}
	f, _ := LDAPFilterValue(s)
	if f != `\3b\c4\f6\52\ec\99\40\40\a2\b0\e9\eb\f2\ec\02\b8` {
		t.Fatalf("filter = %s", f)
	}
}

func TestSambaLabExample(t *testing.T) {
	// samba-lab.md §4.2: objectGUID:: BxPEIzXHcECBklx9dtRS0g== -> 23c41307-c735-4070-8192-5c7d76d452d2
	b := []byte{0x07, 0x13, 0xc4, 0x23, 0x35, 0xc7, 0x70, 0x40, 0x81, 0x92, 0x5c, 0x7d, 0x76, 0xd4, 0x52, 0xd2}
	if s, _ := FromBytes(b); s != "23c41307-c735-4070-8192-5c7d76d452d2" {
		t.Fatalf("got %s", s)
	}
}

func TestErrors(t *testing.T) {
	for _, in := range []string{"", "52f6c43b99ec4040a2b0e9ebf2ec02b8", "52f6c43b-99ec-4040-a2b0-e9ebf2ec02bz", "{52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8", strings.Repeat("x", 200)} {
		if _, err := ToBytes(in); err == nil {
			t.Errorf("ToBytes(%q) succeeded", in)
		} else if len(err.Error()) > 200 {
			t.Errorf("error too long: %d", len(err.Error()))
		}
	}
	if _, err := FromBytes(example[:15]); err == nil {
		t.Error("FromBytes(15 bytes) succeeded")
	}
	if !IsZero("") || !IsZero("00000000-0000-0000-0000-000000000000") || IsZero("52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8") {
		t.Error("IsZero")
	}
}

func FuzzGUID(f *testing.F) {
	f.Add(example, "52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8")
	f.Add([]byte{}, "{00000000-0000-0000-0000-000000000000}")
	f.Fuzz(func(t *testing.T, b []byte, s string) {
		if txt, err := FromBytes(b); err == nil {
			back, err := ToBytes(txt)
			if err != nil || !bytes.Equal(back, b) {
				t.Fatalf("bytes %x -> %s -> %x, %v", b, txt, back, err)
			}
			if strings.ToLower(txt) != txt || len(txt) != 36 {
				t.Fatalf("not canonical: %s", txt)
			}
		}
		if raw, err := ToBytes(s); err == nil {
			txt, err := FromBytes(raw)
			if err != nil {
				t.Fatal(err)
			}
			c := strings.ToLower(strings.Trim(strings.TrimSpace(s), "{}"))
			if txt != c {
				t.Fatalf("%q -> %s", s, txt)
			}
		}
	})
}
