package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/facts/gather"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/lab/demo"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// The rules about action kinds, restated here on purpose (the code has them once, in plan):
//
//   - destructive: an ldap_delete, or a high risk (an unknown risk counts as high);
//   - needs an approval of its own: requires_approval_each, or an ldap_delete when the run holds
//     more than one distinct ldap_delete that is not blocked.
func wantDestructive(k plan.Kind, r plan.Risk) bool {
	return k == plan.KindLDAPDelete || r == plan.RiskHigh || !slices.Contains(plan.Risks, r)
}

func wantOwn(p *plan.Plan) map[string]bool {
	deletes := map[string]bool{}
	for _, f := range p.Findings {
		for _, a := range f.Actions {
			if a.Kind == plan.KindLDAPDelete && !a.Blocked {
				deletes[a.Key] = true
			}
		}
	}
	out := map[string]bool{}
	for _, f := range p.Findings {
		for _, a := range f.Actions {
			if a.RequiresApprovalEach || a.Kind == plan.KindLDAPDelete && len(deletes) > 1 {
				out[a.ID] = true
			}
		}
	}
	return out
}

// TestKindRulesAgreeInPolicy enumerates every kind and risk (and a risk this build does not
// know): the plan model, the heal policy's decision and its lint of a policy agree on what is
// destructive, which never runs unattended.
func TestKindRulesAgreeInPolicy(t *testing.T) {
	permissive := policy.Default()
	permissive.Allow = []policy.AllowRule{{Name: "all", MaxRisk: plan.RiskMedium, Actions: []string{"*"}}}
	for _, k := range plan.Kinds {
		for _, r := range append(slices.Clone(plan.Risks), "severe") {
			name := fmt.Sprintf("%s/%s", k, r)
			want := wantDestructive(k, r)
			a := plan.Action{ID: "D<-S/act", Key: "k", Name: "act", Kind: k, Risk: r, Target: "D"}
			if a.Destructive() != want || plan.Destructive(k, r) != want {
				t.Errorf("%s: plan says destructive %v, want %v", name, a.Destructive(), want)
			}
			v := policy.Decide(permissive, []policy.Candidate{policy.CandidateFromAction("D<-S", a)}, noHistory{}, time.Now())[0]
			if never := v.Hold == policy.HoldNever; never != want {
				t.Errorf("%s: the policy holds it as never unattended: %v, want %v (%s: %s)", name, never, want, v.Hold, v.Reason)
			}
			if !want && r.Rank() <= plan.RiskMedium.Rank() && !v.Approved {
				t.Errorf("%s: a permissive policy does not approve it: %s: %s", name, v.Hold, v.Reason)
			}
			allowIt := &policy.Policy{Allow: []policy.AllowRule{{Name: "it", MaxRisk: plan.RiskMedium, Actions: []string{"act"}}}}
			lintErr := false
			for _, d := range allowIt.Lint([]policy.ActionInfo{{Name: "act", Risk: r, Kind: k}}) {
				lintErr = lintErr || d.Severity == 1 // hcl.DiagError
			}
			if lintErr != want {
				t.Errorf("%s: the policy lint calls allowing it an error: %v, want %v", name, lintErr, want)
			}
		}
	}
}

type noHistory struct{}

func (noHistory) LastApplied(string, string) (time.Time, bool, error) { return time.Time{}, false, nil }
func (noHistory) DCsTouchedSince(time.Time) ([]string, error)         { return nil, nil }
func (noHistory) FailedVerificationsSince(time.Time) (int, error)     { return 0, nil }
func (noHistory) BreakerState() (open bool, changed time.Time, e error) {
	return false, time.Time{}, nil
}

// kindVariant is the shipped playbook with one action's risk and requires_approval_each
// changed, planned on the facts of a demo scenario whose failing partnerships propose that
// action.
type kindVariant struct {
	scenario, action string
	risk             plan.Risk
	each             bool
	blocked          bool // the plan blocks the action
}

func (v kindVariant) String() string {
	return fmt.Sprintf("%s/%s risk=%s each=%v", v.scenario, v.action, v.risk, v.each)
}

