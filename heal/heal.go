package heal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/metrics"
	"github.com/fix8524/fix8524/internal/notify"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// Actor is the journal's actor of heal's entries and of the applies it runs.
const Actor = "heal"

// LockPrefix starts the name of heal's own lock: "heal:" + forest.
const LockPrefix = "heal:"

// DefaultLockTTL is the time to live of heal's lock; it is renewed around the apply.
const DefaultLockTTL = 2 * time.Hour

// Options configure one heal run.
type Options struct {
	Policy   *policy.Policy   // required (policy.Default() for the built-in one)
	Playbook *engine.Playbook // required
	Facts    gather.Source    // required: where facts come from (live or the demo)
	Exec     apply.Executor   // required: where actions go
	Journal  *journal.Store   // required

	// PlanDir keeps the plans heal applies (default: <state dir>/plans).
	PlanDir string
	// EscalateDir receives the plans saved for a human (default: <state dir>/escalations).
	EscalateDir string
	// PlanRetention: plan files heal wrote (in PlanDir and EscalateDir) are deleted once they
	// are older than this (default DefaultPlanRetention); the newest 50 of each kind and the
	// ones this run uses are always kept. Negative: never delete.
	PlanRetention time.Duration
	// WindowsWaived, when not empty, says why the playbook's change windows do not apply (the
	// demo forest). The policy's own windows still do.
	WindowsWaived string
	// WindowClock, when set, is the clock the playbook's change windows are judged by (the
	// demo's --clock); nil: Now. Passed to apply.
	WindowClock func() time.Time
	// Emergency admits a run outside the playbook's change windows (apply's --emergency); the
	// reason is required and recorded. The policy's own windows still apply.
	Emergency       bool
	EmergencyReason string

	// Notifier delivers the policy's notifications (nil: a notify.Sender that logs to Out).
	Notifier Notifier
	// RemindAfter: an escalation equal to the last delivered one is sent again only after
	// this long (default DefaultRemindAfter).
	RemindAfter time.Duration
	// Host names the machine running heal, for notifications.
	Host string
	// Forest names the forest before a plan exists (errors of the gather): --dc, or the demo.
	Forest string
	// Actor is the journal's actor (default Actor).
	Actor string

	// GatherTimeout bounds the first gather (0: none beyond the context's).
	GatherTimeout time.Duration
	// RequireComplete makes a partial read (a DC not read) an error: nothing is applied and the
	// run exits 1. Without it a partial read still heals what was read and exits 2 (never 0).
	RequireComplete bool
	// Passed to apply.Options: VerifyTimeout (0: each action's own), PollInterval,
	// ReplicationAttempts, LockTTL (apply's forest lock).
	VerifyTimeout       time.Duration
	PollInterval        time.Duration
	ReplicationAttempts int
	LockTTL             time.Duration
	// HealLockTTL is the time to live of heal's own lock (default DefaultLockTTL).
	HealLockTTL time.Duration

	// Out receives progress lines for people (nil: discarded).
	Out io.Writer
	// Now and Sleep replace the clock (tests); Sleep is also apply's.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

func (o *Options) check() error {
	switch {
	case o.Policy == nil:
		return errors.New("heal: no policy")
	case o.Playbook == nil:
		return errors.New("heal: no playbook")
	case o.Facts == nil:
		return errors.New("heal: no facts source")
	case o.Exec == nil:
		return errors.New("heal: no executor")
	case o.Journal == nil:
		return errors.New("heal: no journal")
	}
	if o.Emergency && strings.TrimSpace(o.EmergencyReason) == "" {
		return errors.New("heal: an emergency run needs a reason (it is recorded)")
	}
	if err := o.Policy.Validate(); err != nil {
		return fmt.Errorf("heal: policy %s: %w", o.Policy.Source, err)
	}
	return nil
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Actor == "" {
		o.Actor = Actor
	}
	if o.PlanDir == "" {
		o.PlanDir = filepath.Join(o.Journal.Dir(), "plans")
	}
	if o.EscalateDir == "" {
		o.EscalateDir = filepath.Join(o.Journal.Dir(), "escalations")
	}
	if o.RemindAfter <= 0 {
		o.RemindAfter = DefaultRemindAfter
	}
	if o.PlanRetention == 0 {
		o.PlanRetention = DefaultPlanRetention
	}
	if o.HealLockTTL <= 0 {
		o.HealLockTTL = DefaultLockTTL
	}
	if o.Notifier == nil {
		out := o.Out
		o.Notifier = &notify.Sender{Logf: func(format string, args ...any) { fmt.Fprintf(out, format+"\n", args...) }}
	}
}

// Outcome is what became of one approved action that apply ran (or refused).
type Outcome struct {
	Candidate policy.Candidate
	Outcome   string // policy.Outcome* (succeeded, failed, pending, error)
	Reason    string
}

// Report is what one heal run did.
type Report struct {
	RunID         string
	Forest        string
	Policy        string // the policy's source
	PolicyBuiltin bool
	Started       time.Time
	Ended         time.Time
	// GatherDuration is how long the first gather took (wall clock).
	GatherDuration time.Duration

	Plan            *plan.Plan       // the full plan (nil if the gather failed)
	Verdicts        []policy.Verdict // final verdicts, one per planned action, in plan order
	Applied         []string         // finding ids heal started (applied)
	AppliedPlanPath string           // the plan of the started findings, as applied
	Apply           *apply.Result    // nil when nothing was applied
	Outcomes        []Outcome        // per approved action that ran
	Healed          []string         // finding ids healed, or healthy by the time apply looked

	Summary policy.Summary
	Breaker policy.BreakerStatus

	// EscalationPath is the plan saved for a human ("" when nothing needs one).
	EscalationPath string
	// EscalationReport is the plan's report beside it (fix8524 report: one HTML page, the
	// topology drawn), what the person paged opens; "" when none could be written.
	EscalationReport string
	Event            string          // the notification's event kind ("" none)
	Notified         []notify.Result // one per policy target (none when quiet or no event)
	NotifyQuiet      bool            // the same escalation was delivered less than RemindAfter ago
	// WarningsNotified: the plan's warnings sent as notify.EventWarning, one per target that
	// lists that event; WarningsQuiet: the same warnings were delivered less than RemindAfter ago.
	WarningsNotified []notify.Result
	WarningsQuiet    bool

	// Interrupted: the context ended during the run (SIGTERM); nothing was notified for it.
	Interrupted bool
	// Locked is set when another heal run held the forest's heal lock (nothing was decided).
	Locked string
	// Err is the error that ended the run, if any (exit code 1).
	Err error
}

// ExitCode is heal's exit code: 1 on an error, else policy.Summary.ExitCode (2 a human is
// needed, 3 refused by a guardrail, 0 healthy or healed); a run refused by a busy heal lock
// exits 3.
func (r *Report) ExitCode() int {
	switch {
	case r.Err != nil:
		return policy.ExitError
	case r.Locked != "":
		return policy.ExitRefused
	}
	return r.Summary.ExitCode()
}

// Run runs heal once. It never panics on what it reads; the error, if any, is Report.Err.
func Run(ctx context.Context, o Options) *Report {
	r := &Report{Forest: o.Forest}
	if err := o.check(); err != nil {
		r.Err = err
		return r
	}
	o.defaults()
	h := &run{o: o, r: r, j: o.Journal}
	h.run(ctx)
	r.Ended = o.Now()
	return r
}

type run struct {
	o    Options
	r    *Report
	j    *journal.Store
	lock *journal.Lock
}

// say prints a progress line; its arguments are escaped for the terminal.
func (h *run) say(format string, args ...any) {
	fmt.Fprintf(h.o.Out, format+"\n", termtext.Args(args)...)
}

// record writes a journal entry; a failure ends the run (nothing further is changed).
func (h *run) record(e journal.Entry) bool {
	if e.Forest == "" {
		e.Forest = h.r.Forest
	}
	if _, err := h.j.Record(e); err != nil {
		h.fail(fmt.Errorf("%w: %v", apply.ErrJournal, err))
		return false
	}
	return true
}

func (h *run) fail(err error) {
	if h.r.Err == nil {
		h.r.Err = err
	}
}

func (h *run) run(ctx context.Context) {
	o, r := h.o, h.r
	r.RunID = journal.NewRunID()
	h.j.SetRunID(r.RunID)
	h.j.SetActor(o.Actor)
	r.Started = o.Now()
	r.Policy, r.PolicyBuiltin = o.Policy.Source, o.Policy.Builtin
	defer h.escalate(ctx)

	// 1. Gather and plan.
	gctx := ctx
	if o.GatherTimeout > 0 {
		var cancel context.CancelFunc
		gctx, cancel = context.WithTimeout(ctx, o.GatherTimeout)
		defer cancel()
	}
	h.say("heal: gathering (policy: %s)...", o.Policy.Source)
	t0 := time.Now()
	s, err := gather.Complete(gctx, o.Facts, o.Playbook.Needs)
	r.GatherDuration = time.Since(t0)
	if err != nil {
		h.fail(fmt.Errorf("gather: %w", err))
		h.record(journal.Entry{Kind: journal.KindNote, Name: "heal-error", Reason: r.Err.Error()})
		return
	}
	p, err := engine.MakePlan(o.Playbook, s, engine.PlanOptions{Now: o.Now()})
	if err != nil {
		h.fail(fmt.Errorf("plan: %w", err))
		h.record(journal.Entry{Kind: journal.KindNote, Name: "heal-error", Reason: r.Err.Error()})
		return
	}
	r.Plan = p
	r.Forest = forestOf(p, s)
	h.say("heal: forest %s: %d failing link(s), %d finding(s), %d action(s) proposed", r.Forest,
		p.Summary.FailingLinks, len(p.Findings), p.Summary.Actions)
	for _, u := range plan.GroupUnmatched(p.Unmatched) {
		h.say("heal: %s: not handled by playbook %s; a human must look (repadmin /showrepl)", u, p.Playbook.Name)
	}
	if cov := p.Coverage; cov != nil && !cov.Complete {
		h.say("heal: partial read: %d of %d DC(s) read; not read (their links are unknown, so this run cannot report the forest healthy):", cov.DCsRead, cov.DCs)
		for _, d := range cov.NotRead {
			h.say("heal:   %s: %s", termtext.Escape(d.Name), termtext.Line(d.Reason, 400))
		}
		if o.RequireComplete {
			h.fail(fmt.Errorf("partial read: %d DC(s) not read (%s); --require-complete", len(cov.NotRead), termtext.Line(cov.Names(), 2000)))
			h.record(journal.Entry{Kind: journal.KindNote, Name: "heal-error", Reason: r.Err.Error()})
			return
		}
	}
	// Warnings: links that replicate now and will fail later. Nothing to heal; the exit code
	// ignores them (fix8524_warnings counts them); targets that list the "warning" event get
	// them (notifyWarnings).
	for _, line := range warningLines(p.Warnings, maxWarningLines) {
		h.say("%s", line)
	}
	if !h.record(journal.Entry{Kind: journal.KindNote, Name: "heal", PlanFingerprint: p.Fingerprint,
		Reason: fmt.Sprintf("heal run: policy %s; %d finding(s), %d action(s) proposed", o.Policy.Source, len(p.Findings), p.Summary.Actions)}) {
		return
	}

	// 2. One heal run at a time decides and applies.
	if !h.acquire() {
		return
	}
	defer h.release()

	// 3. The breaker, before deciding.
	hist := policy.JournalHistory{Store: h.j, Forest: r.Forest}
	if !h.breaker(hist) {
		return
	}

	// 4. Decide.
	if o.Emergency && !h.record(journal.Entry{Kind: journal.KindNote, Name: "emergency", Outcome: journal.Allowed,
		Reason: "heal outside the playbook's change windows: " + o.EmergencyReason}) {
		return
	}
	windowAt := o.Now()
	if o.WindowClock != nil {
		windowAt = o.WindowClock()
	}
	d := decide(o.Policy, p, hist, o.Now(), windowAt, retryName, o.WindowsWaived != "" || o.Emergency)
	r.Verdicts = d.verdicts
	if !h.journalVerdicts(p) {
		return
	}

	// 5. Apply the findings that start.
	var res *apply.Result
	if len(d.start) > 0 {
		res = h.apply(ctx, p, d)
		if r.Err != nil {
			h.summarize(p)
			return
		}
	}

	// 6. The breaker, after this run's verifications.
	if res != nil {
		h.breaker(hist)
	}
	h.summarize(p)
}

// forestOf names the forest: the forest root of the plan's findings, else the facts' forest
// root, else the facts' source.
func forestOf(p *plan.Plan, s *facts.Snapshot) string {
	if len(p.Findings) > 0 {
		return apply.ForestOf(p)
	}
	if s != nil && s.Forest.RootDomain != "" {
		return facts.CanonicalName(s.Forest.RootDomain)
	}
	return apply.ForestOf(p)
}

// acquire takes heal's lock of the forest. A live lock refuses the run; a stale one is an error
// (a human breaks it).
func (h *run) acquire() bool {
	name := LockPrefix + h.r.Forest
	l, err := h.j.AcquireLock(name, journal.CurrentHolder(), h.o.HealLockTTL)
	if err == nil {
		h.lock = l
		return true
	}
	var le *journal.LockError
	switch {
	case errors.As(err, &le) && (le.Info.Stale || le.Info.HolderGone):
		h.fail(fmt.Errorf("%v; release it with: fix8524 journal --break-lock %s --reason TEXT --state %s", le, name, h.j.Dir()))
	case errors.As(err, &le):
		h.r.Locked = le.Error()
		h.say("heal: refused: another heal run works on this forest: %s", le)
	default:
		h.fail(fmt.Errorf("heal lock: %w", err))
	}
	return false
}

// keepLock renews heal's lock every third of its time to live while apply runs (which can take
// longer than the lock lives: verifications wait minutes), so that it never looks stale while
// its holder works. It returns the function that stops it.
func (h *run) keepLock() func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	l, ttl := h.lock, h.o.HealLockTTL
	var renewErr error // written by the goroutine, read after done
	go func() {
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if renewErr = l.Renew(ttl); renewErr != nil {
					return
				}
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		if renewErr != nil {
			h.say("heal: note: renewing the heal lock: %v", renewErr)
		}
	}
}

