package policy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/fix8524/fix8524/engine/window"
	"github.com/fix8524/fix8524/plan"
)

// Candidate is one planned action heal considers running unattended. Its fields mirror
// plan.Action: ID, Key, Name (Action), Risk, Kind, Target, Blocked and Reasons; Finding
// is the finding's ID and Command the action's display form (ArgvDisplay or the PowerShell
// text), used only to recognise destructive commands.
type Candidate struct {
	ID             string // "<finding id>/<action name>"
	Key            string // same key = same effect: runs once, counts once
	Finding        string
	Action         string    // the playbook's action name
	Risk           plan.Risk // anything but low, medium or high is treated as high
	Kind           plan.Kind
	Target         string // the DC the action changes
	Command        string
	Blocked        bool
	BlockedReasons []string
	// Assumptions are the finding's (plan.Finding.Assumptions): guesses its diagnosis rests
	// on. A candidate with any is never approved (HoldAssumed).
	Assumptions []string
}

// History is what Decide needs from the journal of past runs. All times are instants; DC
// names compare case-insensitively. An error makes Decide hold what it could not decide (fail
// closed).
type History interface {
	// LastApplied returns when action was last applied (attempted, whatever its outcome) on
	// dc; ok is false if never.
	LastApplied(dc, action string) (t time.Time, ok bool, err error)
	// DCsTouchedSince returns the distinct DCs on which any action was applied at or after
	// since.
	DCsTouchedSince(since time.Time) ([]string, error)
	// FailedVerificationsSince counts verifications that failed at or after since.
	FailedVerificationsSince(since time.Time) (int, error)
	// BreakerState returns the recorded breaker state: open is true while an opening has not
	// been reset; changed is when it last opened (open) or was last reset (closed; zero if
	// never).
	BreakerState() (open bool, changed time.Time, err error)
}

// Hold codes: why a candidate was not approved.
const (
	HoldNever         = "never_unattended" // high risk, LDAP delete or a destructive command: hard-coded
	HoldBlocked       = "blocked"          // the plan blocks it (guard, flagged value, unknown platform, no target)
	HoldAssumed       = "assumed_settings" // its finding's diagnosis rests on assumed settings (assume-self DNS)
	HoldDenied        = "denied"           // the policy's deny list names it
	HoldNotAllowed    = "not_allowed"      // no allow rule admits it
	HoldBreaker       = "breaker_open"     // the circuit breaker is open
	HoldWindow        = "outside_window"   // outside every change window
	HoldCooldown      = "cooldown"         // applied on this DC too recently
	HoldDCCap         = "dc_cap"           // the 24h cap of distinct DCs is reached
	HoldRunMax        = "run_max"          // the per-run maximum is reached
	HoldHistoryFailed = "history_error"    // the journal could not be read
)

// Class groups verdicts by what they mean for heal's exit code.
type Class string

// Verdict classes.
const (
	ClassApproved  Class = "approved"  // may run unattended now
	ClassHuman     Class = "human"     // needs a human (exit 2)
	ClassGuardrail Class = "guardrail" // refused by a guardrail (exit 3)
	ClassError     Class = "error"     // could not be decided (exit 1)
)

// ClassOf returns the class of a hold code.
func ClassOf(code string) Class {
	switch code {
	case "":
		return ClassApproved
	case HoldNever, HoldBlocked, HoldAssumed, HoldDenied, HoldNotAllowed:
		return ClassHuman
	case HoldBreaker, HoldWindow, HoldCooldown, HoldDCCap, HoldRunMax:
		return ClassGuardrail
	}
	return ClassError
}

// Verdict is the decision on one candidate.
type Verdict struct {
	Candidate Candidate
	Approved  bool
	Class     Class
	Hold      string // Hold* code; "" when approved
	// Reason is one precise line for people, the journal and notifications.
	Reason string
	// Until is when the hold lifts on its own, when known: the end of a cooldown, the next
	// window opening, the time the oldest DC leaves the 24h cap.
	Until time.Time
	// Rule is the allow rule that approved it.
	Rule string
}

// BreakerStatus is the circuit breaker as Decide sees it.
type BreakerStatus struct {
	Open bool
	// Tripped is true when this evaluation opened it (the threshold was reached and the journal
	// did not yet record it open): the caller records the opening and escalates.
	Tripped bool
	// Since is when it opened (recorded opening, or now when Tripped).
	Since time.Time
	// Failures is the count of failed verifications in the breaker's window (since the last
	// reset, if that is more recent).
	Failures int
	Reason   string
}

