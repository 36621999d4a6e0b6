package hostprobe

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/fix8524/fix8524/remote"
)

// NameEvents is the Command.Name of the event probe.
const NameEvents = "probe_ds_events"

// DefaultEventIDs are the events of an 8524 (protocol-facts §H) fix8524 reads by default: the
// Directory Service events, and the DNS Server log's 2501 (a scavenging cycle deleted records),
// the evidence that registered records vanished.
var DefaultEventIDs = []int{2087, 2088, 1925, 1926, 2023, 1655, 1308, 1865, 2501}

// DNSServerEventIDs are the IDs read from the "DNS Server" log; every other ID is read from
// the "Directory Service" log.
var DNSServerEventIDs = map[int]bool{2501: true, 2502: true}

// EventQuery selects events.
type EventQuery struct {
	Since time.Time // required: events at or after this time
	IDs   []int     // default DefaultEventIDs; DNSServerEventIDs are read from the DNS Server log
	Max   int       // newest first, at most Max per log (default 200)
}

// eventsScript reads its query from $P only. -ErrorAction SilentlyContinue keeps
// "No events were found" from being an error; other errors (no Directory Service log on a
// non-DC, access denied) are returned in Errors, so they are not mistaken for "no events". A
// DC without the DNS Server role has no "DNS Server" log: that is not an error (it scavenged
// nothing), so the log is only read when it exists.
const eventsScript = `$ids = @($P.Ids -split ',' | Where-Object { $_ -ne '' } | ForEach-Object { [int]$_ })
$dnsIds = @($P.DnsIds -split ',' | Where-Object { $_ -ne '' } | ForEach-Object { [int]$_ })
$start = [datetime]::Parse($P.Since, [Globalization.CultureInfo]::InvariantCulture, [Globalization.DateTimeStyles]::RoundtripKind)
$err = $null; $dnsErr = $null
$ev = @()
if ($ids.Count -gt 0) {
  $ev += @(Get-WinEvent -FilterHashtable @{LogName='Directory Service'; Id=$ids; StartTime=$start} -MaxEvents ([int]$P.Max) -ErrorAction SilentlyContinue -ErrorVariable err)
}
if ($dnsIds.Count -gt 0 -and (Get-WinEvent -ListLog 'DNS Server' -ErrorAction SilentlyContinue)) {
  $ev += @(Get-WinEvent -FilterHashtable @{LogName='DNS Server'; Id=$dnsIds; StartTime=$start} -MaxEvents ([int]$P.Max) -ErrorAction SilentlyContinue -ErrorVariable dnsErr)
}
$out = @($ev | ForEach-Object { [pscustomobject]@{
  Id = $_.Id; Time = $_.TimeCreated.ToUniversalTime().ToString('o'); Level = [int]$_.Level
  LevelName = $_.LevelDisplayName; Provider = $_.ProviderName
  Data = @($_.Properties | ForEach-Object { [string]$_.Value }); Message = $_.Message } })
$errs = @(@($err) + @($dnsErr) | Where-Object { $_ -and $_.FullyQualifiedErrorId -notlike 'NoMatchingEventsFound*' } | ForEach-Object { $_.Exception.Message })
ConvertTo-Json -Compress -Depth 4 -InputObject ([pscustomobject]@{ Events = $out; Errors = $errs })
`

// EventsCommand returns the event probe for q (Windows only: Samba logs to files, not to an
// event log).
func EventsCommand(q EventQuery) remote.Command {
	ids := q.IDs
	if len(ids) == 0 {
		ids = DefaultEventIDs
	}
	var ds, dns []string
	for _, id := range ids {
		if DNSServerEventIDs[id] {
			dns = append(dns, strconv.Itoa(id))
		} else {
			ds = append(ds, strconv.Itoa(id))
		}
	}
	limit := q.Max
	if limit <= 0 {
		limit = 200
	}
	return remote.Command{Name: NameEvents, PowerShell: eventsScript, Params: map[string]string{
		"Ids":    strings.Join(ds, ","),
		"DnsIds": strings.Join(dns, ","),
		"Since":  q.Since.UTC().Format(time.RFC3339),
		"Max":    strconv.Itoa(limit),
	}}
}

