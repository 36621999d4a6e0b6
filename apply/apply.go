package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/engine/window"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// Executor runs actions (actions.Executor implements it).
type Executor interface {
	// Run runs one action. It must be safe for concurrent use: the replication pulls of one
	// attempt run side by side.
	Run(ctx context.Context, a plan.Action) actions.Outcome
	// Inspect reads the object an ldap_delete targets.
	Inspect(ctx context.Context, a plan.Action) (ldapdelete.ObjectState, error)
	// Leftovers lists what remains of a DC after its NTDS Settings were deleted.
	Leftovers(ctx context.Context, a plan.Action, dns ldapdelete.DNSQuerier, in ldapdelete.LeftoversInput) []ldapdelete.Leftover
}

// Defaults.
const (
	DefaultVerifyTimeout       = 5 * time.Minute
	DefaultLockTTL             = 30 * time.Minute
	DefaultPollInterval        = 2 * time.Second
	MaxPollInterval            = 30 * time.Second
	DefaultReplicationAttempts = 3
	// MaxVerifyTimeout caps a deadline extended to outlast DNS negative caching.
	MaxVerifyTimeout = 30 * time.Minute
)

// Options configure one apply.
type Options struct {
	Plan      *plan.Plan
	PlanBytes []byte // the exact bytes of the plan file (approvals are bound to them)
	PlanPath  string
	Playbook  *engine.Playbook // must be the playbook the plan was made with (same digest)

	Approvals Approvals
	Facts     gather.Source
	Exec      Executor
	Journal   *journal.Store

	// Forest is the lock's key (default: the forest root the plan's findings name).
	Forest string
	// Actor is who runs the apply, for the journal (default: the journal's, user@host).
	Actor string

	// Emergency admits the apply outside every change window; EmergencyReason is required
	// and recorded.
	Emergency       bool
	EmergencyReason string
	// WindowsWaived, when not empty, says why change windows do not apply (the demo forest is
	// simulated); the window gate records it and admits.
	WindowsWaived string
	// WindowClock, when set, is the clock the change windows are judged by (the demo's --clock,
	// to show the window gate refuse and admit); nil: Now. Approvals, locks and verification
	// keep Now.
	WindowClock func() time.Time

	// VerifyTimeout, when set, overrides every action's verification deadline.
	VerifyTimeout time.Duration
	// PollInterval is the first wait between verification polls (default 2s; it doubles up
	// to 30s).
	PollInterval time.Duration
	// ReplicationAttempts bounds the replication retries per finding (default 3).
	ReplicationAttempts int
	// RetryAction is the name of the playbook's replication-retry action (default
	// "retry_replication"); it runs after the finding's other actions, as the confirmation step.
	RetryAction string
	// LockTTL is the forest lock's time to live, renewed before every step (default 30m).
	LockTTL time.Duration

	// Out receives progress lines for people (nil: discarded).
	Out io.Writer
	// Now and Sleep replace the clock (tests).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// Outcomes of an apply, a finding or a step: the journal's words, and Nothing for an apply
// that found nothing to do (journaled as succeeded).
const (
	Succeeded                 = journal.Succeeded
	Failed                    = journal.Failed
	Pending                   = journal.Pending
	Refused                   = journal.Refused
	Skipped                   = journal.Skipped
	Nothing   journal.Outcome = "nothing-to-do"
)

// Refusal is one gate that refused: why (Reason), and what a person can do about it (Do).
type Refusal struct {
	Gate   string `json:"gate"`
	Reason string `json:"reason"`
	Do     string `json:"do,omitempty"`
	// Changes are, for the drift gate, the evidence that differs between the plan and the
	// facts gathered now: "FINDING: CHECK: WHAT: before → after".
	Changes []string `json:"changes,omitempty"`
}

// StepResult is what happened to one action.
type StepResult struct {
	ActionID     string          `json:"action_id"`
	Name         string          `json:"name"`
	Target       string          `json:"target"`
	Command      string          `json:"command"`
	Outcome      journal.Outcome `json:"outcome"`
	Reason       string          `json:"reason,omitempty"`
	ExitCode     *int            `json:"exit_code,omitempty"`
	Verification string          `json:"verification,omitempty"`
	Error        string          `json:"error,omitempty"`
}

// FindingResult is what happened to one finding.
type FindingResult struct {
	ID        string                `json:"id"`
	Decision  string                `json:"decision,omitempty"`
	Outcome   journal.Outcome       `json:"outcome"`
	Reason    string                `json:"reason,omitempty"`
	Steps     []StepResult          `json:"steps,omitempty"`
	Confirmed string                `json:"confirmed,omitempty"` // link status after the replication retry
	Manual    []plan.ManualStep     `json:"manual,omitempty"`
	Leftovers []ldapdelete.Leftover `json:"leftovers,omitempty"`
}

// Result is what an apply did.
type Result struct {
	RunID    string          `json:"run_id"`
	Forest   string          `json:"forest"`
	Outcome  journal.Outcome `json:"outcome"`
	Approved string          `json:"approved,omitempty"`
	Refusals []Refusal       `json:"refusals,omitempty"`
	Findings []FindingResult `json:"findings,omitempty"`
	Notes    []string        `json:"notes,omitempty"`
}

// ExitCode maps the outcome to the CLI's exit codes: 0 succeeded or nothing to do, 3 refused
// by a gate or guard, 1 failed or pending.
func (r Result) ExitCode() int {
	switch r.Outcome {
	case Succeeded, Nothing:
		return 0
	case Refused:
		return 3
	}
	return 1
}

// ErrJournal wraps a journal failure that stopped the apply: nothing further was changed.
var ErrJournal = errors.New("the journal could not record a step; stopped before changing anything else")

type run struct {
	o   Options
	pb  *engine.Playbook
	j   *journal.Store
	res Result
	req Request

	grant      Grant
	lock       *journal.Lock
	windows    []window.Window
	nextWindow time.Time       // when the window gate refused: the next opening (zero if none)
	lockGone   bool            // when the lock gate refused: the lock is stale or its holder is gone
	fresh      *facts.Snapshot // the latest fully gathered facts
	approved   map[string]bool // action id -> approved
	refusedBy  map[string]string
	explicit   map[string]bool
	done       map[string]StepResult // action key -> first result in this run
	deleted    map[string]deletion   // deletionKey -> the ldap_delete that removed it, in this run
	fatal      error

	eachDigest map[string]string // action id -> digest of its own (single-use) approval
	used       map[string]int64  // approval digest -> this run's use record
	resumed    map[string]int64  // approval digest -> the interrupted run's use record this run resumes
	pastDrift  bool              // every gate admitted the run (per-action approvals included): it acts, or finds nothing to do
}

// Run applies o.Plan. Refusals are not errors: Result.Outcome is Refused and Result.Refusals
// says why. The error is a failure to run at all (bad options) or to keep the journal.
func Run(ctx context.Context, o Options) (Result, error) {
	if err := o.check(); err != nil {
		return Result{Outcome: Failed}, err
	}
	o.defaults()
	r := &run{o: o, pb: o.Playbook, j: o.Journal, approved: map[string]bool{}, refusedBy: map[string]string{},
		explicit: map[string]bool{}, done: map[string]StepResult{}, deleted: map[string]deletion{}, eachDigest: map[string]string{}, used: map[string]int64{}, resumed: map[string]int64{}}
	if o.Actor != "" {
		r.j.SetActor(o.Actor)
	}
	r.res.RunID = r.j.RunID()
	r.res.Forest = o.Forest
	r.req = Request{Plan: o.Plan, PlanBytes: o.PlanBytes, PlanPath: o.PlanPath, Now: r.now()}
	err := r.run(ctx)
	r.finishUses(ctx)
	if r.lock != nil {
		if rerr := r.lock.Release(); rerr != nil && err == nil && r.fatal == nil {
			r.note("releasing the lock: %v", rerr)
		}
	}
	if r.fatal != nil {
		r.res.Outcome = Failed
		return r.res, r.fatal
	}
	return r.res, err
}

func (o *Options) check() error {
	switch {
	case o.Plan == nil:
		return errors.New("apply: no plan")
	case len(o.PlanBytes) == 0:
		return errors.New("apply: no plan bytes")
	case o.Playbook == nil:
		return errors.New("apply: no playbook")
	case o.Approvals == nil:
		return errors.New("apply: no approval source")
	case o.Facts == nil:
		return errors.New("apply: no facts source")
	case o.Exec == nil:
		return errors.New("apply: no executor")
	case o.Journal == nil:
		return errors.New("apply: no journal")
	}
	return nil
}

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Sleep == nil {
		o.Sleep = Sleep
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultPollInterval
	}
	if o.ReplicationAttempts <= 0 {
		o.ReplicationAttempts = DefaultReplicationAttempts
	}
	if o.RetryAction == "" {
		o.RetryAction = actions.RetryName
	}
	if o.LockTTL <= 0 {
		o.LockTTL = DefaultLockTTL
	}
	if o.Forest == "" {
		o.Forest = ForestOf(o.Plan)
	}
}