func (h *run) release() {
	if h.lock == nil {
		return
	}
	if err := h.lock.Release(); err != nil {
		h.say("heal: note: releasing the heal lock: %v", err)
	}
	h.lock = nil
}

// breaker evaluates the circuit breaker and records an opening. It returns false on an error.
func (h *run) breaker(hist policy.History) bool {
	st, err := policy.EvaluateBreaker(h.o.Policy, hist, h.o.Now())
	if err != nil {
		h.fail(err)
		return false
	}
	if st.Tripped {
		if _, err := h.j.OpenBreaker(h.r.Forest, st.Reason, h.o.Actor); err != nil {
			h.fail(fmt.Errorf("recording the breaker's opening: %w", err))
			return false
		}
		h.r.Summary.BreakerTripped = true
		h.say("heal: CIRCUIT BREAKER OPENED: %s", st.Reason)
	}
	h.r.Breaker = st
	return true
}

// journalVerdicts records every verdict as a gate entry, before anything runs.
func (h *run) journalVerdicts(p *plan.Plan) bool {
	if !h.record(journal.Entry{Kind: journal.KindGate, Name: "policy", Outcome: journal.Started, PlanFingerprint: p.Fingerprint,
		Reason: fmt.Sprintf("deciding %d action(s) under policy %s", len(h.r.Verdicts), h.o.Policy.Source)}) {
		return false
	}
	for _, v := range h.r.Verdicts {
		out := journal.Allowed
		if !v.Approved {
			out = journal.Refused
		}
		c := v.Candidate
		reason := v.Reason
		if !v.Approved && !strings.HasPrefix(reason, v.Hold+": ") {
			reason = v.Hold + ": " + v.Reason // the hold code first, for people and grep
		}
		if !h.record(journal.Entry{Kind: journal.KindGate, Name: "policy:" + c.ID, Target: c.Target, Link: c.Finding,
			PlanFingerprint: p.Fingerprint, Outcome: out, Reason: reason}) {
			return false
		}
		mark := "approved"
		if !v.Approved {
			mark = "held (" + v.Hold + ")"
		}
		h.say("  %s on %s: %s: %s", c.ID, c.Target, mark, v.Reason)
	}
	return true
}