// EvaluateBreaker decides whether the breaker is open: it is when the journal records it open,
// or when at least Breaker.Failures verifications failed within Breaker.Within (counting only
// those after the last reset). It stays open until a reset is recorded.
func EvaluateBreaker(p *Policy, h History, now time.Time) (BreakerStatus, error) {
	open, changed, err := h.BreakerState()
	if err != nil {
		return BreakerStatus{}, fmt.Errorf("reading the breaker state from the journal: %w", err)
	}
	rule := p.Breaker
	if rule.Failures < 1 {
		rule.Failures = 1
	}
	if open {
		return BreakerStatus{Open: true, Since: changed,
			Reason: fmt.Sprintf("circuit breaker open since %s; it closes only with fix8524 heal --reset-breaker --reason TEXT",
				changed.UTC().Format(time.RFC3339))}, nil
	}
	since := now.Add(-rule.Within)
	if !changed.IsZero() && changed.After(since) {
		since = changed
	}
	n, err := h.FailedVerificationsSince(since)
	if err != nil {
		return BreakerStatus{}, fmt.Errorf("counting failed verifications in the journal: %w", err)
	}
	st := BreakerStatus{Failures: n}
	if n >= rule.Failures {
		st.Open, st.Tripped, st.Since = true, true, now
		st.Reason = fmt.Sprintf("circuit breaker open: %d failed verifications within %s (threshold %d); it closes only with fix8524 heal --reset-breaker --reason TEXT",
			n, rule.Within, rule.Failures)
	}
	return st, nil
}

// destructiveMarkers recognise commands that delete directory or DNS objects, whatever risk the
// playbook gave them.
var destructiveMarkers = []string{
	"demote", "ntdsutil", "remove-adobject", "remove-addomaincontroller", "remove-adcomputer",
	"remove-dnsserverresourcerecord", "/recorddelete", "remove-other-dead-server", "metadata cleanup",
}

// neverUnattended returns why a candidate can never run unattended, or "".
func neverUnattended(c Candidate) string {
	if plan.Destructive(c.Kind, c.Risk) {
		switch {
		case c.Kind.Destructive():
			return "an LDAP delete (metadata cleanup) never runs unattended: approve it with fix8524 approve"
		case !c.Risk.Known():
			return fmt.Sprintf("unknown risk %q is treated as high, and high-risk actions never run unattended", c.Risk)
		}
		return "high-risk actions never run unattended: approve it with fix8524 approve"
	}
	name := strings.ToLower(c.Action)
	if strings.Contains(name, "metadata_cleanup") || strings.Contains(name, "demote") {
		return fmt.Sprintf("%q is a metadata-cleanup action, which never runs unattended", c.Action)
	}
	cmd := strings.ToLower(c.Command)
	for _, m := range destructiveMarkers {
		if strings.Contains(cmd, m) {
			return fmt.Sprintf("its command deletes directory or DNS data (%q), which never runs unattended", m)
		}
	}
	return ""
}

// Decide decides, for each candidate in order, whether heal may run it now without a human.
// It is a pure function of its arguments (History is only read). Checks, in order, each
// holding the candidate with its own reason: never unattended (hard-coded: high risk, LDAP
// delete, destructive command), blocked by the plan, resting on assumed settings, denied, not
// admitted by any allow rule, breaker open, outside every change window, per-DC per-action
// cooldown, the 24h cap of distinct DCs, the per-run maximum. Candidates with the same Key as
// an earlier one share its verdict and count once (except those with assumptions, decided
// alone). A nil policy is Default(). Journal errors hold what they touch (ClassError).
func Decide(p *Policy, candidates []Candidate, h History, now time.Time) []Verdict {
	if p == nil {
		p = Default()
	}
	out := make([]Verdict, 0, len(candidates))

	// Run-wide state, computed lazily so that a journal that fails is only blamed where needed.
	var (
		breakerDone bool
		breaker     BreakerStatus
		breakerErr  error
		winDone     bool
		win         window.Decision
		dcsDone     bool
		touched     map[string]string
		dcsErr      error
		approved    int
		byKey       = map[string]Verdict{}
	)
	getBreaker := func() {
		if !breakerDone {
			breaker, breakerErr = EvaluateBreaker(p, h, now)
			breakerDone = true
		}
	}
	getWindow := func() {
		if !winDone {
			win = window.Evaluate(p.Windows, now)
			winDone = true
		}
	}
	getDCs := func() {
		if dcsDone {
			return
		}
		dcsDone = true
		touched = map[string]string{}
		dcs, err := h.DCsTouchedSince(now.Add(-24 * time.Hour))
		if err != nil {
			dcsErr = fmt.Errorf("reading the DCs changed in the last 24h from the journal: %w", err)
			return
		}
		for _, dc := range dcs {
			touched[normDC(dc)] = dc
		}
	}

	for _, c := range candidates {
		// A candidate whose finding rests on assumptions is decided on its own (and held): it
		// neither takes the verdict of an earlier one with the same effect, nor gives its hold
		// to a later one whose diagnosis was read.
		shares := c.Key != "" && len(c.Assumptions) == 0
		if shares {
			if prev, ok := byKey[c.Key]; ok {
				v := prev
				v.Candidate = c
				v.Reason = prev.Reason + fmt.Sprintf(" (same effect as %s)", prev.Candidate.ID)
				out = append(out, v)
				continue
			}
		}
		v := decideOne(p, c, h, now, decideState{
			breaker: func() (BreakerStatus, error) { getBreaker(); return breaker, breakerErr },
			window:  func() window.Decision { getWindow(); return win },
			dcs:     func() (map[string]string, error) { getDCs(); return touched, dcsErr },
			count:   approved,
		})
		if v.Approved {
			approved++
			touched[normDC(c.Target)] = c.Target
		}
		if shares {
			byKey[c.Key] = v
		}
		out = append(out, v)
	}
	return out
}

