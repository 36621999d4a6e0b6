package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

func init() {
	register(&command{name: "apply", summary: "apply an approved plan (or plan, show and ask for --dc HOST): gates, actions, verification, journal", run: runApply})
}

// stdinIsTerminal says whether approve-by-typing is possible (tests replace it).
var stdinIsTerminal = func(e *env) bool {
	f, ok := e.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

type applyFlags struct {
	conn       connFlags
	transport  transportFlags
	state      stateFlag
	playbooks  playbookFlags
	demo       bool
	trustKeys  string
	emergency  bool
	reason     string
	verifyTime time.Duration
	lockTTL    time.Duration
	asJSON     bool
	clock      string
	tlsSet     bool // --tls was given
	prof       profileFlag
}

func (af *applyFlags) register(fs *flag.FlagSet) {
	af.conn.register(fs)
	af.transport.register(fs)
	af.state.register(fs)
	af.playbooks.register(fs)
	fs.BoolVar(&af.demo, "demo", false, "apply to the demo forest the plan was made from (started broken again, healed over WS-Management on 127.0.0.1)")
	fs.StringVar(&af.trustKeys, "trust-keys", "", "require approvals signed by a key in `FILE` (authorized_keys lines); unsigned or unknown keys are refused")
	fs.BoolVar(&af.emergency, "emergency", false, "apply outside every change window (needs --reason; recorded)")
	fs.StringVar(&af.reason, "reason", "", "why this is an emergency (`TEXT`)")
	fs.DurationVar(&af.verifyTime, "verify-timeout", 0, "how long to wait for each action's verification (`DURATION`; default: the action's verify_timeout, 5m)")
	fs.DurationVar(&af.lockTTL, "lock-ttl", apply.DefaultLockTTL, "time to live of the forest lock (`DURATION`), renewed before every step")
	fs.BoolVar(&af.asJSON, "json", false, "print the result as JSON on stdout (progress goes to stderr)")
	fs.StringVar(&af.clock, "clock", "", demoClockUsage)
	af.prof.register(fs)
}

func runApply(ctx context.Context, e *env, args []string) int {
	var af applyFlags
	fs := newFlags(e, "apply",
		"Usage: fix8524 apply PLAN [--demo] [--state DIR] [--trust-keys FILE] [--emergency --reason TEXT] [--verify-timeout 5m] [connection and transport flags]",
		"       fix8524 apply --dc HOST [connection and transport flags]   (plan, show, ask for 'yes', apply)",
		"\nRefuses (exit 3) without a valid approval (on a terminal it asks for a typed 'yes' instead), with an",
		"expired one or one for another plan, one already used by an apply that ended (approvals are single-use; an",
		"interrupted apply is resumed with it), when the plan changed since approval, when the facts drifted, outside",
		"every change window (unless --emergency --reason), with --trust-keys and an unsigned or unknown key, and",
		"while another run holds the forest's lock. Exit codes: 0 healed or nothing to do, 1 failed or pending, 3 refused.",
	)
	af.register(fs)
	planPath, code, ok := parseFlagsArg(e, fs, args)
	if !ok {
		return code
	}
	fail := func(err error) int {
		fmt.Fprintln(e.stderr, "fix8524 apply:", err)
		return exitError
	}
	if !af.demo {
		// The profile's seed DC is where a saved plan's fresh facts come from; without a plan
		// it would start an interactive apply, which takes --dc on purpose.
		var skip []string
		if planPath == "" {
			skip = append(skip, "dc")
		}
		if _, err := af.prof.apply(e, fs, skip...); err != nil {
			return fail(err)
		}
	}
	af.tlsSet = flagSet(fs, "tls")
	if err := af.check(planPath); err != nil {
		return fail(err)
	}
	windowClock, err := demoClock(af.clock, af.demo)
	if err != nil {
		return fail(err)
	}
	progress := e.stdout
	if af.asJSON {
		progress = e.stderr
	}
	progress = e.progress(progress)

	pb, ok := af.playbooks.loadFor(e)
	if !ok {
		return exitError
	}
	debugPlaybook(e, pb)
	var trust *approval.TrustSet
	if af.trustKeys != "" {
		if trust, err = approval.LoadTrust(af.trustKeys); err != nil {
			return fail(fmt.Errorf("--trust-keys: %w", err))
		}
	}
	// The plan is read before the journal is opened: a file that is no plan creates nothing.
	pl, planBytes, tampered, err := readApplyPlan(planPath)
	if err != nil {
		return fail(err)
	}
	scenarioName, isDemoPlan := "", false
	if pl != nil {
		scenarioName, isDemoPlan = demoPlan(pl)
	}
	switch {
	case af.demo && pl != nil && !isDemoPlan:
		return fail(fmt.Errorf("--demo: this plan was made from %s, not from the demo forest", pl.Facts.Source))
	case isDemoPlan && !af.demo:
		return fail(fmt.Errorf("this plan was made from the demo forest (%s): apply it with --demo", pl.Facts.Source))
	}
	j, err := af.state.openFor(e, af.demo, progress)
	if err != nil {
		return fail(errors.New(journalErr(err)))
	}
	defer j.Close()
	if tampered {
		code, _ := refuseTampered(e, j, planPath, planBytes)
		return code
	}

	o := apply.Options{Playbook: pb, Journal: j, Out: progress, Emergency: af.emergency, EmergencyReason: af.reason,
		VerifyTimeout: af.verifyTime, LockTTL: af.lockTTL}
	f, closeForest, err := af.forest(e, j, pl, scenarioName, progress)
	if err != nil {
		return fail(err)
	}
	defer closeForest()
	o.Facts, o.Exec = f, f
	if af.demo {
		o.WindowClock = windowClock
		sayDemoWindows(progress, af.clock, af.emergency)
	}

	return af.run(ctx, e, o, pl, planBytes, planPath, trust)
}

// run applies the plan (apply --dc HOST: plans first, and asks), with the approvals of the
// files beside it or a typed 'yes', and prints the result.
func (af *applyFlags) run(ctx context.Context, e *env, o apply.Options, pl *plan.Plan, planBytes []byte, planPath string, trust *approval.TrustSet) int {
	ask := (func(string) (bool, error))(nil)
	if stdinIsTerminal(e) && trust == nil {
		ask = typedYes(e)
	}
	livePlanned := pl == nil
	if pl == nil {
		// apply --dc HOST: plan now, show it, and keep it next to the journal.
		var code int
		pl, planBytes, planPath, code = planLive(ctx, e, o.Facts, o.Playbook, o.Journal.Dir())
		if pl == nil {
			return code
		}
		if ask == nil {
			return refuseUntyped(e, o.Journal, pl, planPath, af.conn.dc, trust != nil)
		}
	}
	o.Plan, o.PlanBytes, o.PlanPath = pl, planBytes, planPath
	o.Approvals = &ttyApprovals{file: apply.FileApprovals{PlanPath: planPath, Trust: trust}, ask: ask, e: e, plan: pl, showPlan: !livePlanned}

	res, err := apply.Run(ctx, o)
	if af.asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(res)
	} else {
		writeResult(e.stdout, res, colorFor(e, e.stdout), af.state.flag(e, af.demo, o.Journal.Dir()))
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 apply:", err)
		return exitError
	}
	return res.ExitCode()
}