// apply runs apply.Run on the findings that start.
func (h *run) apply(ctx context.Context, p *plan.Plan, d decision) *apply.Result {
	o, r := h.o, h.r
	sub := subPlan(p, func(f *plan.Finding) bool { return d.start[f.ID] })
	for _, f := range sub.Findings {
		r.Applied = append(r.Applied, f.ID)
	}
	b, err := plan.Marshal(sub)
	if err != nil {
		h.fail(err)
		return nil
	}
	path := filepath.Join(o.PlanDir, "heal-"+r.RunID+".json")
	if err := writeNew(path, b); err != nil {
		h.fail(fmt.Errorf("saving the plan heal applies: %w", err))
		return nil
	}
	r.AppliedPlanPath = path
	if h.lock != nil {
		if err := h.lock.Renew(o.HealLockTTL); err != nil {
			h.fail(fmt.Errorf("heal lock: %w", err))
			return nil
		}
		defer h.keepLock()()
	}
	h.say("heal: applying %d finding(s) unattended (plan %s)", len(sub.Findings), path)
	appr := NewPolicyApprovals("heal policy "+o.Policy.Source, r.Verdicts)
	res, err := apply.Run(ctx, apply.Options{
		Plan: sub, PlanBytes: b, PlanPath: path, Playbook: o.Playbook,
		Approvals: appr, Facts: o.Facts, Exec: o.Exec, Journal: h.j,
		Forest: r.Forest, Actor: o.Actor, WindowsWaived: o.WindowsWaived, WindowClock: o.WindowClock, Emergency: o.Emergency, EmergencyReason: o.EmergencyReason,
		VerifyTimeout: o.VerifyTimeout, PollInterval: o.PollInterval, ReplicationAttempts: o.ReplicationAttempts,
		LockTTL: o.LockTTL, Out: o.Out, Now: o.Now, Sleep: o.Sleep,
	})
	r.Apply = &res
	if err != nil {
		h.fail(fmt.Errorf("apply: %w", err))
	}
	h.outcomes(sub, &res)
	return &res
}

