package heal

import (
	"github.com/hashicorp/hcl/v2"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/heal/policy"
)

// Lint checks a heal policy against the actions a playbook defines (policy.Policy.Lint): an
// allow rule naming an action that can never run unattended is an error, one naming an action
// above the rule's max_risk or unknown to the playbook a warning. The playbook refuses an LDAP
// delete that is not high risk, so the risk alone marks metadata cleanup.
func Lint(p *policy.Policy, pb *engine.Playbook) hcl.Diagnostics {
	if p == nil || pb == nil {
		return nil
	}
	acts := make([]policy.ActionInfo, 0, len(pb.Actions))
	for _, a := range pb.Actions {
		acts = append(acts, policy.ActionInfo{Name: a.Name, Risk: a.Risk})
	}
	return p.Lint(acts)
}
