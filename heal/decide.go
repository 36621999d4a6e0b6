package heal

import (
	"fmt"
	"time"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/engine/window"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/plan"
)

// Hold codes heal adds to heal/policy's.
const (
	// HoldApplyRefused: apply's own gates refused an approved action (lock, drift, window
	// closed meanwhile, guards). A guardrail: nothing was changed by it.
	HoldApplyRefused = "apply_refused"
)

// candidates lists the plan's candidates; actions that need their own (human) approval
// (own: plan.OwnApprovals) are marked blocked so that no policy approves them, and those of a
// finding that rests on assumed settings carry them (policy.HoldAssumed).
func candidates(p *plan.Plan, own map[string]bool) []policy.Candidate {
	var out []policy.Candidate
	for i := range p.Findings {
		f := &p.Findings[i]
		for _, a := range f.Actions {
			c := policy.CandidateFromFinding(f, a)
			if own[a.ID] {
				c.Blocked = true
				c.BlockedReasons = append(c.BlockedReasons, ownApprovalReason(a))
			}
			out = append(out, c)
		}
	}
	return out
}

// ownApprovalReason says why an action needs an approval of its own, which only a human gives.
func ownApprovalReason(a plan.Action) string {
	if a.RequiresApprovalEach {
		return "the playbook requires an approval of its own for this action (requires_approval_each), which only a human gives"
	}
	return "this plan holds more than one " + string(a.Kind) + " action, each of which needs an approval of its own, which only a human gives"
}

// startable reports whether a finding can be started as a whole under verdicts (by action
// id): it has actions, none needs its own approval (own), every action except the replication
// retry is approved, and at least one is. When it cannot, blocker is the verdict that holds it.
func startable(f *plan.Finding, byID map[string]policy.Verdict, own map[string]bool, retry string) (ok bool, blocker policy.Verdict) {
	approved := 0
	for _, a := range f.Actions {
		v, seen := byID[a.ID]
		if !seen {
			return false, policy.Verdict{Class: policy.ClassError, Hold: policy.HoldHistoryFailed, Reason: a.ID + " was not decided"}
		}
		if v.Approved {
			approved++
		}
		if own[a.ID] && !v.Approved {
			return false, v
		}
		if a.Name != retry && !v.Approved {
			return false, v
		}
	}
	if approved == 0 {
		for _, a := range f.Actions {
			return false, byID[a.ID]
		}
		return false, policy.Verdict{}
	}
	return true, policy.Verdict{}
}

// decision is heal's decision on one plan.
type decision struct {
	verdicts []policy.Verdict // one per candidate, in plan order
	start    map[string]bool  // finding id -> started
}

// decide runs policy.Decide and heal's own rules (see the package documentation): findings
// start as a whole; the budgets are decided again over the findings that can start; outside
// the playbook's change windows nothing is approved.
func decide(pol *policy.Policy, p *plan.Plan, h policy.History, now, windowAt time.Time, retry string, waived bool) decision {
	own := p.OwnApprovals()
	cands := candidates(p, own)
	all := policy.Decide(pol, cands, h, now)
	excluded := map[string]policy.Verdict{} // finding id -> the verdict that holds it
	final := all
	for round := 0; round < 4; round++ {
		byID := indexVerdicts(final)
		grew := false
		for i := range p.Findings {
			f := &p.Findings[i]
			if _, gone := excluded[f.ID]; gone || len(f.Actions) == 0 {
				continue
			}
			if ok, b := startable(f, byID, own, retry); !ok {
				excluded[f.ID] = b
				grew = true
			}
		}
		if !grew {
			break
		}
		// Decide again over the findings that can still start: approvals withdrawn from the
		// others must not use up the run's budgets.
		var sub []policy.Candidate
		for _, c := range cands {
			if _, gone := excluded[c.Finding]; !gone {
				sub = append(sub, c)
			}
		}
		again := indexVerdicts(policy.Decide(pol, sub, h, now))
		final = make([]policy.Verdict, len(all))
		for i, v := range all {
			if nv, ok := again[v.Candidate.ID]; ok {
				final[i] = nv
			} else {
				final[i] = v
			}
		}
	}
	d := decision{start: map[string]bool{}}
	for _, v := range final {
		if b, gone := excluded[v.Candidate.Finding]; gone && v.Approved {
			v = withdraw(v, b)
		}
		d.verdicts = append(d.verdicts, v)
	}
	// The playbook's change windows: apply would refuse outside them; say so here, as a hold.
	if !waived && len(p.Windows) > 0 {
		ws := make([]window.Window, 0, len(p.Windows))
		for _, s := range p.Windows {
			w, err := window.Parse(s.Name, s.Cron, s.Duration, s.TimeZone)
			if err != nil {
				w = window.Window{Name: s.Name} // invalid: never admits
			}
			ws = append(ws, w)
		}
		if wd := window.Evaluate(ws, windowAt); !wd.Admitted {
			for i, v := range d.verdicts {
				if v.Approved {
					d.verdicts[i] = policy.Verdict{Candidate: v.Candidate, Class: policy.ClassGuardrail, Hold: policy.HoldWindow,
						Reason: "outside the playbook's change windows: " + wd.Reason, Until: wd.Next}
				}
			}
		}
	}
	byID := indexVerdicts(d.verdicts)
	for i := range p.Findings {
		f := &p.Findings[i]
		if ok, _ := startable(f, byID, own, retry); ok && len(f.Actions) > 0 {
			d.start[f.ID] = true
		}
	}
	return d
}

// withdraw turns an approval into the hold of the action that keeps its finding from starting.
func withdraw(v policy.Verdict, blocker policy.Verdict) policy.Verdict {
	class, hold := blocker.Class, blocker.Hold
	if hold == "" {
		class, hold = policy.ClassHuman, policy.HoldBlocked
	}
	return policy.Verdict{Candidate: v.Candidate, Class: class, Hold: hold, Until: blocker.Until,
		Reason: fmt.Sprintf("not started: its finding is healed as a whole, and %s is held (%s): %s", blocker.Candidate.ID, hold, blocker.Reason)}
}

func indexVerdicts(vs []policy.Verdict) map[string]policy.Verdict {
	m := make(map[string]policy.Verdict, len(vs))
	for _, v := range vs {
		m[v.Candidate.ID] = v
	}
	return m
}

// retryName is apply's default replication-retry action.
const retryName = actions.RetryName