// Sleep waits d, or until ctx ends (its error): the default Options.Sleep.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// ForestOf names the forest a plan is about: the forest root of its findings' GUID CNAMEs,
// else its facts source.
func ForestOf(p *plan.Plan) string {
	for _, f := range p.Findings {
		if _, root, ok := strings.Cut(strings.ToLower(f.Link.SourceAddress), "._msdcs."); ok && root != "" {
			return facts.CanonicalName(root)
		}
	}
	if p.Facts.Source != "" {
		return p.Facts.Source
	}
	return "unknown-forest"
}

func (r *run) now() time.Time { return r.o.Now() }

// say prints a progress line; its arguments (names and text from AD, the plan, command
// output) are escaped for the terminal.
func (r *run) say(format string, args ...any) {
	fmt.Fprintf(r.o.Out, format+"\n", termtext.Args(args)...)
}

func (r *run) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.res.Notes = append(r.res.Notes, msg)
	r.say("note: %s", msg)
}

// record writes a journal entry; a failure is fatal for the run.
func (r *run) record(e journal.Entry) int64 {
	if r.fatal != nil {
		return 0
	}
	if e.Forest == "" {
		e.Forest = r.o.Forest
	}
	if e.PlanFingerprint == "" {
		e.PlanFingerprint = r.o.Plan.Fingerprint
	}
	id, err := r.j.Record(e)
	if err != nil {
		r.fatal = fmt.Errorf("%w: %v", ErrJournal, err)
	}
	return id
}