type decideState struct {
	breaker func() (BreakerStatus, error)
	window  func() window.Decision
	dcs     func() (map[string]string, error)
	count   int
}

func normDC(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func decideOne(p *Policy, c Candidate, h History, now time.Time, st decideState) Verdict {
	hold := func(code, reason string, until time.Time) Verdict {
		return Verdict{Candidate: c, Class: ClassOf(code), Hold: code, Reason: reason, Until: until}
	}
	if why := neverUnattended(c); why != "" {
		return hold(HoldNever, why, time.Time{})
	}
	if c.Blocked {
		why := "the plan blocks it"
		if len(c.BlockedReasons) > 0 {
			why += ": " + strings.Join(c.BlockedReasons, "; ")
		}
		return hold(HoldBlocked, why, time.Time{})
	}
	if strings.TrimSpace(c.Target) == "" {
		return hold(HoldBlocked, "the action names no target DC", time.Time{})
	}
	if len(c.Assumptions) > 0 {
		return hold(HoldAssumed, assumedReason(c), time.Time{})
	}
	if p.denied(c.Action) {
		return hold(HoldDenied, fmt.Sprintf("the policy's deny list names %q", c.Action), time.Time{})
	}
	rule, ok := p.allowedBy(c.Action, c.Risk)
	if !ok {
		return hold(HoldNotAllowed, notAllowedReason(p, c), time.Time{})
	}

	br, err := st.breaker()
	if err != nil {
		return hold(HoldHistoryFailed, err.Error(), time.Time{})
	}
	if br.Open {
		return hold(HoldBreaker, br.Reason, time.Time{})
	}
	if w := st.window(); !w.Admitted {
		return hold(HoldWindow, w.Reason, w.Next)
	}
	last, ok, err := h.LastApplied(c.Target, c.Action)
	if err != nil {
		return hold(HoldHistoryFailed, fmt.Sprintf("reading when %s last ran on %s from the journal: %v", c.Action, c.Target, err), time.Time{})
	}
	if cd := p.CooldownFor(c.Action); ok && now.Before(last.Add(cd)) {
		until := last.Add(cd)
		return hold(HoldCooldown, fmt.Sprintf("cooldown: %s ran on %s at %s; the %s cooldown lasts until %s",
			c.Action, c.Target, last.UTC().Format(time.RFC3339), cd, until.UTC().Format(time.RFC3339)), until)
	}
	touched, err := st.dcs()
	if err != nil {
		return hold(HoldHistoryFailed, err.Error(), time.Time{})
	}
	if _, seen := touched[normDC(c.Target)]; !seen && len(touched) >= p.MaxDCsPer24h {
		return hold(HoldDCCap, fmt.Sprintf("the cap of %d distinct DCs changed per 24h is reached (%s); %s is not one of them",
			p.MaxDCsPer24h, strings.Join(sortedSet(touched), ", "), c.Target), time.Time{})
	}
	if st.count >= p.MaxActionsPerRun {
		return hold(HoldRunMax, fmt.Sprintf("the maximum of %d actions per run is reached; it is left for the next run", p.MaxActionsPerRun), time.Time{})
	}
	reason := fmt.Sprintf("approved for an unattended run by allow rule %q (%s risk, at most %s)", rule.Name, c.Risk, rule.MaxRisk)
	return Verdict{Candidate: c, Approved: true, Class: ClassApproved, Reason: reason, Rule: rule.Name}
}

func notAllowedReason(p *Policy, c Candidate) string {
	if len(p.Allow) == 0 {
		return "the policy allows no unattended action"
	}
	var named, riskOK bool
	for _, r := range p.Allow {
		if len(r.Actions) == 0 || containsStr(r.Actions, "*") || containsStr(r.Actions, c.Action) {
			named = true
		}
		if c.Risk.Rank() <= r.MaxRisk.Rank() {
			riskOK = true
		}
	}
	switch {
	case named && !riskOK:
		return fmt.Sprintf("not allowed by the policy: %s risk is above every allow rule's max_risk", c.Risk)
	case !named:
		return fmt.Sprintf("not allowed by the policy: no allow rule names %q", c.Action)
	}
	return fmt.Sprintf("not allowed by the policy: no allow rule admits %q at %s risk", c.Action, c.Risk)
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func sortedSet(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

// assumedReason says why a candidate resting on assumptions is held: what was assumed, and
// what a human does about it.
func assumedReason(c Candidate) string {
	return fmt.Sprintf("the diagnosis of %s rests on assumed settings, not on settings read; a human verifies them, then approves and applies the plan: %s",
		c.Finding, strings.Join(c.Assumptions, " "))
}