// check refuses flags that do not go together.
func (af *applyFlags) check(planPath string) error {
	switch {
	case planPath == "" && af.conn.dc == "":
		return errors.New("give a plan file (fix8524 plan -o FILE, then fix8524 approve FILE --by NAME), or --dc HOST to plan and apply interactively")
	case planPath == "" && af.demo:
		return errors.New("--demo applies a saved demo plan: fix8524 plan --demo -o p.json; fix8524 approve p.json --by NAME; fix8524 apply p.json --demo")
	case af.emergency && strings.TrimSpace(af.reason) == "":
		return errors.New("--emergency needs --reason TEXT (it is recorded in the journal)")
	}
	return nil
}

// readApplyPlan reads the plan file ("" reads nothing: apply --dc plans). A plan whose bytes
// are not the ones its approval approved is not parsed (tampered): refuseTampered says why.
func readApplyPlan(planPath string) (pl *plan.Plan, b []byte, tampered bool, err error) {
	if planPath == "" {
		return nil, nil, false, nil
	}
	b, err = inputfile.ReadFile(planPath, "plan", plan.MaxBytes)
	if err != nil {
		return nil, nil, false, err
	}
	if changedSinceApproval(planPath, b) {
		return nil, b, true, nil
	}
	pl, err = plan.Parse(b)
	if err != nil {
		return nil, nil, false, fmt.Errorf("%s: %w", planPath, err)
	}
	return pl, b, false, nil
}

