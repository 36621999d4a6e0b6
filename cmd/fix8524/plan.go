package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

func init() {
	register(&command{name: "plan", summary: "diagnose failing links and propose actions and manual steps (a true preview)", run: runPlan})
}

// planOpts says what to do with a plan once it is made.
type planOpts struct {
	pb     *engine.Playbook
	out    string // -o FILE: write the plan JSON (what approve and apply read)
	asJSON bool   // --json: print the plan JSON on stdout instead of the human view
	report string // --report FILE: write the report (HTML, or Markdown for .md)
	full   bool   // --full: evidence and parameters uncut
	now    time.Time
	// requireComplete: a partial read (a DC not read) exits 1 instead of 2.
	requireComplete bool
}

func runPlan(ctx context.Context, e *env, args []string) int {
	args, demo, demoName := takeOptionalArg(args, "demo")
	fs := newFlags(e, "plan",
		"Usage: fix8524 plan (--dc HOST [connection flags] | --facts FILE | --demo [SCENARIO]) [--playbooks DIR] [-o plan.json] [--json] [--report FILE] [-var NAME=VALUE] [-var-file FILE]",
		demoScenariosLine(),
		"Exit codes: 0 nothing to do, 2 actions or manual steps proposed (or facts to gather, or a partial read:",
		"a DC could not be read), 1 error (a partial read too with --require-complete).",
	)
	var pf playbookFlags
	pf.register(fs)
	factsFile := fs.String("facts", "", "plan from a facts snapshot `FILE` (from fix8524 gather; - for stdin)")
	out := fs.String("o", "", "write the plan JSON to `FILE` (what approve and apply read)")
	asJSON := fs.Bool("json", false, "print the plan as JSON (schema: plan/README.md) instead of the human view")
	reportFile := fs.String("report", "", "also write the plan as a report to `FILE`: one HTML page with the topology drawn, or Markdown for .md (see fix8524 report)")
	full := fs.Bool("full", false, "print evidence and action parameters uncut (the human view clips long lines)")
	requireComplete := fs.Bool("require-complete", false, "exit 1 when the read is partial (a DC could not be read), instead of 2")
	live := addLiveFlags(fs)
	var prof profileFlag
	prof.register(fs)
	demoUsage(fs)
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	if !demo && *factsFile == "" {
		// Without another source, the profile's seed DC: a live plan.
		if _, err := prof.apply(e, fs); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 plan:", err)
			return exitError
		}
	}
	sources := 0
	for _, given := range []bool{demo, *factsFile != "", live.requested()} {
		if given {
			sources++
		}
	}
	if sources != 1 {
		fmt.Fprintln(e.stderr, "fix8524 plan: give exactly one of --dc HOST, --facts FILE or --demo [SCENARIO]")
		return exitError
	}
	pb, ok := pf.loadFor(e)
	if !ok {
		return exitError
	}
	debugPlaybook(e, pb)
	var s *facts.Snapshot
	var err error
	t0 := time.Now()
	switch {
	case demo:
		// The scenario served as a simulated forest on loopback, gathered over LDAP and DNS.
		if note := demoVarsNote(demoName, &pf); note != "" && !e.quiet {
			fmt.Fprintln(e.stderr, note)
		}
		s, err = live.conn.demoGather(ctx, pb, demoName)
	case live.requested():
		s, err = live.gather(ctx, e, pb)
	default:
		s, err = readFacts(e, *factsFile)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 plan:", err)
		return exitError
	}
	debugf(e, "facts from %s (gathered %s): %d DC(s), %d link(s), %d DNS and %d TCP observation(s), %d problem(s), read in %s",
		s.Source, s.GatheredAt.UTC().Format(time.RFC3339), len(s.DCs), len(s.Links), len(s.DNS), len(s.Reach), len(s.Problems), time.Since(t0).Round(time.Millisecond))
	return planFromFacts(ctx, e, s, planOpts{pb: pb, out: *out, asJSON: *asJSON, full: *full, report: *reportFile, now: time.Now(), requireComplete: *requireComplete})
}

func readFacts(e *env, path string) (*facts.Snapshot, error) {
	if path == "-" {
		return facts.Decode(e.stdin)
	}
	f, err := inputfile.Open(path, "facts", facts.MaxSnapshotBytes)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := facts.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// planFromFacts plans, writes -o, prints the human view or JSON, and returns the exit code:
// 0 nothing to do, 2 something proposed (actions, manual steps, or facts to gather), 1 error.
// `plan --dc HOST` calls it with the facts it gathered.
func planFromFacts(_ context.Context, e *env, s *facts.Snapshot, o planOpts) int {
	p, err := engine.MakePlan(o.pb, s, engine.PlanOptions{Now: o.now})
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 plan:", err)
		return exitError
	}
	if o.out != "" {
		if err := plan.Write(o.out, p); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 plan:", err)
			return exitError
		}
	}
	if o.report != "" {
		if err := writePlanReport(o.report, o.out, p); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 plan:", err)
			return exitError
		}
	}
	if o.asJSON {
		if err := plan.Encode(e.stdout, p); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 plan:", err)
			return exitError
		}
	} else {
		c := paint(e, e.stdout)
		c.full = o.full
		writePlanText(e.stdout, p, c)
		if !e.quiet {
			writePlanNext(e.stdout, p, o.out)
		}
		if o.report != "" {
			fmt.Fprintf(e.stdout, "Wrote the report to %s\n", o.report)
		}
	}
	if p.Summary.Partial {
		// A partial read says nothing about the links of the DCs it could not read: never
		// "nothing to do".
		fmt.Fprintf(e.stderr, "fix8524 plan: partial read: %d DC(s) could not be read (%s); their links are unknown\n",
			p.Summary.DCsNotRead, termtext.Line(p.Coverage.Names(), 2000))
		if o.requireComplete {
			return exitError
		}
		return exitProposed
	}
	if planProposes(p) || len(p.Unmatched) > 0 {
		// Failing links the playbook does not handle still need a person to look at them.
		return exitProposed
	}
	return exitOK
}

// writePlanNext says what to do with the plan: save, approve and apply it (with --demo for a
// demo plan), or nothing when it proposes no action.
func writePlanNext(w io.Writer, p *plan.Plan, out string) {
	if out != "" {
		fmt.Fprintf(w, "\nSaved the plan to %s (fix8524 show %s prints it again).", out, termtext.ShellWord(out))
	}
	switch {
	case p.Summary.Actions == 0 && planProposes(p):
		fmt.Fprintln(w, "\nNothing to approve or apply: the plan proposes no action; what it holds is for a person.")
	case p.Summary.Actions == 0:
		if out != "" {
			fmt.Fprintln(w)
		}
	case out != "":
		fmt.Fprintf(w, "\nNext: fix8524 approve %s --by NAME, then %s\n", termtext.ShellWord(out), applyCommand(out, p, ""))
	default:
		fmt.Fprintf(w, "\nNext: save it (the same command with -o plan.json), then fix8524 approve plan.json --by NAME and %s\n", applyCommand("plan.json", p, ""))
	}
}

func planProposes(p *plan.Plan) bool {
	for _, f := range p.Findings {
		if f.Status != plan.FindingDiagnosed || len(f.Actions) > 0 || len(f.Manual) > 0 {
			return true
		}
	}
	return false
}
