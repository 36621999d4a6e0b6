package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

func init() {
	register(&command{name: "show", summary: "show a saved plan as plan printed it, its approval state and what the journal says happened to it", run: runShow})
}

// showHooks let tests fix the clock that approvals are judged against.
var showHooks struct{ now func() time.Time }

func runShow(_ context.Context, e *env, args []string) int {
	fl := newFlags(e, "show",
		"Usage: fix8524 show PLAN.json [--full] [--state DIR]",
		"\nPrints a saved plan (from plan -o, or one heal saved for a human) exactly as plan printed it, then",
		"whether it is approved (and until when, by whom, which actions on their own), and what the journal",
		"recorded for it: approvals, applies and heal runs, each with its outcome. It changes nothing.",
	)
	full := fl.Bool("full", false, "print evidence and action parameters uncut")
	var st stateFlag
	st.register(fl)
	var prof profileFlag
	prof.register(fl)
	planPath, code, ok := parseFlagsArg(e, fl, args)
	if !ok {
		return code
	}
	if planPath == "" {
		fl.Usage()
		return exitError
	}
	set, err := prof.apply(e, fl)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 show:", err)
		return exitError
	}
	st.fromProfile = set["state"]
	p, planBytes, err := plan.Read(planPath)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 show:", err)
		return exitError
	}
	now := time.Now()
	if showHooks.now != nil {
		now = showHooks.now()
	}
	c := paint(e, e.stdout)
	c.full = *full
	writePlanText(e.stdout, p, c)
	b := bufio.NewWriter(e.stdout)
	defer b.Flush()
	approved := writeApprovalState(b, c, planPath, p, planBytes, now)
	if err := writePlanHistory(b, e, &st, p); err != nil {
		b.Flush()
		fmt.Fprintln(e.stderr, "fix8524 show:", journalErr(err))
		return exitError
	}
	if p.Summary.Actions > 0 {
		extra := ""
		if st.dir != "" {
			extra = " --state " + termtext.ShellWord(st.dir)
		}
		if approved {
			fmt.Fprintf(b, "\nNext: %s\n", applyCommand(planPath, p, extra))
		} else {
			fmt.Fprintf(b, "\nNext: fix8524 approve %s --by NAME%s, then %s\n", termtext.ShellWord(planPath), extra, applyCommand(planPath, p, extra))
		}
	}
	return exitOK
}

// writeApprovalState says whether the plan is approved (and each action that needs its own
// approval), with the command that gives what is missing. It reports whether apply's approval
// gates would admit the plan now.
func writeApprovalState(b *bufio.Writer, c painter, planPath string, p *plan.Plan, planBytes []byte, now time.Time) bool {
	fmt.Fprintf(b, "\n%s ", c.bold("Approval:"))
	if p.Summary.Actions == 0 {
		fmt.Fprintln(b, "none needed: the plan proposes no action (what it holds is for a person: manual steps, incomplete diagnoses).")
		return false
	}
	a, err := approval.Load(planPath)
	ok := false
	switch {
	case errors.Is(err, approval.ErrNoApproval):
		fmt.Fprintln(b, c.yellow("not approved"))
	case err != nil:
		fmt.Fprintf(b, "%s: %s\n", c.red("unreadable"), termtext.Escape(err.Error()))
	default:
		// The approval file is untrusted: who approved and why are escaped like any value.
		if verr := approval.Verify(planBytes, p.Fingerprint, a, now, nil); verr != nil {
			fmt.Fprintf(b, "%s: %s\n  (%s)\n", c.red("not valid"), termtext.Escape(verr.Error()), termtext.Escape(a.String()))
		} else {
			fmt.Fprintf(b, "%s, valid for %s more.\n", c.green(termtext.Escape(a.String())), roughly(a.Expires.Sub(now)))
			ok = true
		}
	}
	return writeEachState(b, c, planPath, p, planBytes, now) && ok
}

// roughly renders a duration to the minute ("3h45m", "12m", "under a minute").
func roughly(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d < time.Minute:
		return "under a minute"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}

// applyCommand is the command that applies a saved plan (with --demo for a demo plan).
func applyCommand(planPath string, p *plan.Plan, extra string) string {
	src := ""
	if _, isDemo := demoPlan(p); isDemo {
		src = " --demo"
	}
	return "fix8524 apply " + termtext.ShellWord(planPath) + src + planVarArgs(p) + extra
}

// planVarArgs returns the -var arguments (each with a leading space) that make apply load the
// embedded playbook with the variables the plan was made with: one for each variable whose value
// differs from the embedded playbook's. A string is given raw (as -var takes it), anything else
// as JSON, which HCL reads. "" when the embedded playbook cannot be loaded or declares none.
func planVarArgs(p *plan.Plan) string {
	if len(p.Variables) == 0 {
		return ""
	}
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		return ""
	}
	defaults := pb.VariableValues()
	var out strings.Builder
	for _, name := range slices.Sorted(maps.Keys(p.Variables)) {
		v := p.Variables[name]
		got, _ := json.Marshal(v)
		def, known := defaults[name]
		if want, _ := json.Marshal(def); known && string(got) == string(want) {
			continue
		}
		val := string(got)
		if s, ok := v.(string); ok {
			val = s
		}
		out.WriteString(" -var " + termtext.ShellWord(name+"="+val))
	}
	return out.String()
}

