package main

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/termtext"
)

func init() {
	register(&command{name: "journal", summary: "show the journal of gates and actions; show or break a forest lock", run: runJournal})
}

func runJournal(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "journal",
		"Usage: fix8524 journal [--state DIR] [--json] [--since 24h] [--run ID|last] [--forest F] [--target DC] [--kind K,...] [--limit N]",
		"       fix8524 journal --lock-status FOREST [--state DIR]",
		"       fix8524 journal --break-lock FOREST --reason TEXT [--by NAME] [--state DIR]",
		"\nEvery gate decision and every action of approve, apply and heal, before and after.",
		"A forest's lock is never taken over automatically: a lock left by a killed run is released only by --break-lock.",
	)
	var st stateFlag
	st.register(fs)
	var prof profileFlag
	prof.register(fs)
	demoState := fs.Bool("demo", false, "the demo's journal (its temporary state directory, where apply --demo, heal --demo and approving a demo plan record)")
	asJSON := fs.Bool("json", false, "print the entries as JSON (schema fix8524.journal/v1)")
	since := fs.String("since", "", "only entries since `WHEN`: a duration back (24h, 7d), a date or an RFC 3339 time")
	run := fs.String("run", "", "only the entries of run `ID`; \"last\" for the latest run")
	forest := fs.String("forest", "", "only the entries of `FOREST`")
	target := fs.String("target", "", "only the entries about `DC`")
	kinds := fs.String("kind", "", "only these kinds (`LIST` of gate, action, verify, lock, note)")
	limit := fs.Int("limit", 1000, "show at most the newest `N` entries (0: all)")
	breakLock := fs.String("break-lock", "", "release the lock of `FOREST` held by a run that is gone (needs --reason; recorded)")
	reason := fs.String("reason", "", "why the lock is broken (`TEXT`)")
	by := fs.String("by", "", "who breaks the lock (`NAME`; default user@host)")
	lockStatus := fs.String("lock-status", "", "show who holds the lock of `FOREST`")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if !*demoState {
		if _, err := prof.apply(e, fs); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 journal:", err)
			return exitError
		}
	}
	if *demoState && st.dir != "" {
		fmt.Fprintln(e.stderr, "fix8524 journal: give --demo or --state DIR, not both")
		return exitError
	}
	f := journal.Filter{Forest: *forest, Target: *target, Limit: *limit}
	if *since != "" {
		t, err := journal.ParseSince(*since, time.Now())
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 journal:", strings.TrimPrefix(err.Error(), "journal: "))
			return exitError
		}
		f.Since = t
	}
	if *kinds != "" {
		for _, k := range strings.Split(*kinds, ",") {
			k := journal.Kind(strings.TrimSpace(k))
			if !slices.Contains(journal.Kinds, k) {
				names := make([]string, len(journal.Kinds))
				for i, x := range journal.Kinds {
					names[i] = string(x)
				}
				fmt.Fprintf(e.stderr, "fix8524 journal: --kind %s: the journal's kinds are %s (several: --kind gate,action)\n", k, strings.Join(names, ", "))
				return exitError
			}
			f.Kinds = append(f.Kinds, k)
		}
	}
	if st.dir == "" && !*demoState && *breakLock == "" {
		// Reading the default journal never creates the state directory.
		if dir, err := defaultStateDir(e); err == nil {
			if _, err := os.Stat(dir); errors.Is(err, iofs.ErrNotExist) {
				if *lockStatus != "" {
					fmt.Fprintf(e.stdout, "%s is not locked (no journal in %s yet).\n", *lockStatus, dir)
				} else {
					fmt.Fprintf(e.stdout, "No journal entries (no journal in %s yet: nothing was approved, applied or healed with this state).\n", dir)
				}
				return exitOK
			}
		}
	}
	j, err := st.openFor(e, *demoState, nil)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 journal:", strings.TrimPrefix(err.Error(), "journal: "))
		return exitError
	}
	defer j.Close()

	switch {
	case *breakLock != "":
		if strings.TrimSpace(*reason) == "" {
			fmt.Fprintln(e.stderr, "fix8524 journal: --break-lock needs --reason TEXT (it is recorded)")
			return exitError
		}
		who := *by
		if who == "" {
			who = journal.CurrentHolder().Actor()
		}
		li, err := j.BreakLock(*breakLock, who, *reason)
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 journal:", strings.TrimPrefix(err.Error(), "journal: "))
			if errors.Is(err, journal.ErrLockLive) {
				return exitRefused
			}
			return exitError
		}
		fmt.Fprintf(e.stdout, "Broke the lock of %s (it was held by %s since %s). Recorded with the reason %q.\n",
			*breakLock, li.Holder, li.Acquired.Format(time.RFC3339), *reason)
		return exitOK
	case *lockStatus != "":
		li, err := j.LockStatus(*lockStatus)
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 journal:", strings.TrimPrefix(err.Error(), "journal: "))
			return exitError
		}
		if li == nil {
			fmt.Fprintf(e.stdout, "%s is not locked.\n", *lockStatus)
			return exitOK
		}
		state := "live, expires " + li.Expires.Format(time.RFC3339)
		if li.Stale {
			state = "STALE since " + li.Expires.Format(time.RFC3339)
		}
		if li.HolderGone {
			state += "; its process is gone"
		}
		fmt.Fprintf(e.stdout, "%s is locked by %s since %s (%s).\n", *lockStatus, li.Holder, li.Acquired.Format(time.RFC3339), state)
		if li.Stale || li.HolderGone {
			fmt.Fprintf(e.stdout, "Release it, if no fix8524 works on %s any more: fix8524 journal --break-lock %s --reason TEXT\n", *lockStatus, termtext.ShellWord(*lockStatus))
		}
		return exitOK
	}

	switch *run {
	case "":
	case "last":
		last, err := j.List(journal.Filter{Limit: 1, Kinds: []journal.Kind{journal.KindGate, journal.KindAction}})
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 journal:", strings.TrimPrefix(err.Error(), "journal: "))
			return exitError
		}
		if len(last) == 0 {
			fmt.Fprintln(e.stdout, "The journal has no runs.")
			return exitOK
		}
		f.RunID = last[0].RunID
	default:
		f.RunID = *run
	}
	entries, err := j.List(f)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 journal:", strings.TrimPrefix(err.Error(), "journal: "))
		return exitError
	}
	if *asJSON {
		if err := journal.WriteJSON(e.stdout, entries); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 journal:", strings.TrimPrefix(err.Error(), "journal: "))
			return exitError
		}
		return exitOK
	}
	if len(entries) == 0 {
		fmt.Fprintf(e.stdout, "No journal entries (journal %s).\n", j.Path())
		return exitOK
	}
	if err := journal.WriteTable(e.stdout, entries); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 journal:", strings.TrimPrefix(err.Error(), "journal: "))
		return exitError
	}
	noun := "entries"
	if len(entries) == 1 {
		noun = "entry"
	}
	fmt.Fprintf(e.stdout, "\n%d %s from %s\n", len(entries), noun, j.Path())
	return exitOK
}
