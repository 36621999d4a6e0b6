// Package repadmin reads the link status many admins already collect daily with
// `repadmin /showrepl * /csv`: one row per destination DC, naming context and source DC, with the
// number of failures, the last failure and success times and the last failure status (a Win32
// error such as 8524). Columns are found by their header names, not positions.
package repadmin

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fix8524/fix8524/facts"
)

// MaxBytes bounds the CSV read.
const MaxBytes = 64 << 20

// Row is one replication link as repadmin reports it.
type Row struct {
	DestinationSite string
	Destination     string
	NC              string
	SourceSite      string
	Source          string
	Transport       string
	Failures        int
	LastFailure     time.Time
	LastSuccess     time.Time
	LastStatus      int
	Line            int
}

var columns = map[string]string{
	"destination dsa site": "dsite", "destination dsa": "dest", "naming context": "nc",
	"source dsa site": "ssite", "source dsa": "src", "transport type": "transport",
	"number of failures": "failures", "last failure time": "lastfail", "last success time": "lastok",
	"last failure status": "status",
}

// Parse reads repadmin /showrepl /csv output. Rows other than data rows (showrepl_ERROR, blank
// lines) are skipped; a data row that does not parse is an error naming its line.
func Parse(r io.Reader) ([]Row, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxBytes {
		return nil, fmt.Errorf("the CSV is larger than %d MiB", MaxBytes>>20)
	}
	text := strings.TrimPrefix(string(data), "\ufeff")
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var idx map[string]int
	var rows []Row
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if idx == nil {
			idx = header(rec)
			continue
		}
		if len(rec) == 0 || (len(rec) == 1 && strings.TrimSpace(rec[0]) == "") {
			continue
		}
		if k := strings.ToLower(strings.TrimSpace(rec[0])); strings.HasPrefix(k, "showrepl_") && k != "showrepl_info" {
			continue // showrepl_ERROR and friends: a DC repadmin could not read
		}
		row, err := parseRow(rec, idx)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		row.Line = line
		rows = append(rows, row)
	}
	if idx == nil {
		return nil, errors.New("no header row (expected repadmin /showrepl * /csv output)")
	}
	return rows, nil
}

func header(rec []string) map[string]int {
	idx := map[string]int{}
	for i, h := range rec {
		if k, ok := columns[strings.ToLower(strings.TrimSpace(h))]; ok {
			idx[k] = i
		}
	}
	for _, need := range []string{"dest", "nc", "src", "status"} {
		if _, ok := idx[need]; !ok {
			return nil
		}
	}
	return idx
}

