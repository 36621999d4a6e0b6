package main

// The demo forest, as the CLI sees it. `--demo [SCENARIO]` runs plan, gather, apply and heal
// against an embedded scenario's simulated forest on 127.0.0.1 (lab/demo, lab/scenario); a
// plan made from it says so in its facts source. This file is the only one of the CLI that
// imports the lab: the commands ask it which scenarios there are (demoScenarios), whether a
// plan was made from the demo (demoPlan), for the demo's facts (connFlags.demoGather) and for a
// demo forest to apply and heal (newDemoForest), and for --clock (demoClock).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/lab/demo"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
)

// demoScenarios are the names --demo takes, and the scenario it runs without one.
func demoScenarios() (names []string, def string) { return scenario.Names(), scenario.Default }

// demoScenariosLine is the usage line that lists them.
func demoScenariosLine() string {
	names, def := demoScenarios()
	return fmt.Sprintf("\nScenarios: %s (default %s)", strings.Join(names, ", "), def)
}

// demoPlan returns the scenario a plan was made from, when it was made from the demo forest.
func demoPlan(p *plan.Plan) (scenario string, ok bool) { return demo.ScenarioOf(p.Facts.Source) }

// newDemoForest returns the named scenario's demo forest, started broken (again: for the plan
// made from it) on first use, which it says on progress; with c, the forest is gathered with
// c's demo settings (demoSettings). The caller closes it.
func newDemoForest(name string, c *connFlags, progress io.Writer, again bool) (forest, func() error, error) {
	started := "started broken"
	if again {
		started += " again"
	}
	lz := &demo.Lazy{Name: name, OnStart: func(*demo.Demo) {
		fmt.Fprintf(progress, "Demo forest %q %s: LDAP and DNS simulated on 127.0.0.1, one WS-Management server per Windows DC.\n", name, started)
	}}
	if c != nil {
		set, err := c.demoSettings()
		if err != nil {
			return nil, nil, err
		}
		lz.Settings = set
	}
	return lz, lz.Close, nil
}

// demoSettings are the connection flags that mean the same for the demo forest as for a real
// one: --inventory (it replaces the scenario's own) and --assume-self-dns.
func (c *connFlags) demoSettings() (demo.GatherSettings, error) {
	set := demo.GatherSettings{AssumeSelfDNS: c.assumeSelf}
	if c.inventory != "" {
		inv, diags := inventory.Load(c.inventory)
		if diags.HasErrors() {
			return set, fmt.Errorf("--inventory: %s", diags.Error())
		}
		set.Inventory = inv
	}
	return set, nil
}

// demoGather serves the scenario as the demo forest on loopback and gathers from it the
// observations pb's checks need (`plan --demo`, `gather --demo`), with c's demo settings. It
// is the gathering `apply --demo`'s drift check and heal do through the demo forest, stamped
// with the scenario's clock, so that a demo plan is not refused for drift it does not have.
func (c *connFlags) demoGather(ctx context.Context, pb *engine.Playbook, name string) (*facts.Snapshot, error) {
	set, err := c.demoSettings()
	if err != nil {
		return nil, err
	}
	return demo.GatherForPlanWith(ctx, name, pb, set)
}

// demoVarsNote says which variables the scenario's expected diagnoses assume (its vars: the
// -var arguments an operator would give, such as decommissioned) that the command line does not
// set, and how to set them; "" when none is missing or when a -var-file may set them.
func demoVarsNote(name string, pf *playbookFlags) string {
	if len(pf.varFiles) > 0 {
		return ""
	}
	sc, err := scenario.Load(name)
	if err != nil {
		return ""
	}
	given := map[string]bool{}
	for _, kv := range pf.vars {
		n, _, _ := strings.Cut(kv, "=")
		given[strings.TrimSpace(n)] = true
	}
	var missing []string
	for _, kv := range sc.Vars {
		if n, _, _ := strings.Cut(kv, "="); !given[strings.TrimSpace(n)] {
			missing = append(missing, "-var "+termtext.ShellWord(kv))
		}
	}
	if len(missing) == 0 {
		return ""
	}
	return fmt.Sprintf("Scenario %s assumes %s (the operator's declaration); give it to see the diagnosis the scenario describes. This plan shows what the forest alone shows.",
		sc.Name, strings.Join(missing, " "))
}

