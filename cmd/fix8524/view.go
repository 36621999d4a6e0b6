package main

// The human view of a plan, the one rendering of it for people: plan prints it, show prints a
// saved plan with it, apply and heal print the plan they ask about or hold. A report of the same
// plan (report, plan --report) renders it as HTML or Markdown (package report); its JSON is
// the plan file's (plan.Encode). Every value is escaped for the terminal (escapedPlan).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// painter renders the human views: on colours them (a terminal, no NO_COLOR); full prints
// evidence and parameters uncut (--full).
type painter struct{ on, full bool }

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

func (c painter) status(s plan.Status) string {
	switch s {
	case plan.StatusOK:
		return c.green("[ok]     ")
	case plan.StatusFailed:
		return c.red("[failed] ")
	default:
		return c.yellow("[unknown]")
	}
}

// reading labels a check's evidence as the article reads it: a problem found, no problem, or
// unknown. A plan made before readings existed shows its status.
func (c painter) reading(ev plan.CheckResult) string {
	switch ev.Reading {
	case plan.ReadingProblem:
		return c.red("[problem found]")
	case plan.ReadingNoProblem:
		return c.green("[no problem]   ")
	case plan.ReadingUnknown:
		return c.yellow("[unknown]      ")
	}
	return c.status(ev.Status)
}

