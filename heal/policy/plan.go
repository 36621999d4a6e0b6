package policy

import (
	"strings"

	"github.com/fix8524/fix8524/plan"
)

// CandidateFromAction turns one planned action of a finding into a Candidate.
func CandidateFromAction(findingID string, a plan.Action) Candidate {
	var cmd []string
	if a.PowerShell != "" {
		cmd = append(cmd, a.PowerShell)
	}
	if a.ArgvDisplay != "" {
		cmd = append(cmd, a.ArgvDisplay)
	} else if len(a.Argv) > 0 {
		cmd = append(cmd, strings.Join(a.Argv, " "))
	}
	return Candidate{
		ID:             a.ID,
		Key:            a.Key,
		Finding:        findingID,
		Action:         a.Name,
		Risk:           a.Risk,
		Kind:           a.Kind,
		Target:         a.Target,
		Command:        strings.Join(cmd, "\n"),
		Blocked:        a.Blocked,
		BlockedReasons: append([]string(nil), a.Reasons...),
	}
}

// CandidateFromFinding turns one planned action of a finding into a Candidate that carries
// the finding's assumptions (so that Decide holds it: HoldAssumed).
func CandidateFromFinding(f *plan.Finding, a plan.Action) Candidate {
	c := CandidateFromAction(f.ID, a)
	c.Assumptions = append([]string(nil), f.Assumptions...)
	return c
}

// CandidatesFromPlan lists every action of a plan as a candidate, finding by finding, in plan
// order (the order Decide spends the per-run and per-24h budgets in).
func CandidatesFromPlan(p *plan.Plan) []Candidate {
	if p == nil {
		return nil
	}
	var out []Candidate
	for i := range p.Findings {
		for _, a := range p.Findings[i].Actions {
			out = append(out, CandidateFromFinding(&p.Findings[i], a))
		}
	}
	return out
}

// HumanFindings counts the findings of a plan that need a human whatever the policy allows:
// incomplete diagnoses, and diagnoses with no action (manual steps only). Manual steps that
// accompany actions are advice and do not count. Failing links the playbook does not match
// (Plan.Unmatched: another error than 8524) count one each: replication still fails there and
// only a person can look at it, so the run must not report "healthy". Set
// Summary.HumanFindings from it.
func HumanFindings(p *plan.Plan) int {
	if p == nil {
		return 0
	}
	n := 0
	for _, f := range p.Findings {
		if f.Status != plan.FindingDiagnosed || len(f.Actions) == 0 {
			n++
		}
	}
	// Failing links the playbook does not handle (another error than 8524) still fail:
	// "healthy" would be a lie, and only a person can look at them.
	return n + len(p.Unmatched)
}