// Event is one Directory Service event with its insertion strings classified by pattern
// (protocol-facts §H: the positions of unnamed <Data> elements are not documented).
type Event struct {
	ID       int       `json:"id"`
	Time     time.Time `json:"time"`
	Level    string    `json:"level"` // Critical, Error, Warning, Information, Verbose
	Provider string    `json:"provider,omitempty"`
	Data     []string  `json:"data"`
	Message  string    `json:"message,omitempty"` // localized; for people, not for parsing

	FailingName string   `json:"failing_name,omitempty"`  // <dsa-guid>._msdcs.<forest>
	SourceDSADN string   `json:"source_dsa_dn,omitempty"` // CN=NTDS Settings,CN=<dc>,...
	NC          string   `json:"nc,omitempty"`            // naming context (partition root)
	Sites       []string `json:"sites,omitempty"`         // CN=<site>,CN=Sites,... (1865)
	ErrorCode   int      `json:"error_code,omitempty"`    // a known Win32/WinSock error, e.g. 8524, 11004
	Numbers     []int    `json:"numbers,omitempty"`       // every numeric insertion string, in order
}

// Events is the probe result. Errors are problems Get-WinEvent reported other than "no
// events" (for example: the Directory Service log does not exist on a non-DC).
type Events struct {
	Events []Event  `json:"events"`
	Errors []string `json:"errors,omitempty"`
}

// ReadEvents runs the event probe.
func ReadEvents(ctx context.Context, r remote.Runner, q EventQuery) (*Events, error) {
	if q.Since.IsZero() {
		return nil, fmt.Errorf("probe %s: EventQuery.Since is required", NameEvents)
	}
	res, err := run(ctx, r, EventsCommand(q))
	if err != nil {
		return nil, err
	}
	return ParseEventsJSON(res.Stdout)
}