// gate journals a gate decision before (started) and after (allowed or refused). It returns
// whether the gate admitted.
func (r *run) gate(name, target string, decide func() (bool, string)) bool {
	r.record(journal.Entry{Kind: journal.KindGate, Name: name, Target: target, Outcome: journal.Started})
	if r.fatal != nil {
		return false
	}
	ok, reason := decide()
	if !ok {
		rf := r.refusal(name, reason)
		r.record(journal.Entry{Kind: journal.KindGate, Name: name, Target: target, Outcome: journal.Refused, Reason: rf.journalText()})
		if r.fatal != nil {
			return false
		}
		r.res.Refusals = append(r.res.Refusals, rf)
		r.say("refused (%s): %s", name, reason)
		return false
	}
	r.record(journal.Entry{Kind: journal.KindGate, Name: name, Target: target, Outcome: journal.Allowed, Reason: reason})
	if r.fatal != nil {
		return false
	}
	r.say("gate %s: %s", name, reason)
	return true
}

func (r *run) refuse() error {
	r.res.Outcome = Refused
	return nil
}

func (r *run) run(ctx context.Context) error {
	// 1. Gates.
	if !r.gate("plan", "", r.checkPlan) {
		return r.refuse()
	}
	if !r.gate("approval", "", func() (bool, string) {
		g, err := r.o.Approvals.ApprovePlan(ctx, r.req)
		if err != nil {
			return false, err.Error()
		}
		how, ok := r.checkUse(g.Digest, g.How)
		if !ok {
			return false, how
		}
		r.grant = g
		r.res.Approved = g.How
		return true, how
	}) {
		return r.refuse()
	}
	if !r.gate("window", "", r.checkWindow) {
		return r.refuse()
	}
	if !r.gate("lock", r.o.Forest, func() (bool, string) {
		h := journal.CurrentHolder()
		l, err := r.j.AcquireLock(r.o.Forest, h, r.o.LockTTL)
		if err != nil {
			var le *journal.LockError
			if errors.As(err, &le) {
				r.lockGone = le.Info.Stale || le.Info.HolderGone
				return false, le.Error()
			}
			return false, err.Error()
		}
		r.lock = l
		return true, fmt.Sprintf("forest %s locked by %s until %s", r.o.Forest, h, l.Expires.Format(time.RFC3339))
	}) {
		return r.refuse()
	}
	if r.fatal != nil {
		return nil
	}

	// 2. Drift.
	todo, ok := r.drift(ctx)
	if !ok || r.fatal != nil {
		return r.refuse()
	}
	r.pastDrift = len(todo) == 0
	if len(todo) == 0 {
		r.res.Outcome = Nothing
		for _, fr := range r.res.Findings {
			if fr.Outcome != Skipped {
				r.res.Outcome = Succeeded
			}
		}
		return nil
	}

	// 3. Per-action approvals.
	if !r.approveActions(ctx, todo) {
		return r.refuse()
	}
	r.pastDrift = true

	// 4–5. Findings.
	for _, f := range todo {
		if ctx.Err() != nil {
			r.note("interrupted: %v", ctx.Err())
			break
		}
		fr := r.applyFinding(ctx, f)
		r.res.Findings = append(r.res.Findings, fr)
		if r.fatal != nil {
			break
		}
	}
	r.res.Outcome = overall(r.res.Findings)
	if ctx.Err() != nil && r.res.Outcome == Succeeded {
		r.res.Outcome = Pending
	}
	return nil
}

func overall(frs []FindingResult) journal.Outcome {
	out := Nothing
	rank := map[journal.Outcome]int{Nothing: 0, Skipped: 0, Succeeded: 1, Pending: 2, Refused: 3, Failed: 4}
	for _, fr := range frs {
		o := fr.Outcome
		if o == Skipped {
			continue
		}
		if rank[o] > rank[out] {
			out = o
		}
	}
	return out
}

func (r *run) checkPlan() (bool, string) {
	p := r.o.Plan
	if p.FormatVersion != plan.FormatVersion {
		return false, fmt.Sprintf("plan format version %d, this fix8524 reads %d: make the plan again", p.FormatVersion, plan.FormatVersion)
	}
	if !strings.HasPrefix(p.Fingerprint, "sha256:") {
		return false, "the plan has no fingerprint"
	}
	if p.Playbook.Digest != r.pb.Digest {
		return false, fmt.Sprintf("the plan was made with playbook %s %s, this run loaded %s %s: make the plan again, or pass the same --playbooks",
			p.Playbook.Name, short(p.Playbook.Digest), r.pb.Name, short(r.pb.Digest))
	}
	if a, b := mustJSON(p.Variables), mustJSON(r.pb.VariableValues()); a != b {
		return false, fmt.Sprintf("the plan was made with playbook variables %s, this run has %s: pass the same -var/-var-file as the plan", a, b)
	}
	if d := windowsDiffer(p.Windows, r.pb.Windows); d != "" {
		return false, d
	}
	ids := map[string]bool{}
	for _, f := range p.Findings {
		if ids[f.ID] {
			return false, fmt.Sprintf("finding %q appears twice: the plan file was edited", f.ID)
		}
		ids[f.ID] = true
		for _, a := range f.Actions {
			if ids[a.ID] {
				return false, fmt.Sprintf("action %q appears twice: the plan file was edited", a.ID)
			}
			ids[a.ID] = true
		}
	}
	return true, fmt.Sprintf("plan %s (%d finding(s), %d action(s)), playbook %s %s", short(p.Fingerprint), len(p.Findings), p.Summary.Actions, p.Playbook.Name, short(p.Playbook.Digest))
}

