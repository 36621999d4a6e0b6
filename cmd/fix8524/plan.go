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
	"sort"
	"strings"
	"time"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/scenario"
)

func init() {
	register(&command{name: "plan", summary: "diagnose failing links and propose actions and manual steps (a true preview)", run: runPlan})
}

// planOpts says what to do with a plan once it is made.
type planOpts struct {
	pb     *engine.Playbook
	out    string // -o FILE: write the plan JSON (what approve and apply read)
	asJSON bool   // --json: print the plan JSON on stdout instead of the human view
	now    time.Time
}

// takeOptionalArg removes "--NAME [VALUE]" / "--NAME=VALUE" from args: a bare word right after
// the flag is its value. It lets `plan --demo` and `plan --demo NAME` both work.
func takeOptionalArg(args []string, name string) (rest []string, set bool, value string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--"+name || a == "-"+name:
			set = true
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				value = args[i+1]
				i++
			}
			continue
		case strings.HasPrefix(a, "--"+name+"=") || strings.HasPrefix(a, "-"+name+"="):
			set = true
			_, value, _ = strings.Cut(a, "=")
			continue
		case a == "--":
			rest = append(rest, args[i:]...)
			return rest, set, value
		}
		rest = append(rest, a)
	}
	return rest, set, value
}

func runPlan(ctx context.Context, e *env, args []string) int {
	args, demo, demoName := takeOptionalArg(args, "demo")
	fs := flag.NewFlagSet("plan", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var pf playbookFlags
	pf.register(fs)
	factsFile := fs.String("facts", "", "plan from a facts snapshot `FILE` (from fix8524 gather; - for stdin)")
	out := fs.String("o", "", "write the plan JSON to `FILE` (what approve and apply read)")
	asJSON := fs.Bool("json", false, "print the plan as JSON (schema: engine/PLAN.md) instead of the human view")
	live := addLiveFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: fix8524 plan (--dc HOST [connection flags] | --facts FILE | --demo [SCENARIO]) [--playbooks DIR] [-o plan.json] [--json] [-var NAME=VALUE] [-var-file FILE]")
		fmt.Fprintf(e.stderr, "\nScenarios: %s (default %s)\n", strings.Join(scenario.Names(), ", "), scenario.Default)
		fmt.Fprintln(e.stderr, "Exit codes: 0 nothing to do, 2 actions or manual steps proposed (or facts to gather), 1 error.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "fix8524 plan: unexpected argument %q\n", fs.Arg(0))
		return exitError
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
	pb, files, diags := pf.load()
	if len(diags) > 0 {
		_ = engine.WriteDiagnostics(e.stderr, files, diags, colorFor(e, e.stderr))
	}
	if diags.HasErrors() {
		return exitError
	}
	var s *facts.Snapshot
	var err error
	switch {
	case demo:
		// The scenario served as a simulated forest on loopback, gathered over LDAP and DNS.
		set, serr := live.conn.demoSettings()
		if err = serr; err == nil {
			s, err = simDemoFacts(ctx, pb, demoName, set)
		}
	case live.requested():
		s, err = live.gather(ctx, e, pb)
	default:
		s, err = readFacts(e, *factsFile)
	}
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 plan:", err)
		return exitError
	}
	return planFromFacts(ctx, e, s, planOpts{pb: pb, out: *out, asJSON: *asJSON, now: time.Now()})
}

func readFacts(e *env, path string) (*facts.Snapshot, error) {
	if path == "-" {
		return facts.Decode(e.stdin)
	}
	f, err := os.Open(path)
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

// demoFacts builds the facts of an embedded scenario straight from its World: the topology and
// links, plus the DNS and TCP observations the playbook asks for (asked until nothing new is
// needed). `plan --demo` gathers from the simulated forest instead (simDemoFacts); tests
// compare the two.
func demoFacts(pb *engine.Playbook, name string) (*facts.Snapshot, error) {
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, err
	}
	w := sc.NewWorld()
	s := w.Base()
	w.ObserveNeeds(s, 8, func(s *facts.Snapshot) ([]facts.DNSQuery, []facts.TCPProbe) { return engine.Needs(pb, s) })
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
		if err := writePlanFile(o.out, p); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 plan:", err)
			return exitError
		}
	}
	if o.asJSON {
		if err := encodePlan(e.stdout, p); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 plan:", err)
			return exitError
		}
	} else {
		writePlanText(e.stdout, p, colorFor(e, e.stdout))
		if o.out != "" {
			fmt.Fprintf(e.stdout, "\nSaved the plan to %s. Next: fix8524 approve %s --by NAME, then fix8524 apply %s\n", o.out, o.out, o.out)
		}
	}
	if planProposes(p) || len(p.Unmatched) > 0 {
		// Failing links the playbook does not handle still need a person to look at them.
		return exitProposed
	}
	return exitOK
}

