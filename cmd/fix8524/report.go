package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/atomicfile"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/report"
)

func init() {
	register(&command{name: "report", summary: "write a saved plan as one self-contained HTML page (topology drawn) or as Markdown for a change ticket", run: runReport})
}

func runReport(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "report",
		"Usage: fix8524 report PLAN.json [--journal [--state DIR]] [-o FILE] [--format html|markdown]",
		"\nReads only the plan file, its approval file (PLAN.json.approval.json) and, with --journal, the",
		"journal: no network. The HTML page is one file that loads nothing; Markdown suits a change ticket.",
	)
	out := fs.String("o", "", "write the report to `FILE` (default: standard output); .md or .markdown picks Markdown")
	format := fs.String("format", "", "`FORMAT` of the report: html or markdown (default: from -o's extension, else html)")
	withJournal := fs.Bool("journal", false, "also show what the journal recorded for this plan (apply, heal)")
	var st stateFlag
	st.register(fs)
	var prof profileFlag
	prof.register(fs)
	planPath, rest := splitPositional(args)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if planPath == "" && fs.NArg() > 0 {
		planPath = fs.Arg(0)
		if err := fs.Parse(fs.Args()[1:]); err != nil {
			return exitError
		}
	}
	if planPath == "" || fs.NArg() > 0 {
		fs.Usage()
		return exitError
	}
	set, err := prof.apply(e, fs)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 report:", err)
		return exitError
	}
	st.fromProfile = set["state"] // --journal reads the profile's state directory, as show does
	f := *format
	if f == "" {
		f = report.FormatOf(*out)
	}
	if f != report.FormatHTML && f != report.FormatMarkdown && f != "md" {
		fmt.Fprintf(e.stderr, "fix8524 report: --format %q: want html or markdown\n", f)
		return exitError
	}
	// The plan file is untrusted: a regular file, size-bounded (internal/inputfile), parsed
	// strictly.
	p, raw, err := plan.Read(planPath)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 report:", err)
		return exitError
	}
	in := report.Input{Plan: p, PlanFile: filepath.Base(planPath), Approval: approvalState(planPath, raw, p, time.Now())}
	if *withJournal {
		j, err := readJournal(e, &st, p)
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 report:", err)
			return exitError
		}
		in.Journal = j
	}
	b, err := report.Render(f, in)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 report:", err)
		return exitError
	}
	if *out == "" || *out == "-" {
		if _, err := e.stdout.Write(b); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 report:", err)
			return exitError
		}
		return exitOK
	}
	if err := writeReportFile(*out, b); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 report:", err)
		return exitError
	}
	fmt.Fprintf(e.stderr, "Wrote the report to %s\n", *out)
	return exitOK
}

// approvalState is what the plan's approval file says about it now.
func approvalState(planPath string, raw []byte, p *plan.Plan, now time.Time) *report.Approval {
	a, err := approval.Load(planPath)
	if err != nil {
		if r, ok := approval.ReasonOf(err); ok && r == approval.ReasonNone {
			return &report.Approval{Status: report.ApprovalMissing}
		}
		return &report.Approval{Status: report.ApprovalRefused, Problem: err.Error()}
	}
	st := &report.Approval{By: a.By, At: a.At, Expires: a.Expires, Reason: a.Reason, KeyID: a.KeyID, Status: report.ApprovalValid}
	if err := approval.Verify(raw, p.Fingerprint, a, now, nil); err != nil {
		st.Status, st.Problem = report.ApprovalRefused, err.Error()
	}
	return st
}

// readJournal reads what the journal recorded about p, as show does (stateFlag.planJournal).
func readJournal(e *env, st *stateFlag, p *plan.Plan) (*report.Journal, error) {
	entries, dir, found, err := st.planJournal(e, p)
	switch {
	case err != nil:
		return nil, fmt.Errorf("--journal: %w", err)
	case !found:
		return nil, fmt.Errorf("--journal: no journal in %s (give --state DIR)", termtext.Escape(dir))
	}
	return &report.Journal{Source: "the journal in " + dir, Entries: entries}, nil
}

// writeReportFile writes a report atomically; it never replaces anything but a regular file
// (internal/atomicfile).
func writeReportFile(path string, b []byte) error {
	return atomicfile.Write(path, b, 0o644)
}

// writePlanReport writes the report of a plan just made (plan --report); planFile is the plan
// file written beside it, if any. A new plan has no approval yet.
func writePlanReport(path, planFile string, p *plan.Plan) error {
	in := report.Input{Plan: p, Approval: &report.Approval{Status: report.ApprovalMissing}}
	if planFile != "" {
		in.PlanFile = filepath.Base(planFile)
	}
	b, err := report.Render(report.FormatOf(path), in)
	if err != nil {
		return err
	}
	return writeReportFile(path, b)
}
