package apply

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/relay"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// step runs one action with its re-check, guards, journal records and verification.
func (r *run) step(ctx context.Context, f *plan.Finding, a plan.Action) StepResult {
	sr := StepResult{ActionID: a.ID, Name: a.Name, Target: a.Target, Command: actions.Display(a)}
	refuse := func(gate, reason string) StepResult {
		rf := r.refusal(gate, a.ID+": "+reason)
		r.record(journal.Entry{Kind: journal.KindGate, Name: gate, Target: a.Target, Link: f.ID, Outcome: journal.Refused, Reason: rf.journalText(), Command: sr.Command})
		r.res.Refusals = append(r.res.Refusals, rf)
		r.say("  %s: refused: %s", a.Name, reason)
		sr.Outcome, sr.Reason = Refused, reason
		return sr
	}
	r.say("  %s on %s: %s", a.Name, a.Target, a.Title)
	if a.Blocked {
		return refuse("blocked:"+a.ID, "blocked in the plan: "+strings.Join(a.Reasons, "; "))
	}
	if !r.approved[a.ID] {
		sr.Outcome, sr.Reason = Refused, "not approved: "+r.refusedBy[a.ID]
		return sr
	}
	if k := a.Key; k != "" {
		if prev, ok := r.done[k]; ok {
			sr.Outcome, sr.Reason = prev.Outcome, "same effect as "+prev.ActionID+" (run once per apply)"
			r.record(journal.Entry{Kind: journal.KindNote, Name: a.Name, Target: a.Target, Link: f.ID, Reason: sr.Reason})
			return sr
		}
	}
	defer func() {
		if a.Key != "" && sr.Outcome == Succeeded {
			r.done[a.Key] = sr
		}
		// The object is deleted (here, by an earlier run, or elsewhere): a cleanup of the same
		// object on another DC's copy waits for the deletion to replicate (awaitDeletion).
		if a.Kind == plan.KindLDAPDelete && a.LDAPDelete != nil && (sr.Outcome == Succeeded || sr.Outcome == Skipped) {
			if _, ok := r.deleted[deletionKey(a)]; !ok {
				r.deleted[deletionKey(a)] = deletion{ActionID: a.ID, Target: a.Target}
			}
		}
	}()
	if ok, why := r.windowStillOpen(); !ok {
		return refuse("window", "the change window closed during the apply: "+why)
	}
	if err := r.keepLock(); err != nil {
		return refuse("lock", "the forest lock was lost: "+err.Error())
	}

	// Resume: anything the journal has seen of this step is re-checked first.
	st, err := r.j.Step(r.o.Plan.Fingerprint, f.ID, a.Name)
	if err != nil {
		r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
		sr.Outcome, sr.Reason = Failed, err.Error()
		return sr
	}
	if st.State != journal.StepNotStarted {
		inPlace, known, detail := r.recheck(ctx, f, a)
		rc := recheckOutcome(inPlace, known)
		why := fmt.Sprintf("earlier attempt (run %s, %s", st.RunID, st.State)
		if st.Outcome != "" {
			why += ", " + string(st.Outcome)
		}
		why += ")"
		if st.NeedsRecheck() {
			if _, err := r.j.MarkRechecked(st.BeginID, journal.Recheck{Outcome: rc, Verification: detail, Reason: why + " was interrupted"}); err != nil {
				r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
				sr.Outcome, sr.Reason = Failed, err.Error()
				return sr
			}
		} else {
			r.record(journal.Entry{Kind: journal.KindVerify, Name: journal.RecheckPrefix + a.Name, Target: a.Target, Link: f.ID,
				Outcome: rc, Verification: detail, Reason: why})
		}
		if r.fatal != nil {
			sr.Outcome = Failed
			return sr
		}
		r.say("    re-check of the %s: %s", why, detail)
		switch {
		case inPlace:
			sr.Outcome, sr.Reason, sr.Verification = Succeeded, "already in effect ("+why+"); not run again", detail
			return sr
		case !known && a.Destructive():
			return refuse("recheck:"+a.ID, "an earlier run may already have done this destructive step and its effect cannot be checked ("+detail+"); check it by hand before applying again")
		}
	}

	// A delete whose object is already gone from the target's copy (another finding's cleanup
	// of the same stale DSA replicated there, or someone removed it) has nothing to do: it is
	// re-checked and skipped, not refused by guards that no longer find the object.
	if a.Kind == plan.KindLDAPDelete && a.LDAPDelete != nil {
		st, err := r.o.Exec.Inspect(ctx, a)
		if err == nil && !st.Exists {
			detail := a.LDAPDelete.DN + " is no longer in " + a.Target + "'s copy: nothing to delete"
			r.record(journal.Entry{Kind: journal.KindVerify, Name: "precheck:" + a.Name, Target: a.Target, Link: f.ID,
				Outcome: journal.Skipped, Verification: detail, Reason: "before the delete", Command: sr.Command})
			if r.fatal != nil {
				sr.Outcome = Failed
				return sr
			}
			r.say("    skipped: %s", detail)
			sr.Outcome, sr.Reason, sr.Verification = Skipped, "already done: "+detail, detail
			return sr
		}
		// The same object was deleted on another DC's copy in this run: this cleanup is that
		// deletion, on its way here by replication. It is awaited, never run again, and not
		// refused by guards that read the topology from a DC that no longer lists the DSA.
		sameObject := err != nil || strings.EqualFold(st.GUID, a.LDAPDelete.ExpectGUID)
		if prev, ok := r.deleted[deletionKey(a)]; ok && sameObject && !strings.EqualFold(prev.Target, a.Target) {
			return r.awaitDeletion(ctx, f, a, prev, sr)
		}
	}

	// Where it goes is where the fresh topology says the target is (the plan file's host name
	// and addresses are what was approved; they must still be the DC's).
	if d := r.targetDrift(a); d != "" {
		return refuse("target:"+a.ID, d)
	}

	// Guards on fresh facts, right before a destructive action.
	if a.Destructive() {
		ok, reason := r.guards(ctx, f, a)
		if r.fatal != nil {
			sr.Outcome = Failed
			return sr
		}
		if !ok {
			sr.Outcome, sr.Reason = Refused, reason
			return sr
		}
	}

	if err := r.use(r.grant.Digest, r.eachDigest[a.ID]); err != nil {
		if errors.Is(err, journal.ErrApprovalSpent) {
			return refuse("approval", err.Error())
		}
		r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
		sr.Outcome, sr.Reason = Failed, "not run: "+r.fatal.Error()
		return sr
	}
	begin, err := r.j.BeginAction(journal.Entry{Forest: r.o.Forest, Name: a.Name, Target: a.Target, Link: f.ID,
		PlanFingerprint: r.o.Plan.Fingerprint, Command: sr.Command, Reason: a.Title})
	if err != nil {
		r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
		sr.Outcome, sr.Reason = Failed, "not run: "+r.fatal.Error()
		return sr
	}
	out := r.o.Exec.Run(ctx, a)
	sr.ExitCode = exitOf(out)
	if !out.OK() {
		sr.Outcome, sr.Reason, sr.Error = Failed, out.Err.Error(), out.Err.Error()
		r.finish(begin, journal.Failed, out, "", "the action failed")
		r.say("    failed: %s", out.Err)
		return sr
	}
	r.say("    ran (exit %s); verifying...", exitText(out.ExitCode))
	outcome, verification := r.verify(ctx, f, a)
	sr.Outcome, sr.Verification = outcome, verification
	r.record(journal.Entry{Kind: journal.KindVerify, Name: "verify:" + a.Name, Target: a.Target, Link: f.ID,
		Outcome: outcome, Verification: verification})
	if outcome != Succeeded {
		sr.Reason = "verification: " + verification
	}
	r.finish(begin, outcome, out, verification, "")
	r.say("    %s: %s", outcome, verification)
	return sr
}