// TestKindRulesAgreeInApplyHealApprove plans each kind of action (PowerShell, argv, one and two
// LDAP deletes) at each risk the playbook may give it, with and without
// requires_approval_each, and checks that apply (which actions it asks an approval of their own
// for, which it refuses unattended), heal (which actions its policy may approve and run) and
// approve (which actions it says need an approval of their own) follow the rules above.
func TestKindRulesAgreeInApplyHealApprove(t *testing.T) {
	if testing.Short() {
		t.Skip("demo forests")
	}
	src, err := playbooks.FS.ReadFile("8524.hcl")
	if err != nil {
		t.Fatal(err)
	}
	var variants []kindVariant
	for _, sc := range []struct{ scenario, action string }{
		{"source-cname-missing", "register_cname"}, // powershell
		{"samba-result-2", "register_cname"},       // argv
	} {
		for _, r := range plan.Risks {
			for _, each := range []bool{false, true} {
				variants = append(variants, kindVariant{sc.scenario, sc.action, r, each, false})
			}
		}
	}
	// one LDAP delete, two, and two that the plan blocks (the DSA is past the tombstone
	// lifetime: its guards do not hold)
	for _, sc := range []string{"guid-mismatch", "stale-metadata", "source-gone-tombstone"} {
		for _, each := range []bool{false, true} {
			variants = append(variants, kindVariant{sc, "metadata_cleanup", plan.RiskHigh, each, sc == "source-gone-tombstone"})
		}
	}
	snapshots := map[string]*facts.Snapshot{}
	seen := map[plan.Kind]bool{}
	for _, v := range variants {
		t.Run(v.String(), func(t *testing.T) {
			pb := variantPlaybook(t, src, v)
			s := snapshots[v.scenario]
			if s == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				var err error
				if s, err = demo.GatherForPlan(ctx, v.scenario, pb); err != nil {
					t.Fatal(err)
				}
				snapshots[v.scenario] = s
			}
			p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			own := wantOwn(p)
			var ids, destructive []string // ids: of the actions apply asks about (not blocked)
			for _, f := range p.Findings {
				for _, a := range f.Actions {
					if !a.Blocked {
						ids = append(ids, a.ID)
					}
					if a.Name == v.action {
						seen[a.Kind] = true
						if a.Risk != v.risk || a.RequiresApprovalEach != v.each || a.Blocked != v.blocked {
							t.Fatalf("%s: risk %s, requires_approval_each %v, blocked %v: the variant did not take", a.ID, a.Risk, a.RequiresApprovalEach, a.Blocked)
						}
					}
					if wantDestructive(a.Kind, a.Risk) {
						destructive = append(destructive, a.ID)
					}
					if a.Destructive() != wantDestructive(a.Kind, a.Risk) {
						t.Errorf("%s: plan says destructive %v", a.ID, a.Destructive())
					}
				}
			}
			if got := p.OwnApprovals(); !equalSets(got, own) {
				t.Errorf("plan.OwnApprovals = %v, want %v", keys(got), keys(own))
			}

			// apply, approved by a person: it asks an approval of their own for exactly these.
			asked := applyAsks(t, pb, p, s, false)
			for _, id := range ids {
				if asked[id] != own[id] {
					t.Errorf("apply asks %s explicit=%v, want %v", id, asked[id], own[id])
				}
			}
			// apply, unattended: it never asks for a destructive action (it refuses it first).
			unattended := applyAsks(t, pb, p, s, true)
			for _, id := range destructive {
				if _, ok := unattended[id]; ok {
					t.Errorf("apply asked an unattended approval for the destructive %s", id)
				}
			}

			// heal under a policy that allows everything it may: it approves and runs exactly
			// what is neither destructive nor in need of its own approval nor above medium.
			ran, approved := healRuns(t, pb, s)
			for _, f := range p.Findings {
				for _, a := range f.Actions {
					if a.Name != v.action {
						continue
					}
					may := !wantDestructive(a.Kind, a.Risk) && !own[a.ID] && a.Risk.Rank() <= plan.RiskMedium.Rank()
					if ran[a.ID] != may || approved[a.ID].Approved != may {
						t.Errorf("heal approved %s: %v, ran it: %v, want %v", a.ID, approved[a.ID].Approved, ran[a.ID], may)
					}
					// what heal may not run it holds itself, before apply would refuse it
					if h := approved[a.ID].Hold; !may && h == heal.HoldApplyRefused {
						t.Errorf("heal tried %s, and apply refused it: %s", a.ID, approved[a.ID].Reason)
					}
				}
			}

			// approve names exactly these as needing an approval of their own.
			if got := approveSaysOwn(t, p); !equalSets(got, own) {
				t.Errorf("approve says %v need an approval of their own, want %v", keys(got), keys(own))
			}
		})
	}
	for _, k := range plan.Kinds {
		if !seen[k] {
			t.Errorf("no variant planned a %s action", k)
		}
	}
}

// variantPlaybook loads the shipped playbook with v's action changed.
func variantPlaybook(t *testing.T, src []byte, v kindVariant) *engine.Playbook {
	t.Helper()
	re := regexp.MustCompile(`(?s)(action "` + v.action + `" \{.*?\n  risk *= *)"\w+"(\n(?:  requires_approval_each = true\n)?)`)
	if !re.Match(src) {
		t.Fatalf("no action %q in the playbook", v.action)
	}
	each := "\n"
	if v.each {
		each = "\n  requires_approval_each = true\n"
	}
	out := re.ReplaceAll(src, []byte(`${1}"`+string(v.risk)+`"`+each))
	pb, _, diags := engine.Load([]engine.Source{{Name: "8524.hcl", Src: out}}, engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatalf("variant playbook: %s", diags.Error())
	}
	return pb
}

// fixedFacts answers every gather with a copy of one snapshot: fresh facts equal the plan's.
type fixedFacts struct{ s *facts.Snapshot }