// colorFor reports whether to colour output written to w: only on a terminal, never with NO_COLOR.
func colorFor(e *env, w io.Writer) bool {
	if e.getenv != nil && e.getenv("NO_COLOR") != "" {
		return false
	}
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// paint is the painter for w: colour on a terminal.
func paint(e *env, w io.Writer) painter { return painter{on: colorFor(e, w)} }

// cut clips s to n bytes unless the view is --full.
func (c painter) cut(s string, n int) string {
	if c.full {
		return s
	}
	return termtext.Clip(s, n)
}

func (c painter) risk(r plan.Risk) string {
	switch r {
	case plan.RiskHigh:
		return c.red("high")
	case plan.RiskMedium:
		return c.yellow("medium")
	}
	return c.green(string(r))
}

// writePlanText prints a plan in the spirit of terraform plan: one block per partnership. It is
// the one rendering of a plan for people: plan, show and apply print it. Every value is escaped
// for the terminal (it prints an escaped copy: escapedPlan).
func writePlanText(w io.Writer, p *plan.Plan, c painter) {
	p = escapedPlan(p)
	b := bufio.NewWriter(w)
	defer b.Flush()
	fmt.Fprintf(b, "Playbook %s (%s), facts %s gathered %s", p.Playbook.Name, strings.Join(p.Playbook.Files, ", "), p.Facts.Source, p.Facts.GatheredAt.UTC().Format(time.RFC3339))
	if p.Facts.SeedDC != "" {
		fmt.Fprintf(b, " from %s", p.Facts.SeedDC)
	}
	fmt.Fprintln(b)
	writeCoverage(b, c, p.Coverage)
	if len(p.Findings) == 0 && !p.Summary.Partial {
		fmt.Fprintf(b, "\n%s\n", c.green("No replication link fails with an error this playbook handles. Nothing to do."))
	} else if len(p.Findings) == 0 {
		fmt.Fprintf(b, "\n%s\n", c.yellow("No replication link that was read fails with an error this playbook handles; the links of the DCs not read are unknown."))
	}
	own := p.OwnApprovals()
	for _, f := range p.Findings {
		writeFinding(b, c, &f, own)
	}
	writeWarnings(b, c, p.Warnings)
	if len(p.Unmatched) > 0 {
		fmt.Fprintf(b, "\n%s %d failing link(s) with another error; a person must look (repadmin /showrepl, samba-tool drs showrepl):\n",
			c.bold("Not handled by this playbook:"), len(p.Unmatched))
		for _, u := range plan.GroupUnmatched(p.Unmatched) {
			fmt.Fprintf(b, "  %s\n", u)
		}
	}
	s := p.Summary
	fmt.Fprintf(b, "\n%s ", c.bold("Plan:"))
	if s.Partial {
		fmt.Fprintf(b, "%s ", c.red(fmt.Sprintf("partial (%d DC(s) not read),", s.DCsNotRead)))
	}
	fmt.Fprintf(b, "%d partnership(s) (%d failing link(s) matched): %d diagnosed, %d incomplete; %d action(s)",
		s.Findings, s.MatchedLinks, s.Diagnosed, s.Incomplete, s.Actions)
	if len(s.ByRisk) > 0 {
		var parts []string
		for _, r := range plan.Risks {
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

// escapedPlan returns a copy of p with every string escaped for the terminal
// (termtext.EscapeAll), scripts line by line: a DC name or any other value from AD or a file
// cannot end a line of the view and forge the next one, nor send escape sequences.
func escapedPlan(p *plan.Plan) *plan.Plan {
	b, err := json.Marshal(p)
	var c plan.Plan
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return &plan.Plan{FormatVersion: p.FormatVersion, Fingerprint: termtext.Escape(p.Fingerprint)}
	}
	scripts := map[*plan.Action]string{}
	for i := range c.Findings {
		for j := range c.Findings[i].Actions {
			a := &c.Findings[i].Actions[j]
			lines := strings.Split(strings.TrimRight(a.PowerShell, "\n"), "\n")
			for k := range lines {
				lines[k] = termtext.Escape(lines[k])
			}
			scripts[a] = strings.Join(lines, "\n")
		}
	}
	termtext.EscapeAll(&c)
	for a, s := range scripts {
		a.PowerShell = s
	}
	return &c
}

// writeCoverage says how much of the forest was read, every DC that was not read with the
// reason, and every gathering problem.
func writeCoverage(b *bufio.Writer, c painter, cov *facts.Coverage) {
	if cov == nil {
		return
	}
	if cov.Complete {
		fmt.Fprintf(b, "Coverage: %s\n", cov)
	} else {
		fmt.Fprintf(b, "%s %s\n", c.red("Coverage: PARTIAL"), strings.TrimPrefix(cov.String(), "partial: "))
		for _, d := range cov.NotRead {
			fmt.Fprintf(b, "  %s %s: %s\n", c.red("not read:"), termtext.Escape(d.Name), termtext.Line(d.Reason, 400))
		}
	}
	writeProblems(b, cov.Problems)
}

// writeProblems lists every gathering problem (plan, gather).
func writeProblems(w io.Writer, ps []facts.Problem) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "Gathering problems (%d):\n", len(ps))
	for _, p := range ps {
		fmt.Fprintf(w, "  %s: %s\n", termtext.Line(p.Scope, 200), termtext.Line(p.Message, 400))
	}
}

// writeWarnings prints the warnings: replication links that work today and will fail once
// something they depend on goes away. They propose no action and do not change the exit code.
func writeWarnings(b *bufio.Writer, c painter, ws []plan.Warning) {
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
func writeManual(b *bufio.Writer, c painter, steps []plan.ManualStep) {
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
func writeFlags(b *bufio.Writer, c painter, flags []plan.Flag) {
	if len(flags) == 0 {
		return
	}
	fmt.Fprintln(b, "  Flagged values:")
	for _, fl := range flags {
		fmt.Fprintf(b, "    %s %s = %s: %s\n", c.red("!"), fl.Fact, fl.Value, fl.Problem)
	}
}

func writeFinding(b *bufio.Writer, c painter, f *plan.Finding, own map[string]bool) {
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
	case plan.FindingDiagnosed:
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
			fmt.Fprintf(b, "    %s %s: %s\n", c.reading(ev), ev.Name, c.cut(ev.Summary, 240))
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
			fmt.Fprintf(b, "        %s %s", a.Name, actionPlace(a))
			if own[a.ID] {
				fmt.Fprint(b, ", needs its own approval")
			}
			fmt.Fprintln(b)
			switch a.Kind {
			case plan.KindPowerShell:
				for _, line := range strings.Split(strings.TrimRight(a.PowerShell, "\n"), "\n") {
					fmt.Fprintf(b, "        %s %s\n", c.dim("PS>"), line)
				}
				if len(a.Params) > 0 {
					pj, _ := json.Marshal(a.Params)
					fmt.Fprintf(b, "        %s %s\n", c.dim("$P ="), c.cut(string(pj), 400))
				}
			case plan.KindArgv:
				fmt.Fprintf(b, "        %s %s", c.dim("$"), a.ArgvDisplay)
				if a.IgnoreExit {
					fmt.Fprint(b, c.dim("   (exit code ignored; verified by the checks)"))
				}
				fmt.Fprintln(b)
			case plan.KindLDAPDelete:
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
				if g.Status != plan.StatusOK {
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
func assumedFindings(p *plan.Plan) int {
	n := 0
	for _, f := range p.Findings {
		if len(f.Assumptions) > 0 {
			n++
		}
	}
	return n
}

// actionPlace says where an action goes: "on DC2 = dc2.contoso.com [192.0.2.12] (windows over
// winrm)", the host and addresses apply connects to (what an approval binds).
func actionPlace(a plan.Action) string {
	esc := termtext.Escape
	s := "on " + esc(a.Target)
	if a.TargetDNSHostName != "" {
		s += " = " + esc(a.TargetDNSHostName)
	}
	if len(a.TargetIPs) > 0 {
		s += " [" + esc(strings.Join(a.TargetIPs, ", ")) + "]"
	}
	return s + " (" + esc(string(a.Platform)) + " over " + esc(orDash(a.Transport)) + ")"
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