// deletion is an ldap_delete whose object is gone from its target's copy in this run.
type deletion struct {
	ActionID, Target string
}

// deletionKey identifies the object an ldap_delete removes, whichever DC's copy it runs on.
func deletionKey(a plan.Action) string {
	return strings.ToLower(a.LDAPDelete.DN) + "\x00" + strings.ToLower(a.LDAPDelete.ExpectGUID)
}

// awaitDeletion reads the object on a's target until the deletion made on prev's target has
// replicated there (skipped: already done), or until the action's verification deadline
// (pending: done on prev's target, not here yet). Nothing is deleted: the object is the same.
func (r *run) awaitDeletion(ctx context.Context, f *plan.Finding, a plan.Action, prev deletion, sr StepResult) StepResult {
	d := a.LDAPDelete
	src := fmt.Sprintf("%s was deleted on %s's copy (%s)", d.DN, prev.Target, prev.ActionID)
	timeout := r.verifyTimeout(a)
	r.say("    %s: waiting up to %s for the deletion to reach %s's copy by replication", src, timeout, a.Target)
	start := r.now()
	deadline := start.Add(timeout)
	interval := r.o.PollInterval
	var outcome journal.Outcome
	var detail string
	for poll := 1; ; poll++ {
		st, err := r.o.Exec.Inspect(ctx, a)
		switch {
		case err == nil && !st.Exists:
			outcome = Skipped
			detail = fmt.Sprintf("already done: %s; the deletion reached %s's copy (poll %d, after %s)", src, a.Target, poll, r.now().Sub(start).Round(time.Second))
		case err == nil && !strings.EqualFold(st.GUID, d.ExpectGUID):
			outcome = Failed
			detail = fmt.Sprintf("%s; on %s the DN now names another object (objectGUID %s): nothing deleted, plan again", src, a.Target, st.GUID)
		}
		if outcome == "" && !r.now().Before(deadline) {
			outcome = Pending
			detail = fmt.Sprintf("%s; %s's copy still holds it after %s (%s): the deletion reaches it with %s's next replication of the configuration partition; nothing more to delete, apply the plan again later to re-check",
				src, a.Target, r.now().Sub(start).Round(time.Second), inspectText(st, err), a.Target)
		}
		if outcome != "" {
			break
		}
		if err := r.o.Sleep(ctx, min(interval, deadline.Sub(r.now()))); err != nil {
			outcome = Pending
			detail = fmt.Sprintf("%s; %s's copy still held it when the wait was interrupted (%v); nothing more to delete, apply the plan again to re-check", src, a.Target, err)
			break
		}
		if interval *= 2; interval > MaxPollInterval {
			interval = MaxPollInterval
		}
	}
	r.record(journal.Entry{Kind: journal.KindVerify, Name: "precheck:" + a.Name, Target: a.Target, Link: f.ID,
		Outcome: outcome, Verification: detail, Reason: "before the delete: the same object was deleted by " + prev.ActionID, Command: sr.Command})
	if r.fatal != nil {
		sr.Outcome = Failed
		return sr
	}
	r.say("    %s: %s", outcome, detail)
	sr.Outcome, sr.Reason, sr.Verification = outcome, detail, detail
	return sr
}

