package heal

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/plan"
)

// PolicyApprovals is the apply.Approvals of an unattended run: it admits exactly the actions
// the heal policy approved in this run (by action id, with the same name, target and key), and
// the built-in replication retry of a finding whose own replication retry was approved (on the
// same target). It refuses everything else: held actions with their policy reason, actions
// that need an approval of their own (a human's), and destructive actions whatever the
// verdicts say, and the actions of a finding whose diagnosis rests on assumed settings
// (plan.Finding.Assumptions). Every grant is Unattended, so apply refuses destructive
// actions too.
type PolicyApprovals struct {
	// By names the approver for the journal: "heal policy <source>".
	By string
	// Verdicts are this run's final verdicts, by action id.
	Verdicts map[string]policy.Verdict
	// RetryAction is the playbook's replication-retry action name (default actions.RetryName).
	RetryAction string
}

var _ apply.Approvals = (*PolicyApprovals)(nil)

// NewPolicyApprovals indexes verdicts by action id.
func NewPolicyApprovals(by string, verdicts []policy.Verdict) *PolicyApprovals {
	m := make(map[string]policy.Verdict, len(verdicts))
	for _, v := range verdicts {
		m[v.Candidate.ID] = v
	}
	return &PolicyApprovals{By: by, Verdicts: m}
}

func (p *PolicyApprovals) retryName() string {
	if p.RetryAction != "" {
		return p.RetryAction
	}
	return actions.RetryName
}

// ApprovePlan admits the plan when the policy approved at least one of its actions.
func (p *PolicyApprovals) ApprovePlan(_ context.Context, req apply.Request) (apply.Grant, error) {
	if req.Plan == nil {
		return apply.Grant{}, errors.New("heal: no plan")
	}
	n := 0
	for _, f := range req.Plan.Findings {
		for _, a := range f.Actions {
			if v, ok := p.Verdicts[a.ID]; ok && v.Approved {
				n++
			}
		}
	}
	if n == 0 {
		return apply.Grant{}, errors.New("the heal policy approved none of this plan's actions")
	}
	return apply.Grant{By: p.By, Unattended: true,
		How: fmt.Sprintf("unattended: %s approved %d action(s) of this plan; the others are refused one by one", p.By, n)}, nil
}

// ApproveAction admits an action the policy approved, or the built-in retry covered by an
// approved retry; it refuses the rest.
func (p *PolicyApprovals) ApproveAction(_ context.Context, req apply.Request, a plan.Action, explicit bool) (apply.Grant, error) {
	switch {
	case a.Destructive():
		return apply.Grant{}, fmt.Errorf("%s: destructive actions (%s, risk %s) never run unattended: a human approves and applies them", a.ID, a.Kind, a.Risk)
	case explicit:
		return apply.Grant{}, fmt.Errorf("%s needs an approval of its own, which only a human can give (fix8524 approve --allow-each)", a.ID)
	}
	if f := findingOf(req.Plan, a.ID); f != nil && len(f.Assumptions) > 0 {
		return apply.Grant{}, fmt.Errorf("%s: the diagnosis of %s rests on assumed settings (%s), which only a human can verify: %s",
			a.ID, f.ID, policy.HoldAssumed, strings.Join(f.Assumptions, " "))
	}
	if v, ok := p.Verdicts[a.ID]; ok {
		c := v.Candidate
		switch {
		case !v.Approved:
			return apply.Grant{}, fmt.Errorf("held by the heal policy (%s): %s", v.Hold, v.Reason)
		case c.Action != a.Name || !strings.EqualFold(c.Target, a.Target) || c.Key != a.Key:
			return apply.Grant{}, fmt.Errorf("%s: the policy approved %s on %s, not %s on %s", a.ID, c.Action, c.Target, a.Name, a.Target)
		}
		return apply.Grant{By: p.By, Unattended: true, How: "unattended: " + v.Reason}, nil
	}
	if finding, ok := builtinRetryOf(a.ID); ok && a.Name == actions.RetryName {
		id := finding + "/" + p.retryName()
		v, ok := p.Verdicts[id]
		if ok && v.Approved && strings.EqualFold(v.Candidate.Target, a.Target) {
			return apply.Grant{By: p.By, Unattended: true, How: "unattended: covered by the approval of " + id}, nil
		}
		return apply.Grant{}, fmt.Errorf("%s: the heal policy approved no replication retry on %s for %s", a.ID, a.Target, finding)
	}
	return apply.Grant{}, fmt.Errorf("%s is not in the actions the heal policy decided on", a.ID)
}

// findingOf returns the finding of plan p an action id belongs to ("<finding id>/..."), or nil.
func findingOf(p *plan.Plan, actionID string) *plan.Finding {
	if p == nil {
		return nil
	}
	var best *plan.Finding
	for i := range p.Findings {
		f := &p.Findings[i]
		if strings.HasPrefix(actionID, f.ID+"/") && (best == nil || len(f.ID) > len(best.ID)) {
			best = f
		}
	}
	return best
}

// builtinRetryOf returns the finding of a built-in retry's action id ("F/builtin:retry…").
func builtinRetryOf(id string) (string, bool) {
	i := strings.LastIndex(id, "/builtin:")
	if i <= 0 {
		return "", false
	}
	return id[:i], true
}
