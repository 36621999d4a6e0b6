package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"

	"github.com/fix8524/fix8524/engine/journal"
)

// stateFlag is --state DIR, which approve, apply, heal and journal take.
type stateFlag struct{ dir string }

func (s *stateFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&s.dir, "state", "", "state `DIR` holding the journal (default: $XDG_STATE_HOME/fix8524 or ~/.local/state/fix8524; %LOCALAPPDATA%\\fix8524 on Windows)")
}

// open opens the journal. The default directory is created on first use; a --state DIR that
// does not exist is an error (a typo must not scatter journals).
func (s *stateFlag) open(e *env) (*journal.Store, error) {
	if s.dir == "" {
		dir, err := defaultStateDir(e)
		if err != nil {
			return nil, err
		}
		return journal.Create(dir)
	}
	if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("--state %s does not exist: create it (mkdir -p %s), or leave --state out to use the default directory", s.dir, s.dir)
	}
	return journal.Open(s.dir)
}

// defaultStateDir is journal.DefaultDir, read through the command's environment.
func defaultStateDir(e *env) (string, error) {
	if e.getenv != nil {
		if d := e.getenv("XDG_STATE_HOME"); d != "" && len(d) > 0 && d[0] == '/' {
			return d + "/fix8524", nil
		}
	}
	return journal.DefaultDir()
}
