package journal

import (
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"
)

// Lock errors; a refused AcquireLock returns a *LockError that matches ErrLocked, and also
// ErrStaleLock when the lock has expired.
var (
	ErrLocked    = errors.New("forest is locked")
	ErrStaleLock = errors.New("stale lock")
	ErrLockLost  = errors.New("lock is no longer held (it was broken)")
	ErrNoLock    = errors.New("no lock is held")
	ErrLockLive  = errors.New("lock is live")
)

// MaxLockTTL bounds a lock's time to live.
const MaxLockTTL = 7 * 24 * time.Hour

// Holder identifies a process holding a lock.
type Holder struct {
	User string
	Host string
	PID  int
}

// CurrentHolder describes this process.
func CurrentHolder() Holder {
	h := Holder{PID: os.Getpid()}
	if u, err := user.Current(); err == nil {
		h.User = u.Username
	}
	if h.User == "" {
		h.User = firstNonEmpty(os.Getenv("USER"), os.Getenv("USERNAME"), "unknown")
	}
	if n, err := os.Hostname(); err == nil {
		h.Host = n
	}
	if h.Host == "" {
		h.Host = "unknown-host"
	}
	return h
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}

// Actor renders the holder as user@host.
func (h Holder) Actor() string { return h.User + "@" + h.Host }

// String renders the holder as "user@host pid N".
func (h Holder) String() string { return fmt.Sprintf("%s pid %d", h.Actor(), h.PID) }

// LockInfo describes a held lock.
type LockInfo struct {
	Forest   string
	Holder   Holder
	Acquired time.Time
	Expires  time.Time
	// Stale: the lock's TTL has passed. A stale lock still blocks; only BreakLock releases it.
	Stale bool
	// HolderGone: the holder ran on this host and its process no longer exists.
	HolderGone bool
}

func (li LockInfo) describe() string {
	s := fmt.Sprintf("held by %s since %s", li.Holder, li.Acquired.Format(time.RFC3339))
	if li.Stale {
		s += fmt.Sprintf(", expired %s", li.Expires.Format(time.RFC3339))
	} else {
		s += fmt.Sprintf(", expires %s", li.Expires.Format(time.RFC3339))
	}
	if li.HolderGone {
		s += fmt.Sprintf(" (pid %d is no longer running on this host)", li.Holder.PID)
	}
	return s
}

// LockError is a refused AcquireLock.
type LockError struct{ Info LockInfo }

func (e *LockError) Error() string {
	if e.Info.Stale {
		return fmt.Sprintf("forest %q has a stale lock, %s; it is not taken over automatically: "+
			"check that no fix8524 run still works on this forest, then break the lock explicitly with a reason",
			e.Info.Forest, e.Info.describe())
	}
	return fmt.Sprintf("forest %q is locked, %s", e.Info.Forest, e.Info.describe())
}

// Is matches ErrLocked always and ErrStaleLock for stale locks.
func (e *LockError) Is(target error) bool {
	return target == ErrLocked || (target == ErrStaleLock && e.Info.Stale)
}

// Lock is a held per-forest lock.
type Lock struct {
	s        *Store
	token    string
	Forest   string
	Holder   Holder
	Acquired time.Time
	Expires  time.Time
}

