package policy

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/engine/window"
	"github.com/fix8524/fix8524/internal/notify"
	"github.com/fix8524/fix8524/plan"
)

var now = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC) // a Friday

// fakeHistory is an in-memory journal.
type fakeHistory struct {
	applied  []applied   // every application
	failures []time.Time // failed verifications
	open     bool
	changed  time.Time
	err      map[string]error // method name -> error
}

type applied struct {
	dc, action string
	at         time.Time
}

func (h *fakeHistory) LastApplied(dc, action string) (time.Time, bool, error) {
	if err := h.err["LastApplied"]; err != nil {
		return time.Time{}, false, err
	}
	var last time.Time
	ok := false
	for _, a := range h.applied {
		if strings.EqualFold(a.dc, dc) && a.action == action && (!ok || a.at.After(last)) {
			last, ok = a.at, true
		}
	}
	return last, ok, nil
}

func (h *fakeHistory) DCsTouchedSince(since time.Time) ([]string, error) {
	if err := h.err["DCsTouchedSince"]; err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range h.applied {
		if !a.at.Before(since) && !seen[strings.ToLower(a.dc)] {
			seen[strings.ToLower(a.dc)] = true
			out = append(out, a.dc)
		}
	}
	return out, nil
}

func (h *fakeHistory) FailedVerificationsSince(since time.Time) (int, error) {
	if err := h.err["FailedVerificationsSince"]; err != nil {
		return 0, err
	}
	n := 0
	for _, f := range h.failures {
		if !f.Before(since) {
			n++
		}
	}
	return n, nil
}

func (h *fakeHistory) BreakerState() (bool, time.Time, error) {
	if err := h.err["BreakerState"]; err != nil {
		return false, time.Time{}, err
	}
	return h.open, h.changed, nil
}

func cand(action string, risk plan.Risk, dc string) Candidate {
	return Candidate{ID: "DC1<-DC2/" + action + "@" + dc, Key: action + "@" + dc, Finding: "DC1<-DC2",
		Action: action, Risk: risk, Kind: "powershell", Target: dc}
}