// windowsDiffer compares the plan file's change windows (shown to the approver) with the
// playbook's (which the window gate enforces).
func windowsDiffer(planned, playbook []plan.WindowSpec) string {
	a, _ := json.Marshal(planned)
	b, _ := json.Marshal(playbook)
	if len(planned) == 0 && len(playbook) == 0 || string(a) == string(b) {
		return ""
	}
	return fmt.Sprintf("the plan's change windows %s differ from the playbook's %s: the plan file was edited (the window gate enforces the playbook's); make the plan again",
		shown(a), shown(b))
}

func short(s string) string {
	if len(s) > 19 {
		return s[:19] + "…"
	}
	return s
}

func (r *run) checkWindow() (bool, string) {
	r.windows = r.windows[:0]
	var bad []string
	// The playbook's windows, never the plan file's copy (checkPlan refuses a plan whose copy
	// differs).
	for _, ws := range r.pb.Windows {
		w, err := window.Parse(ws.Name, ws.Cron, ws.Duration, ws.TimeZone)
		if err != nil {
			bad = append(bad, err.Error())
			w = window.Window{Name: ws.Name} // invalid: never admits
		}
		r.windows = append(r.windows, w)
	}
	d := window.Evaluate(r.windows, r.windowNow())
	r.nextWindow = d.Next
	reason := d.Reason
	if len(bad) > 0 {
		reason += " (" + strings.Join(bad, "; ") + ")"
	}
	switch {
	case d.Admitted:
		return true, reason
	case r.o.WindowsWaived != "":
		return true, "change windows not enforced: " + r.o.WindowsWaived + " (" + reason + ")"
	case r.o.Emergency && strings.TrimSpace(r.o.EmergencyReason) == "":
		return false, reason + "; --emergency needs --reason TEXT"
	case r.o.Emergency:
		r.record(journal.Entry{Kind: journal.KindNote, Name: "emergency", Reason: r.o.EmergencyReason, Outcome: journal.Allowed})
		return true, "EMERGENCY override outside the change windows, reason: " + r.o.EmergencyReason + " (" + reason + ")"
	}
	return false, reason
}

// windowStillOpen re-checks the window before an action.
func (r *run) windowStillOpen() (bool, string) {
	if r.o.WindowsWaived != "" || r.o.Emergency {
		return true, ""
	}
	d := window.Evaluate(r.windows, r.windowNow())
	return d.Admitted, d.Reason
}

// windowNow is the time change windows are judged at.
func (r *run) windowNow() time.Time {
	if r.o.WindowClock != nil {
		return r.o.WindowClock()
	}
	return r.now()
}

// keepLock renews the lock; false when it was lost (broken by someone).
func (r *run) keepLock() error {
	if r.lock == nil {
		return errors.New("no lock held")
	}
	if err := r.lock.Renew(r.o.LockTTL); err != nil {
		return err
	}
	return nil
}

// --- drift ---

func (r *run) freshPlan(ctx context.Context) (*facts.Snapshot, *plan.Plan, error) {
	s, err := gather.Complete(ctx, r.o.Facts, r.pb.Needs)
	if err != nil {
		return nil, nil, fmt.Errorf("gather fresh facts: %w", err)
	}
	p, err := engine.MakePlan(r.pb, s, engine.PlanOptions{Now: r.now()})
	if err != nil {
		return nil, nil, fmt.Errorf("plan on fresh facts: %w", err)
	}
	r.fresh = s
	return s, p, nil
}