func (s *Store) readLock(q interface {
	QueryRow(string, ...any) *sql.Row
}, forest string) (*LockInfo, string, error) {
	var (
		li       LockInfo
		holder   string
		token    string
		acq, exp int64
	)
	err := q.QueryRow(`SELECT holder, host, pid, token, acquired_ns, expires_ns FROM locks WHERE forest = ?`, forest).
		Scan(&holder, &li.Holder.Host, &li.Holder.PID, &token, &acq, &exp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	li.Forest = forest
	li.Holder.User, _, _ = strings.Cut(holder, "@")
	li.Acquired, li.Expires = time.Unix(0, acq).UTC(), time.Unix(0, exp).UTC()
	li.Stale = !s.now().Before(li.Expires)
	if host, err := os.Hostname(); err == nil && host == li.Holder.Host && li.Holder.PID != os.Getpid() {
		li.HolderGone = processGone(li.Holder.PID)
	}
	return &li, token, nil
}

// AcquireLock takes the lock of forest for holder for ttl. While another holder's lock is
// held — expired or not — it refuses with a *LockError showing the holder; expired locks are
// never taken over silently (BreakLock). The decision is recorded as a lock entry either way.
// Two processes racing are serialized by SQLite (BEGIN IMMEDIATE): exactly one wins.
func (s *Store) AcquireLock(forest string, holder Holder, ttl time.Duration) (*Lock, error) {
	if strings.TrimSpace(forest) == "" {
		return nil, fmt.Errorf("journal: lock: %w: no forest", ErrInvalid)
	}
	if ttl <= 0 || ttl > MaxLockTTL {
		return nil, fmt.Errorf("journal: lock: %w: ttl %s (want 1s to %s)", ErrInvalid, ttl, MaxLockTTL)
	}
	if holder.User == "" || holder.Host == "" {
		return nil, fmt.Errorf("journal: lock: %w: holder needs user and host", ErrInvalid)
	}
	var (
		lock    *Lock
		refusal error
	)
	err := s.tx("acquire lock", func(t *sql.Tx) error {
		cur, _, err := s.readLock(t, forest)
		if err != nil {
			return err
		}
		now := s.now()
		e := Entry{Kind: KindLock, Forest: forest, Name: "acquire", Actor: holder.Actor()}
		if cur != nil {
			refusal = &LockError{Info: *cur}
			e.Outcome, e.Reason = Refused, cur.describe()
			_, err := s.insert(t, &e)
			return err
		}
		l := &Lock{s: s, token: newToken(), Forest: forest, Holder: holder, Acquired: now, Expires: now.Add(ttl)}
		if _, err := t.Exec(`INSERT INTO locks (forest, holder, host, pid, token, acquired_ns, expires_ns) VALUES (?,?,?,?,?,?,?)`,
			forest, holder.Actor(), holder.Host, holder.PID, l.token, l.Acquired.UnixNano(), l.Expires.UnixNano()); err != nil {
			return err
		}
		e.Outcome = Allowed
		e.Reason = fmt.Sprintf("%s until %s", holder, l.Expires.Format(time.RFC3339))
		if _, err := s.insert(t, &e); err != nil {
			return err
		}
		lock = l
		return nil
	})
	if err != nil {
		return nil, err
	}
	if refusal != nil {
		return nil, refusal
	}
	return lock, nil
}

// LockStatus returns the lock of forest, or nil if none is held.
func (s *Store) LockStatus(forest string) (*LockInfo, error) {
	li, _, err := s.readLock(s.db, forest)
	if err != nil {
		return nil, s.wrap("read lock", err)
	}
	return li, nil
}

// Renew extends the lock to now+ttl. It fails with ErrLockLost if the lock was broken.
func (l *Lock) Renew(ttl time.Duration) error {
	if ttl <= 0 || ttl > MaxLockTTL {
		return fmt.Errorf("journal: renew lock: %w: ttl %s", ErrInvalid, ttl)
	}
	exp := l.s.now().Add(ttl)
	var lost error
	err := l.s.tx("renew lock", func(t *sql.Tx) error {
		res, err := t.Exec(`UPDATE locks SET expires_ns = ? WHERE forest = ? AND token = ?`, exp.UnixNano(), l.Forest, l.token)
		if err != nil {
			return err
		}
		e := Entry{Kind: KindLock, Forest: l.Forest, Name: "renew", Actor: l.Holder.Actor()}
		if n, _ := res.RowsAffected(); n == 0 {
			// recorded (committed): a run that lost its lock stops before its next change
			lost = fmt.Errorf("journal: lock of forest %q: %w", l.Forest, ErrLockLost)
			e.Outcome, e.Reason = Failed, "the lock is no longer held by "+l.Holder.String()+" (broken or taken over)"
			_, err := l.s.insert(t, &e)
			return err
		}
		e.Outcome, e.Reason = Succeeded, fmt.Sprintf("%s until %s", l.Holder, exp.Format(time.RFC3339))
		_, err = l.s.insert(t, &e)
		return err
	})
	if err != nil {
		return err
	}
	if lost != nil {
		return lost
	}
	l.Expires = exp
	return nil
}

// Check reports whether the lock is still held and unexpired: nil, ErrLockLost, or an error
// matching ErrStaleLock when its TTL has passed (Renew it before acting).
func (l *Lock) Check() error {
	cur, token, err := l.s.readLock(l.s.db, l.Forest)
	if err != nil {
		return l.s.wrap("check lock", err)
	}
	if cur == nil || token != l.token {
		return fmt.Errorf("journal: lock of forest %q: %w", l.Forest, ErrLockLost)
	}
	if cur.Stale {
		return fmt.Errorf("journal: lock of forest %q expired at %s: %w", l.Forest, cur.Expires.Format(time.RFC3339), ErrStaleLock)
	}
	return nil
}

// Release gives the lock up and records it. It fails with ErrLockLost if the lock was broken
// meanwhile (nothing is deleted then).
func (l *Lock) Release() error {
	return l.s.tx("release lock", func(t *sql.Tx) error {
		res, err := t.Exec(`DELETE FROM locks WHERE forest = ? AND token = ?`, l.Forest, l.token)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return keep(fmt.Errorf("journal: release lock of forest %q: %w", l.Forest, ErrLockLost))
		}
		_, err = l.s.insert(t, &Entry{Kind: KindLock, Forest: l.Forest, Name: "release", Actor: l.Holder.Actor(),
			Outcome: Succeeded, Reason: l.Holder.String()})
		return err
	})
}

// BreakLock removes the lock of forest on the explicit request of who, for reason, and
// records it. It refuses (ErrLockLive, recorded) a lock that has not expired unless its holder
// ran on this host and is gone. It returns the broken lock.
func (s *Store) BreakLock(forest, who, reason string) (LockInfo, error) {
	if strings.TrimSpace(who) == "" || strings.TrimSpace(reason) == "" {
		return LockInfo{}, fmt.Errorf("journal: break lock: %w: who and a reason are required", ErrInvalid)
	}
	var (
		broken  LockInfo
		refusal error
	)
	err := s.tx("break lock", func(t *sql.Tx) error {
		cur, _, err := s.readLock(t, forest)
		if err != nil {
			return err
		}
		if cur == nil {
			return keep(fmt.Errorf("journal: break lock of forest %q: %w", forest, ErrNoLock))
		}
		e := Entry{Kind: KindLock, Forest: forest, Name: "break", Actor: who}
		if !cur.Stale && !cur.HolderGone {
			refusal = fmt.Errorf("journal: break lock of forest %q: %w: %s; wait for it to expire", forest, ErrLockLive, cur.describe())
			e.Outcome, e.Reason = Refused, "lock is live, "+cur.describe()+"; requested: "+reason
			_, err := s.insert(t, &e)
			return err
		}
		if _, err := t.Exec(`DELETE FROM locks WHERE forest = ?`, forest); err != nil {
			return err
		}
		e.Outcome, e.Reason = Succeeded, reason+" (broke lock "+cur.describe()+")"
		if _, err := s.insert(t, &e); err != nil {
			return err
		}
		broken = *cur
		return nil
	})
	if err != nil {
		return LockInfo{}, err
	}
	if refusal != nil {
		return LockInfo{}, refusal
	}
	return broken, nil
}
