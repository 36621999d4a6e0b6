package samba

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// RepsFrom is one inbound replication link (a repsFrom value) of a naming context on a DC:
// what `samba-tool drs showrepl --json` lists under "repsFrom", or the same value read over
// LDAP and decoded by labtool.py (which also fills DNSName).
type RepsFrom struct {
	NC                  string // naming context DN
	SourceGUID          string // source DSA objectGUID as this DC knows it
	SourceDSA           string // "Default-First-Site-Name\DC2"; empty when the DSA object is deleted or unknown
	NTDSDN              string // DN of the source's NTDS Settings (…\0ADEL:… when deleted)
	DNSName             string // <guid>._msdcs.<forest> the DC resolves for this link (LDAP read only)
	Result              uint32 // Win32 error of the last attempt: 0, 2, 8524, 1225, 64, …
	ResultName          string // WERR_… name, when known
	Message             string // "was successful" or "failed, result 2 (WERR_FILE_NOT_FOUND)"
	ConsecutiveFailures int
	LastAttempt         string
	LastSuccess         string
	IsDeleted           bool // the source DSA object is deleted (stale link)
}

// wireRepsFrom is the JSON shape shared by samba-tool showrepl --json and labtool repsfrom.
type wireRepsFrom struct {
	NC                  string  `json:"NC dn"`
	SourceGUID          string  `json:"DSA objectGUID"`
	SourceDSA           string  `json:"DSA"`
	NTDSDN              string  `json:"NTDS DN"`
	DNSName             string  `json:"dns name"`
	Result              *uint32 `json:"result"`
	Message             string  `json:"last attempt message"`
	ConsecutiveFailures int     `json:"consecutive failures"`
	LastAttempt         string  `json:"last attempt time"`
	LastSuccess         string  `json:"last success"`
	IsDeleted           bool    `json:"is deleted"`
}

var resultRE = regexp.MustCompile(`^failed, result ([0-9]{1,10}) \(([^()]*)\)$`)

// ParseResultMessage reads showrepl's "last attempt message": "was successful" is 0,
// "failed, result 2 (WERR_FILE_NOT_FOUND)" is 2 and its name.
func ParseResultMessage(msg string) (code uint32, name string, err error) {
	msg = strings.TrimSpace(msg)
	if msg == "was successful" {
		return 0, "WERR_OK", nil
	}
	m := resultRE.FindStringSubmatch(msg)
	if m == nil {
		return 0, "", fmt.Errorf("unrecognised replication result message %q", truncate(msg, 80))
	}
	n, err := strconv.ParseUint(m[1], 10, 32)
	if err != nil {
		return 0, "", fmt.Errorf("result code in %q: %w", truncate(msg, 80), err)
	}
	return uint32(n), m[2], nil
}

