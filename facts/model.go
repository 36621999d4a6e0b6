// Package facts holds the Facts model: a snapshot of what fix8524 knows about a forest —
// topology, replication status, DNS observations, reachability and events — and its JSON form.
//
// Facts are gathered agentlessly (LDAP, DNS, TCP, read-only WinRM/SSH probes) or built from a
// lab scenario, and are the only input of the planner besides the playbook. Unknown is a
// first-class value (see Maybe): "could not read" is never "none".
package facts

import (
	"sort"
	"strconv"
	"strings"
	"time"
)

// FormatVersion is the version of the facts JSON this build writes and reads. Version 2 added
// where each DC address was looked for (DC.AddressLookups), the forest's DNS servers and
// tombstone lifetime, and reachability per address (ReachObservation.Attempts, results
// "unreachable" and "unknown"); a version 1 file is refused with a clear error (see Decode).
const FormatVersion = 2

// Snapshot is one gathering of a forest.
type Snapshot struct {
	FormatVersion int       `json:"format_version"`
	GatheredAt    time.Time `json:"gathered_at"`
	// Source says where the facts came from: "scenario:NAME", "sim:NAME", "ldap://HOST", "repadmin-csv:FILE".
	Source string `json:"source"`
	// SeedDC is the DC the topology was read from (the DC fix8524 is bound to; never a cleanup target).
	SeedDC string `json:"seed_dc,omitempty"`

	Forest Forest `json:"forest"`
	DCs    []DC   `json:"dcs"`
	Links  []Link `json:"links"`

	DNS   []DNSObservation   `json:"dns"`
	Reach []ReachObservation `json:"reachability"`

	// Problems are gathering failures that are not tied to one fact (a DC that answered garbage,
	// a search that timed out). Facts they would have filled stay unknown with their own reason.
	Problems []Problem `json:"problems,omitempty"`
}

// Forest is the forest-wide part of the topology.
type Forest struct {
	RootDomain string   `json:"root_domain"` // DNS name of the forest root domain, e.g. "contoso.com"
	RootDN     string   `json:"root_dn"`     // DC=contoso,DC=com
	ConfigDN   string   `json:"config_dn"`   // CN=Configuration,DC=contoso,DC=com
	SchemaDN   string   `json:"schema_dn"`
	Domains    []Domain `json:"domains"`
	// NCs lists every naming context in the forest (domain, configuration, schema, application).
	NCs []string `json:"ncs"`
	// FSMO lists role owners as the seed DC sees them.
	FSMO []FSMORole `json:"fsmo,omitempty"`
	// TombstoneLifetimeDays is the forest's tombstoneLifetime (CN=Directory Service,CN=Windows
	// NT,CN=Services in the configuration NC): how long a deletion is remembered. A DC that has
	// not replicated for longer must never replicate again. TombstoneLifetimeFrom says where it
	// came from: "directory" (the attribute), "default" (the attribute is absent: 60 days), or
	// "scenario".
	TombstoneLifetimeDays Maybe[int] `json:"tombstone_lifetime_days"`
	TombstoneLifetimeFrom string     `json:"tombstone_lifetime_from,omitempty"`
	// DNSServers are the DNS servers of the forest fix8524 asked for DC addresses, each with why
	// it is one (see ForestDNSServer). Empty when no DC's address had to be looked for there.
	DNSServers []ForestDNSServer `json:"dns_servers,omitempty"`
}

// DefaultTombstoneLifetimeDays is the tombstone lifetime of a forest whose Directory Service
// object has no tombstoneLifetime.
const DefaultTombstoneLifetimeDays = 60

// ForestDNSServer is one DNS server of the forest and what made fix8524 count it as one.
type ForestDNSServer struct {
	Address string `json:"address"`
	// Why lists the reasons: "dns-client:DC1" (a DC's DNS client settings), "ns:contoso.com"
	// (an NS record of the forest root zone or of _msdcs, from DNS or from AD's zones).
	Why []string `json:"why"`
}