// outcomes maps apply's result back onto the approved candidates (see Outcome), withdraws the
// approvals apply's gates refused, and lists the healed findings.
func (h *run) outcomes(sub *plan.Plan, res *apply.Result) {
	r := h.r
	byFinding := map[string]*apply.FindingResult{}
	for i := range res.Findings {
		byFinding[res.Findings[i].ID] = &res.Findings[i]
	}
	gate := ""
	if res.Outcome == apply.Refused && len(res.Refusals) > 0 {
		rf := res.Refusals[0]
		gate = fmt.Sprintf("apply's %s gate refused: %s", rf.Gate, rf.Reason)
	}
	inSub := map[string]bool{}
	for _, f := range sub.Findings {
		inSub[f.ID] = true
	}
	for i, v := range r.Verdicts {
		c := v.Candidate
		if !v.Approved || !inSub[c.Finding] {
			continue
		}
		fr := byFinding[c.Finding]
		if fr == nil {
			if gate != "" {
				r.Verdicts[i] = policy.Verdict{Candidate: c, Class: policy.ClassGuardrail, Hold: HoldApplyRefused, Reason: gate}
			}
			continue
		}
		if fr.Outcome == apply.Skipped {
			continue
		}
		if c.Action == retryName {
			if fr.Confirmed == "" {
				continue // the finding stopped before its confirmation
			}
			switch fr.Outcome {
			case apply.Succeeded:
				if ranStep(fr, c.ID) {
					r.Outcomes = append(r.Outcomes, Outcome{c, policy.OutcomeSucceeded, fr.Confirmed})
				}
			case apply.Failed:
				r.Outcomes = append(r.Outcomes, Outcome{c, policy.OutcomeFailed, "replication not confirmed: " + fr.Confirmed})
			case apply.Pending:
				r.Outcomes = append(r.Outcomes, Outcome{c, policy.OutcomePending, fr.Reason})
			case apply.Refused:
				if ranStep(fr, c.ID) {
					r.Outcomes = append(r.Outcomes, Outcome{c, policy.OutcomeError, fr.Reason})
				} else {
					r.Verdicts[i] = policy.Verdict{Candidate: c, Class: policy.ClassGuardrail, Hold: HoldApplyRefused, Reason: "apply refused: " + fr.Reason}
				}
			}
			continue
		}
		st, ok := lastStep(fr, c.ID)
		if !ok {
			continue // not reached: an earlier action of its finding stopped it
		}
		switch st.Outcome {
		case apply.Succeeded:
			r.Outcomes = append(r.Outcomes, Outcome{c, policy.OutcomeSucceeded, st.Verification})
		case apply.Failed:
			if st.Error != "" {
				r.Outcomes = append(r.Outcomes, Outcome{c, policy.OutcomeError, st.Reason})
			} else {
				r.Outcomes = append(r.Outcomes, Outcome{c, policy.OutcomeFailed, st.Reason})
			}
		case apply.Pending:
			r.Outcomes = append(r.Outcomes, Outcome{c, policy.OutcomePending, st.Reason})
		case apply.Refused:
			r.Verdicts[i] = policy.Verdict{Candidate: c, Class: policy.ClassGuardrail, Hold: HoldApplyRefused, Reason: "apply refused: " + st.Reason}
		}
	}
	for _, fr := range res.Findings {
		if fr.Outcome == apply.Succeeded || fr.Outcome == apply.Skipped {
			r.Healed = append(r.Healed, fr.ID)
		}
	}
}