// drift gathers the plan's links again and decides, per finding, to proceed, skip (healthy
// now) or refuse (stale). It returns the findings to apply.
func (r *run) drift(ctx context.Context) ([]*plan.Finding, bool) {
	r.record(journal.Entry{Kind: journal.KindGate, Name: "drift", Outcome: journal.Started, Reason: "gathering the plan's links again"})
	r.say("gathering fresh facts for the drift check...")
	s, fresh, err := r.freshPlan(ctx)
	if err != nil {
		rf := r.refusal("drift", err.Error())
		r.record(journal.Entry{Kind: journal.KindGate, Name: "drift", Outcome: journal.Refused, Reason: rf.journalText()})
		r.res.Refusals = append(r.res.Refusals, rf)
		r.say("refused (drift): %s", rf.Reason)
		return nil, false
	}
	byID := map[string]*plan.Finding{}
	for i := range fresh.Findings {
		byID[fresh.Findings[i].ID] = &fresh.Findings[i]
	}
	var todo []*plan.Finding
	var stale, lines, changes []string
	for i := range r.o.Plan.Findings {
		f := &r.o.Plan.Findings[i]
		fr := FindingResult{ID: f.ID, Manual: f.Manual}
		if f.Decision != nil {
			fr.Decision = f.Decision.Name
		}
		if len(f.Actions) == 0 {
			fr.Outcome, fr.Reason = Skipped, "no actions (manual steps only, or the diagnosis is incomplete)"
			r.res.Findings = append(r.res.Findings, fr)
			continue
		}
		started := r.startedBefore(f)
		ff := byID[f.ID]
		ls := linksOf(s, f)
		switch {
		case ff == nil && ls.healthy():
			fr.Outcome, fr.Reason = Skipped, "healthy now: every naming context of the link replicates (result 0)"
			lines = append(lines, f.ID+": healthy now, skipped")
			if started {
				r.closeInterrupted(ctx, f, fr.Reason)
			}
			r.res.Findings = append(r.res.Findings, fr)
			continue
		case ff == nil && ls.present == 0 && started:
			lines = append(lines, f.ID+": the link is gone; resuming this plan's earlier run (steps are re-checked)")
		case ff == nil && ls.present == 0 && unread(s, f.Link.Destination) != "":
			// Not gone: not read. The drift check cannot compare what it could not read.
			stale = append(stale, f.ID+": the destination's replication status could not be read now ("+unread(s, f.Link.Destination)+")")
			continue
		case ff == nil && ls.present == 0:
			stale = append(stale, f.ID+": its links no longer exist")
			continue
		case ff == nil:
			stale = append(stale, f.ID+": the link still fails ("+strings.Join(ls.failing, ", ")+") but the playbook no longer diagnoses it")
			continue
		case ff.Fingerprint == f.Fingerprint:
			if d := findingDiffer(f, ff, true); d != "" {
				stale = append(stale, f.ID+": "+d)
				continue
			}
			lines = append(lines, f.ID+": same evidence")
		case started:
			if d := findingDiffer(f, ff, false); d != "" {
				stale = append(stale, f.ID+": "+d)
				continue
			}
			lines = append(lines, f.ID+": evidence changed since this plan's earlier run started; resuming (steps are re-checked, guards re-evaluated)")
		default:
			msg, ch := evidenceDiff(f, ff), evidenceChanges(f, ff, maxChangeLines)
			if len(ch) > 0 && msg == fingerprintChanged(f, ff) {
				// The statuses are the same: say what differs rather than two digests.
				msg = ch[0]
				if len(ch) > 1 {
					msg += fmt.Sprintf(" (and %d more)", len(ch)-1)
				}
			}
			stale = append(stale, f.ID+": evidence changed: "+msg)
			for _, c := range ch {
				changes = append(changes, f.ID+": "+c)
			}
			continue
		}
		todo = append(todo, f)
	}
	for i := range fresh.Findings {
		found := false
		for _, f := range r.o.Plan.Findings {
			if f.ID == fresh.Findings[i].ID {
				found = true
			}
		}
		if !found {
			lines = append(lines, fresh.Findings[i].ID+": new failing link, not in this plan (make a new plan for it)")
		}
	}
	if len(stale) > 0 {
		rf := r.refusal("drift", "the plan is stale: "+strings.Join(stale, "; "))
		rf.Changes = changes
		r.record(journal.Entry{Kind: journal.KindGate, Name: "drift", Outcome: journal.Refused, Reason: rf.journalText(),
			Verification: strings.Join(append(changes, lines...), "\n")})
		r.res.Refusals = append(r.res.Refusals, rf)
		r.say("refused (drift): %s", rf.Reason)
		for _, c := range changes {
			r.say("  changed: %s", c)
		}
		return nil, false
	}
	reason := fmt.Sprintf("fresh plan %s: %s", short(fresh.Fingerprint), strings.Join(lines, "; "))
	r.record(journal.Entry{Kind: journal.KindGate, Name: "drift", Outcome: journal.Allowed, Reason: reason})
	for _, l := range lines {
		r.say("drift: %s", l)
	}
	return todo, r.fatal == nil
}

// unread returns why the fresh facts s could not read the named DC's replication status ("" if
// they did, or if the DC is not in the topology).
func unread(s *facts.Snapshot, dc string) string {
	if d := facts.NewIndex(s).DCByName(dc); d != nil && !d.Inbound.Known {
		return d.Inbound.Why()
	}
	return ""
}

// startedBefore reports whether the journal has any step of this finding under this plan, or
// a step of another of its findings that deletes the same object as one of this finding's
// cleanups (two destinations of one stale DSA: the deletion made on one DC's copy replicates
// to the other's, which this finding's own step awaits).
func (r *run) startedBefore(f *plan.Finding) bool {
	started := func(g *plan.Finding, a plan.Action) bool {
		st, err := r.j.Step(r.o.Plan.Fingerprint, g.ID, a.Name)
		return err == nil && st.State != journal.StepNotStarted
	}
	for _, a := range f.Actions {
		if started(f, a) {
			return true
		}
	}
	for _, a := range f.Actions {
		if a.Kind != plan.KindLDAPDelete || a.LDAPDelete == nil {
			continue
		}
		for i := range r.o.Plan.Findings {
			g := &r.o.Plan.Findings[i]
			for _, b := range g.Actions {
				if g.ID != f.ID && b.Kind == plan.KindLDAPDelete && b.LDAPDelete != nil && deletionKey(a) == deletionKey(b) && started(g, b) {
					return true
				}
			}
		}
	}
	return false
}