// forest returns where the apply's fresh facts come from and its actions go: the demo forest
// the plan was made from, or the live forest of the flags (the plan's seed DC unless --dc).
func (af *applyFlags) forest(e *env, j *journal.Store, pl *plan.Plan, scenarioName string, progress io.Writer) (forest, func() error, error) {
	if af.demo {
		return newDemoForest(scenarioName, &af.conn, progress, true)
	}
	if af.conn.dc == "" {
		af.conn.dc = seedOf(pl)
	}
	if af.conn.dc == "" {
		return nil, nil, errors.New("give --dc HOST: the DC to gather fresh facts from (the plan does not name one)")
	}
	l, err := newLive(e, &af.conn, &af.transport, af.tlsSet, j)
	if err != nil {
		return nil, nil, err
	}
	return l.forest(), func() error { return nil }, nil
}

// refuseUntyped refuses the plan apply --dc made when nobody can type 'yes': it says how to
// approve and apply the saved plan, and journals the refusal.
func refuseUntyped(e *env, j *journal.Store, pl *plan.Plan, planPath, dc string, trustKeys bool) int {
	reason := "stdin is not a terminal, so nobody can type 'yes'"
	if trustKeys {
		reason = "--trust-keys requires a signed approval"
	}
	fmt.Fprintf(e.stderr, "fix8524 apply: refused: no approval (%s). Approve the saved plan and apply it:\n  fix8524 approve %s --by NAME\n  fix8524 apply %s --dc %s\n",
		reason, termtext.ShellWord(planPath), termtext.ShellWord(planPath), termtext.ShellWord(dc))
	for _, out := range []journal.Outcome{journal.Started, journal.Refused} {
		en := journal.Entry{Kind: journal.KindGate, Name: "approval", Forest: apply.ForestOf(pl), PlanFingerprint: pl.Fingerprint, Outcome: out}
		if out == journal.Refused {
			en.Reason = "no approval: " + reason
		}
		_, _ = j.Record(en)
	}
	return exitRefused
}

// changedSinceApproval reports whether the plan file has an approval whose digest differs
// from its bytes.
func changedSinceApproval(planPath string, b []byte) bool {
	a, err := approval.Load(planPath)
	return err == nil && a != nil && approval.Digest(b) != a.PlanDigest
}

// refuseTampered refuses, before parsing, a plan whose bytes differ from the ones its sidecar
// approval approved: a tampered plan gets that message even when it no longer parses.
func refuseTampered(e *env, j *journal.Store, planPath string, b []byte) (int, bool) {
	a, err := approval.Load(planPath)
	if err != nil || a == nil {
		return 0, false // no (valid) approval: the approval gate reports it
	}
	if d := approval.Digest(b); d != a.PlanDigest {
		x, y := approval.Shorten(d, a.PlanDigest)
		reason := fmt.Sprintf("approval refused: plan changed after approval: %s has digest %s, %s approved %s",
			termtext.Escape(planPath), x, termtext.Escape(a.By), y)
		if p, err := plan.Parse(b); err == nil && p.Fingerprint != a.PlanFingerprint {
			// Not an edit of the approved plan: another plan (the approval of one plan file
			// left next to another).
			x, y := approval.Shorten(a.PlanFingerprint, p.Fingerprint)
			reason = fmt.Sprintf("approval refused: approval is for another plan: %s approved plan %s, %s is plan %s",
				termtext.Escape(a.By), x, termtext.Escape(planPath), y)
		}
		do := apply.ApprovalAdvice(planPath, "", reason)
		_, _ = j.Record(journal.Entry{Kind: journal.KindGate, Name: "approval", Outcome: journal.Started, Target: planPath})
		_, _ = j.Record(journal.Entry{Kind: journal.KindGate, Name: "approval", Outcome: journal.Refused, Reason: reason + " — to do: " + do, Target: planPath,
			PlanFingerprint: a.PlanFingerprint})
		fmt.Fprintln(e.stderr, "fix8524 apply: refused:", reason)
		fmt.Fprintln(e.stderr, "  What to do:", do)
		return exitRefused, true
	}
	return 0, false
}

// seedOf returns the seed DC of a live plan ("ldap://HOST" source, or its seed DC).
func seedOf(p *plan.Plan) string {
	if h, ok := strings.CutPrefix(p.Facts.Source, "ldap://"); ok && h != "" {
		return h
	}
	return p.Facts.SeedDC
}