func lastStep(fr *apply.FindingResult, id string) (apply.StepResult, bool) {
	for i := len(fr.Steps) - 1; i >= 0; i-- {
		if fr.Steps[i].ActionID == id {
			return fr.Steps[i], true
		}
	}
	return apply.StepResult{}, false
}

// ranStep reports whether the retry ran (the plan's, or a built-in one of the finding).
func ranStep(fr *apply.FindingResult, id string) bool {
	for _, s := range fr.Steps {
		if s.ActionID == id {
			return true
		}
		if f, ok := builtinRetryOf(s.ActionID); ok && f == fr.ID {
			return true
		}
	}
	return false
}

// summarize fills Report.Summary from the final verdicts and outcomes.
func (h *run) summarize(p *plan.Plan) {
	r := h.r
	tripped := r.Summary.BreakerTripped
	r.Summary = policy.Summarize(r.Verdicts)
	for _, oc := range r.Outcomes {
		r.Summary.AddOutcome(oc.Outcome)
	}
	r.Summary.HumanFindings = policy.HumanFindings(p)
	if p != nil {
		r.Summary.DCsNotRead = p.Summary.DCsNotRead
	}
	r.Summary.BreakerTripped = tripped
	if tripped {
		r.Summary.BreakerOpen = true
	}
}