// Domain is one AD domain of the forest.
type Domain struct {
	DNSName string `json:"dns_name"`
	DN      string `json:"dn"`
	NetBIOS string `json:"netbios,omitempty"`
}

// FSMO role names.
const (
	RoleSchema         = "schema"
	RoleNaming         = "naming"
	RolePDC            = "pdc"
	RoleRID            = "rid"
	RoleInfrastructure = "infrastructure"
)

// FSMORole is one operations master role and its owner.
type FSMORole struct {
	Role     string `json:"role"`      // one of the Role* constants
	Scope    string `json:"scope"`     // the NC the role belongs to (domain DN for domain roles, forest root for forest roles)
	OwnerDSA string `json:"owner_dsa"` // DN of the owner's NTDS Settings (may carry "\0ADEL:" when the owner was deleted)
}

// Platform values.
const (
	PlatformWindows = "windows"
	PlatformSamba   = "samba"
)

// DNSServersAssumedSelf is DC.DNSServersFrom for DNS client settings that were not read but
// assumed to be the DC's own addresses (gather --assume-self-dns).
const DNSServersAssumedSelf = "assumed-self"

// DC is one domain controller, keyed by its NTDS Settings objectGUID (the DSA GUID) as the seed
// DC's copy of the configuration NC holds it.
type DC struct {
	Name           string    `json:"name"`          // server object CN, e.g. "DC2"
	DNSHostName    string    `json:"dns_host_name"` // from the server object, e.g. "dc2.contoso.com"
	Domain         string    `json:"domain"`        // DNS name of the DC's domain
	Site           string    `json:"site"`
	ServerDN       string    `json:"server_dn"`
	NTDSSettingsDN string    `json:"ntds_settings_dn"`
	ComputerDN     string    `json:"computer_dn,omitempty"`
	DSAGUID        string    `json:"dsa_guid"` // objectGUID of NTDS Settings, lower-case text form
	InvocationID   string    `json:"invocation_id,omitempty"`
	WhenCreated    time.Time `json:"when_created"` // of the NTDS Settings object
	IsGC           bool      `json:"is_gc"`
	IsRODC         bool      `json:"is_rodc"`
	Options        int       `json:"options"`
	MasterNCs      []string  `json:"master_ncs,omitempty"`
	FSMORoles      []string  `json:"fsmo_roles,omitempty"` // Role* constants this DC holds

	Platform        Maybe[string] `json:"platform"` // PlatformWindows | PlatformSamba
	OperatingSystem Maybe[string] `json:"operating_system"`
	// IPs are the addresses of the DC: every address AddressLookups found, inventory first.
	// Unknown, with where fix8524 looked, when none was found.
	IPs Maybe[[]string] `json:"ips"`
	// AddressLookups are the places fix8524 looked for the DC's addresses and what each said:
	// the inventory, every DNS server of the forest it asked, AD's DNS zones read over LDAP,
	// the workstation's resolver. Sources that disagree are evidence the plan shows.
	AddressLookups []AddressLookup `json:"address_lookups,omitempty"`
	DNSServers     Maybe[[]string] `json:"dns_servers"` // the DC's DNS client settings, in order
	// DNSServersFrom says where DNSServers came from: "winrm", "ssh", "inventory", "scenario", "assumed-self".
	DNSServersFrom string `json:"dns_servers_from,omitempty"`
	// ProtectedFromDeletion: the NTDS Settings or computer object carries deny-delete ACEs.
	ProtectedFromDeletion Maybe[bool] `json:"protected_from_deletion"`
	// OwnDSAGUID is the DC's own view of its DSA GUID (its rootDSE dsServiceName → objectGUID),
	// read from the DC itself. Unknown when the DC does not answer.
	OwnDSAGUID Maybe[string] `json:"own_dsa_guid"`
	// Inbound says how the DC's inbound replication status was read ("msDS-ReplAllInboundNeighbors",
	// "repsFrom", "repadmin-csv", "scenario"); unknown when it could not be (e.g. missing the
	// "Monitor Active Directory Replication" right). Unknown inbound status is never "no neighbors".
	Inbound Maybe[string] `json:"inbound"`
	// Events are recent Directory Service events with 8524-related IDs; unknown without a probe.
	Events Maybe[[]Event] `json:"events"`
}

