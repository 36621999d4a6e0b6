package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// stateFlag is --state DIR, which approve, apply, heal, journal and show take.
type stateFlag struct {
	dir string
	// fromProfile: dir came from the profile, which the demo does not use.
	fromProfile bool
}

func (s *stateFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dir, "state", "", "state `DIR` holding the journal (default: $XDG_STATE_HOME/fix8524 or ~/.local/state/fix8524; %LOCALAPPDATA%\\fix8524 on Windows; for the demo, a temporary directory it names)")
}

// openFor opens the journal of --state DIR (which must exist: a typo must not scatter
// journals), else, for the demo (isDemo), the demo's own
// temporary state directory (said on w: the demo never writes the user's real state), else the
// per-user default.
func (s *stateFlag) openFor(e *env, isDemo bool, w io.Writer) (*journal.Store, error) {
	if s.dir != "" && !(isDemo && s.fromProfile) {
		if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("--state %s does not exist: create it (mkdir -p %s), or leave --state out to use the default directory", s.dir, s.dir)
		}
		return journal.Open(s.dir)
	}
	dir, err := s.defaultFor(e, isDemo)
	if err != nil {
		return nil, err
	}
	debugf(e, "state directory %s (default; demo: %v)", dir, isDemo)
	if isDemo {
		if err := makeDemoStateDir(dir, w); err != nil {
			return nil, err
		}
	}
	return journal.Create(dir)
}

// planJournal reads what the journal recorded about plan p (its entries, by fingerprint,
// oldest first): the journal of --state DIR, else, for a demo plan, the demo's state, else the
// default (show and report --journal). It changes nothing: a journal that is not there is not
// created (found is false); dir is where it was looked for.
func (s *stateFlag) planJournal(e *env, p *plan.Plan) (entries []journal.Entry, dir string, found bool, err error) {
	_, isDemo := demoPlan(p)
	dir = s.dir
	if isDemo && s.fromProfile {
		dir = "" // the demo never uses the real state
	}
	if dir == "" {
		if dir, err = s.defaultFor(e, isDemo); err != nil {
			return nil, "", false, err
		}
	}
	if _, err := os.Stat(filepath.Join(dir, journal.FileName)); errors.Is(err, fs.ErrNotExist) {
		return nil, dir, false, nil
	}
	j, err := journal.Open(dir)
	if err != nil {
		return nil, dir, false, err
	}
	defer j.Close()
	dir = j.Dir() // absolute
	entries, err = j.List(journal.Filter{PlanFingerprint: p.Fingerprint})
	return entries, dir, err == nil, err
}

// defaultFor is the state directory without --state.
func (s *stateFlag) defaultFor(e *env, isDemo bool) (string, error) {
	if isDemo {
		return demoStateDir(e), nil
	}
	return defaultStateDir(e)
}

// flag renders the state directory for a command shown to the user ("" for the default).
func (s *stateFlag) flag(e *env, isDemo bool, dir string) string {
	if !isDemo && s.fromProfile {
		return "" // the profile gives it again
	}
	if def, err := defaultStateDir(e); s.dir == "" && !isDemo && err == nil && def == dir {
		return ""
	}
	return " --state " + termtext.ShellWord(dir)
}

// defaultStateDir is journal.DefaultDir, read through the command's environment only: a test's
// environment never reaches the real home directory.
func defaultStateDir(e *env) (string, error) {
	return journal.DefaultDirFor(e.getenv)
}

func sanitizeName(s string) string {
	out := []rune{}
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return "user"
	}
	return string(out)
}

// journalErr says "journal: " once before a journal error, whether or not it says it already.
func journalErr(err error) string {
	return "journal: " + strings.TrimPrefix(err.Error(), "journal: ")
}
