package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/fix8524/fix8524/internal/termtext"
)

// Filter selects entries for List. Zero fields do not filter.
type Filter struct {
	RunID  string
	Since  time.Time // at or after
	Until  time.Time // before
	Kinds  []Kind
	Forest string
	Target string
	// PlanFingerprint keeps the entries about one plan.
	PlanFingerprint string
	// Limit keeps only the newest Limit entries (still returned oldest first); 0 means all.
	Limit int
}

// List returns the entries matching f, oldest first (by time, then id).
func (s *Store) List(f Filter) ([]Entry, error) {
	var (
		where []string
		args  []any
	)
	if f.RunID != "" {
		where, args = append(where, "run_id = ?"), append(args, f.RunID)
	}
	if !f.Since.IsZero() {
		where, args = append(where, "time_ns >= ?"), append(args, f.Since.UnixNano())
	}
	if !f.Until.IsZero() {
		where, args = append(where, "time_ns < ?"), append(args, f.Until.UnixNano())
	}
	if f.Forest != "" {
		where, args = append(where, "forest = ?"), append(args, f.Forest)
	}
	if f.Target != "" {
		where, args = append(where, "target = ?"), append(args, f.Target)
	}
	if f.PlanFingerprint != "" {
		where, args = append(where, "plan_fingerprint = ?"), append(args, f.PlanFingerprint)
	}
	if len(f.Kinds) > 0 {
		ph := make([]string, len(f.Kinds))
		for i, k := range f.Kinds {
			if !k.valid() {
				return nil, fmt.Errorf("journal: %w: kind %q", ErrInvalid, k)
			}
			ph[i] = "?"
			args = append(args, string(k))
		}
		where = append(where, "kind IN ("+strings.Join(ph, ",")+")")
	}
	q := "SELECT " + entryColumns + " FROM entries"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit > 0 {
		q = "SELECT * FROM (" + q + " ORDER BY time_ns DESC, id DESC LIMIT ?) ORDER BY time_ns, id"
		args = append(args, f.Limit)
	} else {
		q += " ORDER BY time_ns, id"
	}
	rows, err := s.db.Query(q, args...)
	if err != nil {
		return nil, s.wrap("list entries", err)
	}
	return s.collect(rows, "list entries")
}

// JSONSchema names the JSON document WriteJSON produces.
const JSONSchema = "fix8524.journal/v1"

// WriteJSON writes entries as the stable JSON document described in the package
// documentation.
func WriteJSON(w io.Writer, entries []Entry) error {
	if entries == nil {
		entries = []Entry{}
	}
	doc := struct {
		Schema  string  `json:"schema"`
		Entries []Entry `json:"entries"`
	}{JSONSchema, entries}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("journal: write JSON: %w", err)
	}
	return nil
}

// WriteTable writes entries as a table for people: one line per entry, times in UTC, control
// characters escaped, details (reason, exit code, verification, error) in the last column.
func WriteTable(w io.Writer, entries []Entry) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME (UTC)\tRUN\tACTOR\tKIND\tNAME\tTARGET\tOUTCOME\tDETAIL")
	for _, e := range entries {
		run := e.RunID
		if i := strings.LastIndexByte(run, '-'); i >= 0 && len(run)-i > 7 {
			run = run[i+1 : i+7] // the random part identifies a run well enough on screen
		}
		outcome := string(e.Outcome)
		if outcome == "" {
			outcome = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format("2006-01-02 15:04:05"),
			cell(run, 12), cell(e.Actor, 24), e.Kind, cell(e.Name, 32), cell(orDash(e.Target), 32), outcome, cell(detail(e), 160))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("journal: write table: %w", err)
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func detail(e Entry) string {
	var parts []string
	if e.Link != "" {
		parts = append(parts, "link "+e.Link)
	}
	if e.Reason != "" {
		parts = append(parts, e.Reason)
	}
	if e.Command != "" && e.Ref == 0 {
		parts = append(parts, "cmd: "+e.Command)
	}
	if e.ExitCode != nil {
		parts = append(parts, "exit "+strconv.Itoa(*e.ExitCode))
	}
	if e.Verification != "" {
		parts = append(parts, "verify: "+e.Verification)
	}
	if e.Error != "" {
		parts = append(parts, "error: "+e.Error)
	}
	if e.Ref != 0 {
		parts = append(parts, "(of #"+strconv.FormatInt(e.Ref, 10)+")")
	}
	return strings.Join(parts, "; ")
}

// cell makes a value safe for one table cell: every control, format or separator character
// escaped (termtext: AD-sourced names must not drive the terminal, and no tab or newline may
// break the table), at most max characters.
func cell(s string, max int) string {
	return termtext.ClipRunes(termtext.Escape(s), max)
}

// ParseSince parses the --since argument relative to now: a duration back from now ("90m",
// "24h", "7d", "1d12h"), a date ("2025-06-07", midnight in now's location), a date and time
// ("2025-06-07 14:30", "2025-06-07T14:30", in now's location) or an RFC 3339 time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return time.Time{}, errors.New("--since: empty")
	}
	if d, err := parseAgo(t); err == nil {
		return now.Add(-d), nil
	}
	if ts, err := time.Parse(time.RFC3339Nano, t); err == nil {
		return ts, nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05"} {
		if ts, err := time.ParseInLocation(layout, t, now.Location()); err == nil {
			return ts, nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (24h, 7d), a date (2025-06-07) or a time (2025-06-07T14:30:00Z)", s)
}

// parseAgo parses a non-negative duration with an optional leading whole-days part.
func parseAgo(t string) (time.Duration, error) {
	const maxDays = 100 * 366
	var days int64
	if i := strings.IndexByte(t, 'd'); i > 0 {
		n, err := strconv.ParseInt(t[:i], 10, 64)
		if err != nil || n < 0 || n > maxDays || t[0] == '+' {
			return 0, errors.New("bad days")
		}
		days, t = n, t[i+1:]
		if t == "" {
			return time.Duration(days) * 24 * time.Hour, nil
		}
	}
	if t == "" || t[0] == '-' || t[0] == '+' {
		return 0, errors.New("bad duration")
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, err
	}
	return time.Duration(days)*24*time.Hour + d, nil
}