// ParseRepsFrom reads the "repsFrom" list of `samba-tool drs showrepl --json` or of
// `lab.sh repsfrom`. Where a numeric "result" is present it wins over the message text.
func ParseRepsFrom(data []byte) ([]RepsFrom, error) {
	var doc struct {
		RepsFrom *[]wireRepsFrom `json:"repsFrom"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("decode repsFrom JSON: %w", err)
	}
	if doc.RepsFrom == nil {
		return nil, errors.New("decode repsFrom JSON: no \"repsFrom\" list")
	}
	out := make([]RepsFrom, 0, len(*doc.RepsFrom))
	for i, w := range *doc.RepsFrom {
		if w.NC == "" || w.SourceGUID == "" {
			return nil, fmt.Errorf("repsFrom[%d]: missing NC or source GUID", i)
		}
		r := RepsFrom{
			NC: w.NC, SourceGUID: strings.ToLower(w.SourceGUID), SourceDSA: w.SourceDSA,
			NTDSDN: w.NTDSDN, DNSName: w.DNSName, Message: w.Message,
			ConsecutiveFailures: w.ConsecutiveFailures, LastAttempt: w.LastAttempt,
			LastSuccess: w.LastSuccess, IsDeleted: w.IsDeleted,
		}
		code, name, err := ParseResultMessage(w.Message)
		switch {
		case w.Result != nil:
			r.Result = *w.Result
			if err == nil && code == r.Result {
				r.ResultName = name
			}
		case err != nil:
			return nil, fmt.Errorf("repsFrom[%d] (%s): %w", i, truncate(w.NC, 80), err)
		default:
			r.Result, r.ResultName = code, name
		}
		out = append(out, r)
	}
	return out, nil
}

// SyncResult is the outcome of one DsReplicaSync (one NC) as labtool.py reports it.
type SyncResult struct {
	NC         string `json:"nc"`
	Source     string `json:"source"`
	SourceGUID string `json:"sourceGUID"`
	Result     uint32 `json:"result"`
	Error      string `json:"error"`
	Attempts   int    `json:"attempts"`
}

// ParseSyncResults reads the JSON list that `lab.sh replicate`, the breakers and
// heal-by-hand print. An object with an "error" key (no such source, no connection)
// becomes an error.
func ParseSyncResults(data []byte) ([]SyncResult, error) {
	trimmed := strings.TrimSpace(string(data))
	if strings.HasPrefix(trimmed, "{") {
		var e struct {
			Error string `json:"error"`
		}
		if err := json.Unmarshal([]byte(trimmed), &e); err != nil {
			return nil, fmt.Errorf("decode replication result: %w", err)
		}
		return nil, fmt.Errorf("replication not attempted: %s", truncate(e.Error, 200))
	}
	var rs []SyncResult
	if err := json.Unmarshal([]byte(trimmed), &rs); err != nil {
		return nil, fmt.Errorf("decode replication results: %w", err)
	}
	for i, r := range rs {
		if r.NC == "" {
			return nil, fmt.Errorf("replication result %d: no NC", i)
		}
	}
	return rs, nil
}

// DNSAnswer is one query's outcome as `lab.sh dns` prints it: "NOERROR a b", "NXDOMAIN".
type DNSAnswer struct {
	Status  string   // NOERROR, NXDOMAIN, REFUSED, SERVFAIL, ERROR (no answer at all)
	Answers []string // record data (CNAME target, address, …)
}

// Exists reports whether the query found at least one record.
func (a DNSAnswer) Exists() bool { return a.Status == "NOERROR" && len(a.Answers) > 0 }

var statusRE = regexp.MustCompile(`^[A-Z]{1,16}$`)

// ParseDNSAnswer reads one line of `lab.sh dns` output.
func ParseDNSAnswer(line string) (DNSAnswer, error) {
	f := strings.Fields(line)
	if len(f) == 0 {
		return DNSAnswer{}, errors.New("empty DNS answer line")
	}
	if !statusRE.MatchString(f[0]) {
		return DNSAnswer{}, fmt.Errorf("bad DNS status %q", truncate(f[0], 40))
	}
	a := DNSAnswer{Status: f[0]}
	if len(f) > 1 {
		a.Answers = append([]string(nil), f[1:]...)
	}
	if a.Status != "NOERROR" && len(a.Answers) > 0 {
		return DNSAnswer{}, fmt.Errorf("DNS status %s with answers", a.Status)
	}
	return a, nil
}

// Status is `lab.sh status`: where everything of the lab is.
type Status struct {
	NS         string     `json:"ns"`
	Dir        string     `json:"lab"`
	Broken     string     `json:"broken"`
	NSExists   bool       `json:"nsExists"`
	Realm      string     `json:"realm"`
	DNSDomain  string     `json:"dnsDomain"`
	BaseDN     string     `json:"baseDN"`
	KRB5Conf   string     `json:"krb5Conf"`
	CAFile     string     `json:"caFile"`
	SSHKey     string     `json:"sshKey"`
	KnownHosts string     `json:"knownHosts"`
	BadDNS     string     `json:"badDNS"`
	DCs        []DCStatus `json:"dcs"`
}

// DCStatus is one DC in Status.
type DCStatus struct {
	Name         string   `json:"name"`
	IP           string   `json:"ip"`
	FQDN         string   `json:"fqdn"`
	Exists       bool     `json:"exists"`
	SambaPid     int      `json:"sambaPid"`
	SSHDPid      int      `json:"sshdPid"`
	Resolver     string   `json:"resolver"`
	SambaOptions []string `json:"sambaOptions"`
	SMBConf      string   `json:"smbConf"`
	CertFile     string   `json:"certFile"`
}

// Running reports whether the DC's samba is running.
func (d DCStatus) Running() bool { return d.SambaPid > 0 }

// ParseStatus reads `lab.sh status`.
func ParseStatus(data []byte) (*Status, error) {
	var s Status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("decode lab status: %w", err)
	}
	if s.NS == "" || s.Dir == "" {
		return nil, errors.New("decode lab status: no namespace or lab directory")
	}
	for i, d := range s.DCs {
		if !validDC(d.Name) {
			return nil, fmt.Errorf("lab status: dc %d has bad name %q", i, truncate(d.Name, 20))
		}
		if d.SambaPid < 0 || d.SSHDPid < 0 {
			return nil, fmt.Errorf("lab status: %s has a negative pid", d.Name)
		}
	}
	return &s, nil
}

// DC returns the status of one DC.
func (s *Status) DC(name string) (DCStatus, bool) {
	for _, d := range s.DCs {
		if d.Name == name {
			return d, true
		}
	}
	return DCStatus{}, false
}

func validDC(name string) bool { return name == "dc1" || name == "dc2" || name == "dc3" }

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
