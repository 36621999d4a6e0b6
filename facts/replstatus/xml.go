package replstatus

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fix8524/fix8524/facts/guid"
)

// xmlNeighbor mirrors DS_REPL_NEIGHBORW; the root element name is not checked (Windows is
// documented as DS_REPL_NEIGHBORW but observed as DS_REPL_NEIGHBOR).
type xmlNeighbor struct {
	XMLName                            xml.Name
	PszNamingContext                   string `xml:"pszNamingContext"`
	PszSourceDsaDN                     string `xml:"pszSourceDsaDN"`
	PszSourceDsaAddress                string `xml:"pszSourceDsaAddress"`
	PszAsyncIntersiteTransportDN       string `xml:"pszAsyncIntersiteTransportDN"`
	DwReplicaFlags                     string `xml:"dwReplicaFlags"`
	DwReserved                         string `xml:"dwReserved"`
	UUIDNamingContextObjGUID           string `xml:"uuidNamingContextObjGuid"`
	UUIDSourceDsaObjGUID               string `xml:"uuidSourceDsaObjGuid"`
	UUIDSourceDsaInvocationID          string `xml:"uuidSourceDsaInvocationID"`
	UUIDAsyncIntersiteTransportObjGUID string `xml:"uuidAsyncIntersiteTransportObjGuid"`
	UsnLastObjChangeSynced             string `xml:"usnLastObjChangeSynced"`
	UsnAttributeFilter                 string `xml:"usnAttributeFilter"`
	FtimeLastSyncSuccess               string `xml:"ftimeLastSyncSuccess"`
	FtimeLastSyncAttempt               string `xml:"ftimeLastSyncAttempt"`
	DwLastSyncResult                   string `xml:"dwLastSyncResult"`
	CNumConsecutiveSyncFailures        string `xml:"cNumConsecutiveSyncFailures"`
}

// ParseNeighborXML decodes one value of msDS-ReplAllInboundNeighbors (or
// msDS-NCReplInboundNeighbors). Trailing NULs and whitespace are ignored.
func ParseNeighborXML(value []byte) (Neighbor, error) {
	if len(value) > MaxValueBytes {
		return Neighbor{}, fmt.Errorf("neighbor XML value is %d bytes, more than %d", len(value), MaxValueBytes)
	}
	v := bytes.TrimRight(value, "\x00 \t\r\n")
	v = bytes.TrimLeft(v, " \t\r\n\ufeff")
	if len(v) == 0 {
		return Neighbor{}, errors.New("empty neighbor XML value")
	}
	var x xmlNeighbor
	dec := xml.NewDecoder(bytes.NewReader(v))
	dec.Strict = true
	if err := dec.Decode(&x); err != nil {
		return Neighbor{}, fmt.Errorf("neighbor XML: %w", err)
	}
	// Nothing but whitespace may follow the fragment.
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		if cd, ok := tok.(xml.CharData); ok && len(bytes.TrimSpace(cd)) == 0 {
			continue
		}
		if _, ok := tok.(xml.Comment); ok {
			continue
		}
		return Neighbor{}, errors.New("neighbor XML: more than one element in one value")
	}
	var n Neighbor
	var err error
	n.NamingContext = strings.TrimSpace(x.PszNamingContext)
	n.SourceDSADN = strings.TrimSpace(x.PszSourceDsaDN)
	n.SourceDSAAddress = strings.TrimSpace(x.PszSourceDsaAddress)
	n.TransportDN = strings.TrimSpace(x.PszAsyncIntersiteTransportDN)
	if n.NamingContext == "" {
		return Neighbor{}, errors.New("neighbor XML: no pszNamingContext")
	}
	if n.ReplicaFlags, err = xmlUint32("dwReplicaFlags", x.DwReplicaFlags); err != nil {
		return Neighbor{}, err
	}
	if n.NCGUID, err = xmlGUID("uuidNamingContextObjGuid", x.UUIDNamingContextObjGUID); err != nil {
		return Neighbor{}, err
	}
	if n.SourceDSAGUID, err = xmlGUID("uuidSourceDsaObjGuid", x.UUIDSourceDsaObjGUID); err != nil {
		return Neighbor{}, err
	}
	if n.SourceDSAGUID == "" {
		return Neighbor{}, errors.New("neighbor XML: no uuidSourceDsaObjGuid")
	}
	if n.SourceInvocationID, err = xmlGUID("uuidSourceDsaInvocationID", x.UUIDSourceDsaInvocationID); err != nil {
		return Neighbor{}, err
	}
	if n.TransportGUID, err = xmlGUID("uuidAsyncIntersiteTransportObjGuid", x.UUIDAsyncIntersiteTransportObjGUID); err != nil {
		return Neighbor{}, err
	}
	if n.USNLastObjChange, err = xmlInt64("usnLastObjChangeSynced", x.UsnLastObjChangeSynced); err != nil {
		return Neighbor{}, err
	}
	if n.USNAttributeFilter, err = xmlInt64("usnAttributeFilter", x.UsnAttributeFilter); err != nil {
		return Neighbor{}, err
	}
	if n.LastSuccess, err = xmlTime("ftimeLastSyncSuccess", x.FtimeLastSyncSuccess); err != nil {
		return Neighbor{}, err
	}
	if n.LastAttempt, err = xmlTime("ftimeLastSyncAttempt", x.FtimeLastSyncAttempt); err != nil {
		return Neighbor{}, err
	}
	if n.LastResult, err = xmlUint32("dwLastSyncResult", x.DwLastSyncResult); err != nil {
		return Neighbor{}, err
	}
	if n.ConsecutiveFailures, err = xmlUint32("cNumConsecutiveSyncFailures", x.CNumConsecutiveSyncFailures); err != nil {
		return Neighbor{}, err
	}
	return n, nil
}

