package journal

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Kind classifies an entry.
type Kind string

// Entry kinds.
const (
	KindGate   Kind = "gate"   // a gate decision: approval, window, drift, guard, policy, breaker
	KindAction Kind = "action" // an action: begin (started) and finish records
	KindVerify Kind = "verify" // a verification result, or a re-check of an unfinished action
	KindLock   Kind = "lock"   // lock acquired, refused, renewed, released, broken
	KindNote   Kind = "note"   // anything else worth keeping (breaker changes, emergency reasons)
)

// Outcome is a decision or result.
type Outcome string

// Outcomes.
const (
	Allowed   Outcome = "allowed"
	Refused   Outcome = "refused"
	Started   Outcome = "started"
	Succeeded Outcome = "succeeded"
	Failed    Outcome = "failed"
	Pending   Outcome = "pending"
	Skipped   Outcome = "skipped"
)

// Kinds lists every kind; Outcomes every outcome.
var (
	Kinds    = []Kind{KindGate, KindAction, KindVerify, KindLock, KindNote}
	Outcomes = []Outcome{Allowed, Refused, Started, Succeeded, Failed, Pending, Skipped}
)

func (k Kind) valid() bool {
	for _, x := range Kinds {
		if k == x {
			return true
		}
	}
	return false
}

func (o Outcome) valid() bool {
	for _, x := range Outcomes {
		if o == x {
			return true
		}
	}
	return false
}

// Entry is one journal record. The JSON shape is documented in the package documentation.
type Entry struct {
	ID              int64     `json:"id"`
	RunID           string    `json:"run_id"`
	Time            time.Time `json:"time"`
	Actor           string    `json:"actor"`
	Kind            Kind      `json:"kind"`
	Forest          string    `json:"forest"`
	Name            string    `json:"name"`
	Target          string    `json:"target"`
	Link            string    `json:"link"`
	PlanFingerprint string    `json:"plan_fingerprint"`
	Outcome         Outcome   `json:"outcome"`
	Reason          string    `json:"reason"`
	Command         string    `json:"command"`
	ExitCode        *int      `json:"exit_code"`
	OutputSHA256    string    `json:"output_sha256"`
	OutputExcerpt   string    `json:"output_excerpt"`
	Verification    string    `json:"verification"`
	Error           string    `json:"error"`
	StepKey         string    `json:"step_key"`
	Ref             int64     `json:"ref"`
}

// Exit returns a pointer to code, for Entry.ExitCode and Result.ExitCode.
func Exit(code int) *int { return &code }

// Field size limits; longer text is cut with a marker.
const (
	maxShort   = 512     // run id, actor, forest, name, target, link, fingerprint
	maxText    = 4 << 10 // reason, command, verification, error
	excerptMax = 1 << 10 // output excerpt
)

// OutputDigest returns the hex SHA-256 of stdout followed by stderr, as stored in
// Entry.OutputSHA256.
func OutputDigest(stdout, stderr []byte) string {
	h := sha256.New()
	h.Write(stdout)
	h.Write(stderr)
	return hex.EncodeToString(h.Sum(nil))
}

// Excerpt returns the text stored as Entry.OutputExcerpt before redaction: stdout and stderr
// (stderr after a "--- stderr ---" line), as valid UTF-8, cut in the middle past excerptMax.
func excerpt(stdout, stderr []byte) string {
	var b strings.Builder
	b.Write(stdout)
	if len(stderr) > 0 {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString("--- stderr ---\n")
		b.Write(stderr)
	}
	return b.String()
}

// clip cuts s to at most max bytes of valid UTF-8, keeping head and tail around a marker.
func clip(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if len(s) <= max {
		return s
	}
	half := max/2 - 32
	head, tail := s[:half], s[len(s)-half:]
	for len(head) > 0 && !utf8.ValidString(head) {
		head = head[:len(head)-1]
	}
	for len(tail) > 0 && !utf8.ValidString(tail) {
		tail = tail[1:]
	}
	return fmt.Sprintf("%s\n…[%d bytes omitted]…\n%s", head, len(s)-len(head)-len(tail), tail)
}

// Record appends one entry in its own transaction and returns its id. RunID and Actor default
// to the store's (SetRunID, SetActor), Time to now. Every text field is redacted.
func (s *Store) Record(e Entry) (int64, error) {
	var id int64
	err := s.tx("record", func(t *sql.Tx) error {
		var err error
		id, err = s.insert(t, &e)
		return err
	})
	return id, err
}

