package journal

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// StepKey is the idempotency key of one planned action: the hex SHA-256 of the plan
// fingerprint, the link and the action name. A resumed apply of the same plan finds its
// earlier attempts of a step under the same key.
func StepKey(planFingerprint, link, action string) string {
	sum := sha256.Sum256([]byte("fix8524-step-v1\x00" + planFingerprint + "\x00" + link + "\x00" + action))
	return hex.EncodeToString(sum[:])
}

// BeginAction records, and commits durably, that an action is about to run. Call it before
// running the action and do not run the action if it fails. e.Name is the action, e.Target
// the DC it acts on; Kind and Outcome are set here (action, started); StepKey defaults to
// StepKey(e.PlanFingerprint, e.Link, e.Name). It returns the begin entry's id for
// FinishAction.
func (s *Store) BeginAction(e Entry) (int64, error) {
	e.Kind, e.Outcome, e.Ref = KindAction, Started, 0
	if strings.TrimSpace(e.Target) == "" {
		return 0, fmt.Errorf("journal: begin action %q: %w: no target", e.Name, ErrInvalid)
	}
	if e.StepKey == "" {
		e.StepKey = StepKey(e.PlanFingerprint, e.Link, e.Name)
	}
	var id int64
	err := s.tx("begin action", func(t *sql.Tx) error {
		var err error
		id, err = s.insert(t, &e)
		return err
	})
	return id, err
}

// Result is how an action ended, for FinishAction.
type Result struct {
	Outcome      Outcome // succeeded, failed, pending or skipped
	ExitCode     *int    // nil if the command did not run to an exit (transport failure)
	Stdout       []byte  // hashed into OutputSHA256 and excerpted (redacted) into OutputExcerpt
	Stderr       []byte
	Verification string // what the verification found
	Reason       string
	Err          error // its text is stored (redacted) as Error
	Actor        string
	Time         time.Time // default now
}

// FinishAction records the end of the action begun as beginID, in one transaction, and
// returns the finish entry's id. An action can be finished once (ErrAlreadyFinished); an
// action already resolved by MarkRechecked can still be finished (the record says both).
func (s *Store) FinishAction(beginID int64, r Result) (int64, error) {
	switch r.Outcome {
	case Succeeded, Failed, Pending, Skipped:
	default:
		return 0, fmt.Errorf("journal: finish action %d: %w: outcome %q (want succeeded, failed, pending or skipped)", beginID, ErrInvalid, r.Outcome)
	}
	var id int64
	err := s.tx("finish action", func(t *sql.Tx) error {
		b, err := getTx(t, beginID)
		if err != nil {
			return err
		}
		if b.Kind != KindAction || b.Outcome != Started {
			return keep(fmt.Errorf("journal: entry %d is not an action begin record: %w", beginID, ErrInvalid))
		}
		var n int
		if err := t.QueryRow("SELECT count(*) FROM entries WHERE ref = ? AND kind = 'action'", beginID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return keep(fmt.Errorf("journal: action %d (%s on %s): %w", beginID, b.Name, b.Target, ErrAlreadyFinished))
		}
		e := Entry{
			RunID: b.RunID, Time: r.Time, Actor: r.Actor, Kind: KindAction, Forest: b.Forest, Name: b.Name,
			Target: b.Target, Link: b.Link, PlanFingerprint: b.PlanFingerprint, Outcome: r.Outcome,
			Reason: r.Reason, Command: b.Command, ExitCode: r.ExitCode, Verification: r.Verification,
			StepKey: b.StepKey, Ref: beginID,
		}
		if e.Actor == "" {
			e.Actor = b.Actor
		}
		if r.Stdout != nil || r.Stderr != nil {
			e.OutputSHA256 = OutputDigest(r.Stdout, r.Stderr)
			e.OutputExcerpt = excerpt(r.Stdout, r.Stderr)
		}
		if r.Err != nil {
			e.Error = r.Err.Error()
		}
		id, err = s.insert(t, &e)
		return err
	})
	return id, err
}