func mustWindow(t *testing.T, name, cron, dur, tz string) window.Window {
	t.Helper()
	w, err := window.Parse(name, cron, dur, tz)
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestDecideGuardrails is the table of every guardrail: each case holds (or approves) the
// last candidate with a precise code and reason.
func TestDecideGuardrails(t *testing.T) {
	permissive := func() *Policy {
		p := Default()
		p.Allow = []AllowRule{{Name: "all", MaxRisk: plan.RiskMedium, Actions: []string{"*"}}}
		return p
	}
	cases := []struct {
		name    string
		policy  *Policy
		history *fakeHistory
		cands   []Candidate
		// expectations on the last verdict
		approved   bool
		hold       string
		class      Class
		reason     []string
		until      time.Time
		allHolds   []string // optional: every verdict's hold, in order
		exitCode   int
		summaryStr string
	}{
		{
			name: "low risk approved", policy: Default(), history: &fakeHistory{},
			cands:    []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			approved: true, class: ClassApproved, reason: []string{`allow rule "default"`}, exitCode: ExitOK,
		},
		{
			name: "high risk never, even under a permissive policy", policy: permissive(), history: &fakeHistory{},
			cands: []Candidate{cand("whatever", plan.RiskHigh, "DC2")},
			hold:  HoldNever, class: ClassHuman, reason: []string{"high-risk actions never run unattended"}, exitCode: ExitHuman,
		},
		{
			name: "LDAP delete never, even marked low risk", policy: permissive(), history: &fakeHistory{},
			cands: []Candidate{{ID: "x", Action: "remove_ntds_settings", Risk: plan.RiskLow, Kind: plan.KindLDAPDelete, Target: "DC1"}},
			hold:  HoldNever, class: ClassHuman, reason: []string{"LDAP delete (metadata cleanup) never runs unattended"}, exitCode: ExitHuman,
		},
		{
			name: "metadata_cleanup by name never", policy: permissive(), history: &fakeHistory{},
			cands: []Candidate{cand("metadata_cleanup", plan.RiskLow, "DC1")},
			hold:  HoldNever, class: ClassHuman, reason: []string{"metadata-cleanup action"}, exitCode: ExitHuman,
		},
		{
			name: "destructive command never", policy: permissive(), history: &fakeHistory{},
			cands: []Candidate{{ID: "x", Action: "tidy", Risk: plan.RiskLow, Kind: "argv", Target: "DC1",
				Command: "samba-tool domain demote --remove-other-dead-server=DC9"}},
			hold: HoldNever, class: ClassHuman, reason: []string{"deletes directory or DNS data"}, exitCode: ExitHuman,
		},
		{
			name: "unknown risk is high", policy: permissive(), history: &fakeHistory{},
			cands: []Candidate{cand("x", "trivial", "DC1")},
			hold:  HoldNever, class: ClassHuman, reason: []string{`unknown risk "trivial" is treated as high`}, exitCode: ExitHuman,
		},
		{
			name: "blocked by the plan", policy: Default(), history: &fakeHistory{},
			cands: []Candidate{{ID: "x", Action: "restart_netlogon", Risk: plan.RiskLow, Kind: "powershell", Target: "DC2",
				Blocked: true, BlockedReasons: []string{"platform unknown"}}},
			hold: HoldBlocked, class: ClassHuman, reason: []string{"the plan blocks it: platform unknown"}, exitCode: ExitHuman,
		},
		{
			name: "no target", policy: Default(), history: &fakeHistory{},
			cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "")},
			hold:  HoldBlocked, class: ClassHuman, reason: []string{"no target DC"}, exitCode: ExitHuman,
		},
		{
			name: "denied by name", policy: func() *Policy { p := Default(); p.Deny = []string{"restart_netlogon"}; return p }(),
			history: &fakeHistory{}, cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold: HoldDenied, class: ClassHuman, reason: []string{`deny list names "restart_netlogon"`}, exitCode: ExitHuman,
		},
		{
			name: "deny everything", policy: func() *Policy { p := Default(); p.Deny = []string{"*"}; return p }(),
			history: &fakeHistory{}, cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold: HoldDenied, class: ClassHuman, exitCode: ExitHuman,
		},
		{
			name: "medium risk not allowed by default", policy: Default(), history: &fakeHistory{},
			cands: []Candidate{cand("retry_replication", plan.RiskMedium, "DC1")},
			hold:  HoldNotAllowed, class: ClassHuman, reason: []string{"medium risk is above every allow rule's max_risk"}, exitCode: ExitHuman,
		},
		{
			name: "name not in the allow list",
			policy: func() *Policy {
				p := Default()
				p.Allow = []AllowRule{{Name: "only", MaxRisk: plan.RiskMedium, Actions: []string{"register_dns"}}}
				return p
			}(),
			history: &fakeHistory{}, cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold: HoldNotAllowed, class: ClassHuman, reason: []string{`no allow rule names "restart_netlogon"`}, exitCode: ExitHuman,
		},
		{
			name: "no allow rule at all", policy: func() *Policy { p := Default(); p.Allow = nil; return p }(),
			history: &fakeHistory{}, cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold: HoldNotAllowed, class: ClassHuman, reason: []string{"allows no unattended action"}, exitCode: ExitHuman,
		},
		{
			name: "medium allowed by name", policy: func() *Policy {
				p := Default()
				p.Allow = append(p.Allow, AllowRule{Name: "retries", MaxRisk: plan.RiskMedium, Actions: []string{"retry_replication"}})
				return p
			}(),
			history: &fakeHistory{}, cands: []Candidate{cand("retry_replication", plan.RiskMedium, "DC1")},
			approved: true, class: ClassApproved, reason: []string{`allow rule "retries"`}, exitCode: ExitOK,
		},
		{
			name: "breaker recorded open", policy: Default(),
			history: &fakeHistory{open: true, changed: now.Add(-48 * time.Hour)},
			cands:   []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold:    HoldBreaker, class: ClassGuardrail,
			reason:   []string{"circuit breaker open since 2026-11-18T09:30:00Z", "--reset-breaker --reason"},
			exitCode: ExitRefused,
		},
		{
			name: "breaker trips on failed verifications", policy: Default(),
			history: &fakeHistory{failures: []time.Time{now.Add(-5 * time.Hour), now.Add(-2 * time.Hour), now.Add(-time.Minute)}},
			cands:   []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold:    HoldBreaker, class: ClassGuardrail, reason: []string{"3 failed verifications within 6h0m0s"}, exitCode: ExitRefused,
		},
		{
			name: "old failures do not trip the breaker", policy: Default(),
			history:  &fakeHistory{failures: []time.Time{now.Add(-7 * time.Hour), now.Add(-2 * time.Hour), now.Add(-time.Minute)}},
			cands:    []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			approved: true, class: ClassApproved, exitCode: ExitOK,
		},
		{
			name: "failures before a reset do not count", policy: Default(),
			history: &fakeHistory{changed: now.Add(-30 * time.Minute),
				failures: []time.Time{now.Add(-3 * time.Hour), now.Add(-2 * time.Hour), now.Add(-time.Hour)}},
			cands:    []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			approved: true, class: ClassApproved, exitCode: ExitOK,
		},
		{
			name: "outside every window",
			policy: func() *Policy {
				p := Default()
				p.Windows = []window.Window{mustWindow(t, "weekend", "0 22 * * SAT", "6h", "UTC")}
				return p
			}(),
			history: &fakeHistory{}, cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold: HoldWindow, class: ClassGuardrail, reason: []string{"outside every change window", "weekend"},
			until: time.Date(2026, 11, 21, 22, 0, 0, 0, time.UTC), exitCode: ExitRefused,
		},
		{
			name: "inside a window",
			policy: func() *Policy {
				p := Default()
				p.Windows = []window.Window{
					mustWindow(t, "weekend", "0 22 * * SAT", "6h", "UTC"),
					mustWindow(t, "mornings", "0 9 * * MON-FRI", "2h", "UTC"),
				}
				return p
			}(),
			history: &fakeHistory{}, cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			approved: true, class: ClassApproved, exitCode: ExitOK,
		},
		{
			name: "cooldown holds until T", policy: Default(),
			history: &fakeHistory{applied: []applied{{"dc2", "restart_netlogon", now.Add(-20 * time.Minute)}}},
			cands:   []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold:    HoldCooldown, class: ClassGuardrail,
			reason:   []string{"cooldown: restart_netlogon ran on DC2 at 2026-11-20T09:10:00Z", "lasts until 2026-11-20T10:10:00Z"},
			until:    now.Add(40 * time.Minute),
			exitCode: ExitRefused,
		},
		{
			name: "cooldown over", policy: Default(),
			history:  &fakeHistory{applied: []applied{{"DC2", "restart_netlogon", now.Add(-61 * time.Minute)}}},
			cands:    []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			approved: true, class: ClassApproved, exitCode: ExitOK,
		},
		{
			name: "cooldown is per DC", policy: Default(),
			history:  &fakeHistory{applied: []applied{{"DC3", "restart_netlogon", now.Add(-time.Minute)}}},
			cands:    []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			approved: true, class: ClassApproved, exitCode: ExitOK,
		},
		{
			name: "cooldown is per action", policy: Default(),
			history:  &fakeHistory{applied: []applied{{"DC2", "register_dns", now.Add(-time.Minute)}}},
			cands:    []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			approved: true, class: ClassApproved, exitCode: ExitOK,
		},
		{
			name: "per-action cooldown override",
			policy: func() *Policy {
				p := Default()
				p.ActionCooldowns = map[string]time.Duration{"restart_netlogon": 4 * time.Hour}
				return p
			}(),
			history: &fakeHistory{applied: []applied{{"DC2", "restart_netlogon", now.Add(-2 * time.Hour)}}},
			cands:   []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold:    HoldCooldown, class: ClassGuardrail, reason: []string{"the 4h0m0s cooldown"}, until: now.Add(2 * time.Hour), exitCode: ExitRefused,
		},
		{
			name: "24h DC cap reached by history", policy: Default(),
			history: &fakeHistory{applied: []applied{
				{"DC7", "register_dns", now.Add(-23 * time.Hour)},
				{"DC8", "register_dns", now.Add(-2 * time.Hour)},
			}},
			cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold:  HoldDCCap, class: ClassGuardrail, reason: []string{"cap of 2 distinct DCs changed per 24h is reached (DC7, DC8); DC2 is not one of them"},
			exitCode: ExitRefused,
		},
		{
			name: "24h DC cap: an already touched DC is fine", policy: Default(),
			history: &fakeHistory{applied: []applied{
				{"DC7", "register_dns", now.Add(-23 * time.Hour)},
				{"DC2", "register_dns", now.Add(-2 * time.Hour)},
			}},
			cands:    []Candidate{cand("restart_netlogon", plan.RiskLow, "dc2")},
			approved: true, class: ClassApproved, exitCode: ExitOK,
		},
		{
			name: "24h DC cap: older than 24h does not count", policy: Default(),
			history: &fakeHistory{applied: []applied{
				{"DC7", "register_dns", now.Add(-25 * time.Hour)},
				{"DC8", "register_dns", now.Add(-2 * time.Hour)},
			}},
			cands:    []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			approved: true, class: ClassApproved, exitCode: ExitOK,
		},
		{
			name: "24h DC cap reached within the run", policy: Default(), history: &fakeHistory{},
			cands: []Candidate{
				cand("restart_netlogon", plan.RiskLow, "DC1"),
				cand("restart_netlogon", plan.RiskLow, "DC2"),
				cand("register_dns", plan.RiskLow, "DC1"),
				cand("restart_netlogon", plan.RiskLow, "DC3"),
			},
			allHolds: []string{"", "", "", HoldDCCap},
			hold:     HoldDCCap, class: ClassGuardrail, reason: []string{"(DC1, DC2); DC3 is not one of them"}, exitCode: ExitRefused,
		},
		{
			name: "per-run maximum", policy: func() *Policy { p := Default(); p.MaxDCsPer24h = 10; return p }(), history: &fakeHistory{},
			cands: []Candidate{
				cand("restart_netlogon", plan.RiskLow, "DC1"),
				cand("restart_netlogon", plan.RiskLow, "DC2"),
				cand("restart_netlogon", plan.RiskLow, "DC3"),
				cand("restart_netlogon", plan.RiskLow, "DC4"),
			},
			allHolds: []string{"", "", "", HoldRunMax},
			hold:     HoldRunMax, class: ClassGuardrail, reason: []string{"maximum of 3 actions per run is reached"}, exitCode: ExitRefused,
		},
		{
			name: "same key runs once and counts once", policy: func() *Policy { p := Default(); p.MaxActionsPerRun = 1; return p }(),
			history: &fakeHistory{},
			cands: []Candidate{
				{ID: "DC1<-DC2/register", Key: "k1", Action: "register_dns", Risk: plan.RiskLow, Target: "DC2"},
				{ID: "DC3<-DC2/register", Key: "k1", Action: "register_dns", Risk: plan.RiskLow, Target: "DC2"},
			},
			allHolds: []string{"", ""},
			approved: true, class: ClassApproved, reason: []string{"same effect as DC1<-DC2/register"}, exitCode: ExitOK,
		},
		{
			name: "human beats guardrail in the exit code", policy: Default(),
			history: &fakeHistory{applied: []applied{{"DC2", "restart_netlogon", now.Add(-time.Minute)}}},
			cands: []Candidate{
				cand("restart_netlogon", plan.RiskLow, "DC2"),
				cand("metadata_cleanup", plan.RiskHigh, "DC1"),
			},
			allHolds: []string{HoldCooldown, HoldNever},
			hold:     HoldNever, class: ClassHuman, exitCode: ExitHuman,
		},
		{
			name: "journal error fails closed", policy: Default(),
			history: &fakeHistory{err: map[string]error{"LastApplied": errors.New("database is locked")}},
			cands:   []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold:    HoldHistoryFailed, class: ClassError, reason: []string{"database is locked"}, exitCode: ExitError,
		},
		{
			name: "breaker state error fails closed", policy: Default(),
			history: &fakeHistory{err: map[string]error{"BreakerState": errors.New("no such table")}},
			cands:   []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold:    HoldHistoryFailed, class: ClassError, reason: []string{"breaker state", "no such table"}, exitCode: ExitError,
		},
		{
			name: "DC list error fails closed", policy: Default(),
			history: &fakeHistory{err: map[string]error{"DCsTouchedSince": errors.New("disk I/O error")}},
			cands:   []Candidate{cand("restart_netlogon", plan.RiskLow, "DC2")},
			hold:    HoldHistoryFailed, class: ClassError, reason: []string{"disk I/O error"}, exitCode: ExitError,
		},
		{
			name: "journal errors do not hide hard refusals", policy: Default(),
			history: &fakeHistory{err: map[string]error{"BreakerState": errors.New("x"), "LastApplied": errors.New("x"), "DCsTouchedSince": errors.New("x")}},
			cands:   []Candidate{cand("metadata_cleanup", plan.RiskHigh, "DC2")},
			hold:    HoldNever, class: ClassHuman, exitCode: ExitHuman,
		},
		{
			name: "nil policy is the default", policy: nil, history: &fakeHistory{},
			cands: []Candidate{cand("retry_replication", plan.RiskMedium, "DC1")},
			hold:  HoldNotAllowed, class: ClassHuman, exitCode: ExitHuman,
		},
		{
			name: "zero policy fails closed", policy: &Policy{}, history: &fakeHistory{},
			cands: []Candidate{cand("restart_netlogon", plan.RiskLow, "DC1")},
			hold:  HoldNotAllowed, class: ClassHuman, exitCode: ExitHuman,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			vs := Decide(c.policy, c.cands, c.history, now)
			if len(vs) != len(c.cands) {
				t.Fatalf("%d verdicts for %d candidates", len(vs), len(c.cands))
			}
			for i, v := range vs {
				if v.Candidate.ID != c.cands[i].ID {
					t.Errorf("verdict %d is for %q, want %q", i, v.Candidate.ID, c.cands[i].ID)
				}
				if v.Approved != (v.Hold == "") || v.Class != ClassOf(v.Hold) || v.Reason == "" {
					t.Errorf("verdict %d inconsistent: %+v", i, v)
				}
				if c.allHolds != nil && v.Hold != c.allHolds[i] {
					t.Errorf("verdict %d: hold %q, want %q (%s)", i, v.Hold, c.allHolds[i], v.Reason)
				}
			}
			v := vs[len(vs)-1]
			if v.Approved != c.approved || v.Hold != c.hold || v.Class != c.class {
				t.Errorf("verdict approved=%v hold=%q class=%q (%s); want approved=%v hold=%q class=%q",
					v.Approved, v.Hold, v.Class, v.Reason, c.approved, c.hold, c.class)
			}
			for _, w := range c.reason {
				if !strings.Contains(v.Reason, w) {
					t.Errorf("reason %q lacks %q", v.Reason, w)
				}
			}
			if !v.Until.Equal(c.until) {
				t.Errorf("until %s, want %s", v.Until, c.until)
			}
			if got := Summarize(vs).ExitCode(); got != c.exitCode {
				t.Errorf("exit code %d, want %d (%s)", got, c.exitCode, Summarize(vs))
			}
		})
	}
}