// healed reports whether a finding was healed in this run.
func (r *Report) healed(id string) bool {
	for _, h := range r.Healed {
		if h == id {
			return true
		}
	}
	return false
}

// escalate saves the plan for a human, sends the notification and records the run's end.
// It runs last, whatever happened before.
func (h *run) escalate(ctx context.Context) {
	o, r := h.o, h.r
	h.release()
	if r.Plan != nil && r.Locked == "" {
		held := subPlan(r.Plan, func(f *plan.Finding) bool { return !r.healed(f.ID) })
		if len(held.Findings) > 0 {
			path, fresh, err := saveHeld(o.EscalateDir, r.Forest, held)
			if err != nil {
				h.fail(err)
			} else {
				r.EscalationPath = path
				h.writeReport(path, held, fresh)
				if fresh {
					h.say("heal: saved the plan of %d finding(s) that need a human: %s", len(held.Findings), path)
				} else {
					h.say("heal: the plan for a human is still %s (same facts, same findings)", path)
				}
			}
		}
	}
	if r.Locked == "" {
		h.prunePlans()
	}
	r.Event = r.Summary.Event()
	if r.Err != nil {
		r.Event = notify.EventError
	}
	if ctx.Err() != nil && !r.Summary.BreakerTripped && r.Summary.Failed == 0 {
		// Stopped (SIGTERM): an interrupted run is not news for a pager; a breaker that opened
		// or a verification that failed before the stop still is.
		r.Interrupted = true
		r.Event = ""
	}
	if r.Event != "" && len(o.Policy.Notify) > 0 {
		// Escalate even when the run was interrupted (SIGTERM): the targets' own timeouts and
		// attempts bound it.
		h.notify(context.WithoutCancel(ctx))
	}
	if ctx.Err() == nil && r.Err == nil {
		h.notifyWarnings(ctx)
	}
	if r.Plan != nil || r.Err != nil {
		reason := fmt.Sprintf("exit %d: %s", r.ExitCode(), r.Summary.String())
		if r.Err != nil {
			reason += "; error: " + r.Err.Error()
		}
		if r.EscalationPath != "" {
			reason += "; plan for a human: " + r.EscalationPath
		}
		_, _ = h.j.Record(journal.Entry{Kind: journal.KindNote, Forest: r.Forest, Name: "heal-result", Reason: reason})
	}
}

