package policy

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/fix8524/fix8524/engine/window"
	"github.com/fix8524/fix8524/internal/notify"
	"github.com/fix8524/fix8524/plan"
)

// BuiltinSource is Policy.Source of the built-in default policy.
const BuiltinSource = "built-in default"

// DefaultNotice is what heal prints when it runs without --policy.
const DefaultNotice = "no --policy given: using the built-in default policy " +
	"(low-risk actions only, 1h cooldown per DC and action, at most 3 actions per run and 2 DCs per 24h, " +
	"circuit breaker after 3 failed verifications within 6h, no change-window restriction, no notifications)"

// Bounds of the numeric settings. A guardrail can be loosened, never switched off.
const (
	MinCooldown         = time.Minute
	MaxCooldown         = 30 * 24 * time.Hour
	MaxActionsPerRunCap = 100
	MaxDCsPer24hCap     = 1000
	MaxBreakerFailures  = 100
	MinBreakerWithin    = time.Minute
	MaxBreakerWithin    = 30 * 24 * time.Hour
)

// Policy says what heal may do without a human. Build it with Parse, Load, LoadOrDefault or
// Default; a hand-built Policy is checked by Validate, and Decide treats anything it does not
// allow as held (fail closed).
type Policy struct {
	// Source is the file the policy came from, or BuiltinSource.
	Source string
	// Builtin is true for the built-in default (heal says so).
	Builtin bool
	// Allow rules: an action may run unattended when at least one rule admits it (and no
	// hard rule, deny entry or guardrail holds it). No rule: nothing runs unattended.
	Allow []AllowRule
	// Deny lists action names that never run unattended under this policy ("*": none do).
	Deny []string
	// Cooldown is the minimum time between two applications of the same action on the same
	// DC; ActionCooldowns overrides it per action name.
	Cooldown        time.Duration
	ActionCooldowns map[string]time.Duration
	// MaxActionsPerRun caps the actions one heal run applies.
	MaxActionsPerRun int
	// MaxDCsPer24h caps the distinct DCs changed in any 24 hours: an absolute number, never a
	// percentage.
	MaxDCsPer24h int
	// Breaker opens after Failures failed verifications within Within.
	Breaker BreakerRule
	// Windows restrict when heal may change anything (none: any time).
	Windows []window.Window
	// Notify lists the escalation targets.
	Notify []notify.Target

	// ranges locate allow-listed action names in the source, for Lint.
	ranges map[string]hcl.Range
}

// AllowRule admits actions for unattended runs: those with a risk of at most MaxRisk and, when
// Actions is not empty, a name in Actions ("*" matches any name).
type AllowRule struct {
	Name    string
	MaxRisk plan.Risk // plan.RiskLow or plan.RiskMedium; never plan.RiskHigh
	Actions []string
}

// BreakerRule configures the circuit breaker.
type BreakerRule struct {
	Failures int
	Within   time.Duration
}

// Default returns the built-in policy: low-risk actions only, a 1h cooldown per DC and action,
// at most 3 actions per run and 2 distinct DCs per 24h, a breaker that opens after 3 failed
// verifications within 6h, no window restriction and no notification targets.
func Default() *Policy {
	return &Policy{
		Source:           BuiltinSource,
		Builtin:          true,
		Allow:            []AllowRule{{Name: "default", MaxRisk: plan.RiskLow}},
		Cooldown:         time.Hour,
		ActionCooldowns:  map[string]time.Duration{},
		MaxActionsPerRun: 3,
		MaxDCsPer24h:     2,
		Breaker:          BreakerRule{Failures: 3, Within: 6 * time.Hour},
	}
}