// ParseEventsJSON parses the event probe's output and classifies each event.
func ParseEventsJSON(b []byte) (*Events, error) {
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	var raw struct {
		Events []struct {
			ID        int             `json:"Id"`
			Time      string          `json:"Time"`
			Level     int             `json:"Level"`
			LevelName string          `json:"LevelName"`
			Provider  string          `json:"Provider"`
			Data      json.RawMessage `json:"Data"`
			Message   string          `json:"Message"`
		} `json:"Events"`
		Errors json.RawMessage `json:"Errors"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("parse event probe output: %w (output starts %s)", err, remote.Excerpt(b, 80))
	}
	out := &Events{Events: []Event{}}
	errs, err := stringList(raw.Errors)
	if err != nil {
		return nil, fmt.Errorf("parse event probe output: Errors: %w", err)
	}
	out.Errors = errs
	for i, r := range raw.Events {
		t, err := time.Parse(time.RFC3339Nano, r.Time)
		if err != nil {
			return nil, fmt.Errorf("event %d (ID %d): time %s: %w", i, r.ID, remote.Excerpt([]byte(r.Time), 40), err)
		}
		data, err := stringList(r.Data)
		if err != nil {
			return nil, fmt.Errorf("event %d (ID %d): Data: %w", i, r.ID, err)
		}
		e := Event{ID: r.ID, Time: t.UTC(), Level: levelName(r.Level, r.LevelName), Provider: r.Provider, Data: data, Message: r.Message}
		Classify(&e)
		out.Events = append(out.Events, e)
	}
	return out, nil
}

func levelName(n int, display string) string {
	switch n {
	case 1:
		return "Critical"
	case 2:
		return "Error"
	case 3:
		return "Warning"
	case 0, 4:
		return "Information"
	case 5:
		return "Verbose"
	}
	return display
}

var (
	guidCNAME   = regexp.MustCompile(`(?i)^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\._msdcs\.[a-z0-9._-]+$`)
	ntdsDN      = regexp.MustCompile(`(?i)^CN=NTDS Settings,CN=[^,]+,CN=Servers,CN=[^,]+,CN=Sites,CN=Configuration,(DC=[^,]+,?)+$`)
	ncDN        = regexp.MustCompile(`(?i)^(?:CN=Schema,CN=Configuration,|CN=Configuration,)?(?:DC=[^,=]+,)*DC=[^,=]+$`)
	siteDN      = regexp.MustCompile(`(?i)^CN=[^,]+,CN=Sites,CN=Configuration,(?:DC=[^,=]+,)*DC=[^,=]+$`)
	decimal     = regexp.MustCompile(`^\d{1,10}$`)
	hexadecimal = regexp.MustCompile(`(?i)^0x[0-9a-f]{1,8}$`)
)

// KnownErrors are the Win32/WinSock codes that show up in replication and DNS events; a
// numeric insertion string that is one of them is the event's ErrorCode. Other numbers (failure
// counts, minutes) only go to Numbers.
var KnownErrors = map[int]string{
	8524:  "ERROR_DS_DNS_LOOKUP_FAILURE",
	11001: "WSAHOST_NOT_FOUND",
	11002: "WSATRY_AGAIN",
	11003: "WSANO_RECOVERY",
	11004: "WSANO_DATA",
	1722:  "RPC_S_SERVER_UNAVAILABLE",
	1726:  "RPC_S_CALL_FAILED",
	1727:  "RPC_S_CALL_FAILED_DNE",
	1753:  "EPT_S_NOT_REGISTERED",
	1396:  "ERROR_WRONG_TARGET_NAME",
	1908:  "ERROR_DOMAIN_CONTROLLER_NOT_FOUND",
	8453:  "ERROR_DS_DRA_ACCESS_DENIED",
	8456:  "ERROR_DS_DRA_SOURCE_DISABLED",
	8457:  "ERROR_DS_DRA_SINK_DISABLED",
	8589:  "ERROR_DS_CANT_DERIVE_SPN",
	8606:  "ERROR_DS_INSUFF_ATTR_TO_CREATE_OBJECT",
	8614:  "ERROR_DS_REPL_LIFETIME_EXCEEDED",
}

// Classify fills the pattern-derived fields of e from e.Data: the failing GUID CNAME, the
// source DSA DN, the naming context, site DNs, numbers and the first known error code. The
// position of a value never matters. Values are trimmed of white space, NULs and a trailing
// dot; a value that matches no pattern is left in Data only.
func Classify(e *Event) {
	e.FailingName, e.SourceDSADN, e.NC, e.Sites, e.ErrorCode, e.Numbers = "", "", "", nil, 0, nil
	for _, raw := range e.Data {
		v := strings.Trim(raw, " \t\r\n\x00")
		name := strings.TrimSuffix(v, ".")
		switch {
		case v == "":
		case guidCNAME.MatchString(name):
			if e.FailingName == "" {
				e.FailingName = strings.ToLower(name)
			}
		case ntdsDN.MatchString(v):
			if e.SourceDSADN == "" {
				e.SourceDSADN = v
			}
		case siteDN.MatchString(v):
			e.Sites = append(e.Sites, v)
		case ncDN.MatchString(v):
			if e.NC == "" {
				e.NC = v
			}
		case decimal.MatchString(v), hexadecimal.MatchString(v):
			n, err := strconv.ParseInt(v, 10, 64) // base 10: a leading 0 is not octal
			if err != nil {
				n, err = strconv.ParseInt(v[2:], 16, 64)
			}
			if err != nil || n > 1<<32-1 {
				continue
			}
			e.Numbers = append(e.Numbers, int(n))
			if _, known := KnownErrors[int(n)]; known && e.ErrorCode == 0 {
				e.ErrorCode = int(n)
			}
		}
	}
}