func inspectText(st ldapdelete.ObjectState, err error) string {
	if err != nil {
		return "last read failed: " + err.Error()
	}
	return "objectGUID " + st.GUID
}

func exitText(p *int) string {
	if p == nil {
		return "none"
	}
	return itoa(*p)
}

func (r *run) finish(begin int64, out journal.Outcome, o actions.Outcome, verification, reason string) {
	if r.fatal != nil {
		return
	}
	stdout, stderr := o.Stdout, o.Stderr
	if stdout == nil && stderr == nil {
		stdout = []byte{}
	}
	if _, err := r.j.FinishAction(begin, journal.Result{Outcome: out, ExitCode: o.ExitCode, Stdout: stdout, Stderr: stderr,
		Verification: verification, Reason: reason, Err: o.Err}); err != nil {
		r.fatal = fmt.Errorf("%w: the action ran but its end could not be recorded (the next apply re-checks it): %v", ErrJournal, err)
	}
}

// recheckOutcome records what a re-check found: the effect in place, not in place, or unknown.
func recheckOutcome(inPlace, known bool) journal.Outcome {
	switch {
	case inPlace:
		return journal.Succeeded
	case !known:
		return journal.Skipped
	}
	return journal.Failed
}

// recheck looks at whether an action's effect is in place, without running it.
func (r *run) recheck(ctx context.Context, f *plan.Finding, a plan.Action) (inPlace, known bool, detail string) {
	if a.Kind == plan.KindLDAPDelete {
		st, err := r.o.Exec.Inspect(ctx, a)
		return ldapdelete.Recheck(a.LDAPDelete, st, err)
	}
	if len(a.Verify) == 0 {
		return false, false, "the action names no checks"
	}
	if r.fresh == nil {
		return false, false, "no facts"
	}
	results, _, err := r.evalChecks(ctx, f, a.Verify, false)
	if err != nil {
		return false, false, err.Error()
	}
	ok, failed := summarize(results)
	return ok, ok || failed, checkText(results)
}

// targetDrift compares the host an action would be sent to (its target's DNS name and
// addresses, as the plan names them) with the target DC in the latest fresh facts; "" when
// they agree.
func (r *run) targetDrift(a plan.Action) string {
	if r.fresh == nil {
		return "no fresh facts to check the target against"
	}
	dc := facts.NewIndex(r.fresh).DCByName(a.Target)
	if dc == nil {
		return "the target " + termtext.Escape(a.Target) + " is not in the fresh topology"
	}
	fresh := plan.Action{Target: a.Target, TargetDNSHostName: facts.CanonicalName(dc.DNSHostName)}
	if ips, ok := dc.IPs.Get(); ok {
		fresh.TargetIPs = ips
	}
	have := plan.Action{Target: a.Target, TargetDNSHostName: a.TargetDNSHostName, TargetIPs: a.TargetIPs}
	if d := fieldDiff(bindingOf(have), bindingOf(fresh)); d != "" {
		return "the target moved or the plan file was edited: " + d
	}
	return ""
}

// --- guards ---

// guards gathers fresh facts, plans again, and requires the fresh plan to propose the same
// action with every playbook guard true, and every built-in guard true.
func (r *run) guards(ctx context.Context, f *plan.Finding, a plan.Action) (bool, string) {
	var reason string
	ok := r.gate("guards:"+a.ID, a.Target, func() (bool, string) {
		s, fresh, err := r.freshPlan(ctx)
		if err != nil {
			reason = "guards could not be evaluated: " + err.Error()
			return false, reason
		}
		var lines, bad []string
		var fa *plan.Action
		for i := range fresh.Findings {
			if fresh.Findings[i].ID != f.ID {
				continue
			}
			for j := range fresh.Findings[i].Actions {
				if fresh.Findings[i].Actions[j].Name == a.Name {
					fa = &fresh.Findings[i].Actions[j]
				}
			}
		}
		switch {
		case fa == nil:
			bad = append(bad, "the fresh facts no longer lead to this action (the diagnosis changed)")
		case a.LDAPDelete != nil && (fa.LDAPDelete == nil || !strings.EqualFold(fa.LDAPDelete.DN, a.LDAPDelete.DN) || !strings.EqualFold(fa.LDAPDelete.ExpectGUID, a.LDAPDelete.ExpectGUID)):
			bad = append(bad, "the fresh plan would delete another object")
		default:
			for _, g := range fa.Guards {
				line := fmt.Sprintf("%s: %s", g.Name, g.Status)
				if g.Status != plan.StatusOK {
					line += " — " + g.Message
					bad = append(bad, line)
				}
				lines = append(lines, line)
			}
			if fa.Blocked {
				bad = append(bad, "blocked: "+strings.Join(fa.Reasons, "; "))
			}
		}
		for _, g := range ldapdelete.Guards(s, a) {
			line := fmt.Sprintf("%s: %s", g.Name, g.Status)
			if g.Status != plan.StatusOK {
				line += " — " + g.Message
				bad = append(bad, line)
			}
			lines = append(lines, line)
		}
		if len(bad) > 0 {
			reason = "guard refused (false or unknown is a hard refusal): " + strings.Join(bad, "; ")
			return false, reason
		}
		reason = "every guard holds on fresh facts: " + strings.Join(lines, "; ")
		return true, reason
	})
	return ok, reason
}

