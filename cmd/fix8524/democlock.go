package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fix8524/fix8524/lab/scenario"
)

const demoClockUsage = "demo only: judge the playbook's change windows at `TIME` (RFC 3339, e.g. 2026-11-21T09:00:00Z, running on from there) instead of this machine's clock, to see the window gate refuse and admit"

// demoUsage documents --demo [SCENARIO] in a flag set's defaults (and so in completion). The
// commands take it out of the arguments before parsing (its value is optional), so the flag
// itself is never set.
func demoUsage(fs *flag.FlagSet) {
	fs.Bool("demo", false, "use the demo forest: an embedded scenario (`[SCENARIO]`: "+strings.Join(scenario.Names(), ", ")+"; default "+scenario.Default+") served on 127.0.0.1")
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
