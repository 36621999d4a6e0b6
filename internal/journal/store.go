package journal

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"modernc.org/sqlite"
)

// FileName is the journal database's name inside the state directory.
const FileName = "journal.db"

// Errors callers test with errors.Is. Every error this package returns wraps one of these or a
// plain cause with context.
var (
	ErrStateDirMissing  = errors.New("state directory does not exist")
	ErrStateDirReadOnly = errors.New("state directory is not writable")
	ErrDiskFull         = errors.New("disk full")
	ErrBusy             = errors.New("journal is busy (another fix8524 is writing)")
	ErrCorrupt          = errors.New("journal database is corrupt or not a journal")
	ErrNotFound         = errors.New("journal entry not found")
	ErrAlreadyFinished  = errors.New("action already finished")
	ErrInvalid          = errors.New("invalid journal entry")
)

// SQLite primary result codes (sqlite3.h).
const (
	sqliteBusy     = 5
	sqliteLocked   = 6
	sqliteReadOnly = 8
	sqliteIOErr    = 10
	sqliteCorrupt  = 11
	sqliteFull     = 13
	sqliteCantOpen = 14
	sqliteNotADB   = 26
)

// Store is an open journal. Its methods are safe for concurrent use; several processes may
// open the same directory (SQLite WAL, writes serialized by BEGIN IMMEDIATE).
type Store struct {
	dir  string
	path string
	db   *sql.DB

	mu      sync.Mutex
	secrets []string // registered secrets and their encodings, longest first
	runID   string
	actor   string
	clock   func() time.Time
}

// Open opens (creating the database file if needed) the journal in dir, which must exist and
// be writable. Errors wrap ErrStateDirMissing, ErrStateDirReadOnly, ErrDiskFull, ErrBusy or
// ErrCorrupt with the path.
func Open(dir string) (*Store, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("journal: no state directory given")
	}
	if strings.ContainsAny(dir, "?#\x00") {
		return nil, fmt.Errorf("journal: state directory %q: the characters ? # are not supported in its path", dir)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: state directory %s: %w", dir, err)
	}
	fi, err := os.Stat(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("journal: %s: %w (create it, or let fix8524 use its default)", abs, ErrStateDirMissing)
	case err != nil:
		return nil, fmt.Errorf("journal: state directory %s: %w", abs, err)
	case !fi.IsDir():
		return nil, fmt.Errorf("journal: state directory %s is not a directory", abs)
	}
	if err := probeWritable(abs); err != nil {
		return nil, err
	}
	s := &Store{dir: abs, path: filepath.Join(abs, FileName), clock: time.Now, runID: NewRunID(), actor: CurrentHolder().Actor()}
	// The journal names DCs, plans and reasons: readable by its owner only. SQLite creates the
	// -wal and -shm files with the database file's mode, so creating it 0600 covers all three.
	if f, err := os.OpenFile(s.path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, s.wrap("create", err)
	}
	dsn := s.path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=foreign_keys(1)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, s.wrap("open", err)
	}
	// One connection: writes are serialized in-process by it, and across processes by SQLite.
	db.SetMaxOpenConns(1)
	s.db = db
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// Create makes dir (mode 0700, parents as needed) if it is missing, then opens it.
func Create(dir string) (*Store, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, errors.New("journal: no state directory given")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if isReadOnlyErr(err) {
			return nil, fmt.Errorf("journal: create %s: %w: %v", dir, ErrStateDirReadOnly, err)
		}
		if errors.Is(err, syscall.ENOSPC) {
			return nil, fmt.Errorf("journal: create %s: %w", dir, ErrDiskFull)
		}
		return nil, fmt.Errorf("journal: create state directory: %w", err)
	}
	return Open(dir)
}

// probeWritable creates and removes a file, so a read-only directory is reported as such
// instead of as an obscure SQLite open error.
func probeWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".fix8524-probe-*")
	if err != nil {
		if isReadOnlyErr(err) {
			return fmt.Errorf("journal: %s: %w", dir, ErrStateDirReadOnly)
		}
		if errors.Is(err, syscall.ENOSPC) {
			return fmt.Errorf("journal: %s: %w", dir, ErrDiskFull)
		}
		return fmt.Errorf("journal: state directory %s: %w", dir, err)
	}
	name := f.Name()
	_, werr := f.Write([]byte{0})
	f.Close()
	os.Remove(name)
	if werr != nil && errors.Is(werr, syscall.ENOSPC) {
		return fmt.Errorf("journal: %s: %w", dir, ErrDiskFull)
	}
	return nil
}