// Items lists what the run escalates: held and refused actions, actions that did not succeed,
// and findings that need a human whatever the policy says.
func (r *Report) Items() []notify.Item {
	items := policy.HeldItems(r.Verdicts)
	for _, oc := range r.Outcomes {
		if oc.Outcome != policy.OutcomeSucceeded {
			items = append(items, policy.OutcomeItem(oc.Candidate, oc.Outcome, oc.Reason))
		}
	}
	if r.Plan != nil {
		for _, f := range r.Plan.Findings {
			switch {
			case f.Status != plan.FindingDiagnosed:
				items = append(items, notify.Item{Status: notify.ItemHeld, Code: "incomplete", Finding: f.ID,
					Target: f.Link.Destination, Reason: "diagnosis incomplete: " + f.Incomplete})
			case len(f.Actions) == 0:
				dec := ""
				if f.Decision != nil {
					dec = f.Decision.Name + ": "
				}
				items = append(items, notify.Item{Status: notify.ItemHeld, Code: "manual", Finding: f.ID,
					Target: f.Link.Destination, Reason: fmt.Sprintf("%s%d manual step(s) for a human", dec, len(f.Manual))})
			}
		}
	}
	if r.Plan != nil {
		for _, u := range plan.GroupUnmatched(r.Plan.Unmatched) {
			items = append(items, notify.Item{Status: notify.ItemHeld, Code: "unmatched", Finding: u.ID(),
				Target: u.Destination, Reason: u.String() + ": not handled by the playbook; a human must look"})
		}
	}
	if r.Err != nil {
		items = append(items, notify.Item{Status: notify.ItemError, Code: "error", Reason: r.Err.Error()})
	}
	return items
}

func (h *run) notify(ctx context.Context) {
	o, r := h.o, h.r
	ev := notify.Event{Event: r.Event, PlanPath: r.EscalationPath, Items: r.Items()}
	if r.Breaker.Open || r.Summary.BreakerOpen {
		ev.Breaker = &notify.Breaker{Open: true, Since: r.Breaker.Since, Reason: r.Breaker.Reason}
	}
	r.Notified, r.NotifyQuiet = h.deliver(ctx, o.Policy.Notify, ev, "")
}

// notifyWarnings sends the plan's warnings as their own event (notify.EventWarning) to the
// targets that list it, remembered apart from the run's escalations: an unchanged set of
// warnings is sent once per RemindAfter, whatever else the runs escalate.
func (h *run) notifyWarnings(ctx context.Context) {
	o, r := h.o, h.r
	var targets []notify.Target
	for _, t := range o.Policy.Notify {
		if t.Wants(notify.EventWarning) {
			targets = append(targets, t)
		}
	}
	if len(targets) == 0 || r.Plan == nil || len(r.Plan.Warnings) == 0 {
		return
	}
	ev := notify.Event{Event: notify.EventWarning, Items: warningItems(r.Plan.Warnings)}
	r.WarningsNotified, r.WarningsQuiet = h.deliver(ctx, targets, ev, "warning:")
}

// warningItems are a plan's warnings as notification items.
func warningItems(ws []plan.Warning) []notify.Item {
	items := make([]notify.Item, 0, len(ws))
	for _, w := range ws {
		items = append(items, notify.Item{Status: notify.ItemWarning, Code: w.Name, Finding: w.ID,
			Target: w.Link.Destination, Reason: w.Message})
	}
	return items
}

