package heal_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/plan"
)

func TestPolicyApprovals(t *testing.T) {
	reg := plan.Action{ID: "D<-S/register_cname", Key: "k1", Name: "register_cname", Risk: "low", Kind: plan.KindPowerShell, Target: "S"}
	retry := plan.Action{ID: "D<-S/retry_replication", Key: "k2", Name: "retry_replication", Risk: "low", Kind: plan.KindPowerShell, Target: "D"}
	host := plan.Action{ID: "D<-S/register_host", Key: "k3", Name: "register_host", Risk: "low", Kind: plan.KindPowerShell, Target: "S"}
	v := func(a plan.Action, approved bool, hold string) policy.Verdict {
		c := policy.CandidateFromAction("D<-S", a)
		if approved {
			return policy.Verdict{Candidate: c, Approved: true, Class: policy.ClassApproved, Reason: "approved by allow rule x"}
		}
		return policy.Verdict{Candidate: c, Class: policy.ClassOf(hold), Hold: hold, Reason: "ran too recently"}
	}
	ap := heal.NewPolicyApprovals("heal policy p.hcl", []policy.Verdict{v(reg, true, ""), v(retry, true, ""), v(host, false, policy.HoldCooldown)})
	p := &plan.Plan{Findings: []plan.Finding{{ID: "D<-S", Actions: []plan.Action{reg, retry, host}}}}
	req := apply.Request{Plan: p}
	g, err := ap.ApprovePlan(context.Background(), req)
	if err != nil || !g.Unattended || !strings.Contains(g.How, "approved 2 action(s)") {
		t.Fatalf("plan: %+v %v", g, err)
	}

	moved := reg
	moved.Target = "OTHER"
	cleanup := plan.Action{ID: "D<-S/metadata_cleanup", Name: "metadata_cleanup", Risk: "high", Kind: plan.KindLDAPDelete, Target: "D"}
	each := reg
	each.ID = "D<-S/x"
	builtin := plan.Action{ID: "D<-S/builtin:retry_replication#2", Name: "retry_replication", Risk: "low", Target: "D"}
	builtinElsewhere := builtin
	builtinElsewhere.Target = "S"
	builtinOther := builtin
	builtinOther.ID = "E<-S/builtin:retry_replication"
	for _, tc := range []struct {
		name     string
		a        plan.Action
		explicit bool
		ok       bool
		want     string
	}{
		{"approved", reg, false, true, "approved by allow rule x"},
		{"approved retry", retry, false, true, ""},
		{"held by the policy", host, false, false, "held by the heal policy (cooldown): ran too recently"},
		{"other target than approved", moved, false, false, "not register_cname on OTHER"},
		{"destructive", cleanup, false, false, "never run unattended"},
		{"explicit", reg, true, false, "only a human can give"},
		{"not decided", each, false, false, "not in the actions the heal policy decided on"},
		{"built-in retry covered", builtin, false, true, "covered by the approval of D<-S/retry_replication"},
		{"built-in retry on another DC", builtinElsewhere, false, false, "approved no replication retry on S"},
		{"built-in retry of another finding", builtinOther, false, false, "approved no replication retry"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g, err := ap.ApproveAction(context.Background(), req, tc.a, tc.explicit)
			if tc.ok != (err == nil) {
				t.Fatalf("grant %+v, err %v", g, err)
			}
			got := g.How
			if err != nil {
				got = err.Error()
			} else if !g.Unattended || g.By != "heal policy p.hcl" {
				t.Errorf("grant %+v", g)
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("%q does not say %q", got, tc.want)
			}
		})
	}
	none := heal.NewPolicyApprovals("p", []policy.Verdict{v(host, false, policy.HoldCooldown)})
	if _, err := none.ApprovePlan(context.Background(), req); err == nil {
		t.Error("a plan with nothing approved was admitted")
	}
}