// Unfinished lists the action begin records of forest that have neither a finish record nor
// a re-check: actions that were interrupted (kill -9, power loss) and may or may not have
// taken effect. Oldest first. The caller must re-check each one (and record it with
// MarkRechecked) before it repeats the action.
func (s *Store) Unfinished(forest string) ([]Entry, error) {
	rows, err := s.db.Query(`SELECT `+entryColumns+` FROM entries b
		WHERE b.kind = 'action' AND b.outcome = 'started' AND b.forest = ?
		AND NOT EXISTS (SELECT 1 FROM entries f WHERE f.ref = b.id AND f.kind IN ('action','verify'))
		ORDER BY b.id`, forest)
	if err != nil {
		return nil, s.wrap("list unfinished actions", err)
	}
	return s.collect(rows, "list unfinished actions")
}

// RecheckPrefix starts the name of re-check entries ("recheck:" + action name).
const RecheckPrefix = "recheck:"

// Recheck is what a re-check of an unfinished action found, for MarkRechecked.
type Recheck struct {
	// Outcome: Succeeded if the action's effect is in place (treat the step as done),
	// Failed if it is not (the step may be run again), Skipped if the step is abandoned.
	Outcome      Outcome
	Verification string // what was checked and seen
	Reason       string
	Actor        string
	RunID        string // the resuming run; default the store's run id
}

// MarkRechecked records the re-check of the unfinished action beginID as a verify entry named
// "recheck:<action>" referring to it; the action no longer appears in Unfinished. It returns
// the new entry's id. Re-check entries are not counted as failed verifications.
func (s *Store) MarkRechecked(beginID int64, r Recheck) (int64, error) {
	switch r.Outcome {
	case Succeeded, Failed, Skipped:
	default:
		return 0, fmt.Errorf("journal: recheck of %d: %w: outcome %q (want succeeded, failed or skipped)", beginID, ErrInvalid, r.Outcome)
	}
	var id int64
	err := s.tx("record recheck", func(t *sql.Tx) error {
		b, err := getTx(t, beginID)
		if err != nil {
			return err
		}
		if b.Kind != KindAction || b.Outcome != Started {
			return keep(fmt.Errorf("journal: entry %d is not an action begin record: %w", beginID, ErrInvalid))
		}
		e := Entry{
			RunID: r.RunID, Actor: r.Actor, Kind: KindVerify, Forest: b.Forest, Name: RecheckPrefix + b.Name,
			Target: b.Target, Link: b.Link, PlanFingerprint: b.PlanFingerprint, Outcome: r.Outcome,
			Reason: r.Reason, Verification: r.Verification, StepKey: b.StepKey, Ref: beginID,
		}
		id, err = s.insert(t, &e)
		return err
	})
	return id, err
}

// StepState is where a planned step stands in the journal.
type StepState string

// Step states.
const (
	StepNotStarted StepState = "not-started" // never begun
	StepUnfinished StepState = "unfinished"  // begun, never finished nor re-checked: possibly completed
	StepFinished   StepState = "finished"    // finished; see Outcome
	StepRechecked  StepState = "rechecked"   // interrupted, then re-checked; see Outcome
)

// Step is the journal's knowledge of one step (plan fingerprint, link, action), from its
// latest begin record.
type Step struct {
	Key        string
	Action     string
	Link       string
	Target     string
	State      StepState
	Outcome    Outcome // final outcome when finished or re-checked
	BeginID    int64   // latest begin record (0 if never begun)
	Began      time.Time
	RunID      string
	Attempts   int   // begin records for this key
	ResolvedBy int64 // the finish or re-check entry (0 while unfinished)
}

// Done reports whether the step completed: finished or re-checked as succeeded.
func (st Step) Done() bool {
	return (st.State == StepFinished || st.State == StepRechecked) && st.Outcome == Succeeded
}