// planLive gathers, plans, prints and saves the plan of `apply --dc HOST`. A nil plan means
// stop with the returned code.
func planLive(ctx context.Context, e *env, f gather.Source, pb *engine.Playbook, stateDir string) (*plan.Plan, []byte, string, int) {
	s, err := gather.Complete(ctx, f, pb.Needs)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 apply:", err)
		return nil, nil, "", exitError
	}
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: time.Now()})
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 apply:", err)
		return nil, nil, "", exitError
	}
	writePlanText(e.stdout, p, paint(e, e.stdout))
	if p.Summary.Actions == 0 {
		fmt.Fprintln(e.stdout, "\nNothing to apply.")
		if planProposes(p) || p.Summary.Partial {
			return nil, nil, "", exitProposed
		}
		return nil, nil, "", exitOK
	}
	dir := filepath.Join(stateDir, "plans")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 apply:", err)
		return nil, nil, "", exitError
	}
	path := filepath.Join(dir, "plan-"+time.Now().UTC().Format("20060102T150405Z")+".json")
	if err := plan.Write(path, p); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 apply:", err)
		return nil, nil, "", exitError
	}
	b, err := inputfile.ReadFile(path, "plan", plan.MaxBytes)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 apply:", err)
		return nil, nil, "", exitError
	}
	fmt.Fprintf(e.stdout, "\nSaved the plan to %s.\n", path)
	return p, b, path, exitOK
}

// typedYes asks on the terminal and accepts only "yes", as terraform does.
func typedYes(e *env) func(string) (bool, error) {
	var once sync.Once
	var rd *bufio.Reader
	return func(question string) (bool, error) {
		once.Do(func() { rd = bufio.NewReader(e.stdin) })
		fmt.Fprintf(e.stderr, "\n%s\n  Only 'yes' will be accepted.\n\n  Enter a value: ", question)
		line, err := rd.ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("reading the answer: %w", err)
		}
		return strings.TrimSpace(line) == "yes", nil
	}
}

// ttyApprovals reads approvals from the files next to the plan and, where there is none and a
// terminal is attached (and signatures are not required), asks for a typed "yes".
type ttyApprovals struct {
	file     apply.FileApprovals
	ask      func(string) (bool, error)
	e        *env
	plan     *plan.Plan
	showPlan bool // show the plan before asking (apply --dc has shown it already)
}

func (t *ttyApprovals) ApprovePlan(ctx context.Context, req apply.Request) (apply.Grant, error) {
	g, err := t.file.ApprovePlan(ctx, req)
	if !errors.Is(err, approval.ErrNoApproval) || t.ask == nil {
		return g, err
	}
	if t.showPlan {
		writePlanText(t.e.stderr, req.Plan, paint(t.e, t.e.stderr))
	}
	fmt.Fprintf(t.e.stderr, "\nNo approval file for %s (%d action(s), fingerprint %s).\n", req.PlanPath, req.Plan.Summary.Actions, req.Plan.Fingerprint)
	ok, aerr := t.ask("Do you want to perform these actions?\n  fix8524 will perform the actions of the plan above, verify each, and journal every step.")
	if aerr != nil {
		return apply.Grant{}, aerr
	}
	if !ok {
		return apply.Grant{}, &approval.RefusalError{Reason: approval.ReasonNone, Detail: "the answer at the terminal was not 'yes'"}
	}
	who := journal.CurrentHolder().Actor()
	return apply.Grant{By: who, How: "approved by " + who + " typing 'yes' at a terminal"}, nil
}

func (t *ttyApprovals) ApproveAction(ctx context.Context, req apply.Request, a plan.Action, explicit bool) (apply.Grant, error) {
	g, err := t.file.ApproveAction(ctx, req, a, explicit)
	if !explicit || !errors.Is(err, approval.ErrNoApproval) || t.ask == nil {
		return g, err
	}
	ok, aerr := t.ask(fmt.Sprintf("Action %s needs its own approval:\n  %s", a.ID, actions.Display(a)))
	if aerr != nil {
		return apply.Grant{}, aerr
	}
	if !ok {
		return apply.Grant{}, &approval.RefusalError{Reason: approval.ReasonNone, Detail: a.ID + ": the answer at the terminal was not 'yes'"}
	}
	who := journal.CurrentHolder().Actor()
	return apply.Grant{By: who, How: "approved on its own by " + who + " typing 'yes' at a terminal"}, nil
}

