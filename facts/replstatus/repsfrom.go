package replstatus

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/fix8524/fix8524/facts/guid"
)

// repsFrom version 1 layout (little-endian; offsets from the start of the value), as measured on
// Samba 4.17 (samba-lab.md §4.1).
const (
	rfVersion        = 0
	rfSize           = 8
	rfFailures       = 12
	rfLastSuccess    = 16
	rfLastAttempt    = 24
	rfResult         = 32
	rfOtherOffset    = 36
	rfOtherLength    = 40
	rfFlags          = 44
	rfSchedule       = 48
	rfHighWatermark  = 136
	rfSourceDSA      = 160
	rfInvocation     = 176
	rfTransport      = 192
	rfFixed          = 208
	rfScheduleLength = 84
)

// ntEpoch is 1601-01-01 UTC, the epoch of repsFrom times (in whole seconds).
var ntEpoch = time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC)

// ParseRepsFrom decodes one repsFrom value read from the head of nc.
func ParseRepsFrom(nc string, b []byte) (Neighbor, error) {
	if len(b) > MaxValueBytes {
		return Neighbor{}, fmt.Errorf("repsFrom value is %d bytes, more than %d", len(b), MaxValueBytes)
	}
	if len(b) < rfFixed {
		return Neighbor{}, fmt.Errorf("repsFrom value is %d bytes, shorter than the %d-byte fixed part", len(b), rfFixed)
	}
	le := binary.LittleEndian
	if v := le.Uint32(b[rfVersion:]); v != 1 {
		return Neighbor{}, fmt.Errorf("repsFrom version %d is not supported (only 1)", v)
	}
	if cb := le.Uint32(b[rfSize:]); int64(cb) != int64(len(b)) {
		return Neighbor{}, fmt.Errorf("repsFrom says it is %d bytes but the value is %d", cb, len(b))
	}
	n := Neighbor{
		NamingContext:       nc,
		ConsecutiveFailures: le.Uint32(b[rfFailures:]),
		LastResult:          le.Uint32(b[rfResult:]),
		ReplicaFlags:        le.Uint32(b[rfFlags:]),
		USNLastObjChange:    int64(le.Uint64(b[rfHighWatermark+16:])),
	}
	var err error
	if n.LastSuccess, err = ntSeconds(le.Uint64(b[rfLastSuccess:])); err != nil {
		return Neighbor{}, fmt.Errorf("repsFrom last success: %w", err)
	}
	if n.LastAttempt, err = ntSeconds(le.Uint64(b[rfLastAttempt:])); err != nil {
		return Neighbor{}, fmt.Errorf("repsFrom last attempt: %w", err)
	}
	n.SourceDSAGUID, _ = guid.FromBytes(b[rfSourceDSA : rfSourceDSA+16])
	n.SourceInvocationID, _ = guid.FromBytes(b[rfInvocation : rfInvocation+16])
	n.TransportGUID, _ = guid.FromBytes(b[rfTransport : rfTransport+16])
	if n.SourceDSAGUID == zeroGUID {
		return Neighbor{}, fmt.Errorf("repsFrom has a nil source DSA GUID")
	}
	if n.SourceInvocationID == zeroGUID {
		n.SourceInvocationID = ""
	}
	if n.TransportGUID == zeroGUID {
		n.TransportGUID = ""
	}
	off, ln := uint64(le.Uint32(b[rfOtherOffset:])), uint64(le.Uint32(b[rfOtherLength:]))
	if ln > 0 {
		if off < rfFixed || off+ln > uint64(len(b)) || ln < 4 {
			return Neighbor{}, fmt.Errorf("repsFrom other_info at %d+%d lies outside the %d-byte value", off, ln, len(b))
		}
		other := b[off : off+ln]
		sz := uint64(le.Uint32(other))
		if sz > ln-4 {
			return Neighbor{}, fmt.Errorf("repsFrom dns_name size %d exceeds other_info (%d bytes)", sz, ln-4)
		}
		name := other[4 : 4+sz]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		for _, c := range name {
			if c < 0x20 || c > 0x7e {
				return Neighbor{}, fmt.Errorf("repsFrom dns_name holds a non-printable byte 0x%02x", c)
			}
		}
		n.SourceDSAAddress = string(name)
	}
	return n, nil
}

// maxNTSeconds keeps times inside what time.Time represents sensibly (year 9999).
const maxNTSeconds = 265000000000

func ntSeconds(s uint64) (time.Time, error) {
	if s == 0 {
		return time.Time{}, nil
	}
	if s > maxNTSeconds {
		return time.Time{}, fmt.Errorf("%d seconds since 1601 is past year 9999", s)
	}
	return time.Unix(int64(s)-ntToUnixSeconds, 0).UTC(), nil
}

// ntToUnixSeconds is the number of seconds from 1601-01-01 to 1970-01-01.
const ntToUnixSeconds = 11644473600

func toNTSeconds(t time.Time) uint64 {
	if t.IsZero() || t.Before(ntEpoch) {
		return 0
	}
	return uint64(t.Unix() + ntToUnixSeconds)
}

// EncodeRepsFrom renders n as a version 1 repsFrom value the way Samba stores it (the NC is not
// part of the value: it is the object the value lives on).
func EncodeRepsFrom(n Neighbor) []byte {
	name := append([]byte(n.SourceDSAAddress), 0)
	otherLen := 4 + len(name)
	if pad := otherLen % 8; pad != 0 {
		otherLen += 8 - pad
	}
	b := make([]byte, rfFixed+otherLen)
	le := binary.LittleEndian
	le.PutUint32(b[rfVersion:], 1)
	le.PutUint32(b[rfSize:], uint32(len(b)))
	le.PutUint32(b[rfFailures:], n.ConsecutiveFailures)
	le.PutUint64(b[rfLastSuccess:], toNTSeconds(n.LastSuccess))
	le.PutUint64(b[rfLastAttempt:], toNTSeconds(n.LastAttempt))
	le.PutUint32(b[rfResult:], n.LastResult)
	le.PutUint32(b[rfOtherOffset:], rfFixed)
	le.PutUint32(b[rfOtherLength:], uint32(otherLen))
	le.PutUint32(b[rfFlags:], n.ReplicaFlags)
	for i := 0; i < rfScheduleLength; i++ {
		b[rfSchedule+i] = 0x11 // "once an hour", as Samba fills the default schedule
	}
	le.PutUint64(b[rfHighWatermark:], uint64(n.USNLastObjChange))
	le.PutUint64(b[rfHighWatermark+16:], uint64(n.USNLastObjChange))
	putGUID(b[rfSourceDSA:], n.SourceDSAGUID)
	putGUID(b[rfInvocation:], n.SourceInvocationID)
	putGUID(b[rfTransport:], n.TransportGUID)
	le.PutUint32(b[rfFixed:], uint32(len(name)))
	copy(b[rfFixed+4:], name)
	return b
}

func putGUID(dst []byte, s string) {
	if raw, err := guid.ToBytes(s); err == nil {
		copy(dst, raw)
	}
}
