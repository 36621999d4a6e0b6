package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/metrics"
	"github.com/fix8524/fix8524/internal/notify"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

func init() {
	register(&command{name: "heal", summary: "scheduled self-healing: gather, plan, apply what the heal policy allows unattended, escalate the rest", run: runHeal})
}

type healFlags struct {
	conn      connFlags
	transport transportFlags
	state     stateFlag
	playbooks playbookFlags

	policy             string
	every              time.Duration
	metricsListen      string
	metricsAllowRemote bool
	metricsTextfile    string
	escalateDir        string
	verifyTime         time.Duration
	lockTTL            time.Duration

	emergency       bool
	resetBreaker    bool
	requireComplete bool
	reason          string
	by              string
	forest          string
	clock           string
	prof            profileFlag
}

// healHooks let tests replace the clock and the waits of apply (nil: real ones), and learn
// the metrics address of loop mode.
var healHooks struct {
	now       func() time.Time
	sleep     func(ctx context.Context, d time.Duration) error
	listening func(addr string)
}

var healExitMeaning = map[int]string{
	exitOK:       "healthy or healed",
	exitError:    "error",
	exitProposed: "a human is needed",
	exitRefused:  "refused by a guardrail",
}

func (hf *healFlags) register(fl *flag.FlagSet) {
	hf.conn.register(fl)
	hf.transport.register(fl)
	hf.state.register(fl)
	hf.playbooks.register(fl)
	fl.StringVar(&hf.policy, "policy", "", "heal policy `FILE` (HCL); without it the built-in default applies (low risk only, cooldowns, small caps)")
	fl.BoolVar(&hf.requireComplete, "require-complete", false, "a partial read (a DC could not be read) is an error: apply nothing, exit 1 (without it: heal what was read, exit 2)")
	fl.DurationVar(&hf.every, "every", 0, "loop mode: run every `DURATION` (with jitter) until SIGTERM; without it, one run")
	fl.StringVar(&hf.metricsListen, "metrics-listen", "", "loop mode: serve Prometheus metrics on `ADDR` (e.g. "+metrics.DefaultListen+"; loopback only unless --metrics-allow-remote)")
	fl.BoolVar(&hf.metricsAllowRemote, "metrics-allow-remote", false, "let --metrics-listen use a non-loopback address (the endpoint has no authentication)")
	fl.StringVar(&hf.metricsTextfile, "metrics-textfile", "", "write the metrics after each run to `FILE.prom` for node_exporter's textfile collector")
	fl.StringVar(&hf.escalateDir, "escalate-dir", "", "save the plans that need a human in `DIR` (default: <state>/escalations)")
	fl.DurationVar(&hf.verifyTime, "verify-timeout", 0, "how long to wait for each action's verification (`DURATION`; default: the action's verify_timeout)")
	fl.DurationVar(&hf.lockTTL, "lock-ttl", apply.DefaultLockTTL, "time to live of apply's forest lock (`DURATION`), renewed before every step")
	fl.BoolVar(&hf.emergency, "emergency", false, "heal outside the playbook's change windows (needs --reason; recorded; the policy's own windows still apply)")
	fl.BoolVar(&hf.resetBreaker, "reset-breaker", false, "close an open circuit breaker (needs --reason; recorded in the journal with who)")
	fl.StringVar(&hf.reason, "reason", "", "why (`TEXT`, recorded): the breaker may close (--reset-breaker), or heal must act outside the playbook's windows (--emergency)")
	fl.StringVar(&hf.by, "by", "", "who resets the breaker (`NAME`; default user@host)")
	fl.StringVar(&hf.forest, "forest", "", "the `FOREST` whose breaker --reset-breaker closes (default: the one open breaker)")
	fl.StringVar(&hf.clock, "clock", "", demoClockUsage)
	hf.prof.register(fl)
	demoUsage(fl)
}

