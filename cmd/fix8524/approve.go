package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
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

// approveFlags are approve's flags.
type approveFlags struct {
	by, expires, reason, signKey string
	each                         multiFlag
	state                        stateFlag
	prof                         profileFlag
}

func (f *approveFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.by, "by", "", "who approves (`NAME`, required)")
	fs.StringVar(&f.expires, "expires", "4h", "how long the approval is valid (`DURATION`: 30m, 4h, 2d; at most 30d)")
	fs.StringVar(&f.reason, "reason", "", "why (`TEXT`, e.g. a change ticket), recorded")
	fs.StringVar(&f.signKey, "sign-key", "", "sign the approval with the ed25519 private key in `FILE` (fix8524 keygen, or ssh-keygen -t ed25519)")
	fs.Var(&f.each, "allow-each", "also approve this one `ACTION_ID` on its own (repeatable); metadata cleanups need it")
	f.state.register(fs)
	f.prof.register(fs)
}

func runApprove(_ context.Context, e *env, args []string) int {
	var af approveFlags
	fs := newFlags(e, "approve",
		"Usage: fix8524 approve PLAN --by NAME [--expires 4h] [--reason TEXT] [--sign-key FILE] [--allow-each ACTION_ID]... [--state DIR]",
		"\nRecords an approval of the plan file exactly as it is (its fingerprint and its bytes) next to it:",
		"PLAN.approval.json, and PLAN.approve-each.json for --allow-each. apply refuses a plan that changed since.",
		"An action the playbook marks requires_approval_each (metadata cleanup), and every ldap_delete when a plan",
		"runs more than one, needs its own --allow-each ACTION_ID (the ids are shown by fix8524 plan).",
	)
	af.register(fs)
	planPath, code, ok := parseFlagsArg(e, fs, args)
	if !ok {
		return code
	}
	if planPath == "" {
		fs.Usage()
		return exitError
	}
	fail := func(err error) int {
		fmt.Fprintln(e.stderr, "fix8524 approve:", err)
		return exitError
	}
	set, err := af.prof.apply(e, fs)
	if err != nil {
		return fail(err)
	}
	af.state.fromProfile = set["state"]
	if strings.TrimSpace(af.by) == "" {
		return fail(errors.New("--by NAME is required: an approval says who approved"))
	}
	ttl, err := window.ParseDuration(af.expires)
	if err != nil || ttl <= 0 || ttl > approval.MaxTTL {
		return fail(fmt.Errorf("--expires %q: want a duration between 1s and %s (30m, 4h, 2d)", af.expires, approval.MaxTTL))
	}
	pl, planBytes, err := plan.Read(planPath)
	if err != nil {
		return fail(err)
	}
	needEach, err := checkEach(e, pl, af.each)
	if err != nil {
		return fail(err)
	}
	a, eachApprovals, err := af.approve(pl, planBytes, ttl)
	if err != nil {
		return fail(err)
	}

	// Journal first: an approval that cannot be recorded is not written either. A demo plan's
	// approval goes to the demo's state directory, where apply --demo looks.
	_, isDemo := demoPlan(pl)
	j, err := af.state.openFor(e, isDemo, e.stdout)
	if err != nil {
		return fail(errors.New(journalErr(err)))
	}
	defer j.Close()
	j.SetActor(af.by)
	if _, err := j.Record(journal.Entry{Kind: journal.KindNote, Name: "approve", Forest: apply.ForestOf(pl), PlanFingerprint: pl.Fingerprint,
		Outcome: journal.Allowed, Reason: a.String() + eachText(af.each), Target: planPath}); err != nil {
		return fail(errors.New(journalErr(err)))
	}
	path, err := approval.Save(planPath, a)
	if err != nil {
		return fail(err)
	}
	writeApproved(e.stdout, pl)
	fmt.Fprintf(e.stdout, "Approved plan %s (%d action(s)): %s.\nSaved to %s.\n", termtext.Args([]any{pl.Fingerprint, pl.Summary.Actions, a.String(), path})...)
	if len(eachApprovals) > 0 {
		p, err := apply.SaveEach(planPath, eachApprovals)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(e.stdout, "Approved on their own: %s (saved to %s).\n", termtext.Args([]any{strings.Join(af.each, ", "), p})...)
	}
	writeMissingEach(e.stdout, planPath, af.by, needEach, af.each)
	fmt.Fprintf(e.stdout, "Next: %s\n", applyCommand(planPath, pl, af.state.flag(e, isDemo, j.Dir())))
	return exitOK
}

// checkEach warns about what the plan's findings rest on (heal never acts on them; a person
// approving them should know what was guessed), refuses an --allow-each naming no action of
// the plan and warns about one the plan blocks. It returns the actions that need an approval
// of their own (plan.OwnApprovals), in plan order.
func checkEach(e *env, pl *plan.Plan, each []string) (needEach []string, err error) {
	actions := map[string]plan.Action{}
	for _, f := range pl.Findings {
		for _, a := range f.Actions {
			actions[a.ID] = a
		}
	}
	for _, f := range pl.Findings {
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
			return nil, fmt.Errorf("--allow-each %q: the plan has no such action (its actions: %s)", id, termtext.Escape(strings.Join(sortedIDs(actions), ", ")))
		}
		if a.Blocked {
			fmt.Fprintf(e.stderr, "warning: %s is blocked in the plan (%s): apply will refuse it whatever the approval\n", termtext.Args([]any{id, strings.Join(a.Reasons, "; ")})...)
		}
	}
	return needEach, nil
}

// approve makes the plan's approval and one of its own for each --allow-each, signed with
// --sign-key when given.
func (f *approveFlags) approve(pl *plan.Plan, planBytes []byte, ttl time.Duration) (*approval.Approval, []*approval.Approval, error) {
	var signer ed25519.PrivateKey
	if f.signKey != "" {
		var err error
		if signer, err = approval.LoadPrivateKey(f.signKey); err != nil {
			return nil, nil, err
		}
	}
	now := time.Now()
	a, err := approval.ApproveAt(now, planBytes, pl.Fingerprint, f.by, ttl, f.reason, signer)
	if err != nil {
		return nil, nil, err
	}
	var each []*approval.Approval
	for _, id := range f.each {
		x, err := approval.ApproveAt(now, planBytes, apply.EachFingerprint(pl.Fingerprint, id), f.by, ttl, f.reason, signer)
		if err != nil {
			return nil, nil, err
		}
		each = append(each, x)
	}
	return a, each, nil
}

// writeMissingEach says which actions still need an approval of their own, and how to give it.
func writeMissingEach(w io.Writer, planPath, by string, needEach, each []string) {
	var missing []string
	for _, id := range needEach {
		if !slices.Contains(each, id) {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "Note: %s need(s) an approval of its own; apply refuses the plan until then:\n", termtext.Escape(strings.Join(missing, ", ")))
		for _, id := range missing {
			fmt.Fprintf(w, "  fix8524 approve %s --by %s --allow-each %s\n", termtext.ShellWord(planPath), termtext.ShellWord(by), termtext.ShellWord(id))
		}
	}
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