func planProposes(p *engine.Plan) bool {
	for _, f := range p.Findings {
		if f.Status != engine.FindingDiagnosed || len(f.Actions) > 0 || len(f.Manual) > 0 {
			return true
		}
	}
	return false
}

func encodePlan(w io.Writer, p *engine.Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// writePlanFile writes the plan atomically (temporary file, then rename).
func writePlanFile(path string, p *engine.Plan) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".plan-*.json")
	if err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := encodePlan(tmp, p); err != nil {
		tmp.Close()
		return fmt.Errorf("writing the plan: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing the plan: %w", err)
	}
	return nil
}

// ---- the human view ----

type painter struct{ on bool }

func (c painter) wrap(code, s string) string {
	if !c.on {
		return s
	}
	return code + s + "\x1b[0m"
}
func (c painter) bold(s string) string   { return c.wrap("\x1b[1m", s) }
func (c painter) red(s string) string    { return c.wrap("\x1b[31m", s) }
func (c painter) green(s string) string  { return c.wrap("\x1b[32m", s) }
func (c painter) yellow(s string) string { return c.wrap("\x1b[33m", s) }
func (c painter) dim(s string) string    { return c.wrap("\x1b[2m", s) }

func (c painter) status(s string) string {
	switch s {
	case engine.StatusOK:
		return c.green("[ok]     ")
	case engine.StatusFailed:
		return c.red("[failed] ")
	default:
		return c.yellow("[unknown]")
	}
}

func (c painter) risk(r string) string {
	switch r {
	case engine.RiskHigh:
		return c.red("high")
	case engine.RiskMedium:
		return c.yellow("medium")
	}
	return c.green(r)
}

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && (s[n]&0xC0) == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// writePlanText prints a plan in the spirit of terraform plan: one block per partnership.
func writePlanText(w io.Writer, p *engine.Plan, color bool) {
	c := painter{color}
	b := bufio.NewWriter(w)
	defer b.Flush()
	fmt.Fprintf(b, "Playbook %s (%s), facts %s gathered %s", p.Playbook.Name, strings.Join(p.Playbook.Files, ", "), p.Facts.Source, p.Facts.GatheredAt.UTC().Format(time.RFC3339))
	if p.Facts.SeedDC != "" {
		fmt.Fprintf(b, " from %s", p.Facts.SeedDC)
	}
	fmt.Fprintln(b)
	if len(p.Findings) == 0 {
		fmt.Fprintf(b, "\n%s\n", c.green("No replication link fails with an error this playbook handles. Nothing to do."))
	}
	for _, f := range p.Findings {
		writeFinding(b, c, &f)
	}
	writeWarnings(b, c, p.Warnings)
	if len(p.Unmatched) > 0 {
		fmt.Fprintf(b, "\n%s %d failing link(s) with another error; a person must look (repadmin /showrepl, samba-tool drs showrepl):\n",
			c.bold("Not handled by this playbook:"), len(p.Unmatched))
		for _, u := range engine.GroupUnmatched(p.Unmatched) {
			fmt.Fprintf(b, "  %s\n", u)
		}
	}
	s := p.Summary
	fmt.Fprintf(b, "\n%s %d partnership(s) (%d failing link(s) matched): %d diagnosed, %d incomplete; %d action(s)",
		c.bold("Plan:"), s.Findings, s.MatchedLinks, s.Diagnosed, s.Incomplete, s.Actions)
	if len(s.ByRisk) > 0 {
		var parts []string
		for _, r := range []string{engine.RiskLow, engine.RiskMedium, engine.RiskHigh} {
			if n := s.ByRisk[r]; n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", n, r))
			}
		}
		fmt.Fprintf(b, " (%s)", strings.Join(parts, ", "))
	}
	if s.Blocked > 0 {
		fmt.Fprintf(b, ", %s", c.red(fmt.Sprintf("%d blocked", s.Blocked)))
	}
	fmt.Fprintf(b, ", %d manual step(s)", s.ManualSteps)
	if n := assumedFindings(p); n > 0 {
		fmt.Fprintf(b, ", %s", c.yellow(fmt.Sprintf("%d resting on assumed settings", n)))
	}
	if s.Flags > 0 {
		fmt.Fprintf(b, ", %s", c.red(fmt.Sprintf("%d flagged value(s)", s.Flags)))
	}
	if s.Warnings > 0 {
		fmt.Fprintf(b, ", %s", c.yellow(fmt.Sprintf("%d warning(s)", s.Warnings)))
	}
	fmt.Fprintf(b, ".\nFingerprint %s\n", p.Fingerprint)
}

