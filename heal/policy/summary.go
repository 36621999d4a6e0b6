package policy

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"

	"github.com/fix8524/fix8524/internal/notify"
)

// Exit codes of fix8524 heal (equal to cmd/fix8524's exitOK, exitError, exitProposed and
// exitRefused).
const (
	ExitOK      = 0 // healthy, or everything approved was applied and verified
	ExitError   = 1 // an error: the journal could not be read, an action could not be run
	ExitHuman   = 2 // a human is needed: held for approval, verification failed or pending, manual steps
	ExitRefused = 3 // refused by a guardrail: cooldown, caps, breaker, change window
)

// Outcomes of applying an approved action, as apply reports them.
const (
	OutcomeSucceeded = "succeeded" // applied and verified
	OutcomeFailed    = "failed"    // applied, verification failed (counts toward the breaker)
	OutcomePending   = "pending"   // applied, verification did not conclude before its deadline
	OutcomeError     = "error"     // could not be applied (transport error, refused by apply's gates)
)

// Summary counts one heal run. Summarize fills it from the verdicts; the caller adds the
// outcomes of applying the approved ones (AddOutcome) and what the plan itself leaves to a
// human (HumanFindings).
type Summary struct {
	Candidates   int // verdicts summarised
	Approved     int // approved, distinct by Key
	HeldForHuman int // ClassHuman verdicts
	Refused      int // ClassGuardrail verdicts
	Undecided    int // ClassError verdicts
	ByHold       map[string]int

	Succeeded   int
	Failed      int
	Pending     int
	ApplyErrors int

	// HumanFindings counts findings that need a human whatever the policy says: incomplete
	// diagnoses and manual steps. Set by the caller from the plan.
	HumanFindings int
	// DCsNotRead counts the DCs the gather could not read (a partial plan): heal cannot say the
	// forest is healthy, so a human is needed. Set by the caller from the plan.
	DCsNotRead int

	// BreakerOpen is set when any verdict was held by the breaker, or by the caller after a
	// re-evaluation; BreakerTripped when the caller saw EvaluateBreaker trip it in this run.
	BreakerOpen    bool
	BreakerTripped bool
}

// Summarize counts verdicts.
func Summarize(vs []Verdict) Summary {
	s := Summary{ByHold: map[string]int{}}
	keys := map[string]bool{}
	for _, v := range vs {
		s.Candidates++
		if v.Approved {
			if k := v.Candidate.Key; k != "" {
				if keys[k] {
					continue
				}
				keys[k] = true
			}
			s.Approved++
			continue
		}
		s.ByHold[v.Hold]++
		switch v.Class {
		case ClassHuman:
			s.HeldForHuman++
		case ClassGuardrail:
			s.Refused++
			if v.Hold == HoldBreaker {
				s.BreakerOpen = true
			}
		default:
			s.Undecided++
		}
	}
	return s
}

// AddOutcome records the outcome of applying one approved action.
func (s *Summary) AddOutcome(outcome string) {
	switch outcome {
	case OutcomeSucceeded:
		s.Succeeded++
	case OutcomeFailed:
		s.Failed++
	case OutcomePending:
		s.Pending++
	default:
		s.ApplyErrors++
	}
}

// NeedsHuman reports whether anything waits for a person.
func (s Summary) NeedsHuman() bool {
	return s.HeldForHuman > 0 || s.Failed > 0 || s.Pending > 0 || s.HumanFindings > 0 || s.DCsNotRead > 0
}

// ExitCode maps the run to heal's exit code. Precedence: an error (1) over a human being needed
// (2) over a guardrail refusal (3) over success (0); so a run that held one action for a human
// and another for its cooldown exits 2, and one whose only holds are guardrails exits 3.
func (s Summary) ExitCode() int {
	switch {
	case s.Undecided > 0 || s.ApplyErrors > 0:
		return ExitError
	case s.NeedsHuman():
		return ExitHuman
	case s.Refused > 0 || s.BreakerOpen:
		return ExitRefused
	}
	return ExitOK
}