func isReadOnlyErr(err error) bool {
	return errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM)
}

// Close closes the database. Committed entries are already durable.
func (s *Store) Close() error {
	if s == nil || s.db == nil {
		return nil
	}
	if err := s.db.Close(); err != nil {
		return s.wrap("close", err)
	}
	return nil
}

// Dir returns the state directory; Path the database file.
func (s *Store) Dir() string  { return s.dir }
func (s *Store) Path() string { return s.path }

// RunID returns the run id given to entries recorded without one; SetRunID replaces it (the
// apply or heal command sets its run's id once after Open).
func (s *Store) RunID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runID
}

// SetRunID sets the default run id.
func (s *Store) SetRunID(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id != "" {
		s.runID = id
	}
}

// SetActor sets the actor given to entries recorded without one (default: user@host of this
// process; heal sets "heal").
func (s *Store) SetActor(actor string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if actor != "" {
		s.actor = actor
	}
}

// SetClock replaces the time source (tests, deterministic replays).
func (s *Store) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now != nil {
		s.clock = now
	}
}

func (s *Store) now() time.Time {
	s.mu.Lock()
	c := s.clock
	s.mu.Unlock()
	return c().UTC()
}

// NewRunID returns a fresh run id: UTC time and 6 random bytes, e.g. 20250607T200000Z-1a2b3c4d5e6f.
func NewRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:])
}

func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// wrap adds context and classifies SQLite failures into the package's sentinel errors.
func (s *Store) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqliteFull:
			return fmt.Errorf("journal %s: %s: %w (nothing was recorded for this step)", s.path, op, ErrDiskFull)
		case sqliteReadOnly, sqliteCantOpen:
			return fmt.Errorf("journal %s: %s: %w: %v", s.path, op, ErrStateDirReadOnly, err)
		case sqliteBusy, sqliteLocked:
			return fmt.Errorf("journal %s: %s: %w", s.path, op, ErrBusy)
		case sqliteCorrupt, sqliteNotADB:
			return fmt.Errorf("journal %s: %s: %w: %v", s.path, op, ErrCorrupt, err)
		case sqliteIOErr:
			if errors.Is(err, syscall.ENOSPC) || strings.Contains(err.Error(), "disk is full") {
				return fmt.Errorf("journal %s: %s: %w", s.path, op, ErrDiskFull)
			}
		}
	}
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("journal %s: %s: %w", s.path, op, ErrDiskFull)
	}
	return fmt.Errorf("journal %s: %s: %w", s.path, op, err)
}

// tx runs f in one write transaction (BEGIN IMMEDIATE): all of f's writes are committed
// together or not at all.
func (s *Store) tx(op string, f func(*sql.Tx) error) error {
	ctx := context.Background()
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	if err := f(t); err != nil {
		_ = t.Rollback()
		var ke keptError
		if errors.As(err, &ke) {
			return ke.err
		}
		return s.wrap(op, err)
	}
	if err := t.Commit(); err != nil {
		_ = t.Rollback()
		return s.wrap(op+" (commit)", err)
	}
	return nil
}

// keptError marks an error from inside a transaction that is already final and must not be
// re-wrapped (refusals, validation errors).
type keptError struct{ err error }

func (k keptError) Error() string { return k.err.Error() }
func (k keptError) Unwrap() error { return k.err }

func keep(err error) error { return keptError{err} }

const schemaVersion = 1