// writeWarnings prints the warnings: replication links that work today and will fail once
// something they depend on goes away. They propose no action and do not change the exit code.
func writeWarnings(b *bufio.Writer, c painter, ws []engine.Warning) {
	if len(ws) == 0 {
		return
	}
	fmt.Fprintf(b, "\n%s %d partnership warning(s): these links replicate now and will fail later\n", c.yellow("Warnings:"), len(ws))
	for i := range ws {
		w := &ws[i]
		fmt.Fprintf(b, "\n%s  %s\n", c.bold(w.ID), c.dim(fmt.Sprintf("(%d NC(s) replicating, source DSA %s)", len(w.Link.NCs), w.Link.SourceDSAGUID)))
		fmt.Fprintf(b, "  %s %s\n", c.yellow("Warning:"), c.bold(w.Name))
		fmt.Fprintf(b, "    %s\n", w.Message)
		if w.See != "" {
			fmt.Fprintf(b, "    See the article: %q\n", w.See)
		}
		writeManual(b, c, w.Manual)
		writeFlags(b, c, w.Flags)
	}
}

// writeManual prints manual steps (of a finding or a warning).
func writeManual(b *bufio.Writer, c painter, steps []engine.ManualStep) {
	if len(steps) == 0 {
		return
	}
	fmt.Fprintln(b, "  Manual steps:")
	for i, m := range steps {
		where := "on an admin workstation"
		if m.On != "" {
			where = "on " + m.On
		}
		fmt.Fprintf(b, "    %d. %s %s\n", i+1, m.Title, c.dim("("+m.Shell+", "+where+")"))
		if m.Text != "" {
			fmt.Fprintf(b, "       %s\n", m.Text)
		}
		prompt := map[string]string{"cmd": "C:\\>", "powershell": "PS>", "posix": "$"}[m.Shell]
		for _, cmd := range m.Commands {
			fmt.Fprintf(b, "       %s %s\n", c.dim(prompt), cmd)
		}
		if m.Flagged {
			fmt.Fprintf(b, "       %s\n", c.red("Read before running: a value in these commands is flagged (see Flagged values)."))
		}
	}
}

// writeFlags prints flagged values (of a finding or a warning).
func writeFlags(b *bufio.Writer, c painter, flags []engine.Flag) {
	if len(flags) == 0 {
		return
	}
	fmt.Fprintln(b, "  Flagged values:")
	for _, fl := range flags {
		fmt.Fprintf(b, "    %s %s = %s: %s\n", c.red("!"), fl.Fact, fl.Value, fl.Problem)
	}
}

