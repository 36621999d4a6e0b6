package main

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine/window"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

func init() {
	register(&command{name: "approve", summary: "approve a saved plan (who, until when, optionally signed)", run: runApprove})
}

func runApprove(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "approve",
		"Usage: fix8524 approve PLAN --by NAME [--expires 4h] [--reason TEXT] [--sign-key FILE] [--allow-each ACTION_ID]... [--state DIR]",
		"\nRecords an approval of the plan file exactly as it is (its fingerprint and its bytes) next to it:",
		"PLAN.approval.json, and PLAN.approve-each.json for --allow-each. apply refuses a plan that changed since.",
		"An action the playbook marks requires_approval_each (metadata cleanup), and every ldap_delete when a plan",
		"runs more than one, needs its own --allow-each ACTION_ID (the ids are shown by fix8524 plan).",
	)
	by := fs.String("by", "", "who approves (`NAME`, required)")
	expires := fs.String("expires", "4h", "how long the approval is valid (`DURATION`: 30m, 4h, 2d; at most 30d)")
	reason := fs.String("reason", "", "why (`TEXT`, e.g. a change ticket), recorded")
	signKey := fs.String("sign-key", "", "sign the approval with the ed25519 private key in `FILE` (fix8524 keygen, or ssh-keygen -t ed25519)")
	var each multiFlag
	fs.Var(&each, "allow-each", "also approve this one `ACTION_ID` on its own (repeatable); metadata cleanups need it")
	var st stateFlag
	st.register(fs)
	var prof profileFlag
	prof.register(fs)
	planPath, code, ok := parseFlagsArg(e, fs, args)
	if !ok {
		return code
	}
	if planPath == "" {
		fs.Usage()
		return exitError
	}
	if set, err := prof.apply(e, fs); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 approve:", err)
		return exitError
	} else {
		st.fromProfile = set["state"]
	}
	if strings.TrimSpace(*by) == "" {
		fmt.Fprintln(e.stderr, "fix8524 approve: --by NAME is required: an approval says who approved")
		return exitError
	}
	ttl, err := window.ParseDuration(*expires)
	if err != nil || ttl <= 0 || ttl > approval.MaxTTL {
		fmt.Fprintf(e.stderr, "fix8524 approve: --expires %q: want a duration between 1s and %s (30m, 4h, 2d)\n", *expires, approval.MaxTTL)
		return exitError
	}
	pl, planBytes, err := plan.Read(planPath)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 approve:", err)
		return exitError
	}
	actions := map[string]plan.Action{}
	var needEach []string
	for _, f := range pl.Findings {
		for _, a := range f.Actions {
			actions[a.ID] = a
		}
	}
	for _, f := range pl.Findings {
		// heal never acts on these; a person approving them should know what was guessed
		for _, as := range f.Assumptions {
			fmt.Fprintf(e.stderr, "warning: %s rests on an assumption: %s\n", termtext.Args([]any{f.ID, as})...)
		}
	}
	own := pl.OwnApprovals()
	for _, f := range pl.Findings {
		for _, a := range f.Actions {
			if own[a.ID] {
				needEach = append(needEach, a.ID)
			}
		}
	}
	for _, id := range each {
		a, ok := actions[id]
		if !ok {
			fmt.Fprintf(e.stderr, "fix8524 approve: --allow-each %q: the plan has no such action (its actions: %s)\n", id, termtext.Escape(strings.Join(sortedIDs(actions), ", ")))
			return exitError
		}
		if a.Blocked {
			fmt.Fprintf(e.stderr, "warning: %s is blocked in the plan (%s): apply will refuse it whatever the approval\n", termtext.Args([]any{id, strings.Join(a.Reasons, "; ")})...)
		}
	}
	var signer ed25519.PrivateKey
	if *signKey != "" {
		signer, err = approval.LoadPrivateKey(*signKey)
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 approve:", err)
			return exitError
		}
	}
	now := time.Now()
	a, err := approval.ApproveAt(now, planBytes, pl.Fingerprint, *by, ttl, *reason, signer)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 approve:", err)
		return exitError
	}
	var eachApprovals []*approval.Approval
	for _, id := range each {
		x, err := approval.ApproveAt(now, planBytes, apply.EachFingerprint(pl.Fingerprint, id), *by, ttl, *reason, signer)
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 approve:", err)
			return exitError
		}
		eachApprovals = append(eachApprovals, x)
	}

	// Journal first: an approval that cannot be recorded is not written either. A demo plan's
	// approval goes to the demo's state directory, where apply --demo looks.
	_, isDemo := demoPlan(pl)
	j, err := st.openFor(e, isDemo, e.stdout)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 approve:", journalErr(err))
		return exitError
	}
	defer j.Close()
	j.SetActor(*by)
	forest := apply.ForestOf(pl)
	if _, err := j.Record(journal.Entry{Kind: journal.KindNote, Name: "approve", Forest: forest, PlanFingerprint: pl.Fingerprint,
		Outcome: journal.Allowed, Reason: a.String() + eachText(each), Target: planPath}); err != nil {
		fmt.Fprintln(e.stderr, "fix8524 approve:", journalErr(err))
		return exitError
	}
	path, err := approval.Save(planPath, a)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 approve:", err)
		return exitError
	}
	writeApproved(e.stdout, pl)
	fmt.Fprintf(e.stdout, "Approved plan %s (%d action(s)): %s.\nSaved to %s.\n", termtext.Args([]any{pl.Fingerprint, pl.Summary.Actions, a.String(), path})...)
	if len(eachApprovals) > 0 {
		p, err := apply.SaveEach(planPath, eachApprovals)
		if err != nil {
			fmt.Fprintln(e.stderr, "fix8524 approve:", err)
			return exitError
		}
		fmt.Fprintf(e.stdout, "Approved on their own: %s (saved to %s).\n", termtext.Args([]any{strings.Join(each, ", "), p})...)
	}
	var missing []string
	for _, id := range needEach {
		if !contains(each, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(e.stdout, "Note: %s need(s) an approval of its own; apply refuses the plan until then:\n", termtext.Escape(strings.Join(missing, ", ")))
		for _, id := range missing {
			fmt.Fprintf(e.stdout, "  fix8524 approve %s --by %s --allow-each %s\n", termtext.ShellWord(planPath), termtext.ShellWord(*by), termtext.ShellWord(id))
		}
	}
	fmt.Fprintf(e.stdout, "Next: %s\n", applyCommand(planPath, pl, st.flag(e, isDemo, j.Dir())))
	return exitOK
}