func runHeal(ctx context.Context, e *env, args []string) int {
	args, isDemo, demoName := takeOptionalArg(args, "demo")
	var hf healFlags
	fl := newFlags(e, "heal",
		"Usage: fix8524 heal --dc HOST [connection and transport flags] [--policy FILE] [--state DIR]",
		"                    [--every DURATION [--metrics-listen ADDR [--metrics-allow-remote]]] [--metrics-textfile FILE.prom]",
		"                    [--escalate-dir DIR] [--emergency --reason TEXT]",
		"       fix8524 heal --demo [SCENARIO] [--policy FILE] [--state DIR] ...   (the demo forest, started broken)",
		"       fix8524 heal --reset-breaker --reason TEXT [--by NAME] [--forest FOREST] [--state DIR]",
		demoScenariosLine(),
		"\nOne run: gather, plan, auto-approve only what the policy allows, apply with the gates, verification and",
		"journal of a human apply; save the rest as a plan for a human (fix8524 approve, then apply) and notify.",
		"Exit codes: 0 healthy or healed, 2 a human is needed, 3 refused by a guardrail, 1 error.",
	)
	hf.register(fl)
	if code, ok := parseFlags(e, fl, args); !ok {
		return code
	}
	if !isDemo {
		if _, err := hf.prof.apply(e, fl); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 heal:", err)
			return exitError
		}
	}
	fail := func(format string, args ...any) int {
		fmt.Fprintf(e.stderr, "fix8524 heal: "+format+"\n", termtext.Args(args)...)
		return exitError
	}
	if hf.resetBreaker {
		return resetBreaker(e, &hf, isDemo)
	}
	if msg := hf.check(isDemo); msg != "" {
		return fail("%s", msg)
	}
	windowClock, err := demoClock(hf.clock, isDemo)
	if err != nil {
		return fail("%v", err)
	}
	var ln net.Listener
	if hf.metricsListen != "" {
		if ln, err = metrics.Listen(hf.metricsListen, hf.metricsAllowRemote); err != nil {
			return fail("%v", err)
		}
		defer func() { _ = ln.Close() }()
	}
	pb, pol, ok := hf.load(e)
	if !ok {
		return exitError
	}
	j, err := hf.state.openFor(e, isDemo, e.progress(e.stdout))
	if err != nil {
		return fail("%s", journalErr(err))
	}
	debugPlaybook(e, pb)
	defer j.Close()

	out := &lockedWriter{w: e.stdout}
	progress := e.progress(out) // the run's progress; its report (writeHealReport) is not quiet
	o := heal.Options{Policy: pol, Playbook: pb, Journal: j, EscalateDir: hf.escalateDir, Out: progress,
		VerifyTimeout: hf.verifyTime, LockTTL: hf.lockTTL, GatherTimeout: hf.conn.timeout,
		Notifier:  &notify.Sender{Getenv: e.getenv, Logf: func(format string, args ...any) { fmt.Fprintf(out, format+"\n", termtext.Args(args)...) }},
		Emergency: hf.emergency, EmergencyReason: hf.reason, RequireComplete: hf.requireComplete,
		Now: healHooks.now, Sleep: healHooks.sleep}
	if h, err := os.Hostname(); err == nil {
		o.Host = h
	}
	if isDemo {
		name := demoName
		if name == "" {
			_, name = demoScenarios()
		}
		df, closeDemo, _ := newDemoForest(name, nil, progress, false)
		defer closeDemo()
		o.Facts, o.Exec, o.WindowClock, o.Forest = df, df, windowClock, "demo:"+name
		sayDemoWindows(progress, hf.clock, hf.emergency)
	} else {
		lv, err := newLive(e, &hf.conn, &hf.transport, flagSet(fl, "tls"), j)
		if err != nil {
			return fail("%v", err)
		}
		f := lv.forest()
		o.Facts, o.Exec, o.Forest = f, f, hf.conn.dc
	}

	m, err := metrics.New(metrics.Options{})
	if err != nil {
		return fail("%v", err)
	}
	if hf.metricsTextfile != "" {
		if t, err := metrics.LastSuccessFromTextfile(hf.metricsTextfile); err == nil {
			m.SetLastSuccess(t)
		} else if !errors.Is(err, fs.ErrNotExist) {
			fmt.Fprintf(e.stderr, "fix8524 heal: note: %v\n", err)
		}
	}
	once := func(ctx context.Context) int {
		r := heal.Run(ctx, o)
		writeHealReport(out, paint(e, e.stdout), r, &hf, isDemo, j.Dir())
		m.RecordRun(r.MetricsRun())
		if hf.metricsTextfile != "" {
			if err := m.WriteTextfile(hf.metricsTextfile); err != nil {
				fmt.Fprintf(e.stderr, "fix8524 heal: --metrics-textfile: %v\n", err)
			}
		}
		if r.Err != nil {
			fmt.Fprintf(e.stderr, "fix8524 heal: %s\n", termtext.Escape(r.Err.Error()))
		}
		return r.ExitCode()
	}
	if hf.every == 0 {
		return once(ctx)
	}
	return healLoop(ctx, e, out, hf.every, once, m, ln)
}