// comparable is what must be equal between an approved action and the fresh plan's: every
// field apply acts on (where it connects, what it sends, what it deletes, how it verifies)
// and every field the approver was shown. The JSON names are the plan's, so a refusal names
// the field as the plan file spells it.
type comparable struct {
	ID                   string           `json:"id"`
	Key                  string           `json:"key"`
	Name                 string           `json:"name"`
	Title                string           `json:"title"`
	Kind                 plan.Kind        `json:"kind"`
	Risk                 plan.Risk        `json:"risk"`
	Target               string           `json:"target"`
	TargetDNSHostName    string           `json:"target_dns_host_name"`
	TargetIPs            []string         `json:"target_ips"`
	Platform             plan.Platform    `json:"platform"`
	Transport            string           `json:"transport"`
	PowerShell           string           `json:"powershell"`
	Argv                 []string         `json:"argv"`
	ArgvDisplay          string           `json:"argv_display"`
	IgnoreExit           bool             `json:"ignore_exit"`
	Params               json.RawMessage  `json:"params"`
	LDAPDelete           *plan.LDAPDelete `json:"ldap_delete"`
	Verify               []string         `json:"verify"`
	VerifyTimeout        string           `json:"verify_timeout"`
	RequiresApprovalEach bool             `json:"requires_approval_each"`
	Blocked              bool             `json:"blocked"`
}

func comparableOf(a plan.Action) comparable {
	params, _ := json.Marshal(a.Params)
	var norm any
	_ = json.Unmarshal(params, &norm)
	params, _ = json.Marshal(norm)
	return comparable{ID: a.ID, Key: a.Key, Name: a.Name, Title: a.Title, Kind: a.Kind, Risk: a.Risk,
		Target: a.Target, TargetDNSHostName: a.TargetDNSHostName, TargetIPs: sortedCopy(a.TargetIPs),
		Platform: a.Platform, Transport: a.Transport, PowerShell: a.PowerShell, Argv: a.Argv, ArgvDisplay: a.ArgvDisplay,
		IgnoreExit: a.IgnoreExit, Params: params, LDAPDelete: a.LDAPDelete, Verify: a.Verify, VerifyTimeout: a.VerifyTimeout,
		RequiresApprovalEach: a.RequiresApprovalEach, Blocked: a.Blocked}
}

// bindingOf is the part of an action that says where it goes and what it removes: compared
// even when a resumed finding's evidence changed (its other fields may then legitimately
// differ).
func bindingOf(a plan.Action) comparable {
	return comparable{Target: a.Target, TargetDNSHostName: a.TargetDNSHostName, TargetIPs: sortedCopy(a.TargetIPs),
		Platform: a.Platform, Transport: a.Transport, Kind: a.Kind, LDAPDelete: a.LDAPDelete}
}

func sortedCopy(s []string) []string {
	if len(s) == 0 {
		return nil
	}
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

// fieldDiff names the first field (by its JSON name, in declaration order) whose value differs
// between a and b, with both values shown safely; "" when they are equal.
func fieldDiff(a, b any) string {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) == string(jb) {
		return ""
	}
	var ma, mb map[string]json.RawMessage
	_ = json.Unmarshal(ja, &ma)
	_ = json.Unmarshal(jb, &mb)
	t := reflect.TypeOf(a)
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if string(ma[name]) != string(mb[name]) {
			return fmt.Sprintf("%s is %s in the plan, %s from fresh facts and the playbook", name, shown(ma[name]), shown(mb[name]))
		}
	}
	return "a field differs"
}

// shown renders a JSON value for a refusal: escaped for the terminal and cut.
func shown(v json.RawMessage) string {
	s := string(v)
	if s == "" {
		s = "null"
	}
	return termtext.Clip(termtext.Escape(s), 120)
}

// actionsDiffer explains how the approved actions differ from the fresh plan's ("" if not),
// naming the action and the field.
func actionsDiffer(approved, fresh []plan.Action) string {
	if len(approved) != len(fresh) {
		return fmt.Sprintf("the plan lists %d actions, the playbook now gives %d for the same facts (the plan file was edited?)", len(approved), len(fresh))
	}
	for i := range approved {
		if d := fieldDiff(comparableOf(approved[i]), comparableOf(fresh[i])); d != "" {
			return fmt.Sprintf("action %s differs from what the playbook gives for the same facts: %s (the plan file was edited?)", termtext.Escape(approved[i].ID), d)
		}
	}
	return ""
}

// maxChangeLines bounds the evidence lines a drift refusal lists per finding.
const maxChangeLines = 20

// fingerprintChanged is what evidenceDiff says when no check changed its status.
func fingerprintChanged(old, fresh *plan.Finding) string {
	return "the facts the diagnosis used changed (fingerprint " + short(old.Fingerprint) + " → " + short(fresh.Fingerprint) + ")"
}

// bindingsDiffer compares where the approved actions go with where the fresh plan's actions
// of the same name go ("" if the same, or if the fresh plan has no such action: the step's own
// check against the fresh topology then decides).
func bindingsDiffer(approved, fresh []plan.Action) string {
	for _, a := range approved {
		for _, b := range fresh {
			if a.Name != b.Name {
				continue
			}
			if d := fieldDiff(bindingOf(a), bindingOf(b)); d != "" {
				return fmt.Sprintf("action %s: %s (the plan file was edited?)", termtext.Escape(a.ID), d)
			}
		}
	}
	return ""
}

// linkView is the part of a finding's partnership apply acts on: which links it reads and
// confirms, where it retries replication.
type linkView struct {
	Destination     string   `json:"destination"`
	DestinationGUID string   `json:"destination_guid"`
	Source          string   `json:"source"`
	SourceDSAGUID   string   `json:"source_dsa_guid"`
	SourceDSADN     string   `json:"source_dsa_dn"`
	SourceAddress   string   `json:"source_address"`
	NCs             []string `json:"ncs"`
}