// writeApproved shows what the approval binds: where the fresh facts are read from, every action
// with the host and addresses it is sent to, and the change windows. apply recomputes each of
// these from fresh facts and the playbook and refuses the plan when one differs.
func writeApproved(w io.Writer, p *plan.Plan) {
	esc := termtext.Escape
	fmt.Fprintf(w, "Plan made with playbook %s %s from facts %s", esc(p.Playbook.Name), p.Playbook.Digest, esc(p.Facts.Source))
	if p.Facts.SeedDC != "" {
		fmt.Fprintf(w, " (seed DC %s)", esc(p.Facts.SeedDC))
	}
	fmt.Fprintln(w, ":")
	for _, f := range p.Findings {
		for _, a := range f.Actions {
			fmt.Fprintf(w, "  %s [%s] %s\n", esc(a.ID), esc(string(a.Risk)), actionPlace(a))
		}
	}
	for _, ws := range p.Windows {
		fmt.Fprintf(w, "  change window %s: %s for %s (%s)\n", esc(ws.Name), esc(ws.Cron), esc(ws.Duration), esc(ws.TimeZone))
	}
}

func eachText(ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	return "; on their own: " + strings.Join(ids, ", ")
}

func sortedIDs(m map[string]plan.Action) []string {
	var ids []string
	for id := range m {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
