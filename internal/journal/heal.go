package journal

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// LastAction returns when the action named action was last begun on target in forest (any
// outcome: a failed attempt touched the DC too), for per-DC per-action cooldowns. ok is false
// if it never was.
func (s *Store) LastAction(forest, target, action string) (at time.Time, ok bool, err error) {
	var ns sql.NullInt64
	err = s.db.QueryRow(`SELECT max(time_ns) FROM entries WHERE kind = 'action' AND outcome = 'started'
		AND forest = ? AND target = ? AND name = ?`, forest, target, action).Scan(&ns)
	if err != nil {
		return time.Time{}, false, s.wrap("read last action", err)
	}
	if !ns.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, ns.Int64).UTC(), true, nil
}

// TargetsTouchedSince returns the distinct targets (DCs) of forest on which any action was
// begun at or after since, sorted, for the absolute cap on DCs touched per 24 h.
func (s *Store) TargetsTouchedSince(forest string, since time.Time) ([]string, error) {
	rows, err := s.db.Query(`SELECT DISTINCT target FROM entries WHERE kind = 'action' AND outcome = 'started'
		AND forest = ? AND time_ns >= ? ORDER BY target`, forest, since.UnixNano())
	if err != nil {
		return nil, s.wrap("list touched targets", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, s.wrap("list touched targets", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list touched targets", err)
	}
	return out, nil
}

// ActionsInRun counts the actions begun in run runID, for a per-run maximum.
func (s *Store) ActionsInRun(runID string) (int, error) {
	var n int
	err := s.db.QueryRow(`SELECT count(*) FROM entries WHERE kind = 'action' AND outcome = 'started' AND run_id = ?`, runID).Scan(&n)
	if err != nil {
		return 0, s.wrap("count actions", err)
	}
	return n, nil
}

// FailedVerificationsSince counts verify entries of forest with outcome failed at or after
// since, re-checks of interrupted actions excluded, for the circuit breaker.
func (s *Store) FailedVerificationsSince(forest string, since time.Time) (int, error) {
	var n int
	err := s.db.QueryRow(`SELECT count(*) FROM entries WHERE kind = 'verify' AND outcome = 'failed'
		AND forest = ? AND time_ns >= ? AND substr(name, 1, ?) <> ?`,
		forest, since.UnixNano(), len(RecheckPrefix), RecheckPrefix).Scan(&n)
	if err != nil {
		return 0, s.wrap("count failed verifications", err)
	}
	return n, nil
}

// Breaker is the circuit breaker state of one forest.
type Breaker struct {
	Forest string
	Open   bool
	// Since is when it last changed state (zero if it never did); Reason and By say why and
	// who (the heal run that opened it, or the person who reset it).
	Since  time.Time
	Reason string
	By     string
}

// Breaker returns the breaker of forest; a forest never tripped has a closed breaker.
func (s *Store) Breaker(forest string) (Breaker, error) {
	return s.readBreaker(s.db, forest)
}

func (s *Store) readBreaker(q interface {
	QueryRow(string, ...any) *sql.Row
}, forest string) (Breaker, error) {
	b := Breaker{Forest: forest}
	var open int
	var ns int64
	err := q.QueryRow(`SELECT open, changed_ns, reason, by FROM breakers WHERE forest = ?`, forest).Scan(&open, &ns, &b.Reason, &b.By)
	if errors.Is(err, sql.ErrNoRows) {
		return b, nil
	}
	if err != nil {
		return Breaker{}, s.wrap("read breaker", err)
	}
	b.Open, b.Since = open != 0, time.Unix(0, ns).UTC()
	return b, nil
}

// OpenBreaker opens the breaker of forest (it then stays open until ResetBreaker) and records
// a note "breaker-opened". Opening an open breaker changes nothing and records nothing; the
// returned state says which.
func (s *Store) OpenBreaker(forest, reason, who string) (Breaker, error) {
	return s.setBreaker(forest, true, reason, who)
}

// ResetBreaker closes the breaker of forest on the explicit request of who, for reason (both
// required), and records a note "breaker-reset" — also when it was not open, so the request
// is on record.
func (s *Store) ResetBreaker(forest, reason, who string) (Breaker, error) {
	return s.setBreaker(forest, false, reason, who)
}

func (s *Store) setBreaker(forest string, open bool, reason, who string) (Breaker, error) {
	if strings.TrimSpace(reason) == "" || strings.TrimSpace(who) == "" {
		return Breaker{}, fmt.Errorf("journal: breaker: %w: who and a reason are required", ErrInvalid)
	}
	var out Breaker
	err := s.tx("set breaker", func(t *sql.Tx) error {
		cur, err := s.readBreaker(t, forest)
		if err != nil {
			return keep(err)
		}
		if open && cur.Open {
			out = cur
			return nil
		}
		e := Entry{Kind: KindNote, Forest: forest, Actor: who, Reason: reason}
		if open {
			e.Name = "breaker-opened"
		} else {
			e.Name = "breaker-reset"
			if !cur.Open {
				e.Reason += " (breaker was already closed)"
			}
		}
		id, err := s.insert(t, &e)
		if err != nil {
			return err
		}
		flag := 0
		if open {
			flag = 1
		}
		if _, err := t.Exec(`INSERT INTO breakers (forest, open, changed_ns, reason, by, entry_id) VALUES (?,?,?,?,?,?)
			ON CONFLICT(forest) DO UPDATE SET open = excluded.open, changed_ns = excluded.changed_ns,
			reason = excluded.reason, by = excluded.by, entry_id = excluded.entry_id`,
			forest, flag, e.Time.UnixNano(), e.Reason, e.Actor, id); err != nil {
			return err
		}
		out = Breaker{Forest: forest, Open: open, Since: e.Time, Reason: e.Reason, By: e.Actor}
		return nil
	})
	return out, err
}