// --- verification ---

func (r *run) verifyTimeout(a plan.Action) time.Duration {
	if r.o.VerifyTimeout > 0 {
		return r.o.VerifyTimeout
	}
	if d, err := time.ParseDuration(a.VerifyTimeout); err == nil && d > 0 {
		return d
	}
	return DefaultVerifyTimeout
}

// verify polls the action's checks with backoff until they pass or the deadline.
func (r *run) verify(ctx context.Context, f *plan.Finding, a plan.Action) (journal.Outcome, string) {
	timeout := r.verifyTimeout(a)
	start := r.now()
	deadline := start.Add(timeout)
	if a.Kind == plan.KindLDAPDelete {
		return r.verifyDelete(ctx, f, a, start, deadline)
	}
	if len(a.Verify) == 0 {
		return Pending, "the playbook names no checks for this action: not verified"
	}
	return r.poll(ctx, f, a.Verify, start, deadline, false)
}

// verifyDelete verifies a metadata cleanup. The object is read again on the target's copy (it
// must be gone, else the delete failed); the topology and the destination's replication status
// are read again; then the playbook's checks are evaluated on facts read after the delete (the
// facts gathered before it still hold the object), and reported: none is skipped. When the
// target's copy shows the cleanup (object gone, and the link gone or the DSA gone from the
// topology) but the playbook's checks do not pass in time, the outcome is pending, not failed:
// the cleanup happened, what the playbook looks for has not caught up.
func (r *run) verifyDelete(ctx context.Context, f *plan.Finding, a plan.Action, start, deadline time.Time) (journal.Outcome, string) {
	st, err := r.o.Exec.Inspect(ctx, a)
	switch {
	case err != nil:
		return Pending, "could not read " + a.LDAPDelete.DN + " on " + a.Target + " after the delete: " + err.Error()
	case st.Exists && strings.EqualFold(st.GUID, a.LDAPDelete.ExpectGUID):
		return Failed, a.LDAPDelete.DN + " still exists in " + a.Target + "'s copy after the delete"
	}
	text := a.LDAPDelete.DN + " is gone from " + a.Target + "'s copy"
	shown := false // the target's copy and the fresh facts show the cleanup
	s, err := r.o.Facts.Gather(ctx, noNeeds)
	g := a.LDAPDelete.ExpectGUID
	switch {
	case err != nil:
		text += "; the topology and link status could not be read again: " + err.Error()
	case linksOf(s, f).present == 0:
		shown = true
		text += "; " + f.Link.Destination + " no longer replicates from DSA " + f.Link.SourceDSAGUID + " (the link is gone)"
	case strings.EqualFold(g, f.Link.SourceDSAGUID) && dsaRemoved(s, g):
		shown = true
		text += "; DSA " + g + " is no longer in the topology (the repsFrom values that still name it go with the destination's next KCC run)"
	default:
		text += "; " + f.Link.Destination + " still lists DSA " + f.Link.SourceDSAGUID + " as a replication source"
	}
	if len(a.Verify) == 0 {
		if shown {
			return Succeeded, text + "; the playbook names no checks for this action"
		}
		return Pending, text + "; the playbook names no checks for this action: not verified"
	}
	out, checks := r.poll(ctx, f, a.Verify, start, deadline, true)
	text += "; " + checks
	if out != Succeeded && shown {
		return Pending, text + " (the cleanup shows on " + a.Target + ", the playbook's checks do not agree yet)"
	}
	return out, text
}

