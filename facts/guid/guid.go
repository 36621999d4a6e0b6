// Package guid converts Active Directory objectGUID values between the 16 raw bytes LDAP returns
// and the text form used in DNS names (<guid>._msdcs.<forest root>).
//
// The raw bytes are the MS-DTYP "packet representation": the first three groups (Data1, Data2,
// Data3) are little-endian, the last eight bytes (Data4) are in order. A naive hex dump of the
// bytes (or github.com/google/uuid, which assumes RFC 4122 big-endian) gives the wrong name.
package guid

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// Size is the length of a raw objectGUID.
const Size = 16

// FromBytes returns the lower-case text form of a raw objectGUID.
func FromBytes(b []byte) (string, error) {
	if len(b) != Size {
		return "", fmt.Errorf("objectGUID must be %d bytes, got %d", Size, len(b))
	}
	return fmt.Sprintf("%08x-%04x-%04x-%x-%x",
		binary.LittleEndian.Uint32(b[0:4]),
		binary.LittleEndian.Uint16(b[4:6]),
		binary.LittleEndian.Uint16(b[6:8]),
		b[8:10], b[10:16]), nil
}

// ToBytes returns the raw objectGUID bytes of a text GUID. It accepts upper or lower case and
// optional surrounding braces ("{...}").
func ToBytes(s string) ([]byte, error) {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") && strings.HasSuffix(t, "}") {
		t = t[1 : len(t)-1]
	}
	if len(t) != 36 || t[8] != '-' || t[13] != '-' || t[18] != '-' || t[23] != '-' {
		return nil, fmt.Errorf("%q is not a GUID (want xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", clip(s))
	}
	h, err := hex.DecodeString(t[0:8] + t[9:13] + t[14:18] + t[19:23] + t[24:36])
	if err != nil {
		return nil, fmt.Errorf("%q is not a GUID: %w", clip(s), err)
	}
	b := make([]byte, Size)
	binary.LittleEndian.PutUint32(b[0:4], binary.BigEndian.Uint32(h[0:4]))
	binary.LittleEndian.PutUint16(b[4:6], binary.BigEndian.Uint16(h[4:6]))
	binary.LittleEndian.PutUint16(b[6:8], binary.BigEndian.Uint16(h[6:8]))
	copy(b[8:], h[8:])
	return b, nil
}

// Canonical returns the lower-case text form of s without braces, or an error if s is no GUID.
func Canonical(s string) (string, error) {
	b, err := ToBytes(s)
	if err != nil {
		return "", err
	}
	return FromBytes(b)
}

// IsZero reports whether a text GUID is the nil GUID (or empty).
func IsZero(s string) bool {
	c, err := Canonical(s)
	return s == "" || (err == nil && c == "00000000-0000-0000-0000-000000000000")
}

// LDAPFilterValue returns the escaped form of a GUID for an LDAP filter: (objectGUID=\3b\c4...).
func LDAPFilterValue(s string) (string, error) {
	b, err := ToBytes(s)
	if err != nil {
		return "", err
	}
	var sb strings.Builder
	for _, c := range b {
		fmt.Fprintf(&sb, `\%02x`, c)
	}
	return sb.String(), nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