// TestBreakerOpensAndStaysOpen walks the breaker's life: closed while failures stay below the
// threshold, open once they reach it, still open long after the failures age out of the
// window, closed only by a reset, after which the old failures no longer count.
func TestBreakerOpensAndStaysOpen(t *testing.T) {
	p := Default() // 3 failures within 6h
	h := &fakeHistory{}
	c := []Candidate{cand("register_dns", plan.RiskLow, "DC2")}
	at := now

	run := func() (BreakerStatus, Verdict) {
		st, err := EvaluateBreaker(p, h, at)
		if err != nil {
			t.Fatal(err)
		}
		if st.Tripped { // what heal does: record the opening in the journal
			h.open, h.changed = true, st.Since
		}
		return st, Decide(p, c, h, at)[0]
	}

	for i := 1; i <= 2; i++ {
		h.failures = append(h.failures, at)
		at = at.Add(30 * time.Minute)
		if st, v := run(); st.Open || !v.Approved {
			t.Fatalf("after %d failures: breaker %+v, verdict %+v", i, st, v)
		}
	}
	h.failures = append(h.failures, at)
	at = at.Add(time.Minute)
	st, v := run()
	if !st.Open || !st.Tripped || st.Failures != 3 || v.Hold != HoldBreaker {
		t.Fatalf("after 3 failures: breaker %+v, verdict %+v", st, v)
	}
	s := Summarize([]Verdict{v})
	s.BreakerTripped = st.Tripped
	if s.Event() != notify.EventBreakerOpen || s.ExitCode() != ExitRefused || !s.BreakerOpen {
		t.Errorf("tripping run: event %q exit %d", s.Event(), s.ExitCode())
	}

	// A week later, with no new failure, it is still open, and no longer "tripping".
	at = at.Add(7 * 24 * time.Hour)
	st, v = run()
	if !st.Open || st.Tripped || v.Hold != HoldBreaker || !strings.Contains(v.Reason, "--reset-breaker") {
		t.Fatalf("a week later: breaker %+v, verdict %+v", st, v)
	}
	if s := Summarize([]Verdict{v}); s.Event() != notify.EventRefused {
		t.Errorf("later runs escalate as %q", s.Event())
	}

	// Reset (as heal --reset-breaker records it). The same failures, now inside a fresh 6h
	// window for a short-lived case, must not re-open it.
	h.open, h.changed = false, at
	h.failures = append(h.failures, at.Add(-time.Hour), at.Add(-time.Hour), at.Add(-time.Hour))
	at = at.Add(time.Minute)
	if st, v := run(); st.Open || !v.Approved {
		t.Fatalf("after a reset: breaker %+v, verdict %+v", st, v)
	}
	// New failures after the reset open it again.
	h.failures = append(h.failures, at, at, at)
	if st, _ := run(); !st.Open || !st.Tripped {
		t.Fatalf("failures after the reset: %+v", st)
	}
}