// check refuses flags that do not go together ("" when they do).
func (hf *healFlags) check(isDemo bool) string {
	switch {
	case hf.by != "" || hf.forest != "":
		return "--by and --forest go with --reset-breaker"
	case hf.emergency && strings.TrimSpace(hf.reason) == "":
		return "--emergency needs --reason TEXT (it is recorded in the journal)"
	case hf.reason != "" && !hf.emergency:
		return "--reason goes with --reset-breaker or --emergency"
	case isDemo && hf.conn.dc != "":
		return "give --dc HOST or --demo [SCENARIO], not both"
	case !isDemo && hf.conn.dc == "":
		return "give --dc HOST (the DC to read the forest from), or --demo [SCENARIO]"
	case hf.every != 0 && hf.every < heal.MinEvery:
		return fmt.Sprintf("--every %s: the interval must be at least %s", hf.every, heal.MinEvery)
	case hf.metricsListen != "" && hf.every == 0:
		return "--metrics-listen serves metrics in loop mode (--every); one run writes them with --metrics-textfile"
	case hf.metricsTextfile != "" && !strings.HasSuffix(hf.metricsTextfile, ".prom"):
		return fmt.Sprintf("--metrics-textfile %s: the textfile collector reads only files ending in .prom", hf.metricsTextfile)
	}
	return ""
}

// load loads the playbook and the heal policy, checked against each other; their diagnostics
// are printed, and ok is false when either has errors.
func (hf *healFlags) load(e *env) (pb *engine.Playbook, pol *policy.Policy, ok bool) {
	pb, ok = hf.playbooks.loadFor(e)
	if !ok {
		return nil, nil, false
	}
	pol, notice, pdiags := policy.LoadOrDefault(hf.policy)
	if pol != nil {
		pdiags = append(pdiags, heal.Lint(pol, pb)...)
	}
	if len(pdiags) > 0 {
		fmt.Fprint(e.stderr, policy.FormatDiagnostics(pdiags))
	}
	if pdiags.HasErrors() || pol == nil {
		return nil, nil, false
	}
	if notice != "" {
		notef(e, e.stderr, "fix8524 heal: %s\n", notice)
	}
	return pb, pol, true
}

// healLoop runs once every interval (with jitter) until ctx ends, serving the metrics on ln
// (when given) meanwhile.
func healLoop(ctx context.Context, e *env, out io.Writer, every time.Duration, once func(context.Context) int, m *metrics.Metrics, ln net.Listener) int {
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	if ln != nil {
		addr := ln.Addr().String()
		fmt.Fprintf(out, "heal: serving metrics on http://%s/metrics\n", addr)
		if healHooks.listening != nil {
			healHooks.listening(addr)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := m.Serve(ctx, ln); err != nil {
				fmt.Fprintf(e.stderr, "fix8524 heal: metrics: %v\n", err)
			}
		}()
	}
	fmt.Fprintf(out, "heal: loop mode, one run every %s (with jitter) until stopped\n", every)
	err := heal.Loop{Every: every, Run: once, Logf: func(format string, args ...any) { fmt.Fprintf(out, format+"\n", termtext.Args(args)...) }}.Start(ctx)
	stop() // the metrics server ends with the loop
	wg.Wait()
	if err != nil {
		fmt.Fprintf(e.stderr, "fix8524 heal: %s\n", termtext.Escape(err.Error()))
		return exitError
	}
	fmt.Fprintln(out, "heal: stopped")
	return exitOK
}