// Address lookup sources.
const (
	LookupSeed      = "seed"      // the address the operator gave for the seed DC (--dc IP)
	LookupInventory = "inventory" // the operator's inventory file (ips)
	LookupDNS       = "dns"       // an A/AAAA query for the dNSHostName asked of one DNS server
	LookupADZone    = "ad-zone"   // dnsNode objects of AD's DNS zones, read over LDAP
	LookupResolver  = "resolver"  // the workstation's own resolver
)

// Address lookup results.
const (
	LookupFound   = "found"   // the source holds addresses of the DC
	LookupAbsent  = "absent"  // the source answered that it holds none (NXDOMAIN, NODATA, no live node)
	LookupUnknown = "unknown" // the source could not be asked or did not answer
)

// AddressLookup is one place fix8524 looked for a DC's addresses, and what it found there.
type AddressLookup struct {
	Source string `json:"source"` // Lookup* source constant
	// Where names the place: the DNS server asked (dns), "<zone> in <partition DN> on <DC>"
	// (ad-zone); empty for the inventory and the resolver.
	Where     string   `json:"where,omitempty"`
	Result    string   `json:"result"` // Lookup* result constant
	Addresses []string `json:"addresses,omitempty"`
	// Detail is what was seen: "NXDOMAIN (authoritative)", "timeout", "tombstoned 2026-11-02", ...
	Detail string `json:"detail,omitempty"`
}

// Link is one inbound replication neighbor of a destination DC for one naming context, as the
// destination records it (repsFrom / msDS-ReplAllInboundNeighbors / repadmin /showrepl).
type Link struct {
	Destination     string `json:"destination"`      // destination DC name (DC.Name)
	DestinationGUID string `json:"destination_guid"` // destination DSA GUID
	NC              string `json:"nc"`
	// SourceDSAGUID is the source's DSA GUID as the destination knows it: the GUID of the CNAME
	// the destination looks up. It may differ from the source's own current GUID (re-promotion).
	SourceDSAGUID string `json:"source_dsa_guid"`
	SourceDSADN   string `json:"source_dsa_dn,omitempty"`
	// SourceAddress is the network address the destination uses, normally "<guid>._msdcs.<root>".
	SourceAddress       string    `json:"source_address,omitempty"`
	SourceDeleted       bool      `json:"source_deleted,omitempty"` // the source DSA DN is a deleted (\0ADEL:) object
	ReplicaFlags        uint32    `json:"replica_flags,omitempty"`
	LastResult          int       `json:"last_result"` // Win32 error code; 0 = success
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastSuccess         time.Time `json:"last_success"` // zero = never
	LastAttempt         time.Time `json:"last_attempt"` // zero = never
	ReadVia             string    `json:"read_via,omitempty"`
}

// DNS record types fix8524 observes.
const (
	TypeA     = "A"
	TypeAAAA  = "AAAA"
	TypeCNAME = "CNAME"
	TypeSOA   = "SOA"
	TypeNS    = "NS"
	TypeSRV   = "SRV"
	TypeAXFR  = "AXFR"
)

// DNSQuery is one DNS question to one server. The planner lists the queries it needs; the
// gatherer (or a scenario) answers them with DNSObservations.
type DNSQuery struct {
	Server string `json:"server"` // IP address of the DNS server (no port)
	Name   string `json:"name"`   // canonical name (see CanonicalName)
	Type   string `json:"type"`   // Type* constant
	// NoRecurse asks with RD=0 (delegation checks against authoritative servers).
	NoRecurse bool `json:"no_recurse,omitempty"`
}