func TestSummaryExitCodesAndEvents(t *testing.T) {
	cases := []struct {
		name  string
		s     Summary
		code  int
		event string
	}{
		{"nothing", Summary{}, ExitOK, ""},
		{"healed", Summary{Approved: 2, Succeeded: 2}, ExitOK, ""},
		{"verification failed", Summary{Approved: 1, Failed: 1}, ExitHuman, notify.EventVerificationFailed},
		{"pending", Summary{Approved: 1, Pending: 1}, ExitHuman, notify.EventHeld},
		{"manual steps", Summary{HumanFindings: 1}, ExitHuman, notify.EventHeld},
		{"held", Summary{HeldForHuman: 1}, ExitHuman, notify.EventHeld},
		{"refused", Summary{Refused: 1}, ExitRefused, notify.EventRefused},
		{"breaker open, nothing to do", Summary{BreakerOpen: true}, ExitRefused, notify.EventRefused},
		{"breaker tripped", Summary{BreakerOpen: true, BreakerTripped: true, Failed: 1}, ExitHuman, notify.EventBreakerOpen},
		{"refused and held", Summary{Refused: 1, HeldForHuman: 1}, ExitHuman, notify.EventHeld},
		{"apply error", Summary{Approved: 1, ApplyErrors: 1, HeldForHuman: 1}, ExitError, notify.EventError},
		{"journal error", Summary{Undecided: 1}, ExitError, notify.EventError},
	}
	for _, c := range cases {
		if got := c.s.ExitCode(); got != c.code {
			t.Errorf("%s: exit %d, want %d", c.name, got, c.code)
		}
		if got := c.s.Event(); got != c.event {
			t.Errorf("%s: event %q, want %q", c.name, got, c.event)
		}
	}
	var s Summary
	for _, o := range []string{OutcomeSucceeded, OutcomeFailed, OutcomePending, OutcomeError, "weird"} {
		s.AddOutcome(o)
	}
	if s.Succeeded != 1 || s.Failed != 1 || s.Pending != 1 || s.ApplyErrors != 2 {
		t.Errorf("AddOutcome: %+v", s)
	}
	if got := s.String(); !strings.Contains(got, "1 healed") || !strings.Contains(got, "2 could not be applied") {
		t.Errorf("String() = %q", got)
	}
	if (Summary{}).String() != "nothing to do" {
		t.Error("empty summary string")
	}
}