func writeFinding(b *bufio.Writer, c painter, f *engine.Finding) {
	l := f.Link
	res := map[int]bool{}
	maxFail := 0
	for _, nc := range l.NCs {
		res[nc.LastResult] = true
		maxFail = max(maxFail, nc.ConsecutiveFailures)
	}
	var rs []string
	for r := range res {
		rs = append(rs, fmt.Sprint(r))
	}
	sort.Strings(rs)
	fmt.Fprintf(b, "\n%s  %s\n", c.bold(f.ID), c.dim(fmt.Sprintf("(%d NC(s), result %s, %d consecutive failure(s), source DSA %s)", len(l.NCs), strings.Join(rs, "/"), maxFail, l.SourceDSAGUID)))
	switch f.Status {
	case engine.FindingDiagnosed:
		fmt.Fprintf(b, "  Diagnosis: %s\n", c.bold(f.Decision.Name))
		fmt.Fprintf(b, "    %s\n", f.Decision.Cause)
		fmt.Fprintf(b, "    See the article: %q\n", f.Decision.See)
	default:
		fmt.Fprintf(b, "  %s %s\n", c.yellow("Diagnosis incomplete:"), f.Incomplete)
	}
	if len(f.Assumptions) > 0 {
		fmt.Fprintf(b, "  %s %s\n", c.yellow("Assumed:"), c.bold("this diagnosis rests on settings that were not read; heal will not act on it unattended"))
		for _, a := range f.Assumptions {
			fmt.Fprintf(b, "    %s %s\n", c.yellow("!"), a)
		}
	}
	if len(f.Evidence) > 0 {
		fmt.Fprintln(b, "  Evidence:")
		for _, ev := range f.Evidence {
			fmt.Fprintf(b, "    %s %s: %s\n", c.status(ev.Status), ev.Name, clip(ev.Summary, 240))
		}
	}
	if len(f.Needs) > 0 {
		fmt.Fprintln(b, "  To gather:")
		for _, n := range f.Needs {
			fmt.Fprintf(b, "    - %s\n", n.String())
		}
	}
	if len(f.Actions) > 0 {
		fmt.Fprintln(b, "  Actions:")
		for _, a := range f.Actions {
			mark := c.green("+")
			if a.Blocked {
				mark = c.red("!")
			}
			fmt.Fprintf(b, "    %s [%s] %s\n", mark, c.risk(a.Risk), a.Title)
			fmt.Fprintf(b, "        %s on %s (%s over %s)", a.Name, a.Target, a.Platform, orDash(a.Transport))
			if a.RequiresApprovalEach {
				fmt.Fprint(b, ", needs its own approval")
			}
			fmt.Fprintln(b)
			switch a.Kind {
			case engine.KindPowerShell:
				for _, line := range strings.Split(strings.TrimRight(a.PowerShell, "\n"), "\n") {
					fmt.Fprintf(b, "        %s %s\n", c.dim("PS>"), line)
				}
				if len(a.Params) > 0 {
					pj, _ := json.Marshal(a.Params)
					fmt.Fprintf(b, "        %s %s\n", c.dim("$P ="), clip(string(pj), 400))
				}
			case engine.KindArgv:
				fmt.Fprintf(b, "        %s %s", c.dim("$"), a.ArgvDisplay)
				if a.IgnoreExit {
					fmt.Fprint(b, c.dim("   (exit code ignored; verified by the checks)"))
				}
				fmt.Fprintln(b)
			case engine.KindLDAPDelete:
				tree := ""
				if a.LDAPDelete.Tree {
					tree = " (tree delete)"
				}
				fmt.Fprintf(b, "        LDAP delete%s: %s\n", tree, a.LDAPDelete.DN)
				if a.LDAPDelete.ExpectGUID != "" {
					fmt.Fprintf(b, "        only if its objectGUID is %s\n", a.LDAPDelete.ExpectGUID)
				}
			}
			if len(a.Verify) > 0 {
				fmt.Fprintf(b, "        verify: %s (up to %s)\n", strings.Join(a.Verify, ", "), a.VerifyTimeout)
			}
			for _, g := range a.Guards {
				fmt.Fprintf(b, "        guard %s %s", c.status(g.Status), g.Name)
				if g.Status != engine.StatusOK {
					fmt.Fprintf(b, ": %s", g.Message)
				}
				fmt.Fprintln(b)
			}
			for _, r := range a.Reasons {
				fmt.Fprintf(b, "        %s %s\n", c.red("blocked:"), r)
			}
		}
	}
	writeManual(b, c, f.Manual)
	writeFlags(b, c, f.Flags)
	for _, e := range f.Errors {
		fmt.Fprintf(b, "  %s %s\n", c.red("Playbook error:"), e)
	}
}

// assumedFindings counts the findings whose diagnosis rests on assumed settings.
func assumedFindings(p *engine.Plan) int {
	n := 0
	for _, f := range p.Findings {
		if len(f.Assumptions) > 0 {
			n++
		}
	}
	return n
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