// Validate reports everything wrong with a policy built in code (Parse reports the same
// problems as located diagnostics).
func (p *Policy) Validate() error {
	if p == nil {
		return errors.New("policy: nil")
	}
	var errs []error
	seen := map[string]bool{}
	for _, r := range p.Allow {
		if seen[r.Name] {
			errs = append(errs, fmt.Errorf("allow %q: defined twice", r.Name))
		}
		seen[r.Name] = true
		switch {
		case r.MaxRisk == plan.RiskHigh:
			errs = append(errs, fmt.Errorf("allow %q: %s", r.Name, neverHighDetail))
		case r.MaxRisk != plan.RiskLow && r.MaxRisk != plan.RiskMedium:
			errs = append(errs, fmt.Errorf("allow %q: max_risk %q: want %q or %q", r.Name, r.MaxRisk, plan.RiskLow, plan.RiskMedium))
		}
	}
	if p.Cooldown < MinCooldown || p.Cooldown > MaxCooldown {
		errs = append(errs, fmt.Errorf("cooldown %s: want between %s and %s", p.Cooldown, MinCooldown, MaxCooldown))
	}
	for _, name := range sortedKeys(p.ActionCooldowns) {
		if d := p.ActionCooldowns[name]; d < MinCooldown || d > MaxCooldown {
			errs = append(errs, fmt.Errorf("action %q: cooldown %s: want between %s and %s", name, d, MinCooldown, MaxCooldown))
		}
	}
	if p.MaxActionsPerRun < 1 || p.MaxActionsPerRun > MaxActionsPerRunCap {
		errs = append(errs, fmt.Errorf("max_actions_per_run %d: want 1 to %d", p.MaxActionsPerRun, MaxActionsPerRunCap))
	}
	if p.MaxDCsPer24h < 1 || p.MaxDCsPer24h > MaxDCsPer24hCap {
		errs = append(errs, fmt.Errorf("max_dcs_per_24h %d: want 1 to %d", p.MaxDCsPer24h, MaxDCsPer24hCap))
	}
	if p.Breaker.Failures < 1 || p.Breaker.Failures > MaxBreakerFailures {
		errs = append(errs, fmt.Errorf("breaker failures %d: want 1 to %d", p.Breaker.Failures, MaxBreakerFailures))
	}
	if p.Breaker.Within < MinBreakerWithin || p.Breaker.Within > MaxBreakerWithin {
		errs = append(errs, fmt.Errorf("breaker within %s: want between %s and %s", p.Breaker.Within, MinBreakerWithin, MaxBreakerWithin))
	}
	names := map[string]bool{}
	for _, w := range p.Windows {
		if names[w.Name] {
			errs = append(errs, fmt.Errorf("window %q: defined twice", w.Name))
		}
		names[w.Name] = true
		if err := w.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	names = map[string]bool{}
	for _, t := range p.Notify {
		if names[t.Name] {
			errs = append(errs, fmt.Errorf("notify %q: defined twice", t.Name))
		}
		names[t.Name] = true
		if err := t.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

const neverHighDetail = "high-risk actions (metadata cleanup among them) can never run unattended; " +
	"this is hard-coded, not a policy option: approve them with `fix8524 approve`"

// CooldownFor returns the cooldown of an action.
func (p *Policy) CooldownFor(action string) time.Duration {
	if d, ok := p.ActionCooldowns[action]; ok {
		return d
	}
	return p.Cooldown
}

// denied reports whether the deny list names the action.
func (p *Policy) denied(action string) bool {
	return slices.Contains(p.Deny, "*") || slices.Contains(p.Deny, action)
}

// allowedBy returns the first allow rule that admits an action of this name and risk.
func (p *Policy) allowedBy(action string, risk plan.Risk) (AllowRule, bool) {
	for _, r := range p.Allow {
		if r.MaxRisk != plan.RiskLow && r.MaxRisk != plan.RiskMedium {
			continue // never admit through a malformed or high rule
		}
		if risk.Rank() > r.MaxRisk.Rank() {
			continue
		}
		if len(r.Actions) > 0 && !slices.Contains(r.Actions, "*") && !slices.Contains(r.Actions, action) {
			continue
		}
		return r, true
	}
	return AllowRule{}, false
}

// Describe renders the policy for people, one setting a line.
func (p *Policy) Describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy: %s\n", p.Source)
	if len(p.Allow) == 0 {
		b.WriteString("  unattended: nothing (no allow rule)\n")
	}
	for _, r := range p.Allow {
		what := "any action"
		if len(r.Actions) > 0 {
			what = strings.Join(r.Actions, ", ")
		}
		fmt.Fprintf(&b, "  allow %q: %s up to %s risk\n", r.Name, what, r.MaxRisk)
	}
	b.WriteString("  never unattended: high-risk actions and LDAP deletes (metadata cleanup), hard-coded\n")
	if len(p.Deny) > 0 {
		fmt.Fprintf(&b, "  deny: %s\n", strings.Join(p.Deny, ", "))
	}
	fmt.Fprintf(&b, "  cooldown per DC and action: %s\n", p.Cooldown)
	for _, a := range sortedKeys(p.ActionCooldowns) {
		fmt.Fprintf(&b, "  cooldown of %s: %s\n", a, p.ActionCooldowns[a])
	}
	fmt.Fprintf(&b, "  at most %d actions per run, %d distinct DCs per 24h\n", p.MaxActionsPerRun, p.MaxDCsPer24h)
	fmt.Fprintf(&b, "  circuit breaker: opens after %d failed verifications within %s; closes only with fix8524 heal --reset-breaker --reason TEXT\n",
		p.Breaker.Failures, p.Breaker.Within)
	if len(p.Windows) == 0 {
		b.WriteString("  change windows: none (any time)\n")
	}
	for _, w := range p.Windows {
		fmt.Fprintf(&b, "  change window %s\n", w.String())
	}
	for _, t := range p.Notify {
		fmt.Fprintf(&b, "  notify %s\n", t.String())
	}
	return b.String()
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
