// Package replstatus decodes (and, for the simulated forest, encodes) the two forms in which a
// DC exposes its inbound replication status over LDAP:
//
//   - Windows: the rootDSE attribute msDS-ReplAllInboundNeighbors, one DS_REPL_NEIGHBORW XML
//     fragment per value (MS-ADTS 3.1.1.3.2.28, MS-DRSR 4.1.13.1.7);
//   - Samba: the repsFrom attribute on each NC head, one REPS_FROM NDR blob per value (layout
//     measured on Samba 4.17, see shared/research/samba-lab.md §4.1).
//
// Both decode to a Neighbor. Decoders never panic and bound what they accept.
package replstatus

import (
	"time"
)

// MaxValueBytes bounds one attribute value; a DC that returns more is answering garbage.
const MaxValueBytes = 64 << 10

// Neighbor is one inbound replication partner of a DC for one naming context.
type Neighbor struct {
	NamingContext       string
	SourceDSADN         string // empty for repsFrom (resolve the GUID against the topology)
	SourceDSAAddress    string // normally <guid>._msdcs.<forest root>
	TransportDN         string
	ReplicaFlags        uint32
	NCGUID              string
	SourceDSAGUID       string // lower-case text form
	SourceInvocationID  string
	TransportGUID       string
	USNLastObjChange    int64
	USNAttributeFilter  int64
	LastSuccess         time.Time // zero = never
	LastAttempt         time.Time // zero = never
	LastResult          uint32    // Win32 error code
	ConsecutiveFailures uint32
}

// DRS replica flags worth naming (DS_REPL_NBR_*).
const (
	FlagWriteable = 0x10
)
