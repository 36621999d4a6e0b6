package journal

import (
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ApprovalUseName names the note entries that record the use of an approval: a begin record
// (outcome started) when a run is about to change something under the approval, and a finish
// record referring to it when the run ends.
const ApprovalUseName = "approval-used"

// ErrApprovalSpent is returned by UseApproval for an approval an earlier run already used to
// the end: approvals are single-use.
var ErrApprovalSpent = errors.New("approval already used")

// UseState is where an approval stands.
type UseState string

// Approval use states.
const (
	UseNone        UseState = "unused"      // no run acted under it
	UseInterrupted UseState = "interrupted" // a run acted under it and never finished (kill -9, power loss), or stopped pending: a resume may use it
	UseSpent       UseState = "spent"       // a run acted under it and finished: it admits nothing more
)

// ApprovalUse is the journal's knowledge of one approval (by digest), from its latest use.
type ApprovalUse struct {
	State   UseState
	RunID   string    // the latest run that used it
	Began   time.Time // when that run began to act under it
	Ended   time.Time // when it finished (zero while interrupted without a record)
	Outcome Outcome   // how it finished
	BeginID int64
}

func (u ApprovalUse) String() string {
	switch u.State {
	case UseSpent:
		return fmt.Sprintf("used by run %s (began %s, ended %s: %s)", u.RunID, u.Began.UTC().Format(time.RFC3339), u.Ended.UTC().Format(time.RFC3339), u.Outcome)
	case UseInterrupted:
		s := fmt.Sprintf("used by run %s (began %s), which was interrupted", u.RunID, u.Began.UTC().Format(time.RFC3339))
		if u.Outcome == Pending {
			s = fmt.Sprintf("used by run %s (began %s), which stopped with its verification pending", u.RunID, u.Began.UTC().Format(time.RFC3339))
		}
		return s
	}
	return "unused"
}

func approvalKey(digest string) string { return "approval:" + digest }

// resumable reports whether a finish outcome leaves the approval usable by a resume.
func resumable(o Outcome) bool { return o == Pending }

// ApprovalUse returns the state of the approval with this digest.
func (s *Store) ApprovalUse(digest string) (ApprovalUse, error) {
	var u ApprovalUse
	err := s.tx("read approval use", func(t *sql.Tx) error {
		var err error
		u, err = approvalUseTx(t, digest)
		return err
	})
	return u, err
}

func approvalUseTx(t *sql.Tx, digest string) (ApprovalUse, error) {
	u := ApprovalUse{State: UseNone}
	b, err := scanEntry(t.QueryRow(`SELECT `+entryColumns+` FROM entries
		WHERE step_key = ? AND kind = 'note' AND name = ? AND outcome = 'started' ORDER BY id DESC LIMIT 1`,
		approvalKey(digest), ApprovalUseName))
	if errors.Is(err, sql.ErrNoRows) {
		return u, nil
	}
	if err != nil {
		return u, err
	}
	u.RunID, u.Began, u.BeginID, u.State = b.RunID, b.Time, b.ID, UseInterrupted
	f, err := scanEntry(t.QueryRow(`SELECT `+entryColumns+` FROM entries WHERE ref = ? AND kind = 'note' ORDER BY id DESC LIMIT 1`, b.ID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return u, nil
	case err != nil:
		return u, err
	}
	u.Ended, u.Outcome = f.Time, f.Outcome
	if !resumable(f.Outcome) {
		u.State = UseSpent
	}
	return u, nil
}

// UseApproval records, in one transaction with the check, that this run is about to act under
// the approval with this digest (e names the forest, plan fingerprint and what it approves;
// Kind, Name, Outcome and StepKey are set here). An approval whose last use finished is refused
// with ErrApprovalSpent; one whose last use was interrupted (no finish record, or finished
// pending) is taken: the run resumes it. It returns the begin record's id for
// FinishApprovalUse.
func (s *Store) UseApproval(e Entry, digest string) (int64, error) {
	if digest == "" {
		return 0, fmt.Errorf("journal: use approval: %w: no digest", ErrInvalid)
	}
	e.Kind, e.Name, e.Outcome, e.StepKey, e.Ref = KindNote, ApprovalUseName, Started, approvalKey(digest), 0
	var id int64
	err := s.tx("record approval use", func(t *sql.Tx) error {
		u, err := approvalUseTx(t, digest)
		if err != nil {
			return err
		}
		if u.State == UseSpent {
			return keep(fmt.Errorf("%w: %s", ErrApprovalSpent, u))
		}
		id, err = s.insert(t, &e)
		return err
	})
	return id, err
}

// FinishApprovalUse records how the run that began using an approval (beginID) ended: pending
// leaves the approval to a resume of this run; any other outcome spends it.
func (s *Store) FinishApprovalUse(beginID int64, out Outcome, reason string) (int64, error) {
	var id int64
	err := s.tx("finish approval use", func(t *sql.Tx) error {
		b, err := getTx(t, beginID)
		if err != nil {
			return err
		}
		if b.Kind != KindNote || b.Name != ApprovalUseName || b.Outcome != Started {
			return keep(fmt.Errorf("journal: entry %d is not an approval use record: %w", beginID, ErrInvalid))
		}
		e := Entry{RunID: b.RunID, Kind: KindNote, Forest: b.Forest, Name: ApprovalUseName, Target: b.Target,
			PlanFingerprint: b.PlanFingerprint, Outcome: out, Reason: reason, StepKey: b.StepKey, Ref: beginID}
		id, err = s.insert(t, &e)
		return err
	})
	return id, err
}