// resetBreaker closes a circuit breaker on a human's request, recorded in the journal.
func resetBreaker(e *env, hf *healFlags, isDemo bool) int {
	if strings.TrimSpace(hf.reason) == "" {
		fmt.Fprintln(e.stderr, "fix8524 heal: --reset-breaker needs --reason TEXT (it is recorded in the journal)")
		return exitError
	}
	j, err := hf.state.openFor(e, isDemo, e.stdout)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 heal:", journalErr(err))
		return exitError
	}
	defer j.Close()
	who := hf.by
	if who == "" {
		who = journal.CurrentHolder().Actor()
	}
	forest := hf.forest
	if forest == "" {
		open, err := heal.OpenBreakers(j)
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 heal:", err)
			return exitError
		}
		switch len(open) {
		case 0:
			fmt.Fprintf(e.stdout, "No circuit breaker is open (journal %s). Nothing was changed.\n", j.Path())
			return exitOK
		case 1:
			forest = open[0].Forest
		default:
			var names []string
			for _, b := range open {
				names = append(names, b.Forest)
			}
			fmt.Fprintf(e.stderr, "fix8524 heal: the breakers of %s are open: say which with --forest FOREST\n", strings.Join(names, ", "))
			return exitError
		}
	}
	before, err := j.Breaker(forest)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 heal:", err)
		return exitError
	}
	if _, err := j.ResetBreaker(forest, hf.reason, who); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 heal:", err)
		return exitError
	}
	if before.Open {
		fmt.Fprintf(e.stdout, "Closed the circuit breaker of %s (open since %s: %s).\n", forest, before.Since.Format(time.RFC3339), before.Reason)
	} else {
		fmt.Fprintf(e.stdout, "The circuit breaker of %s was not open.\n", forest)
	}
	fmt.Fprintf(e.stdout, "Recorded in the journal: breaker-reset by %s, reason %q.\n", who, hf.reason)
	return exitOK
}

// writeHealReport renders one run for people.
func writeHealReport(w io.Writer, c painter, r *heal.Report, hf *healFlags, isDemo bool, stateDir string) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	b := termWriter{bw}
	b.printf("\n")
	for _, oc := range r.Outcomes {
		b.printf("  %-9s %s on %s", oc.Outcome, oc.Candidate.ID, oc.Candidate.Target)
		if oc.Outcome != policy.OutcomeSucceeded && oc.Reason != "" {
			b.printf(": %s", termtext.Clip(oc.Reason, 300))
		}
		b.printf("\n")
	}
	for _, v := range r.Verdicts {
		if v.Approved {
			continue
		}
		what := "held"
		if v.Class == policy.ClassGuardrail {
			what = "refused"
		}
		b.printf("  %-9s %s on %s (%s): %s\n", what, v.Candidate.ID, v.Candidate.Target, v.Hold, termtext.Clip(v.Reason, 300))
	}
	if r.Locked != "" {
		b.printf("Refused: another heal run works on this forest: %s\n", r.Locked)
		b.printf("  What to do: let it finish (fix8524 journal --lock-status %s --state %s says who holds it); the next scheduled run starts afresh\n",
			termtext.ShellWord(heal.LockPrefix+r.Forest), termtext.ShellWord(stateDir))
	}
	if r.Breaker.Open || r.Summary.BreakerOpen {
		b.printf("Circuit breaker OPEN: %s\n", r.Breaker.Reason)
		b.printf("  What to do: find why the verifications failed (fix8524 journal --kind verify --state %s), then fix8524 heal --reset-breaker --reason TEXT\n", termtext.ShellWord(stateDir))
	}
	if r.EscalationPath != "" {
		p := termtext.ShellWord(r.EscalationPath)
		state := " --state " + termtext.ShellWord(stateDir)
		b.printf("Plan for a human: %s\n", r.EscalationPath)
		actions := writeHeld(bw, c, r)
		if r.EscalationReport != "" {
			b.printf("  read it in a browser:  %s\n", r.EscalationReport)
		}
		b.printf("  review it:             fix8524 show %s%s\n", p, state)
		if actions > 0 {
			b.printf("  approve it:            fix8524 approve %s --by NAME%s", p, state)
			for _, v := range r.Verdicts {
				if v.Hold == policy.HoldNever || v.Hold == policy.HoldBlocked && strings.Contains(v.Reason, "requires_approval_each") {
					b.printf(" --allow-each %s", termtext.ShellWord(v.Candidate.ID))
				}
			}
			b.printf("\n")
			src := "--demo"
			if !isDemo {
				src = "--dc " + termtext.ShellWord(hf.conn.dc)
			}
			b.printf("  then apply it:         fix8524 apply %s %s%s\n", p, src, state)
		} else {
			b.printf("  It proposes no action: nothing to approve or apply; the manual steps above are for a person.\n")
		}
	}
	notified(b, r.Event, r.Notified, r.NotifyQuiet)
	notified(b, notify.EventWarning, r.WarningsNotified, r.WarningsQuiet)
	code := r.ExitCode()
	b.printf("heal: exit %d (%s): %s\n", code, healExitMeaning[code], r.Summary.String())
	if r.RunID != "" {
		b.printf("Journal: fix8524 journal --run %s --state %s\n", r.RunID, termtext.ShellWord(stateDir))
	}
}