// NeedsRecheck reports whether the step was interrupted and must be re-checked before it is
// run again.
func (st Step) NeedsRecheck() bool { return st.State == StepUnfinished }

// Step returns the state of the step (planFingerprint, link, action).
func (s *Store) Step(planFingerprint, link, action string) (Step, error) {
	key := StepKey(planFingerprint, link, action)
	st, err := s.stepByKey(key)
	if err != nil {
		return Step{}, err
	}
	if st.State == StepNotStarted {
		st.Action, st.Link = action, link
	}
	return st, nil
}

func (s *Store) stepByKey(key string) (Step, error) {
	st := Step{Key: key, State: StepNotStarted}
	if err := s.db.QueryRow(`SELECT count(*) FROM entries WHERE step_key = ? AND kind = 'action' AND outcome = 'started'`, key).Scan(&st.Attempts); err != nil {
		return Step{}, s.wrap("read step", err)
	}
	if st.Attempts == 0 {
		return st, nil
	}
	b, err := scanEntry(s.db.QueryRow(`SELECT `+entryColumns+` FROM entries
		WHERE step_key = ? AND kind = 'action' AND outcome = 'started' ORDER BY id DESC LIMIT 1`, key))
	if err != nil {
		return Step{}, s.wrap("read step", err)
	}
	st.Action, st.Link, st.Target, st.BeginID, st.Began, st.RunID = b.Name, b.Link, b.Target, b.ID, b.Time, b.RunID
	// A finish record wins over a re-check: it is what the action itself reported.
	var kind, out string
	var rid int64
	err = s.db.QueryRow(`SELECT id, kind, outcome FROM entries WHERE ref = ? AND kind IN ('action','verify')
		ORDER BY CASE kind WHEN 'action' THEN 0 ELSE 1 END, id DESC LIMIT 1`, b.ID).Scan(&rid, &kind, &out)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		st.State = StepUnfinished
	case err != nil:
		return Step{}, s.wrap("read step", err)
	case kind == string(KindAction):
		st.State, st.Outcome, st.ResolvedBy = StepFinished, Outcome(out), rid
	default:
		st.State, st.Outcome, st.ResolvedBy = StepRechecked, Outcome(out), rid
	}
	return st, nil
}

// OpenBegins returns the begin records of the step (planFingerprint, link, action) that have
// neither a finish nor a re-check, oldest first. Step describes only the latest begin; an
// interrupted step that began several commands at once (the pulls of one replication retry)
// leaves each of them open, and each must be re-checked.
func (s *Store) OpenBegins(planFingerprint, link, action string) ([]int64, error) {
	rows, err := s.db.Query(`SELECT b.id FROM entries b
		WHERE b.step_key = ? AND b.kind = 'action' AND b.outcome = 'started'
		AND NOT EXISTS (SELECT 1 FROM entries f WHERE f.ref = b.id AND f.kind IN ('action','verify'))
		ORDER BY b.id`, StepKey(planFingerprint, link, action))
	if err != nil {
		return nil, s.wrap("list open steps", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, s.wrap("list open steps", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list open steps", err)
	}
	return ids, nil
}

// Steps returns the state of every step ever begun under planFingerprint, by first begin.
func (s *Store) Steps(planFingerprint string) ([]Step, error) {
	rows, err := s.db.Query(`SELECT step_key FROM entries WHERE plan_fingerprint = ? AND kind = 'action'
		AND outcome = 'started' GROUP BY step_key ORDER BY min(id)`, planFingerprint)
	if err != nil {
		return nil, s.wrap("list steps", err)
	}
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			rows.Close()
			return nil, s.wrap("list steps", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return nil, s.wrap("list steps", err)
	}
	rows.Close()
	out := make([]Step, 0, len(keys))
	for _, k := range keys {
		st, err := s.stepByKey(k)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

func (s *Store) collect(rows *sql.Rows, op string) ([]Entry, error) {
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, s.wrap(op, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}
