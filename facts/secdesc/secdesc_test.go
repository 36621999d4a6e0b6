package secdesc

import (
	"bytes"
	"encoding/binary"
	"testing"
)

func TestBuildAndRead(t *testing.T) {
	for _, want := range []bool{true, false} {
		got, err := ProtectedFromDeletion(Build(want))
		if err != nil || got != want {
			t.Fatalf("Build(%v) read back as %v, %v", want, got, err)
		}
	}
}

func TestInheritOnlyAndOtherSIDs(t *testing.T) {
	sd := Build(true)
	// Mark the deny ACE inherit-only: it no longer protects the object itself.
	io := bytes.Clone(sd)
	io[28+1] = aceFlagInheritOnly
	if p, err := ProtectedFromDeletion(io); err != nil || p {
		t.Fatalf("inherit-only: %v %v", p, err)
	}
	// Deny for Authenticated Users instead of Everyone is not the protection ACE.
	other := bytes.Clone(sd)
	copy(other[28+8:], authenticatedUsers)
	if p, err := ProtectedFromDeletion(other); err != nil || p {
		t.Fatalf("other SID: %v %v", p, err)
	}
	// A deny of something else (write property) is not protection either.
	mask := bytes.Clone(sd)
	binary.LittleEndian.PutUint32(mask[28+4:], 0x20)
	if p, _ := ProtectedFromDeletion(mask); p {
		t.Fatal("write-property deny counted as protection")
	}
}

func TestErrors(t *testing.T) {
	sd := Build(true)
	bad := map[string][]byte{
		"short":       sd[:10],
		"revision":    append([]byte{2}, sd[1:]...),
		"dacl offset": func() []byte { b := bytes.Clone(sd); binary.LittleEndian.PutUint32(b[16:], 9999); return b }(),
		"ace size":    func() []byte { b := bytes.Clone(sd); binary.LittleEndian.PutUint16(b[28+2:], 999); return b }(),
		"ace count":   func() []byte { b := Build(false); binary.LittleEndian.PutUint16(b[24:], 50); return b }(),
		"not relative": func() []byte {
			b := bytes.Clone(sd)
			binary.LittleEndian.PutUint16(b[2:], controlDACLPresent)
			return b
		}(),
	}
	for name, b := range bad {
		if _, err := ProtectedFromDeletion(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func FuzzProtected(f *testing.F) {
	f.Add(Build(true))
	f.Add(Build(false))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = ProtectedFromDeletion(b)
	})
}