// writeHeld prints, for each finding of the run's plan that was not healed, its diagnosis, why
// heal held it and its manual steps. It returns the held findings' actions.
func writeHeld(b *bufio.Writer, c painter, r *heal.Report) int {
	if r.Plan == nil {
		return 0
	}
	p := escapedPlan(r.Plan)      // every value from AD or the playbook, escaped for the terminal
	held := map[string][]string{} // finding id -> why its actions were held
	for _, v := range r.Verdicts {
		if !v.Approved {
			held[v.Candidate.Finding] = append(held[v.Candidate.Finding], fmt.Sprintf("%s held (%s): %s", termtext.Escape(v.Candidate.Action), termtext.Escape(v.Hold), termtext.Line(v.Reason, 300)))
		}
	}
	for _, oc := range r.Outcomes {
		if oc.Outcome != policy.OutcomeSucceeded {
			held[oc.Candidate.Finding] = append(held[oc.Candidate.Finding], fmt.Sprintf("%s %s: %s", termtext.Escape(oc.Candidate.Action), termtext.Escape(string(oc.Outcome)), termtext.Line(oc.Reason, 300)))
		}
	}
	healed := map[string]bool{}
	for _, id := range r.Healed {
		healed[id] = true
	}
	actions := 0
	for i := range p.Findings {
		// Verdicts and healed ids name findings by their raw ids: match them on the plan as
		// it is, print its escaped copy.
		id, f := r.Plan.Findings[i].ID, &p.Findings[i]
		if healed[id] {
			continue
		}
		actions += len(f.Actions)
		switch {
		case f.Decision != nil:
			fmt.Fprintf(b, "  %s: %s\n    %s\n", c.bold(f.ID), c.bold(f.Decision.Name), f.Decision.Cause)
		default:
			fmt.Fprintf(b, "  %s: %s %s\n", c.bold(f.ID), c.yellow("diagnosis incomplete:"), f.Incomplete)
		}
		var why []string
		switch {
		case f.Status != plan.FindingDiagnosed:
			why = append(why, "the diagnosis is incomplete: gather what it names, then plan again")
		case len(f.Actions) == 0:
			why = append(why, "the playbook proposes no action for it, only manual steps: a person must act")
		}
		if len(f.Assumptions) > 0 {
			why = append(why, "it rests on settings that were assumed, not read")
		}
		why = append(why, held[id]...)
		for _, w := range why {
			fmt.Fprintf(b, "    %s %s\n", c.yellow("held:"), w)
		}
		writeManual(b, c, f.Manual)
	}
	return actions
}

// termWriter prints lines whose arguments (names and text from AD, plans, policies) are
// escaped for the terminal.
type termWriter struct{ w io.Writer }

func (t termWriter) printf(format string, args ...any) {
	fmt.Fprintf(t.w, format, termtext.Args(args)...)
}

// lockedWriter serialises writes from the run and the notification logger.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// notified says what became of one notification event.
func notified(b termWriter, event string, results []notify.Result, quiet bool) {
	switch {
	case quiet:
		b.printf("Notification: not sent again (the same %s notification was delivered recently)\n", event)
	case len(results) > 0:
		var parts []string
		for _, n := range results {
			switch {
			case n.Skipped:
				parts = append(parts, n.Target+" (does not take "+event+")")
			case n.Err != nil:
				parts = append(parts, n.Target+" FAILED")
			default:
				parts = append(parts, n.Target+" delivered")
			}
		}
		b.printf("Notification %s: %s\n", event, strings.Join(parts, ", "))
	}
}