// deliver sends ev (its run fields filled in here) to targets unless the same event was
// delivered for the forest less than RemindAfter ago (quiet). The last delivery is remembered
// per forest under the key prefix+forest; failures and deliveries are journaled.
func (h *run) deliver(ctx context.Context, targets []notify.Target, ev notify.Event, prefix string) (results []notify.Result, quiet bool) {
	o, r := h.o, h.r
	key := policy.EscalationKey(ev.Event, ev.Items)
	forest := r.Forest
	if forest == "" {
		forest = "(unknown forest)"
	}
	now := o.Now()
	if alreadySent(o.EscalateDir, prefix+forest, key, now, o.RemindAfter) {
		h.say("heal: not notifying again: the same %s notification was delivered less than %s ago", ev.Event, o.RemindAfter)
		return nil, true
	}
	ev.Forest, ev.RunID, ev.Time, ev.Host = forest, r.RunID, now.UTC(), o.Host
	ev.ExitCode, ev.Summary = r.ExitCode(), r.Summary.String()
	results = o.Notifier.SendAll(ctx, targets, ev)
	delivered := 0
	for _, res := range results {
		switch {
		case res.Err != nil:
			h.say("heal: notification: %v", res.Err)
			_, _ = h.j.Record(journal.Entry{Kind: journal.KindNote, Forest: r.Forest, Name: "notify-failed", Target: res.Target, Reason: res.Err.Error()})
		case !res.Skipped:
			delivered++
		}
	}
	if err := notify.Failed(results); err == nil && delivered > 0 {
		if err := rememberSent(o.EscalateDir, prefix+forest, key, now); err != nil {
			h.say("heal: note: %v", err)
		}
		_, _ = h.j.Record(journal.Entry{Kind: journal.KindNote, Forest: r.Forest, Name: "notified",
			Reason: fmt.Sprintf("%s sent to %d target(s)", ev.Event, delivered)})
	}
	return results, false
}

// maxWarningLines bounds the warnings a run prints: a forest-wide latent problem must not
// bury the run's own output.
const maxWarningLines = 20

// warningLines renders warnings as a run prints them: one line each, at most limit, then one
// line that counts the rest.
func warningLines(ws []plan.Warning, limit int) []string {
	lines := make([]string, 0, min(len(ws), limit+1))
	for i, w := range ws {
		if i == limit {
			lines = append(lines, fmt.Sprintf("heal: %d more warning(s): see the plan (fix8524 plan)", len(ws)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("heal: warning %s %s: %s", w.ID, w.Name, w.Message))
	}
	return lines
}

// MetricsRun is the run as internal/metrics records it.
func (r *Report) MetricsRun() metrics.Run {
	m := metrics.Run{End: r.Ended, GatherDuration: r.GatherDuration, FailingLinks: map[string]int{},
		Actions: map[string]int{}, Held: map[string]int{}, Warnings: map[string]int{}, ExitCode: r.ExitCode(),
		BreakerOpen: r.Breaker.Open || r.Summary.BreakerOpen}
	if r.Plan != nil {
		for _, w := range r.Plan.Warnings {
			m.Warnings[w.Name]++
		}
		for _, f := range r.Plan.Findings {
			if r.healed(f.ID) {
				continue // replication confirmed (or healthy when apply looked): no longer failing
			}
			d := "incomplete"
			if f.Status == plan.FindingDiagnosed && f.Decision != nil {
				d = f.Decision.Name
			}
			n := 0
			for _, nc := range f.Link.NCs {
				if nc.LastResult != 0 {
					n++
				}
			}
			if n == 0 {
				n = 1
			}
			m.FailingLinks[d] += n
		}
		if u := len(r.Plan.Unmatched); u > 0 {
			m.FailingLinks["unmatched"] += u
		}
	}
	for _, oc := range r.Outcomes {
		m.Actions[oc.Outcome]++
	}
	for _, v := range r.Verdicts {
		if v.Approved {
			continue
		}
		m.Held[v.Hold]++
		switch v.Class {
		case policy.ClassGuardrail:
			m.Actions[metrics.OutcomeRefused]++
		case policy.ClassHuman:
			m.Actions[metrics.OutcomeHeld]++
		default:
			m.Actions[metrics.OutcomeError]++
		}
	}
	return m
}

// OpenBreakers lists the forests whose breaker the journal records open (from its
// breaker-opened notes), for --reset-breaker without a forest.
func OpenBreakers(j *journal.Store) ([]journal.Breaker, error) {
	notes, err := j.List(journal.Filter{Kinds: []journal.Kind{journal.KindNote}})
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []journal.Breaker
	for _, e := range notes {
		if e.Name != "breaker-opened" || seen[e.Forest] {
			continue
		}
		seen[e.Forest] = true
		b, err := j.Breaker(e.Forest)
		if err != nil {
			return nil, err
		}
		if b.Open {
			out = append(out, b)
		}
	}
	return out, nil
}