// poll evaluates checks with backoff until they pass or the deadline (extended once to outlast
// a cached negative DNS answer, unless the caller fixed the timeout). With topology, every
// evaluation reads the topology and link status again (an action changed them).
func (r *run) poll(ctx context.Context, f *plan.Finding, checks []string, start, deadline time.Time, topology bool) (journal.Outcome, string) {
	prefix := ""
	interval := r.o.PollInterval
	extended := false
	var last []plan.CheckResult
	var lastErr error
	for poll := 1; ; poll++ {
		results, ttl, err := r.evalChecks(ctx, f, checks, topology)
		lastErr = err
		if err == nil {
			last = results
			if ok, _ := summarize(results); ok {
				return Succeeded, prefix + checkText(results) + fmt.Sprintf(" (poll %d, after %s)", poll, r.now().Sub(start).Round(time.Second))
			}
		}
		if !extended && ttl > 0 && r.o.VerifyTimeout == 0 {
			if end := start.Add(ttl + interval); end.After(deadline) {
				if max := start.Add(MaxVerifyTimeout); end.After(max) {
					end = max
				}
				deadline, extended = end, true
				r.say("    a DNS server caches the answer for %s: waiting until %s", ttl, deadline.Format(time.RFC3339))
			}
		}
		now := r.now()
		if !now.Before(deadline) || ctx.Err() != nil {
			break
		}
		wait := interval
		if rem := deadline.Sub(now); rem < wait {
			wait = rem
		}
		if err := r.o.Sleep(ctx, wait); err != nil {
			break
		}
		if interval *= 2; interval > MaxPollInterval {
			interval = MaxPollInterval
		}
		if err := r.keepLock(); err != nil {
			return Pending, prefix + "the forest lock was lost while verifying: " + err.Error()
		}
	}
	if last == nil {
		msg := "checks could not be evaluated"
		if lastErr != nil {
			msg += ": " + lastErr.Error()
		}
		return Pending, prefix + msg
	}
	_, failed := summarize(last)
	text := prefix + checkText(last) + fmt.Sprintf(" — did not pass within %s", deadline.Sub(start).Round(time.Second))
	if failed {
		return Failed, text
	}
	return Pending, text
}

// evalChecks observes what the checks need afresh and evaluates them on the latest facts (with
// topology, on the topology and link status read again rather than on r.fresh). It returns the
// longest DNS caching TTL seen in a negative or failing answer.
func (r *run) evalChecks(ctx context.Context, f *plan.Finding, checks []string, topology bool) ([]plan.CheckResult, time.Duration, error) {
	base := r.fresh
	if topology {
		s, err := r.o.Facts.Gather(ctx, noNeeds)
		if err != nil {
			return nil, 0, fmt.Errorf("reading the topology again: %w", err)
		}
		base = s
	}
	if base == nil {
		return nil, 0, errors.New("no facts gathered")
	}
	// Everything the checks need is observed afresh: start from the facts without any
	// observation, so that VerifyNeeds lists all of them.
	s := *base
	s.DNS, s.Reach = nil, nil
	var asked []facts.DNSQuery
	for round := 0; round < gather.MaxCompleteRounds; round++ {
		dns, tcp, err := engine.VerifyNeeds(r.pb, &s, f, checks)
		if err != nil {
			return nil, 0, err
		}
		dns, tcp = facts.Missing(&s, dns, tcp)
		if len(dns) == 0 && len(tcp) == 0 {
			break
		}
		asked = append(asked, dns...)
		if err := r.o.Facts.Observe(ctx, &s, dns, tcp); err != nil {
			return nil, 0, err
		}
	}
	ttl := negativeTTL(s.DNS, asked)
	results, err := engine.Verify(r.pb, &s, f, checks, engine.PlanOptions{Now: r.now()})
	return results, ttl, err
}

// negativeTTL returns the longest time a caching resolver among the asked servers may keep
// answering the failure it cached: for a non-authoritative NXDOMAIN/NODATA, the SOA's minimum
// capped by the SOA record's TTL (RFC 2308). Authoritative answers are not cached answers.
func negativeTTL(obs []facts.DNSObservation, qs []facts.DNSQuery) time.Duration {
	want := map[string]bool{}
	for _, q := range qs {
		want[q.Key()] = true
	}
	var max time.Duration
	for _, o := range obs {
		if !want[o.Key()] || !o.Responded() || o.Authoritative {
			continue
		}
		if o.Rcode != "NXDOMAIN" && !(o.Rcode == "NOERROR" && len(o.Answers) == 0) {
			continue
		}
		for _, rr := range o.Authority {
			if !strings.EqualFold(rr.Type, facts.TypeSOA) {
				continue
			}
			ttl := time.Duration(rr.TTL) * time.Second
			fs := strings.Fields(rr.Data)
			if len(fs) == 7 {
				var m uint64
				if _, err := fmt.Sscan(fs[6], &m); err == nil && time.Duration(m)*time.Second < ttl {
					ttl = time.Duration(m) * time.Second
				}
			}
			if ttl > max {
				max = ttl
			}
		}
	}
	return max
}

// summarize: all ok; any failed.
func summarize(rs []plan.CheckResult) (ok, failed bool) {
	ok = len(rs) > 0
	for _, c := range rs {
		if c.Status != plan.StatusOK {
			ok = false
		}
		if c.Status == plan.StatusFailed {
			failed = true
		}
	}
	return ok, failed
}