// Key returns a map key for the query.
func (q DNSQuery) Key() string {
	rd := "rd"
	if q.NoRecurse {
		rd = "nord"
	}
	return q.Server + "|" + CanonicalName(q.Name) + "|" + strings.ToUpper(q.Type) + "|" + rd
}

// DNSObservation is the answer one DNS server gave to one query.
type DNSObservation struct {
	DNSQuery
	// Rcode is the DNS response code name (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...); empty
	// when no response arrived (see Error).
	Rcode         string  `json:"rcode,omitempty"`
	Authoritative bool    `json:"aa,omitempty"`
	Answers       []RR    `json:"answers,omitempty"`
	Authority     []RR    `json:"authority,omitempty"`
	Error         string  `json:"error,omitempty"` // transport failure: "timeout", "connection refused", ...
	ElapsedMS     float64 `json:"elapsed_ms,omitempty"`
}

// Responded reports whether the server sent a DNS response.
func (o DNSObservation) Responded() bool { return o.Error == "" && o.Rcode != "" }

// RR is one resource record in text form.
type RR struct {
	Name string `json:"name"`
	Type string `json:"type"`
	TTL  uint32 `json:"ttl"`
	Data string `json:"data"` // CNAME/NS target, A/AAAA address, SOA "mname rname serial ...", SRV "prio weight port target"
}

// TCPProbe is one TCP connect test.
type TCPProbe struct {
	Host string `json:"host"` // DC name or address as the playbook named it
	Port int    `json:"port"`
}

// Key returns a map key for the probe.
func (p TCPProbe) Key() string { return strings.ToLower(p.Host) + "|" + strconv.Itoa(p.Port) }

// Reachability results. Open, refused, timeout and unreachable are observations of the address
// dialled; unknown and error are not ("could not look": no address known, a name that does not
// resolve, a local failure), and never count as "does not answer".
const (
	ReachOpen        = "open"
	ReachRefused     = "refused"
	ReachTimeout     = "timeout"
	ReachUnreachable = "unreachable" // the network said the host or network is unreachable
	ReachUnknown     = "unknown"     // nothing was dialled: no address known (Error says where fix8524 looked)
	ReachError       = "error"       // the dial failed before reaching the network (a name that does not resolve, a bad port)
)

// ReachObserved reports whether a result is an observation of the target (open, refused,
// timeout or unreachable), as opposed to "could not look".
func ReachObserved(result string) bool {
	switch result {
	case ReachOpen, ReachRefused, ReachTimeout, ReachUnreachable:
		return true
	}
	return false
}

// ReachObservation is the outcome of a TCPProbe. A probe of a DC dials each of its known
// addresses (Attempts); Result is open when one answers, an observed failure when every address
// was dialled and none answered, unknown when no address is known or an address could not be
// dialled.
type ReachObservation struct {
	TCPProbe
	Address   string         `json:"address,omitempty"` // the address that answered, else the first dialled
	Result    string         `json:"result"`            // Reach* constant
	Error     string         `json:"error,omitempty"`
	ElapsedMS float64        `json:"elapsed_ms,omitempty"`
	Attempts  []ReachAttempt `json:"attempts,omitempty"`
}

// ReachAttempt is one address dialled for a probe.
type ReachAttempt struct {
	Address   string  `json:"address"`
	Result    string  `json:"result"` // Reach* constant
	Error     string  `json:"error,omitempty"`
	ElapsedMS float64 `json:"elapsed_ms,omitempty"`
}