const demoClockUsage = "demo only: judge the playbook's change windows at `TIME` (RFC 3339, e.g. 2026-11-21T09:00:00Z, running on from there) instead of this machine's clock, to see the window gate refuse and admit"

// demoUsage documents --demo [SCENARIO] in a flag set's defaults (and so in completion). The
// commands take it out of the arguments before parsing (its value is optional), so the flag
// itself is never set.
func demoUsage(fs *flag.FlagSet) {
	names, def := demoScenarios()
	fs.Bool("demo", false, "use the demo forest: an embedded scenario (`[SCENARIO]`: "+strings.Join(names, ", ")+"; default "+def+") served on 127.0.0.1")
}

// demoClock parses --clock: the clock the demo's change windows are judged by (nil: the wall
// clock). It starts at TIME and runs on.
func demoClock(s string, isDemo bool) (func() time.Time, error) {
	if s == "" {
		return nil, nil
	}
	if !isDemo {
		return nil, fmt.Errorf("--clock is for the demo only: a real forest's change windows are judged by this machine's clock")
	}
	at, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return nil, fmt.Errorf("--clock %q: want a time like 2026-11-21T09:00:00Z (RFC 3339, with a zone)", s)
	}
	start := time.Now()
	return func() time.Time { return at.Add(time.Since(start)) }, nil
}

// sayDemoWindows tells the user that the demo enforces the playbook's change windows, and by
// which clock.
func sayDemoWindows(w io.Writer, clock string, emergency bool) {
	by := "this machine's clock (--clock TIME judges them at another time)"
	if clock != "" {
		by = "--clock " + clock
	}
	if emergency {
		fmt.Fprintf(w, "Demo: the playbook's change windows are overridden by --emergency (recorded).\n")
		return
	}
	fmt.Fprintf(w, "Demo: the playbook's change windows are enforced, judged by %s; --emergency --reason TEXT acts outside them.\n", by)
}

// demoStateDir is the demo's state directory: one per user in the temporary directory
// ($TMPDIR, %TEMP%), so that approve, apply --demo, heal --demo, show and journal --demo share
// it across runs without touching the user's real state.
func demoStateDir(e *env) string {
	base := ""
	for _, k := range []string{"TMPDIR", "TEMP", "TMP"} {
		if base = e.getenv(k); base != "" {
			break
		}
	}
	if base == "" {
		base = os.TempDir()
	}
	who := strconv.Itoa(os.Getuid())
	if os.Getuid() < 0 {
		who = sanitizeName(e.getenv("USERNAME"))
	}
	return filepath.Join(base, "fix8524-demo-"+who)
}

// makeDemoStateDir creates the demo's state directory (0700), or checks that the one there is
// a directory of this user that only this user can write (the temporary directory is shared),
// and says on w (when not nil) that the demo keeps its state there.
func makeDemoStateDir(dir string, w io.Writer) error {
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("the demo's state directory: %w", err)
	} else if err != nil {
		fi, err := os.Lstat(dir)
		if err != nil {
			return fmt.Errorf("the demo's state directory: %w", err)
		}
		if !fi.IsDir() || !privateToMe(fi) {
			return fmt.Errorf("%s is not a private directory of yours: remove it, or give the demo --state DIR", dir)
		}
	}
	if w != nil {
		fmt.Fprintf(w, "Demo state (journal, lock): %s, a temporary directory, not your real state (--state DIR to choose).\n", dir)
	}
	return nil
}