func checkText(rs []plan.CheckResult) string {
	var parts []string
	for _, c := range rs {
		s := c.Name + " " + string(c.Status)
		if c.Summary != "" {
			s += " (" + c.Summary + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// --- replication retry and confirmation ---

// confirm re-reads the finding's links; while they fail it runs the replication retry (the
// plan's, or the built-in one) and reads them again, up to ReplicationAttempts times.
func (r *run) confirm(ctx context.Context, f *plan.Finding, retry *plan.Action, ranDelete bool) (journal.Outcome, string, []StepResult) {
	var steps []StepResult
	read := func() (linkState, string, error) {
		s, err := r.o.Facts.Gather(ctx, noNeeds)
		if err != nil {
			return linkState{}, "", err
		}
		ls := linksOf(s, f)
		switch {
		case ls.present == 0 && ranDelete:
			return ls, "the link is gone (its source's metadata was removed)", nil
		case ranDelete && dsaRemoved(s, f.Link.SourceDSAGUID):
			return linkState{}, fmt.Sprintf("the link is gone: its source DSA %s was removed (%d repsFrom value(s) still name it until the destination's KCC runs)", f.Link.SourceDSAGUID, ls.present), nil
		case ls.present == 0:
			return ls, "the link no longer exists", nil
		case ls.healthy():
			return ls, fmt.Sprintf("all %d naming context(s) replicate: result 0", ls.present), nil
		}
		return ls, "still failing: " + strings.Join(ls.failing, ", "), nil
	}
	record := func(out journal.Outcome, text string) {
		r.record(journal.Entry{Kind: journal.KindVerify, Name: "confirm_replication", Target: f.Link.Destination, Link: f.ID,
			Outcome: out, Verification: text})
	}
	ls, text, err := read()
	if err != nil {
		record(journal.Pending, "could not read the link status: "+err.Error())
		return Pending, "could not read the link status: " + err.Error(), steps
	}
	if ls.present == 0 || ls.healthy() {
		record(journal.Succeeded, text)
		r.say("  confirmed: %s", text)
		// A retry step interrupted earlier is resolved by this reading.
		r.resolveRetry(f, retry, text)
		return Succeeded, text, steps
	}
	r.resolveRetry(f, retry, text)
	interval := r.o.PollInterval
	for attempt := 1; attempt <= r.o.ReplicationAttempts; attempt++ {
		if attempt > 1 {
			if err := r.o.Sleep(ctx, interval); err != nil {
				break
			}
			if interval *= 2; interval > MaxPollInterval {
				interval = MaxPollInterval
			}
		}
		if ok, why := r.windowStillOpen(); !ok {
			return Refused, "the change window closed: " + why, steps
		}
		if err := r.keepLock(); err != nil {
			return Refused, "the forest lock was lost: " + err.Error(), steps
		}
		// The plan's retry first; then the built-in one for the NCs still failing (a Samba
		// retry covers one NC per command).
		var acts []plan.Action
		if attempt == 1 && retry != nil {
			if !r.approved[retry.ID] {
				return Refused, text + "; the replication retry is not approved: " + r.refusedBy[retry.ID], steps
			}
			if d := r.targetDrift(*retry); d != "" {
				r.record(journal.Entry{Kind: journal.KindGate, Name: "target:" + retry.ID, Target: retry.Target, Link: f.ID, Outcome: journal.Refused, Reason: d})
				r.res.Refusals = append(r.res.Refusals, Refusal{Gate: "target:" + retry.ID, Reason: retry.ID + ": " + d})
				return Refused, text + "; " + d, steps
			}
			if len(retry.Verify) > 0 {
				// Retrying before the destination resolves the source only fails again: wait
				// for the retry's checks (e.g. the PING test from the destination) first.
				start := r.now()
				out, vt := r.poll(ctx, f, retry.Verify, start, start.Add(r.verifyTimeout(*retry)), false)
				if out != Succeeded {
					out = Pending // a wait, not a verification: the confirmation below decides
				}
				r.record(journal.Entry{Kind: journal.KindVerify, Name: "precheck:" + retry.Name, Target: retry.Target, Link: f.ID,
					Outcome: out, Verification: vt, Reason: "before retrying replication"})
				r.say("  before %s: %s: %s", retry.Name, out, vt)
			}
			acts = []plan.Action{*retry}
			// A Samba retry pulls one NC per command: the built-in retry pulls the other
			// failing NCs in the same attempt, rather than one poll interval later. One not
			// approved waits for the next attempt, where the refusal is reported.
			if extra := notInArgv(ls.failingNCs, retry.Argv); len(retry.Argv) > 0 && len(extra) > 0 {
				if b, err := r.builtinRetry(f, extra); err == nil {
					for _, a := range b {
						if r.approveBuiltin(ctx, a) {
							acts = append(acts, a)
						}
					}
				}
			}
		} else {
			b, err := r.builtinRetry(f, ls.failingNCs)
			switch {
			case err == nil:
				acts = b
			case retry != nil && r.approved[retry.ID]:
				acts = []plan.Action{*retry}
			default:
				record(journal.Failed, text+"; "+err.Error())
				return Failed, text + "; " + err.Error(), steps
			}
			for _, a := range acts {
				if !r.approveBuiltin(ctx, a) {
					return Refused, text + "; the built-in replication retry is not approved: " + r.refusedBy[a.ID], steps
				}
			}
		}
		type started struct {
			begin int64
			sr    StepResult
			out   actions.Outcome
		}
		// Every pull of the attempt is begun in the journal before any is sent, then they
		// run side by side (runPulls); each is finished after the link is read again.
		var ran []started
		if err := r.use(r.grant.Digest); err != nil {
			if errors.Is(err, journal.ErrApprovalSpent) {
				return Refused, text + "; " + err.Error(), steps
			}
			r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
			return Failed, r.fatal.Error(), steps
		}
		for _, act := range acts {
			sr := StepResult{ActionID: act.ID, Name: act.Name, Target: act.Target, Command: actions.Display(act)}
			if len(acts) > 1 {
				r.say("  %s on %s (attempt %d of %d): %s", act.Name, act.Target, attempt, r.o.ReplicationAttempts, sr.Command)
			} else {
				r.say("  %s on %s (attempt %d of %d)", act.Name, act.Target, attempt, r.o.ReplicationAttempts)
			}
			begin, err := r.j.BeginAction(journal.Entry{Forest: r.o.Forest, Name: act.Name, Target: act.Target, Link: f.ID,
				PlanFingerprint: r.o.Plan.Fingerprint, Command: sr.Command, Reason: fmt.Sprintf("%s (attempt %d)", act.Title, attempt)})
			if err != nil {
				// nothing of this attempt was sent; the pulls already begun stay open and the
				// next run re-checks them (resolveRetry), as after a crash
				r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
				return Failed, r.fatal.Error(), steps
			}
			ran = append(ran, started{begin: begin, sr: sr})
		}
		if len(acts) > 1 {
			r.say("    %d pulls side by side (at most %d at once)", len(acts), maxParallelPulls)
		}
		for i, out := range r.runPulls(ctx, acts) {
			ran[i].out, ran[i].sr.ExitCode = out, exitOf(out)
		}
		ls, text, err = read()
		if err != nil {
			text = "could not read the link status: " + err.Error()
		}
		ok := err == nil && (ls.present == 0 || ls.healthy())
		for i, s := range ran {
			sr := s.sr
			switch {
			case ok:
				sr.Outcome = Succeeded
			case !s.out.OK():
				sr.Outcome, sr.Error = Failed, s.out.Err.Error()
			default:
				sr.Outcome = Pending
			}
			sr.Verification = text
			if sr.Outcome != Succeeded {
				sr.Reason = text
			}
			r.finish(s.begin, sr.Outcome, s.out, text, "")
			steps = append(steps, sr)
			switch {
			case i == len(ran)-1:
				r.say("    %s: %s", sr.Outcome, text) // one reading of the link serves every step
			case sr.Error != "":
				r.say("    %s: %s", sr.Outcome, sr.Error)
			}
			if r.fatal != nil {
				return Failed, r.fatal.Error(), steps
			}
		}
		if ok {
			record(journal.Succeeded, text)
			return Succeeded, text, steps
		}
	}
	record(journal.Failed, text)
	return Failed, text, steps
}

// maxParallelPulls bounds the replication retries of one attempt that run at once.
const maxParallelPulls = 4

// runPulls runs the replication retries of one attempt side by side, at most maxParallelPulls
// at once, and returns their outcomes in order. They are pulls of different naming contexts
// into one destination from one source, independent of each other: on Samba each is a
// samba-tool drs replicate over its own SSH connection, and its connection and start cost
// seconds each, while the destination's replication service queues the pulls themselves; one
// after the other they added seconds per failing NC to every repair.
func (r *run) runPulls(ctx context.Context, acts []plan.Action) []actions.Outcome {
	outs := make([]actions.Outcome, len(acts))
	if len(acts) == 1 {
		outs[0] = r.o.Exec.Run(ctx, acts[0])
		return outs
	}
	sem := make(chan struct{}, maxParallelPulls)
	var wg sync.WaitGroup
	var rl relay.Relay
	for i, a := range acts {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			defer rl.Catch()
			outs[i] = r.o.Exec.Run(ctx, a)
		}()
	}
	wg.Wait()
	rl.Raise()
	return outs
}

// notInArgv returns the NCs that are not an argument of argv (the NC a POSIX retry pulls).
func notInArgv(ncs, argv []string) []string {
	var out []string
	for _, nc := range ncs {
		if !slices.ContainsFunc(argv, func(a string) bool { return strings.EqualFold(a, nc) }) {
			out = append(out, nc)
		}
	}
	return out
}

// approveBuiltin asks, once per action, whether a built-in replication retry may run.
func (r *run) approveBuiltin(ctx context.Context, a plan.Action) bool {
	if ok, seen := r.approved[a.ID]; seen {
		return ok
	}
	r.note("%s: using the built-in replication retry: %s", a.ID, actions.Display(a))
	ok := r.gate("approval:"+a.ID, a.Target, func() (bool, string) {
		g, err := r.o.Approvals.ApproveAction(ctx, r.req, a, false)
		if err != nil {
			return false, err.Error()
		}
		return true, "built-in replication retry, " + firstNonEmpty(g.How, "covered by the plan approval")
	})
	r.approved[a.ID] = ok
	if !ok && len(r.res.Refusals) > 0 {
		r.refusedBy[a.ID] = r.res.Refusals[len(r.res.Refusals)-1].Reason
	}
	return ok
}

// resolveRetry records the re-check of an interrupted retry step from a link reading.
func (r *run) resolveRetry(f *plan.Finding, retry *plan.Action, text string) {
	name := r.o.RetryAction
	if retry != nil {
		name = retry.Name
	}
	st, err := r.j.Step(r.o.Plan.Fingerprint, f.ID, name)
	if err != nil || !st.NeedsRecheck() {
		return
	}
	out := journal.Failed
	if strings.Contains(text, "result 0") || strings.Contains(text, "gone") || strings.Contains(text, "no longer exists") {
		out = journal.Succeeded
	}
	// An attempt begins all its pulls before it sends them: every one left open is re-checked
	// by this one reading of the link.
	open, err := r.j.OpenBegins(r.o.Plan.Fingerprint, f.ID, name)
	if err != nil {
		r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
		return
	}
	for _, id := range open {
		if _, err := r.j.MarkRechecked(id, journal.Recheck{Outcome: out, Verification: text, Reason: "interrupted replication retry, re-checked by reading the link status"}); err != nil {
			r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
			return
		}
	}
}

// closeInterrupted re-checks, for a finding skipped because its link is healthy now, every
// step an earlier run of this plan began and never finished (a run killed mid-step): nothing
// else would ever resolve them, and the journal would show them open for ever. The link
// replicating again is the check of every step but a destructive one, which is inspected as
// on any resume.
func (r *run) closeInterrupted(ctx context.Context, f *plan.Finding, healthy string) {
	var names []string
	acts := map[string]plan.Action{}
	seen := map[string]bool{"": true}
	add := func(name string) {
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	for _, a := range f.Actions {
		add(a.Name)
		if _, ok := acts[a.Name]; !ok {
			acts[a.Name] = a
		}
	}
	add(r.o.RetryAction)
	add(actions.RetryName)
	for _, name := range names {
		open, err := r.j.OpenBegins(r.o.Plan.Fingerprint, f.ID, name)
		if err != nil {
			r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
			return
		}
		if len(open) == 0 {
			continue
		}
		out, detail := journal.Succeeded, healthy
		if a, ok := acts[name]; ok && a.Destructive() {
			inPlace, known, d := r.recheck(ctx, f, a)
			out, detail = recheckOutcome(inPlace, known), d
		}
		for _, id := range open {
			if _, err := r.j.MarkRechecked(id, journal.Recheck{Outcome: out, Verification: detail,
				Reason: "interrupted in an earlier run; the link is healthy now, so it is not run again"}); err != nil {
				r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
				return
			}
		}
		r.say("  %s: re-checked %d interrupted %s step(s) of an earlier run: %s", f.ID, len(open), name, out)
	}
}

func (r *run) builtinRetry(f *plan.Finding, ncs []string) ([]plan.Action, error) {
	ix := facts.NewIndex(r.fresh)
	dest := ix.DCByName(f.Link.Destination)
	if dest == nil {
		return nil, fmt.Errorf("cannot retry replication: %s is not in the fresh topology", f.Link.Destination)
	}
	platform, _ := dest.Platform.Get()
	ips, _ := dest.IPs.Get()
	src := ix.DCByGUID(f.Link.SourceDSAGUID)
	sourceHost := ""
	if src != nil {
		sourceHost = src.DNSHostName
	}
	return actions.RetryReplication(f, plan.Platform(platform), dest.DNSHostName, ips, sourceHost, ncs)
}

// --- leftovers ---

type dnsAdapter struct {
	r *run
}

func (d dnsAdapter) Query(ctx context.Context, q facts.DNSQuery) facts.DNSObservation {
	s := &facts.Snapshot{}
	if d.r.fresh != nil {
		s.DCs = d.r.fresh.DCs
	}
	if err := d.r.o.Facts.Observe(ctx, s, []facts.DNSQuery{q}, nil); err != nil || len(s.DNS) == 0 {
		return facts.DNSObservation{DNSQuery: q, Error: "not observed"}
	}
	return s.DNS[0]
}

func (r *run) leftovers(ctx context.Context, f *plan.Finding, a plan.Action) []ldapdelete.Leftover {
	if r.fresh == nil || a.LDAPDelete == nil {
		return nil
	}
	ix := facts.NewIndex(r.fresh)
	dc := ix.DCByNTDSDN(a.LDAPDelete.DN)
	if dc == nil {
		return nil
	}
	servers := map[string]bool{}
	for _, d := range r.fresh.DCs {
		if d.NTDSSettingsDN == dc.NTDSSettingsDN {
			continue
		}
		for _, ip := range d.DNSServers.Value {
			servers[ip] = true
		}
	}
	in := ldapdelete.LeftoversInput{Forest: r.fresh.Forest, DC: *dc, DNSServers: sortedKeys(servers)}
	// A re-promoted DC still runs under its new DSA GUID: its server and computer objects and its
	// host, SRV and NS records belong to the live DC; only the old GUID's CNAME is a leftover.
	if own, ok := dc.OwnDSAGUID.Get(); ok && own != "" && !strings.EqualFold(own, dc.DSAGUID) {
		in.Alive = true
	}
	ls := r.o.Exec.Leftovers(ctx, a, dnsAdapter{r}, in)
	for _, l := range ls {
		cmds := strings.Join(l.PowerShell, "\n")
		if cmds == "" {
			cmds = strings.Join(l.POSIX, "\n")
		}
		r.record(journal.Entry{Kind: journal.KindNote, Name: "leftover", Target: dc.Name, Link: f.ID, Reason: l.What + ". " + l.Note, Command: cmds})
		r.say("    leftover: %s", l.What)
	}
	return ls
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