// Event is one Directory Service event related to 8524 on a DC. Insertion strings are
// classified by pattern, not by position.
type Event struct {
	ID          int       `json:"id"`
	Time        time.Time `json:"time"`
	Level       string    `json:"level,omitempty"`
	Data        []string  `json:"data,omitempty"`
	Message     string    `json:"message,omitempty"`
	FailingName string    `json:"failing_name,omitempty"` // "<guid>._msdcs.<root>" when present
	SourceDSADN string    `json:"source_dsa_dn,omitempty"`
	NC          string    `json:"nc,omitempty"`
	ErrorCode   int       `json:"error_code,omitempty"`
}

// Problem records a gathering failure.
type Problem struct {
	Scope   string `json:"scope"`   // "dc:DC2", "ldap:dc1.contoso.com", "dns:192.0.2.10", ...
	Message string `json:"message"` // what failed and why, never with credentials
}

// CanonicalName lower-cases a DNS name and strips the trailing dot.
func CanonicalName(n string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(n)), ".")
}

// Host record states (HostRecords).
const (
	HostRecordsPresent = "present"
	HostRecordsAbsent  = "absent"
	HostRecordsUnknown = "unknown"
)

// HostRecords says what DNS holds for a DC's host name, from its lookups: "present" when a DNS
// server, AD's zones or the resolver hold an address; "absent" when none does and at least one
// of them answered that it holds none (positive evidence); "unknown" otherwise.
func HostRecords(lk []AddressLookup) string {
	absent := false
	for _, l := range lk {
		if l.Source != LookupDNS && l.Source != LookupADZone && l.Source != LookupResolver {
			continue
		}
		switch l.Result {
		case LookupFound:
			return HostRecordsPresent
		case LookupAbsent:
			absent = true
		}
	}
	if absent {
		return HostRecordsAbsent
	}
	return HostRecordsUnknown
}

// AddressSummary renders the lookups on one line for evidence: "192.0.2.12 from dns:192.0.2.13,
// ad-zone:...; absent: dns:192.0.2.11 (A NXDOMAIN (authoritative)); unknown: ...".
func AddressSummary(lk []AddressLookup) string {
	found := map[string][]string{}
	var order []string
	var absent, unknown []string
	for _, l := range lk {
		src := l.Source
		if l.Where != "" {
			src += ":" + l.Where
		}
		switch l.Result {
		case LookupFound:
			for _, a := range l.Addresses {
				if _, ok := found[a]; !ok {
					order = append(order, a)
				}
				found[a] = append(found[a], src)
			}
		case LookupAbsent:
			absent = append(absent, src+withDetail(l.Detail))
		default:
			unknown = append(unknown, src+withDetail(l.Detail))
		}
	}
	var parts []string
	for _, a := range order {
		parts = append(parts, a+" from "+strings.Join(found[a], ", "))
	}
	if len(absent) > 0 {
		parts = append(parts, "absent on "+strings.Join(absent, ", "))
	}
	if len(unknown) > 0 {
		parts = append(parts, "could not ask "+strings.Join(unknown, ", "))
	}
	if len(parts) == 0 {
		return "looked nowhere"
	}
	return strings.Join(parts, "; ")
}

func withDetail(d string) string {
	if d == "" {
		return ""
	}
	return " (" + d + ")"
}

// AddressesDisagree reports whether the sources that answered disagree about a DC's addresses:
// one holds an address another says does not exist, or they hold different addresses. (The
// inventory and the seed address are the operator's word, not DNS: they take no part.)
func AddressesDisagree(lk []AddressLookup) bool {
	var sets []string
	absent := false
	for _, l := range lk {
		if l.Source == LookupInventory || l.Source == LookupSeed {
			continue
		}
		switch l.Result {
		case LookupFound:
			a := append([]string(nil), l.Addresses...)
			sort.Strings(a)
			sets = append(sets, strings.Join(a, ","))
		case LookupAbsent:
			absent = true
		}
	}
	if len(sets) > 0 && absent {
		return true
	}
	for _, x := range sets {
		if x != sets[0] {
			return true
		}
	}
	return false
}