func (f fixedFacts) Gather(context.Context, gather.Needs) (*facts.Snapshot, error) {
	c := *f.s
	return &c, nil
}
func (fixedFacts) Observe(context.Context, *facts.Snapshot, []facts.DNSQuery, []facts.TCPProbe) error {
	return nil
}

// doNothing is an executor whose every action fails without running: nothing changes.
type doNothing struct{ ran map[string]bool }

func (d *doNothing) Run(_ context.Context, a plan.Action) actions.Outcome {
	if d.ran != nil {
		d.ran[a.ID] = true
	}
	return actions.Outcome{Err: errors.New("not run: a test")}
}
func (*doNothing) Inspect(context.Context, plan.Action) (ldapdelete.ObjectState, error) {
	return ldapdelete.ObjectState{Exists: true}, nil
}
func (*doNothing) Leftovers(context.Context, plan.Action, ldapdelete.DNSQuerier, ldapdelete.LeftoversInput) []ldapdelete.Leftover {
	return nil
}

// askRecorder admits the plan and records, then refuses, every action apply asks about.
type askRecorder struct {
	unattended bool
	asked      map[string]bool
}

func (r *askRecorder) ApprovePlan(context.Context, apply.Request) (apply.Grant, error) {
	return apply.Grant{By: "test", Unattended: r.unattended}, nil
}
func (r *askRecorder) ApproveAction(_ context.Context, _ apply.Request, a plan.Action, explicit bool) (apply.Grant, error) {
	r.asked[a.ID] = explicit
	return apply.Grant{}, errors.New("refused by the test")
}

// applyAsks runs apply on p and returns, by action id, whether it asked an approval of its own.
func applyAsks(t *testing.T, pb *engine.Playbook, p *plan.Plan, s *facts.Snapshot, unattended bool) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	b, err := plan.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	j, err := journal.Create(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rec := &askRecorder{unattended: unattended, asked: map[string]bool{}}
	var out strings.Builder
	res, err := apply.Run(context.Background(), apply.Options{Plan: p, PlanBytes: b, PlanPath: filepath.Join(dir, "p.json"), Playbook: pb,
		Approvals: rec, Facts: fixedFacts{s}, Exec: &doNothing{}, Journal: j, WindowsWaived: "a test", Out: &out})
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, out.String())
	}
	for _, rf := range res.Refusals {
		if !strings.HasPrefix(rf.Gate, "approval:") && !strings.HasPrefix(rf.Gate, "blocked:") {
			t.Fatalf("apply refused at %s before the per-action approvals: %s\n%s", rf.Gate, rf.Reason, out.String())
		}
	}
	return rec.asked
}

// healRuns runs heal once under a policy that allows every action up to medium risk and returns
// the actions it ran and its final verdicts.
func healRuns(t *testing.T, pb *engine.Playbook, s *facts.Snapshot) (ran map[string]bool, verdicts map[string]policy.Verdict) {
	t.Helper()
	dir := t.TempDir()
	j, err := journal.Create(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	pol := policy.Default()
	pol.Allow = []policy.AllowRule{{Name: "all", MaxRisk: plan.RiskMedium, Actions: []string{"*"}}}
	pol.MaxActionsPerRun = policy.MaxActionsPerRunCap
	exec := &doNothing{ran: map[string]bool{}}
	var out strings.Builder
	r := heal.Run(context.Background(), heal.Options{Policy: pol, Playbook: pb, Facts: fixedFacts{s}, Exec: exec, Journal: j,
		PlanDir: filepath.Join(dir, "plans"), WindowsWaived: "a test", Out: &out,
		Sleep: func(context.Context, time.Duration) error { return nil }})
	if r.Err != nil {
		t.Fatalf("heal: %v\n%s", r.Err, out.String())
	}
	verdicts = map[string]policy.Verdict{}
	for _, v := range r.Verdicts {
		verdicts[v.Candidate.ID] = v
	}
	return exec.ran, verdicts
}

// approveSaysOwn runs `fix8524 approve` on p and returns the actions it says need an approval
// of their own.
func approveSaysOwn(t *testing.T, p *plan.Plan) map[string]bool {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "p.json")
	if err := plan.Write(path, p); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "state"), 0o700); err != nil {
		t.Fatal(err)
	}
	e, stdout, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"approve", path, "--by", "tester", "--state", filepath.Join(dir, "state")}); code != exitOK {
		t.Fatalf("approve: exit %d: %s", code, stderr)
	}
	out := map[string]bool{}
	for _, line := range strings.Split(stdout.String(), "\n") {
		if _, rest, ok := strings.Cut(line, "--allow-each "); ok {
			out[strings.Trim(rest, "'")] = true
		}
	}
	if _, err := os.Stat(path + ".approval.json"); err != nil {
		t.Fatal(err)
	}
	return out
}

func equalSets(a, b map[string]bool) bool {
	return slices.Equal(keys(a), keys(b))
}

func keys(m map[string]bool) []string {
	var out []string
	for k, v := range m {
		if v {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
