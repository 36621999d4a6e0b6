// Package dnsrecord decodes and encodes the values of the dnsRecord attribute of dnsNode objects:
// how an Active Directory-integrated DNS zone stores each resource record (MS-DNSP 2.3.2.2).
// fix8524 reads them over LDAP from DC=DomainDnsZones, DC=ForestDnsZones and
// CN=MicrosoftDNS,CN=System to learn the DCs' addresses from AD itself, when the DNS servers it
// can ask do not hold them. The simulated forest encodes what its zones hold the same way.
//
// A value is a 24-byte header (DataLength, Type, Version 5, Rank, Flags, Serial, TtlSeconds in
// big-endian, Reserved, TimeStamp in hours since 1601) followed by DataLength bytes of type-specific
// data. Decode validates every length against the buffer and never panics; values it cannot
// decode are errors, never addresses.
package dnsrecord

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// DNS_RECORD_TYPE values fix8524 reads (MS-DNSP 2.2.2.1.1).
const (
	TypeZero  uint16 = 0 // a tombstone: the node was deleted (its data is the time, a FILETIME)
	TypeA     uint16 = 1
	TypeNS    uint16 = 2
	TypeCNAME uint16 = 5
	TypeAAAA  uint16 = 28
)

// Version is the only structure version MS-DNSP defines.
const Version = 5

// HeaderLen is the size of the fixed part of a value.
const HeaderLen = 24

// RankZone is the rank of a record of a zone the server is authoritative for (DNS_RANK_ZONE).
const RankZone = 0xF0

// Record is one decoded dnsRecord value.
type Record struct {
	Type   uint16
	Rank   uint8
	Serial uint32
	TTL    uint32 // seconds
	// Stamp is the aging time stamp in hours since 1601-01-01; 0 is a static record.
	Stamp uint32

	// Address is the address of an A or AAAA record.
	Address netip.Addr
	// Target is the name an NS, CNAME or PTR record points at (lower case, no trailing dot).
	Target string
	// Tombstoned is when a TypeZero record's node was deleted (zero when not a tombstone).
	Tombstoned time.Time
	// Data is the raw record data (for the types above as well).
	Data []byte
}

var (
	errShort   = errors.New("shorter than the 24-byte header")
	errVersion = errors.New("not version 5")
)

// Decode reads one dnsRecord value.
func Decode(b []byte) (Record, error) {
	if len(b) < HeaderLen {
		return Record{}, fmt.Errorf("dnsRecord of %d bytes: %w", len(b), errShort)
	}
	n := int(binary.LittleEndian.Uint16(b[0:2]))
	r := Record{
		Type:   binary.LittleEndian.Uint16(b[2:4]),
		Rank:   b[5],
		Serial: binary.LittleEndian.Uint32(b[8:12]),
		TTL:    binary.BigEndian.Uint32(b[12:16]),
		Stamp:  binary.LittleEndian.Uint32(b[20:24]),
	}
	if b[4] != Version {
		return Record{}, fmt.Errorf("dnsRecord version %d: %w", b[4], errVersion)
	}
	if HeaderLen+n > len(b) {
		return Record{}, fmt.Errorf("dnsRecord data length %d exceeds the %d bytes after the header", n, len(b)-HeaderLen)
	}
	r.Data = b[HeaderLen : HeaderLen+n]
	switch r.Type {
	case TypeA:
		if n != 4 {
			return Record{}, fmt.Errorf("an A record with %d bytes of data", n)
		}
		r.Address = netip.AddrFrom4([4]byte(r.Data))
	case TypeAAAA:
		if n != 16 {
			return Record{}, fmt.Errorf("AAAA record with %d bytes of data", n)
		}
		r.Address = netip.AddrFrom16([16]byte(r.Data))
	case TypeNS, TypeCNAME:
		name, err := countName(r.Data)
		if err != nil {
			return Record{}, fmt.Errorf("type %d record: %w", r.Type, err)
		}
		r.Target = name
	case TypeZero:
		if n == 8 {
			r.Tombstoned = fileTime(binary.LittleEndian.Uint64(r.Data))
		}
	}
	return r, nil
}