func linkViewOf(l plan.LinkInfo, ncs bool) linkView {
	v := linkView{Destination: l.Destination, DestinationGUID: l.DestinationGUID, Source: l.Source, SourceDSAGUID: l.SourceDSAGUID,
		SourceDSADN: l.SourceDSADN, SourceAddress: l.SourceAddress}
	if ncs {
		for _, nc := range l.NCs {
			v.NCs = append(v.NCs, strings.ToLower(nc.NC))
		}
		sort.Strings(v.NCs)
	}
	return v
}

// findingDiffer explains how an approved finding differs from the fresh plan's ("" if not): with
// the same evidence, the partnership (naming contexts included) and every field of every action;
// for a resumed finding whose evidence changed, the partnership's identity and where each
// action goes.
func findingDiffer(approved, fresh *plan.Finding, sameEvidence bool) string {
	if d := linkDiffer(approved, fresh, sameEvidence); d != "" {
		return d
	}
	if sameEvidence {
		return actionsDiffer(approved.Actions, fresh.Actions)
	}
	return bindingsDiffer(approved.Actions, fresh.Actions)
}

// linkDiffer explains how the plan's partnership differs from the fresh finding's ("" if
// not). ncs: compare the naming contexts too (same evidence: they must be the same).
func linkDiffer(approved, fresh *plan.Finding, ncs bool) string {
	if d := fieldDiff(linkViewOf(approved.Link, ncs), linkViewOf(fresh.Link, ncs)); d != "" {
		return "link." + d + " (the plan file was edited?)"
	}
	return ""
}

// evidenceDiff names the checks whose status changed.
func evidenceDiff(old, fresh *plan.Finding) string {
	prev := map[string]plan.Status{}
	for _, c := range old.Evidence {
		prev[c.Name] = c.Status
	}
	var ch []string
	for _, c := range fresh.Evidence {
		if p, ok := prev[c.Name]; ok && p != c.Status {
			ch = append(ch, fmt.Sprintf("%s %s→%s", c.Name, p, c.Status))
		}
	}
	dec := func(f *plan.Finding) string {
		if f.Decision == nil {
			return "(none)"
		}
		return f.Decision.Name
	}
	s := ""
	if dec(old) != dec(fresh) {
		s = fmt.Sprintf("decision %s→%s", dec(old), dec(fresh))
	}
	// DNS client settings read at one time and only assumed at the other (or the reverse)
	if a, b := strings.Join(old.Assumptions, "\n"), strings.Join(fresh.Assumptions, "\n"); a != b {
		switch {
		case len(fresh.Assumptions) > len(old.Assumptions):
			ch = append(ch, "DNS client settings are now assumed, not read: "+strings.Join(fresh.Assumptions, " "))
		case len(fresh.Assumptions) < len(old.Assumptions):
			ch = append(ch, "DNS client settings that were assumed are now read")
		default:
			ch = append(ch, "the assumed DNS client settings changed: "+strings.Join(fresh.Assumptions, " "))
		}
	}
	if len(ch) == 0 && s == "" {
		ch = linkChanges(old, fresh)
	}
	if len(ch) > 0 {
		if s != "" {
			s += ", "
		}
		s += strings.Join(ch, ", ")
	}
	if s == "" {
		s = fingerprintChanged(old, fresh)
	}
	return s
}

// --- per-action approvals ---

func (r *run) isRetry(a plan.Action) bool { return a.Name == r.o.RetryAction }

func (r *run) approveActions(ctx context.Context, todo []*plan.Finding) bool {
	own := plan.OwnApprovals(todo)
	ok := true
	for _, f := range todo {
		for _, a := range f.Actions {
			explicit := own[a.ID]
			r.explicit[a.ID] = explicit
			if a.Blocked {
				// Refused (and journaled) when its turn comes; it needs no approval to be refused.
				r.approved[a.ID] = true
				continue
			}
			name := "approval:" + a.ID
			admitted := r.gate(name, a.Target, func() (bool, string) {
				if r.grant.Unattended && a.Destructive() {
					return false, fmt.Sprintf("destructive actions (%s, risk %s) never run unattended: a human must approve and apply this plan", a.Kind, a.Risk)
				}
				g, err := r.o.Approvals.ApproveAction(ctx, r.req, a, explicit)
				if err != nil {
					return false, err.Error()
				}
				if g.Unattended && a.Destructive() {
					return false, "destructive actions never run unattended"
				}
				how := g.How
				if how == "" {
					how = "covered by the plan approval (" + g.By + ")"
				}
				how, ok := r.checkUse(g.Digest, how)
				if ok && g.Digest != "" {
					r.eachDigest[a.ID] = g.Digest
				}
				return ok, how
			})
			if r.fatal != nil {
				return false
			}
			r.approved[a.ID] = admitted
			if !admitted {
				r.refusedBy[a.ID] = r.res.Refusals[len(r.res.Refusals)-1].Reason
				if explicit {
					ok = false // a cleanup without its own approval refuses the whole apply
				}
			}
		}
	}
	if !ok {
		r.say("refused: every metadata cleanup needs its own approval (see above); nothing was changed")
	}
	return ok
}

// --- single use ---