const schema = `
CREATE TABLE entries (
	id               INTEGER PRIMARY KEY AUTOINCREMENT,
	run_id           TEXT    NOT NULL,
	time_ns          INTEGER NOT NULL,
	actor            TEXT    NOT NULL,
	kind             TEXT    NOT NULL CHECK (kind IN ('gate','action','verify','lock','note')),
	forest           TEXT    NOT NULL DEFAULT '',
	name             TEXT    NOT NULL,
	target           TEXT    NOT NULL DEFAULT '',
	link             TEXT    NOT NULL DEFAULT '',
	plan_fingerprint TEXT    NOT NULL DEFAULT '',
	outcome          TEXT    NOT NULL CHECK (outcome IN ('','allowed','refused','started','succeeded','failed','pending','skipped')),
	reason           TEXT    NOT NULL DEFAULT '',
	command          TEXT    NOT NULL DEFAULT '',
	exit_code        INTEGER,
	output_sha256    TEXT    NOT NULL DEFAULT '',
	output_excerpt   TEXT    NOT NULL DEFAULT '',
	verification     TEXT    NOT NULL DEFAULT '',
	error            TEXT    NOT NULL DEFAULT '',
	step_key         TEXT    NOT NULL DEFAULT '',
	ref              INTEGER REFERENCES entries(id)
);
CREATE INDEX entries_time   ON entries(time_ns, id);
CREATE INDEX entries_run    ON entries(run_id, id);
CREATE INDEX entries_ref    ON entries(ref);
CREATE INDEX entries_step   ON entries(step_key, id);
CREATE INDEX entries_scope  ON entries(forest, kind, time_ns);
CREATE TRIGGER entries_append_only_update BEFORE UPDATE ON entries
	BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END;
CREATE TRIGGER entries_append_only_delete BEFORE DELETE ON entries
	BEGIN SELECT RAISE(ABORT, 'journal entries are append-only'); END;
CREATE TABLE locks (
	forest      TEXT PRIMARY KEY,
	holder      TEXT    NOT NULL,
	host        TEXT    NOT NULL,
	pid         INTEGER NOT NULL,
	token       TEXT    NOT NULL,
	acquired_ns INTEGER NOT NULL,
	expires_ns  INTEGER NOT NULL
);
CREATE TABLE breakers (
	forest       TEXT PRIMARY KEY,
	open         INTEGER NOT NULL,
	changed_ns   INTEGER NOT NULL,
	reason       TEXT    NOT NULL,
	by           TEXT    NOT NULL,
	entry_id     INTEGER REFERENCES entries(id)
);
`

func (s *Store) migrate() error {
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return s.wrap("read schema version", err)
	}
	switch {
	case v == schemaVersion:
		return nil
	case v > schemaVersion:
		return fmt.Errorf("journal %s: schema version %d is newer than this fix8524 understands (%d); upgrade fix8524", s.path, v, schemaVersion)
	}
	return s.tx("create schema", func(t *sql.Tx) error {
		// Re-check inside the write lock: another process may have just created it.
		if err := t.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
			return err
		}
		if v == schemaVersion {
			return nil
		}
		var n int
		if err := t.QueryRow("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").Scan(&n); err != nil {
			return err
		}
		if n != 0 {
			return keep(fmt.Errorf("journal %s: %w: it has tables but no fix8524 schema version", s.path, ErrCorrupt))
		}
		if _, err := t.Exec(schema); err != nil {
			return err
		}
		_, err := t.Exec(fmt.Sprintf("PRAGMA user_version = %d", schemaVersion))
		return err
	})
}

// DefaultDir returns the per-user state directory fix8524 uses without --state:
//
//	Linux and other Unix: $XDG_STATE_HOME/fix8524, else ~/.local/state/fix8524
//	macOS:                ~/Library/Application Support/fix8524
//	Windows:              %LOCALAPPDATA%\fix8524
//
// It does not create the directory (Create does).
func DefaultDir() (string, error) {
	return defaultDir(runtime.GOOS, os.Getenv, os.UserHomeDir)
}

// DefaultDirFor is DefaultDir read from getenv alone (the home directory is $HOME, or
// %USERPROFILE% on Windows), so that a caller with its own environment (tests) never reaches
// the process's real home.
func DefaultDirFor(getenv func(string) string) (string, error) {
	return defaultDir(runtime.GOOS, getenv, func() (string, error) {
		if h := getenv("HOME"); h != "" {
			return h, nil
		}
		if h := getenv("USERPROFILE"); h != "" {
			return h, nil
		}
		return "", errors.New("no $HOME")
	})
}

func defaultDir(goos string, getenv func(string) string, home func() (string, error)) (string, error) {
	const app = "fix8524"
	switch goos {
	case "windows":
		if d := getenv("LOCALAPPDATA"); d != "" {
			return filepath.Join(d, app), nil
		}
		return "", errors.New("journal: %LOCALAPPDATA% is not set; pass --state DIR")
	case "darwin", "ios":
		h, err := home()
		if err != nil || h == "" {
			return "", errors.New("journal: no home directory; pass --state DIR")
		}
		return filepath.Join(h, "Library", "Application Support", app), nil
	}
	if d := getenv("XDG_STATE_HOME"); d != "" && filepath.IsAbs(d) {
		return filepath.Join(d, app), nil
	}
	h, err := home()
	if err != nil || h == "" {
		return "", errors.New("journal: no home directory and no $XDG_STATE_HOME; pass --state DIR")
	}
	return filepath.Join(h, ".local", "state", app), nil
}
