package plan

// The words a plan is written in. Each is a string type, so that the JSON of a plan is its
// text; a value this build does not know (from a plan file, which is untrusted) is kept as it is
// and handled by the methods below as the most careful reading allows.

// Status is the three-valued result of a check, of one observation of it, or of a guard.
type Status string

const (
	StatusOK      Status = "ok"      // the condition holds
	StatusFailed  Status = "failed"  // it does not hold
	StatusUnknown Status = "unknown" // a fact or an observation it needs is missing
)

// OKMeans is what a check holding means (the check block's ok_means).
type OKMeans string

const (
	OKMeansHealthy OKMeans = "healthy" // the check looks for something working: failing is the problem
	OKMeansProblem OKMeans = "problem" // the check looks for a problem: holding is finding it
)

// Reading is what a piece of evidence says, as the article reads it: a check that looks for a
// problem and does not find it is no problem, not a failure.
type Reading string

const (
	ReadingProblem   Reading = "problem_found"
	ReadingNoProblem Reading = "no_problem"
	ReadingUnknown   Reading = "unknown"
)

// ReadingOf is what a check's status means given its ok_means.
func ReadingOf(status Status, okMeans OKMeans) Reading {
	switch {
	case status == StatusOK && okMeans == OKMeansProblem, status == StatusFailed && okMeans != OKMeansProblem:
		return ReadingProblem
	case status == StatusOK, status == StatusFailed:
		return ReadingNoProblem
	}
	return ReadingUnknown
}

// FindingStatus says how far the diagnosis of a finding got.
type FindingStatus string

const (
	FindingDiagnosed  FindingStatus = "diagnosed"  // a decision holds: cause, actions and manual steps are known
	FindingIncomplete FindingStatus = "incomplete" // the walk stopped on an unknown: Needs says what to gather
	// FindingUndiagnosed: every decision's when was false (a playbook without a catch-all).
	FindingUndiagnosed FindingStatus = "undiagnosed"
)

// WalkResult is the outcome of one decision considered while walking the table.
type WalkResult string

const (
	WalkHolds   WalkResult = "holds"   // the decision's when is true: it wins
	WalkFalse   WalkResult = "false"   // when is false: the walk goes on
	WalkUnknown WalkResult = "unknown" // when is unknown: the walk stops (diagnosis incomplete)
	WalkSkipped WalkResult = "skipped" // when is unknown only because of facts the decision marks optional
)

// NeedKind is what a Need asks to gather.
type NeedKind string

const (
	NeedFact NeedKind = "fact"
	NeedDNS  NeedKind = "dns"
	NeedTCP  NeedKind = "tcp"
)

// Platform is the operating system of the DC an action runs on, as the plan names it.
type Platform string

const (
	PlatformWindows Platform = "windows"
	PlatformSamba   Platform = "samba"
	PlatformAny     Platform = "any"     // the action needs no shell on the DC (an LDAP operation)
	PlatformUnknown Platform = "unknown" // the facts do not say: the action is blocked
)

// Risk is how much an action may disturb, as the playbook rates it.
type Risk string

const (
	RiskLow    Risk = "low"
	RiskMedium Risk = "medium"
	RiskHigh   Risk = "high"
)

// Risks lists the risks this build knows, from the least to the most.
var Risks = []Risk{RiskLow, RiskMedium, RiskHigh}

// Known reports whether r is one of Risks.
func (r Risk) Known() bool { return r == RiskLow || r == RiskMedium || r == RiskHigh }

// Rank orders risks: 1 low, 2 medium, 3 high. A risk this build does not know ranks as high.
func (r Risk) Rank() int {
	switch r {
	case RiskLow:
		return 1
	case RiskMedium:
		return 2
	}
	return 3
}

// Kind is what an action does, and so the transport that carries it. The playbook chooses the
// commands; Go knows the kinds.
type Kind string

const (
	KindPowerShell Kind = "powershell"  // a PowerShell script, on Windows over WinRM
	KindArgv       Kind = "argv"        // an argument vector, on Samba (or any POSIX host) over SSH
	KindLDAPDelete Kind = "ldap_delete" // an LDAP (tree) delete: metadata cleanup
)

// Kinds lists the kinds this build runs.
var Kinds = []Kind{KindPowerShell, KindArgv, KindLDAPDelete}

// Destructive reports whether an action of this kind removes something that cannot simply be
// put back, whatever its risk: an LDAP delete.
func (k Kind) Destructive() bool { return k == KindLDAPDelete }

// OwnApprovalWhenSeveral reports whether an action of this kind needs an approval of its own
// when a run would do more than one action of the kind: an LDAP delete (one person's decision
// per object deleted).
func (k Kind) OwnApprovalWhenSeveral() bool { return k == KindLDAPDelete }

// Destructive reports whether an action of kind k and risk r removes something that cannot
// simply be put back: a destructive kind, or a high risk (a risk this build does not know
// counts as high). Such an action never runs unattended; apply evaluates its guards on fresh
// facts right before it, and never runs it a second time without re-checking its effect.
func Destructive(k Kind, r Risk) bool { return k.Destructive() || r.Rank() >= RiskHigh.Rank() }

// Destructive is Destructive(a.Kind, a.Risk).
func (a Action) Destructive() bool { return Destructive(a.Kind, a.Risk) }

// OwnApprovals returns the ids of the actions of findings that need an approval of their own,
// besides the plan's, in one run that applies those findings:
//
//   - every action the playbook marks requires_approval_each;
//   - every action of a kind that needs one when there are several (Kind.OwnApprovalWhenSeveral)
//     when the findings hold more than one such action that is not blocked; actions with the
//     same Key have the same effect and count once.
//
// Apply asks for these approvals (and heal never gives them), approve and show name them.
func OwnApprovals(findings []*Finding) map[string]bool {
	several := map[Kind]map[string]bool{}
	for _, f := range findings {
		for _, a := range f.Actions {
			if !a.Kind.OwnApprovalWhenSeveral() || a.Blocked {
				continue
			}
			k := a.Key
			if k == "" {
				k = a.ID
			}
			if several[a.Kind] == nil {
				several[a.Kind] = map[string]bool{}
			}
			several[a.Kind][k] = true
		}
	}
	out := map[string]bool{}
	for _, f := range findings {
		for _, a := range f.Actions {
			if a.RequiresApprovalEach || a.Kind.OwnApprovalWhenSeveral() && len(several[a.Kind]) > 1 {
				out[a.ID] = true
			}
		}
	}
	return out
}

// OwnApprovals is OwnApprovals of every finding of p.
func (p *Plan) OwnApprovals() map[string]bool {
	fs := make([]*Finding, len(p.Findings))
	for i := range p.Findings {
		fs[i] = &p.Findings[i]
	}
	return OwnApprovals(fs)
}