// checkUse admits an approval (by digest) the journal has not seen used to the end: unused, or
// used by a run that was interrupted (this apply resumes it). It returns the gate's reason.
func (r *run) checkUse(digest, how string) (string, bool) {
	if digest == "" {
		return how, true
	}
	u, err := r.j.ApprovalUse(digest)
	switch {
	case err != nil:
		return "whether the approval was already used cannot be read from the journal: " + err.Error(), false
	case u.State == journal.UseSpent:
		return (&approval.RefusalError{Reason: approval.ReasonUsed, Detail: u.String() + "; " + how +
			". To apply this plan again, approve it again (fix8524 approve)"}).Error(), false
	case u.State == journal.UseInterrupted:
		r.resumed[digest] = u.BeginID
		return how + "; resuming: the approval was " + u.String(), true
	}
	return how, true
}

// use records, before the first change made under each approval (the plan's, and an action's
// own), that this run uses it; a later apply with it is then refused unless this run is
// interrupted (see finishUses).
func (r *run) use(digests ...string) error {
	for _, d := range digests {
		if d == "" {
			continue
		}
		if _, ok := r.used[d]; ok {
			continue
		}
		id, err := r.j.UseApproval(journal.Entry{Forest: r.o.Forest, PlanFingerprint: r.o.Plan.Fingerprint, Target: r.o.PlanPath,
			Reason: "approval " + d + " used by this run"}, d)
		if err != nil {
			return err
		}
		r.used[d] = id
	}
	return nil
}

// finishUses records how this run ended for every approval it used: interrupted (the context
// ended) or pending verification leaves the approval to a resume; anything else spends it.
//
// The plan's approval is used by a run that got past every gate even when it found nothing to
// do (every link healthy now): it is spent then too. An approval this run resumed and did not
// use again itself (its steps were only re-checked) is closed through the interrupted run's
// record.
func (r *run) finishUses(ctx context.Context) {
	if r.pastDrift && r.grant.Digest != "" && r.used[r.grant.Digest] == 0 && r.resumed[r.grant.Digest] == 0 {
		if err := r.use(r.grant.Digest); err != nil && r.fatal == nil {
			r.note("recording the approval's use: %v", err)
		}
	}
	ends := map[string]int64{}
	for d, id := range r.used {
		ends[d] = id
	}
	if r.pastDrift {
		for d, id := range r.resumed {
			if _, ok := ends[d]; !ok {
				ends[d] = id
			}
		}
	}
	if len(ends) == 0 {
		return
	}
	out := r.res.Outcome
	switch {
	case ctx.Err() != nil || r.res.Outcome == Pending:
		out = journal.Pending
	case r.res.Outcome == Nothing:
		out = journal.Succeeded
	case r.res.Outcome == Refused:
		out = journal.Refused
	case r.res.Outcome != Succeeded:
		out = journal.Failed
	}
	reason := "the run ended " + string(r.res.Outcome)
	if out == journal.Pending {
		reason += "; a later apply of this plan with the same approval resumes it"
	} else {
		reason += "; the approval is spent"
	}
	for _, d := range sortedDigests(ends) {
		if _, err := r.j.FinishApprovalUse(ends[d], out, reason); err != nil && r.fatal == nil {
			r.note("recording the end of the approval's use: %v", err)
		}
	}
}

func sortedDigests(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// --- findings ---

func (r *run) applyFinding(ctx context.Context, f *plan.Finding) FindingResult {
	fr := FindingResult{ID: f.ID, Manual: f.Manual}
	if f.Decision != nil {
		fr.Decision = f.Decision.Name
	}
	r.say("\n%s: %s", f.ID, fr.Decision)
	var retry *plan.Action
	ranDelete := false
	for i := range f.Actions {
		a := f.Actions[i]
		if r.isRetry(a) {
			retry = &f.Actions[i]
			continue
		}
		sr := r.step(ctx, f, a)
		fr.Steps = append(fr.Steps, sr)
		if r.fatal != nil {
			fr.Outcome, fr.Reason = Failed, r.fatal.Error()
			return fr
		}
		if a.Kind == plan.KindLDAPDelete && sr.Outcome == Succeeded {
			ranDelete = true
			fr.Leftovers = append(fr.Leftovers, r.leftovers(ctx, f, a)...)
		}
		switch sr.Outcome {
		case Skipped:
			if a.Kind != plan.KindLDAPDelete {
				fr.Outcome, fr.Reason = sr.Outcome, a.ID+": "+sr.Reason
				return fr
			}
			// The object was already gone from the target's copy: the cleanup's effect is in
			// place; the links are confirmed as after a delete.
			ranDelete = true
		case Succeeded:
		case Pending:
			if len(a.Verify) > 0 || a.Kind == plan.KindLDAPDelete {
				fr.Outcome, fr.Reason = Pending, a.ID+": "+sr.Reason
				return fr
			}
		default:
			fr.Outcome, fr.Reason = sr.Outcome, a.ID+": "+sr.Reason
			return fr
		}
	}
	out, confirmed, steps := r.confirm(ctx, f, retry, ranDelete)
	fr.Steps = append(fr.Steps, steps...)
	fr.Confirmed = confirmed
	fr.Outcome = out
	if out != Succeeded {
		fr.Reason = "replication not confirmed: " + confirmed
	}
	if r.fatal != nil {
		fr.Outcome, fr.Reason = Failed, r.fatal.Error()
	}
	return fr
}

func exitOf(out actions.Outcome) *int { return out.ExitCode }

func itoa(i int) string { return strconv.Itoa(i) }

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// mustJSON is v as JSON ("null" for a value JSON cannot hold, which then differs from any other).
func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}