// Event returns the notification event kind this run calls for, or "" when nothing needs
// escalating. A breaker that tripped in this run wins; a breaker that was already open is
// reported as "refused" on later runs (so a loop does not page every 15 minutes: compare
// EscalationKey values to send only changes).
func (s Summary) Event() string {
	switch {
	case s.BreakerTripped:
		return notify.EventBreakerOpen
	case s.Undecided > 0 || s.ApplyErrors > 0:
		return notify.EventError
	case s.Failed > 0:
		return notify.EventVerificationFailed
	case s.NeedsHuman():
		return notify.EventHeld
	case s.Refused > 0 || s.BreakerOpen:
		return notify.EventRefused
	}
	return ""
}

// String is one line for people: "2 approved, 1 held for a human (not_allowed), ...".
func (s Summary) String() string {
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(s.Approved, "approved")
	add(s.Succeeded, "healed")
	add(s.Failed, "failed verification")
	add(s.Pending, "pending verification")
	add(s.ApplyErrors, "could not be applied")
	add(s.HeldForHuman, "held for a human")
	add(s.Refused, "refused by a guardrail")
	add(s.Undecided, "undecided (journal error)")
	switch s.HumanFindings {
	case 0:
	case 1:
		parts = append(parts, "1 finding needs a human")
	default:
		parts = append(parts, fmt.Sprintf("%d findings need a human", s.HumanFindings))
	}
	add(s.DCsNotRead, "DC(s) not read (partial)")
	if len(s.ByHold) > 0 {
		codes := make([]string, 0, len(s.ByHold))
		for c, n := range s.ByHold {
			codes = append(codes, fmt.Sprintf("%s=%d", c, n))
		}
		sort.Strings(codes)
		parts = append(parts, "holds: "+strings.Join(codes, " "))
	}
	if s.BreakerOpen {
		parts = append(parts, "circuit breaker OPEN")
	}
	if len(parts) == 0 {
		return "nothing to do"
	}
	return strings.Join(parts, ", ")
}

// Item renders a verdict that was not approved as a notification item.
func (v Verdict) Item() notify.Item {
	status := notify.ItemHeld
	switch v.Class {
	case ClassGuardrail:
		status = notify.ItemRefused
	case ClassError:
		status = notify.ItemError
	}
	return notify.Item{Status: status, Code: v.Hold, Finding: v.Candidate.Finding, Action: v.Candidate.Action,
		ActionID: v.Candidate.ID, Target: v.Candidate.Target, Risk: string(v.Candidate.Risk), Reason: v.Reason}
}

// OutcomeItem renders the outcome of an applied action that did not succeed.
func OutcomeItem(c Candidate, outcome, reason string) notify.Item {
	status := notify.ItemError
	code := OutcomeError
	switch outcome {
	case OutcomeFailed:
		status, code = notify.ItemFailed, "verification_failed"
	case OutcomePending:
		status, code = notify.ItemPending, "verification_pending"
	}
	return notify.Item{Status: status, Code: code, Finding: c.Finding, Action: c.Action, ActionID: c.ID,
		Target: c.Target, Risk: string(c.Risk), Reason: reason}
}

// HeldItems returns the notification items of every verdict that was not approved, in order.
func HeldItems(vs []Verdict) []notify.Item {
	var out []notify.Item
	for _, v := range vs {
		if !v.Approved {
			out = append(out, v.Item())
		}
	}
	return out
}

// EscalationKey is a stable digest of what an escalation is about (each item's status, code,
// action and target, order-free): equal keys on consecutive runs mean nothing changed, so a
// loop can skip sending the same notification again.
func EscalationKey(event string, items []notify.Item) string {
	lines := make([]string, 0, len(items))
	for _, it := range items {
		lines = append(lines, strings.Join([]string{it.Status, it.Code, it.ActionID, it.Finding, it.Action, it.Target}, "\x1f"))
	}
	sort.Strings(lines)
	h := sha256.New()
	h.Write([]byte(event))
	for _, l := range lines {
		h.Write([]byte{'\x1e'})
		h.Write([]byte(l))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}