// countName reads a DNS_COUNT_NAME (MS-DNSP 2.2.2.2.2): a length, a label count, then
// length-prefixed labels ending with a zero byte.
func countName(b []byte) (string, error) {
	if len(b) < 2 {
		return "", errors.New("name shorter than its 2-byte header")
	}
	length, count := int(b[0]), int(b[1])
	if 2+length > len(b) {
		return "", fmt.Errorf("name length %d exceeds the data", length)
	}
	raw := b[2 : 2+length]
	var labels []string
	for i := 0; i < len(raw); {
		l := int(raw[i])
		i++
		if l == 0 {
			break
		}
		if l > 63 || i+l > len(raw) {
			return "", errors.New("label runs past the name")
		}
		label := string(raw[i : i+l])
		if !validLabel(label) {
			return "", fmt.Errorf("label %q is not a DNS label", label)
		}
		labels = append(labels, lowerASCII(label))
		i += l
	}
	if len(labels) != count {
		return "", fmt.Errorf("name has %d labels, its header says %d", len(labels), count)
	}
	return strings.Join(labels, "."), nil
}

// validLabel accepts UTF-8 labels without dots, control characters or spaces.
func validLabel(l string) bool {
	if !utf8.ValidString(l) {
		return false
	}
	for _, r := range l {
		if r <= ' ' || r == '.' || r == 0x7f {
			return false
		}
	}
	return true
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// fileTimeEpoch is 1601-01-01 in Unix seconds.
const fileTimeEpoch = -11644473600

func fileTime(ft uint64) time.Time {
	if ft == 0 {
		return time.Time{}
	}
	sec := int64(ft/10_000_000) + fileTimeEpoch
	return time.Unix(sec, int64(ft%10_000_000)*100).UTC()
}

func toFileTime(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.Unix()-fileTimeEpoch)*10_000_000 + uint64(t.Nanosecond()/100)
}

// Encode writes a record as a dnsRecord value: A and AAAA from Address, NS and CNAME from Target,
// a tombstone (TypeZero) from Tombstoned, any other type from Data.
func Encode(r Record) ([]byte, error) {
	var data []byte
	switch r.Type {
	case TypeA:
		if !r.Address.Is4() {
			return nil, fmt.Errorf("an A record with address %v", r.Address)
		}
		a := r.Address.As4()
		data = a[:]
	case TypeAAAA:
		if !r.Address.Is6() || r.Address.Is4In6() {
			return nil, fmt.Errorf("AAAA record with address %v", r.Address)
		}
		a := r.Address.As16()
		data = a[:]
	case TypeNS, TypeCNAME:
		var err error
		if data, err = encodeCountName(r.Target); err != nil {
			return nil, err
		}
	case TypeZero:
		data = binary.LittleEndian.AppendUint64(nil, toFileTime(r.Tombstoned))
	default:
		data = r.Data
	}
	if len(data) > 0xFFFF {
		return nil, fmt.Errorf("record data of %d bytes", len(data))
	}
	b := make([]byte, HeaderLen, HeaderLen+len(data))
	binary.LittleEndian.PutUint16(b[0:2], uint16(len(data)))
	binary.LittleEndian.PutUint16(b[2:4], r.Type)
	b[4], b[5] = Version, r.Rank
	binary.LittleEndian.PutUint32(b[8:12], r.Serial)
	binary.BigEndian.PutUint32(b[12:16], r.TTL)
	binary.LittleEndian.PutUint32(b[20:24], r.Stamp)
	return append(b, data...), nil
}

func encodeCountName(name string) ([]byte, error) {
	name = strings.TrimSuffix(name, ".")
	var raw []byte
	count := 0
	if name != "" {
		for _, l := range strings.Split(name, ".") {
			if l == "" || len(l) > 63 {
				return nil, fmt.Errorf("name %q has an empty or long label", name)
			}
			raw = append(raw, byte(len(l)))
			raw = append(raw, l...)
			count++
		}
	}
	raw = append(raw, 0)
	if len(raw) > 255 {
		return nil, fmt.Errorf("name %q is too long", name)
	}
	return append([]byte{byte(len(raw)), byte(count)}, raw...), nil
}