// writeEachState lists the actions that need an approval of their own and their state; it
// reports whether every one of them has a valid one.
func writeEachState(b *bufio.Writer, c painter, planPath string, p *plan.Plan, planBytes []byte, now time.Time) bool {
	own := p.OwnApprovals()
	each, err := apply.LoadEach(planPath)
	if err != nil {
		fmt.Fprintf(b, "  per-action approvals: %s: %s\n", c.red("unreadable"), termtext.Escape(err.Error()))
	}
	all := true
	for _, f := range p.Findings {
		for _, a := range f.Actions {
			if !own[a.ID] {
				continue
			}
			fp := apply.EachFingerprint(p.Fingerprint, a.ID)
			state := c.yellow("not approved on its own") + fmt.Sprintf(": fix8524 approve %s --by NAME --allow-each %s", termtext.ShellWord(planPath), termtext.ShellWord(a.ID))
			granted := false
			for _, x := range each {
				if x.PlanFingerprint != fp {
					continue
				}
				if verr := approval.Verify(planBytes, fp, x, now, nil); verr != nil {
					state = c.red("not valid") + ": " + termtext.Escape(verr.Error())
				} else {
					state = c.green("approved on its own") + " by " + termtext.Escape(x.By) + ", expires " + x.Expires.UTC().Format(time.RFC3339)
					granted = true
					break
				}
			}
			if a.Blocked {
				state += c.red(" (blocked in the plan: apply refuses it whatever the approval)")
			}
			fmt.Fprintf(b, "  %s: %s\n", termtext.Escape(a.ID), state)
			all = all && granted
		}
	}
	return all
}

// writePlanHistory prints, run by run, what the journal recorded about the plan (by its
// fingerprint). A missing journal is not created: show changes nothing.
func writePlanHistory(b *bufio.Writer, e *env, st *stateFlag, p *plan.Plan) error {
	entries, dir, found, err := st.planJournal(e, p)
	if err != nil {
		return err
	}
	fmt.Fprintf(b, "\n%s ", painter{}.bold("Journal:"))
	path := filepath.Join(dir, journal.FileName)
	switch {
	case !found:
		fmt.Fprintf(b, "nothing recorded for this plan (no journal in %s).\n", termtext.Escape(dir))
		return nil
	case len(entries) == 0:
		fmt.Fprintf(b, "nothing recorded for this plan (journal %s).\n", termtext.Escape(path))
		return nil
	}
	runs := groupRuns(entries)
	fmt.Fprintf(b, "%d run(s) recorded for this plan (journal %s):\n", len(runs), termtext.Escape(path))
	for _, r := range runs {
		first := r[0]
		// Journal entries quote AD values and approval files: escaped.
		fmt.Fprintf(b, "  %s  %s  %s: %s\n", first.Time.UTC().Format("2006-01-02 15:04:05Z"), termtext.Escape(first.RunID), termtext.Escape(first.Actor), runSummary(r))
	}
	_, isDemo := demoPlan(p)
	fmt.Fprintf(b, "  Details: fix8524 journal --run RUN%s\n", st.flag(e, isDemo, dir))
	return nil
}

// groupRuns splits entries (oldest first) by run, in order of each run's first entry.
func groupRuns(entries []journal.Entry) [][]journal.Entry {
	idx := map[string]int{}
	var runs [][]journal.Entry
	for _, en := range entries {
		i, ok := idx[en.RunID]
		if !ok {
			i = len(runs)
			idx[en.RunID] = i
			runs = append(runs, nil)
		}
		runs[i] = append(runs[i], en)
	}
	return runs
}

// runSummary is one line on what a run did with the plan; the journal's text in it (reasons
// quote AD values and approval files) is escaped.
func runSummary(run []journal.Entry) string {
	var approved, refused string
	counts := map[journal.Outcome]int{}
	confirmed := false
	for _, en := range run {
		switch {
		case en.Kind == journal.KindNote && en.Name == "approve":
			approved = "approved: " + termtext.Escape(en.Reason)
		case en.Kind == journal.KindGate && en.Outcome == journal.Refused && refused == "":
			refused = fmt.Sprintf("refused by the %s gate: %s", termtext.Escape(en.Name), termtext.Escape(en.Reason))
		case en.Kind == journal.KindAction && en.Outcome != journal.Started:
			counts[en.Outcome]++
		case en.Kind == journal.KindVerify && en.Name == "confirm_replication" && en.Outcome == journal.Succeeded:
			confirmed = true
		}
	}
	var parts []string
	if approved != "" {
		parts = append(parts, approved)
	}
	var ran []string
	for _, o := range []journal.Outcome{journal.Succeeded, journal.Failed, journal.Pending, journal.Skipped, journal.Refused} {
		if n := counts[o]; n > 0 {
			ran = append(ran, fmt.Sprintf("%d %s", n, o))
		}
	}
	if len(ran) > 0 {
		parts = append(parts, "actions: "+strings.Join(ran, ", "))
	}
	if confirmed {
		parts = append(parts, "replication confirmed")
	}
	if refused != "" {
		parts = append(parts, termtext.Clip(refused, 300))
	}
	if len(parts) == 0 {
		return "gates only, no action ran"
	}
	return strings.Join(parts, "; ")
}