// prepare fills defaults, validates and redacts e in place.
func (s *Store) prepare(e *Entry) error {
	s.mu.Lock()
	if e.RunID == "" {
		e.RunID = s.runID
	}
	if e.Actor == "" {
		e.Actor = s.actor
	}
	s.mu.Unlock()
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	e.Time = e.Time.UTC()
	if !e.Kind.valid() {
		return fmt.Errorf("%w: kind %q (want gate, action, verify, lock or note)", ErrInvalid, e.Kind)
	}
	if e.Outcome == "" && e.Kind != KindNote {
		return fmt.Errorf("%w: %s entry %q has no outcome", ErrInvalid, e.Kind, e.Name)
	}
	if e.Outcome != "" && !e.Outcome.valid() {
		return fmt.Errorf("%w: outcome %q", ErrInvalid, e.Outcome)
	}
	if strings.TrimSpace(e.Name) == "" {
		return fmt.Errorf("%w: %s entry without a name", ErrInvalid, e.Kind)
	}
	short := func(p *string) { *p = clip(s.Redact(*p), maxShort) }
	long := func(p *string) { *p = clip(s.Redact(*p), maxText) }
	short(&e.Actor)
	short(&e.Forest)
	short(&e.Name)
	short(&e.Target)
	short(&e.Link)
	long(&e.Reason)
	long(&e.Command)
	long(&e.Verification)
	long(&e.Error)
	e.OutputExcerpt = clip(s.Redact(e.OutputExcerpt), excerptMax)
	e.RunID = clip(e.RunID, maxShort)
	e.PlanFingerprint = clip(e.PlanFingerprint, maxShort)
	return nil
}

func (s *Store) insert(t *sql.Tx, e *Entry) (int64, error) {
	if err := s.prepare(e); err != nil {
		return 0, keep(err)
	}
	var exit, ref any
	if e.ExitCode != nil {
		exit = *e.ExitCode
	}
	if e.Ref != 0 {
		ref = e.Ref
	}
	res, err := t.Exec(`INSERT INTO entries (run_id, time_ns, actor, kind, forest, name, target, link,
		plan_fingerprint, outcome, reason, command, exit_code, output_sha256, output_excerpt,
		verification, error, step_key, ref) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.RunID, e.Time.UnixNano(), e.Actor, string(e.Kind), e.Forest, e.Name, e.Target, e.Link,
		e.PlanFingerprint, string(e.Outcome), e.Reason, e.Command, exit, e.OutputSHA256, e.OutputExcerpt,
		e.Verification, e.Error, e.StepKey, ref)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	e.ID = id
	return id, nil
}

const entryColumns = `id, run_id, time_ns, actor, kind, forest, name, target, link, plan_fingerprint,
	outcome, reason, command, exit_code, output_sha256, output_excerpt, verification, error, step_key, ref`

type rowScanner interface{ Scan(dest ...any) error }

func scanEntry(r rowScanner) (Entry, error) {
	var (
		e     Entry
		ns    int64
		kind  string
		out   string
		exit  sql.NullInt64
		ref   sql.NullInt64
		entry = &e
	)
	err := r.Scan(&entry.ID, &entry.RunID, &ns, &entry.Actor, &kind, &entry.Forest, &entry.Name, &entry.Target,
		&entry.Link, &entry.PlanFingerprint, &out, &entry.Reason, &entry.Command, &exit, &entry.OutputSHA256,
		&entry.OutputExcerpt, &entry.Verification, &entry.Error, &entry.StepKey, &ref)
	if err != nil {
		return Entry{}, err
	}
	e.Time = time.Unix(0, ns).UTC()
	e.Kind, e.Outcome = Kind(kind), Outcome(out)
	if exit.Valid {
		e.ExitCode = Exit(int(exit.Int64))
	}
	if ref.Valid {
		e.Ref = ref.Int64
	}
	return e, nil
}

// Get returns the entry with the given id.
func (s *Store) Get(id int64) (Entry, error) {
	e, err := scanEntry(s.db.QueryRow("SELECT "+entryColumns+" FROM entries WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("journal: entry %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Entry{}, s.wrap("read entry", err)
	}
	return e, nil
}

func getTx(t *sql.Tx, id int64) (Entry, error) {
	e, err := scanEntry(t.QueryRow("SELECT "+entryColumns+" FROM entries WHERE id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, keep(fmt.Errorf("journal: entry %d: %w", id, ErrNotFound))
	}
	return e, err
}