func parseRow(rec []string, idx map[string]int) (Row, error) {
	get := func(k string) string {
		i, ok := idx[k]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	r := Row{
		DestinationSite: get("dsite"), Destination: get("dest"), NC: get("nc"),
		SourceSite: get("ssite"), Source: get("src"), Transport: get("transport"),
	}
	if r.Destination == "" || r.Source == "" || r.NC == "" {
		return r, errors.New("a row without destination, source or naming context")
	}
	var err error
	if r.Failures, err = atoi("Number of Failures", get("failures")); err != nil {
		return r, err
	}
	if r.LastStatus, err = atoi("Last Failure Status", get("status")); err != nil {
		return r, err
	}
	if r.LastFailure, err = parseTime("Last Failure Time", get("lastfail")); err != nil {
		return r, err
	}
	if r.LastSuccess, err = parseTime("Last Success Time", get("lastok")); err != nil {
		return r, err
	}
	return r, nil
}

func atoi(col, s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	if strings.HasPrefix(strings.ToLower(s), "0x") {
		v, err := strconv.ParseUint(s[2:], 16, 32)
		if err != nil {
			return 0, fmt.Errorf("%s %q is not a number", col, clip(s))
		}
		return int(int32(v)), nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < -(1<<31) || v > 1<<32 {
		return 0, fmt.Errorf("%s %q is not a number", col, clip(s))
	}
	return int(int32(v)), nil
}

var layouts = []string{"2006-01-02 15:04:05", "2006-01-02T15:04:05Z07:00", "2006-01-02T15:04:05", "1/2/2006 3:04:05 PM", "1/2/2006 15:04:05", "02.01.2006 15:04:05"}

func parseTime(col, s string) (time.Time, error) {
	if s == "" || s == "0" || strings.EqualFold(s, "(never)") || strings.EqualFold(s, "never") {
		return time.Time{}, nil
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1700 {
				return time.Time{}, nil
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("%s %q is not a time fix8524 reads (want YYYY-MM-DD hh:mm:ss)", col, clip(s))
}

// dsaDN builds the NTDS Settings DN of a server named in the CSV (the configuration NC is not in
// the CSV; the DN carries what identifies the server: its name and site).
func dsaDN(name, site, configDN string) string {
	if site == "" {
		site = "Default-First-Site-Name"
	}
	dn := "CN=NTDS Settings,CN=" + name + ",CN=Servers,CN=" + site + ",CN=Sites"
	if configDN != "" {
		dn += "," + configDN
	}
	return dn
}

// Link turns a row into a facts link; the source GUID comes from guidOf when it knows the name.
func (r Row) Link(destGUID, srcGUID, configDN string) facts.Link {
	last := r.LastSuccess
	if r.LastFailure.After(last) {
		last = r.LastFailure
	}
	status := r.LastStatus
	if r.Failures == 0 && !r.LastSuccess.Before(r.LastFailure) {
		status = 0 // repadmin keeps the last failure status after a later success
	}
	return facts.Link{
		Destination: r.Destination, DestinationGUID: destGUID, NC: r.NC,
		SourceDSAGUID: srcGUID, SourceDSADN: dsaDN(r.Source, r.SourceSite, configDN),
		SourceDeleted: strings.Contains(strings.ToUpper(r.Source), "DEL:"),
		LastResult:    status, ConsecutiveFailures: r.Failures,
		LastSuccess: r.LastSuccess, LastAttempt: last, ReadVia: "repadmin-csv",
	}
}

// Snapshot builds facts from the CSV alone: DC names and sites, and links. Everything the CSV
// does not say stays unknown.
func Snapshot(rows []Row) *facts.Snapshot {
	s := &facts.Snapshot{FormatVersion: facts.FormatVersion}
	seen := map[string]bool{}
	addDC := func(name, site string, dest bool) {
		k := strings.ToLower(name)
		if seen[k] {
			if dest {
				for i := range s.DCs {
					if strings.EqualFold(s.DCs[i].Name, name) {
						s.DCs[i].Inbound = facts.Some("repadmin-csv")
					}
				}
			}
			return
		}
		seen[k] = true
		why := "only repadmin /showrepl CSV was read"
		dc := facts.DC{
			Name: name, Site: site, NTDSSettingsDN: dsaDN(name, site, ""),
			Platform: facts.Unknown[string](why), OperatingSystem: facts.Unknown[string](why), IPs: facts.Unknown[[]string](why),
			DNSServers: facts.Unknown[[]string](why), ProtectedFromDeletion: facts.Unknown[bool](why),
			OwnDSAGUID: facts.Unknown[string](why), Inbound: facts.Unknown[string]("not a destination in the CSV"), Events: facts.Unknown[[]facts.Event](why),
		}
		if dest {
			dc.Inbound = facts.Some("repadmin-csv")
		}
		s.DCs = append(s.DCs, dc)
	}
	for _, r := range rows {
		addDC(r.Destination, r.DestinationSite, true)
		addDC(r.Source, r.SourceSite, false)
		s.Links = append(s.Links, r.Link("", "", ""))
	}
	sort.Slice(s.DCs, func(i, j int) bool { return s.DCs[i].Name < s.DCs[j].Name })
	s.Sort()
	return s
}

// Merge fills, from the CSV, the links of DCs whose inbound status LDAP could not read.
func Merge(s *facts.Snapshot, rows []Row) {
	ix := facts.NewIndex(s)
	var added []facts.Link
	for i := range s.DCs {
		dc := &s.DCs[i]
		if dc.Inbound.Known {
			continue
		}
		got := false
		for _, r := range rows {
			if !strings.EqualFold(r.Destination, dc.Name) {
				continue
			}
			srcGUID := ""
			if src := ix.DCByName(r.Source); src != nil {
				srcGUID = src.DSAGUID
			}
			added = append(added, r.Link(dc.DSAGUID, srcGUID, s.Forest.ConfigDN))
			got = true
		}
		if got {
			dc.Inbound = facts.Some("repadmin-csv")
		}
	}
	s.Links = append(s.Links, added...)
	s.Sort()
}

func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