func TestEscalationItems(t *testing.T) {
	h := &fakeHistory{applied: []applied{{"DC2", "restart_netlogon", now.Add(-time.Minute)}}}
	vs := Decide(Default(), []Candidate{
		cand("restart_netlogon", plan.RiskLow, "DC2"),
		cand("metadata_cleanup", plan.RiskHigh, "DC1"),
		cand("register_dns", plan.RiskLow, "DC3"),
	}, h, now)
	items := HeldItems(vs)
	if len(items) != 2 {
		t.Fatalf("items %+v", items)
	}
	if items[0].Status != notify.ItemRefused || items[0].Code != HoldCooldown || items[0].Target != "DC2" ||
		items[1].Status != notify.ItemHeld || items[1].Code != HoldNever || items[1].Risk != string(plan.RiskHigh) || items[1].Finding != "DC1<-DC2" {
		t.Errorf("items %+v", items)
	}
	f := OutcomeItem(vs[2].Candidate, OutcomeFailed, "CNAME still missing after 5m0s")
	if f.Status != notify.ItemFailed || f.Code != "verification_failed" || f.Reason == "" {
		t.Errorf("outcome item %+v", f)
	}
	k1 := EscalationKey(notify.EventHeld, items)
	k2 := EscalationKey(notify.EventHeld, []notify.Item{items[1], items[0]})
	k3 := EscalationKey(notify.EventHeld, items[:1])
	if k1 != k2 || k1 == k3 || !strings.HasPrefix(k1, "sha256:") {
		t.Errorf("keys %s %s %s", k1, k2, k3)
	}
	if EscalationKey(notify.EventRefused, items) == k1 {
		t.Error("the event kind must be part of the key")
	}
}