// --- the result for people ---

func writeResult(w io.Writer, r apply.Result, color bool, stateArg string) {
	r = escapedResult(r)
	c := painter{on: color}
	b := bufio.NewWriter(w)
	defer b.Flush()
	fmt.Fprintln(b)
	for _, rf := range r.Refusals {
		fmt.Fprintf(b, "%s by the %s gate: %s\n", c.red("Refused"), rf.Gate, rf.Reason)
		if rf.Do != "" {
			fmt.Fprintf(b, "  What to do: %s\n", rf.Do)
		}
	}
	for _, f := range r.Findings {
		mark := outcomeColor(c, f.Outcome)
		fmt.Fprintf(b, "%s %s", mark, c.bold(f.ID))
		if f.Decision != "" {
			fmt.Fprintf(b, " (%s)", f.Decision)
		}
		if f.Reason != "" {
			fmt.Fprintf(b, ": %s", f.Reason)
		}
		fmt.Fprintln(b)
		for _, s := range f.Steps {
			fmt.Fprintf(b, "    %s %s on %s", outcomeColor(c, s.Outcome), s.Name, s.Target)
			if s.ExitCode != nil {
				fmt.Fprintf(b, " (exit %d)", *s.ExitCode)
			}
			if s.Verification != "" {
				fmt.Fprintf(b, ": %s", termtext.Clip(s.Verification, 300))
			} else if s.Reason != "" {
				fmt.Fprintf(b, ": %s", termtext.Clip(s.Reason, 300))
			}
			fmt.Fprintln(b)
		}
		if f.Confirmed != "" {
			fmt.Fprintf(b, "    replication: %s\n", f.Confirmed)
		}
		for _, l := range f.Leftovers {
			fmt.Fprintf(b, "    leftover: %s", l.What)
			if l.Note != "" {
				fmt.Fprintf(b, " (%s)", l.Note)
			}
			fmt.Fprintln(b)
			for _, cmd := range l.PowerShell {
				fmt.Fprintf(b, "      %s %s\n", c.dim("PS>"), cmd)
			}
			for _, cmd := range l.POSIX {
				fmt.Fprintf(b, "      %s %s\n", c.dim("$"), cmd)
			}
		}
		if f.Outcome != apply.Skipped || len(f.Steps) > 0 {
			for i, m := range f.Manual {
				fmt.Fprintf(b, "    manual %d: %s\n", i+1, m.Title)
			}
		}
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "note: %s\n", n)
	}
	verdict := map[journal.Outcome]string{
		apply.Succeeded: c.green("Apply succeeded: every action verified, replication confirmed."),
		apply.Nothing:   c.green("Nothing to apply."),
		apply.Refused:   c.red("Apply refused: nothing was changed by the refused steps."),
		apply.Failed:    c.red("Apply failed."),
		apply.Pending:   c.yellow("Apply pending: changes ran but are not verified yet; apply the same plan again later to re-check."),
	}[r.Outcome]
	if verdict == "" {
		verdict = "Apply: " + string(r.Outcome)
	}
	if r.Outcome == apply.Succeeded {
		skipped := 0
		for _, f := range r.Findings {
			for _, s := range f.Steps {
				if s.Outcome == apply.Skipped {
					skipped++
				}
			}
		}
		if skipped > 0 {
			verdict = c.green(fmt.Sprintf("Apply succeeded: every action that ran verified, %d skipped as already in effect (re-checked), replication confirmed.", skipped))
		}
	}
	fmt.Fprintf(b, "\n%s\n", verdict)
	if r.RunID != "" {
		fmt.Fprintf(b, "Journal: fix8524 journal --run %s%s\n", r.RunID, termtext.Escape(stateArg))
	}
}

// escapedResult returns a copy of r with every string escaped for the terminal.
func escapedResult(r apply.Result) apply.Result {
	b, err := json.Marshal(r)
	var c apply.Result
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return apply.Result{Outcome: r.Outcome, RunID: termtext.Escape(r.RunID)}
	}
	termtext.EscapeAll(&c)
	return c
}

func outcomeColor(c painter, o journal.Outcome) string {
	switch o {
	case apply.Succeeded:
		return c.green("[" + string(o) + "]")
	case apply.Failed, apply.Refused:
		return c.red("[" + string(o) + "]")
	case apply.Pending:
		return c.yellow("[" + string(o) + "]")
	}
	return c.dim("[" + string(o) + "]")
}