// EncodeNeighborXML renders n the way a Windows DC serves one value of
// msDS-ReplAllInboundNeighbors, including the trailing NUL.
func EncodeNeighborXML(n Neighbor) []byte {
	var b bytes.Buffer
	b.WriteString("<DS_REPL_NEIGHBOR>\n")
	el := func(name, val string) {
		b.WriteString("\t<" + name + ">")
		_ = xml.EscapeText(&b, []byte(val))
		b.WriteString("</" + name + ">\n")
	}
	el("pszNamingContext", n.NamingContext)
	el("pszSourceDsaDN", n.SourceDSADN)
	el("pszSourceDsaAddress", n.SourceDSAAddress)
	el("pszAsyncIntersiteTransportDN", n.TransportDN)
	el("dwReplicaFlags", strconv.FormatUint(uint64(n.ReplicaFlags), 10))
	el("dwReserved", "0")
	el("uuidNamingContextObjGuid", orZero(n.NCGUID))
	el("uuidSourceDsaObjGuid", orZero(n.SourceDSAGUID))
	el("uuidSourceDsaInvocationID", orZero(n.SourceInvocationID))
	el("uuidAsyncIntersiteTransportObjGuid", orZero(n.TransportGUID))
	el("usnLastObjChangeSynced", strconv.FormatInt(n.USNLastObjChange, 10))
	el("usnAttributeFilter", strconv.FormatInt(n.USNAttributeFilter, 10))
	el("ftimeLastSyncSuccess", xmlTimeString(n.LastSuccess))
	el("ftimeLastSyncAttempt", xmlTimeString(n.LastAttempt))
	el("dwLastSyncResult", strconv.FormatUint(uint64(n.LastResult), 10))
	el("cNumConsecutiveSyncFailures", strconv.FormatUint(uint64(n.ConsecutiveFailures), 10))
	b.WriteString("</DS_REPL_NEIGHBOR>\n\x00")
	return b.Bytes()
}

const zeroGUID = "00000000-0000-0000-0000-000000000000"

func orZero(g string) string {
	if g == "" {
		return zeroGUID
	}
	return g
}

func xmlTimeString(t time.Time) string {
	if t.IsZero() {
		return "1601-01-01T00:00:00Z"
	}
	return t.UTC().Format(time.RFC3339)
}

func xmlUint32(field, s string) (uint32, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s, base = s[2:], 16
	}
	v, err := strconv.ParseUint(s, base, 32)
	if err != nil {
		if iv, ierr := strconv.ParseInt(s, base, 32); ierr == nil {
			return uint32(iv), nil // a negative HRESULT-style value
		}
		return 0, fmt.Errorf("neighbor XML: %s %q is not a 32-bit number", field, clip(s))
	}
	return uint32(v), nil
}

func xmlInt64(field, s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("neighbor XML: %s %q is not a number", field, clip(s))
	}
	return v, nil
}

func xmlGUID(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	c, err := guid.Canonical(s)
	if err != nil {
		return "", fmt.Errorf("neighbor XML: %s: %w", field, err)
	}
	if c == zeroGUID {
		return "", nil
	}
	return c, nil
}

// xmlTime accepts RFC 3339 (with or without fraction), an empty value, and the 1601 epoch
// ("never").
func xmlTime(field, s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" {
		return time.Time{}, nil
	}
	var t time.Time
	var err error
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05"} {
		if t, err = time.Parse(layout, s); err == nil {
			break
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("neighbor XML: %s %q is not a time", field, clip(s))
	}
	if t.Year() <= 1601 {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
