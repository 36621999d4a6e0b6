package heal_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/notify"
	"github.com/fix8524/fix8524/lab/demo"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

const forest = "contoso.com"

// clock is a fake clock; sleeping advances it, so verification polls and replication retries
// cost no real time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *clock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.Advance(d)
	return nil
}

// fixture is one state directory, the shipped playbook and a fake clock starting at the
// scenarios' clock.
type fixture struct {
	t     *testing.T
	j     *journal.Store
	pb    *engine.Playbook
	clk   *clock
	out   bytes.Buffer
	notif heal.Notifier
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	j, err := journal.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	f := &fixture{t: t, j: j, pb: pb, clk: &clock{t: scenario.DefaultNow}}
	j.SetClock(f.clk.Now)
	return f
}

func mustPolicy(t *testing.T, src string) *policy.Policy {
	t.Helper()
	if src == "" {
		return policy.Default()
	}
	p, diags := policy.Parse("policy.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(policy.FormatDiagnostics(diags))
	}
	return p
}

// run heals the named demo scenario, started broken as the scenario describes, over the real
// WS-Management path (lab/demo), with the policy.
func (f *fixture) run(name string, pol *policy.Policy, opts ...func(*heal.Options)) (*heal.Report, *demo.Lazy) {
	f.t.Helper()
	lz := &demo.Lazy{Name: name}
	f.t.Cleanup(func() { lz.Close() })
	f.out.Reset()
	o := heal.Options{
		Policy: pol, Playbook: f.pb, Facts: lz, Exec: lz, Journal: f.j,
		WindowsWaived: demo.WindowsWaived, Notifier: f.notif, Host: "test-host",
		Out: &f.out, Now: f.clk.Now, Sleep: f.clk.Sleep, PollInterval: time.Second,
	}
	for _, fn := range opts {
		fn(&o)
	}
	r := heal.Run(context.Background(), o)
	f.t.Logf("heal %s: exit %d: %s\n%s", name, r.ExitCode(), r.Summary.String(), f.out.String())
	return r, lz
}

func holds(r *heal.Report) map[string]int {
	m := map[string]int{}
	for _, v := range r.Verdicts {
		if !v.Approved {
			m[v.Hold]++
		}
	}
	return m
}

func (f *fixture) entries(kind journal.Kind) []journal.Entry {
	f.t.Helper()
	es, err := f.j.List(journal.Filter{Kinds: []journal.Kind{kind}})
	if err != nil {
		f.t.Fatal(err)
	}
	return es
}

// TestDemoHealsThenCooldown is issue 7's done-when at the package level: the default demo
// forest is healed on the first run (exit 0); the second run, the forest broken again, is held
// by the cooldown (exit 3) and the journal says so.
func TestDemoHealsThenCooldown(t *testing.T) {
	f := newFixture(t)
	r, _ := f.run("", policy.Default())
	if r.Err != nil || r.ExitCode() != policy.ExitOK {
		t.Fatalf("first run: exit %d, err %v", r.ExitCode(), r.Err)
	}
	if r.Forest != forest || len(r.Healed) != 1 || r.Summary.Succeeded != 2 || r.EscalationPath != "" || r.Apply == nil || r.Apply.Outcome != apply.Succeeded {
		t.Errorf("first run: forest %q healed %v summary %s escalation %q", r.Forest, r.Healed, r.Summary.String(), r.EscalationPath)
	}
	actions := 0
	for _, e := range f.entries(journal.KindAction) {
		if e.Outcome == journal.Started {
			actions++
			if e.Actor != heal.Actor {
				t.Errorf("action %s recorded by %q, want %q", e.Name, e.Actor, heal.Actor)
			}
		}
	}
	if actions != 2 {
		t.Errorf("%d actions begun, want 2 (register_cname, retry_replication)", actions)
	}

	f.clk.Advance(15 * time.Minute)
	r2, _ := f.run("", policy.Default())
	if r2.Err != nil || r2.ExitCode() != policy.ExitRefused || holds(r2)[policy.HoldCooldown] != 2 || r2.Apply != nil {
		t.Fatalf("second run: exit %d, holds %v, err %v", r2.ExitCode(), holds(r2), r2.Err)
	}
	found := 0
	for _, e := range f.entries(journal.KindGate) {
		if e.RunID == r2.RunID && strings.HasPrefix(e.Name, "policy:") && e.Outcome == journal.Refused &&
			strings.Contains(e.Reason, "cooldown: ") && strings.Contains(e.Reason, "lasts until") {
			found++
		}
	}
	if found != 2 {
		t.Errorf("the journal holds %d cooldown gate entries for the second run, want 2", found)
	}
	if r2.EscalationPath == "" {
		t.Error("the held plan was not saved")
	}
}

// TestGuardrails shows each guardrail refusing through heal, on the demo forest.
func TestGuardrails(t *testing.T) {
	cases := []struct {
		name     string
		scenario string
		policy   string
		setup    func(f *fixture)
		wantExit int
		wantHold string
		// ran: actions begun in the journal by this run.
		ran int
	}{
		{name: "cooldown", policy: "", wantExit: policy.ExitRefused, wantHold: policy.HoldCooldown,
			setup: func(f *fixture) {
				r, _ := f.run("", policy.Default())
				if r.ExitCode() != 0 {
					f.t.Fatalf("setup run: exit %d", r.ExitCode())
				}
				f.clk.Advance(59 * time.Minute)
			}},
		{name: "per-run maximum", policy: `max_actions_per_run = 1`, wantExit: policy.ExitRefused, wantHold: policy.HoldRunMax, ran: 1},
		{name: "24h cap of DCs", policy: `max_dcs_per_24h = 1`, wantExit: policy.ExitRefused, wantHold: policy.HoldDCCap, ran: 1},
		{name: "24h cap from earlier runs", policy: "max_dcs_per_24h = 2\ncooldown = \"1m\"", wantExit: policy.ExitRefused, wantHold: policy.HoldDCCap,
			setup: func(f *fixture) {
				// Two other DCs were changed 23 hours ago.
				for _, dc := range []string{"DC7", "DC8"} {
					id, err := f.j.BeginAction(journal.Entry{Forest: forest, Name: "register_host", Target: dc, Command: "x"})
					if err != nil {
						f.t.Fatal(err)
					}
					if _, err := f.j.FinishAction(id, journal.Result{Outcome: journal.Succeeded}); err != nil {
						f.t.Fatal(err)
					}
				}
				f.clk.Advance(23 * time.Hour)
			}},
		{name: "breaker open", policy: "", wantExit: policy.ExitRefused, wantHold: policy.HoldBreaker,
			setup: func(f *fixture) {
				if _, err := f.j.OpenBreaker(forest, "3 failed verifications", "heal"); err != nil {
					f.t.Fatal(err)
				}
			}},
		{name: "outside the policy's window", policy: `
window "night" {
  cron      = "0 22 * * *"
  duration  = "1h"
  time_zone = "UTC"
}`, wantExit: policy.ExitRefused, wantHold: policy.HoldWindow},
		{name: "denied: the finding is not started", policy: `deny = ["register_cname"]`, wantExit: policy.ExitHuman, wantHold: policy.HoldDenied},
		{name: "never auto-cleanup: stale metadata", scenario: "stale-metadata", policy: permissive, wantExit: policy.ExitHuman, wantHold: policy.HoldNever},
		{name: "never auto-cleanup: guid mismatch", scenario: "guid-mismatch", policy: permissive, wantExit: policy.ExitHuman, wantHold: policy.HoldNever},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			before := len(f.entries(journal.KindAction))
			r, lz := f.run(tc.scenario, mustPolicy(t, tc.policy))
			if r.Err != nil {
				t.Fatal(r.Err)
			}
			if got := r.ExitCode(); got != tc.wantExit {
				t.Errorf("exit %d, want %d (%s)", got, tc.wantExit, r.Summary.String())
			}
			if holds(r)[tc.wantHold] == 0 {
				t.Errorf("holds %v, want %s", holds(r), tc.wantHold)
			}
			if r.Summary.Approved != tc.ran {
				t.Errorf("%d approved, want %d (withdrawn approvals must not count)", r.Summary.Approved, tc.ran)
			}
			ran := 0
			for _, e := range f.entries(journal.KindAction)[before:] {
				if e.Outcome == journal.Started {
					ran++
				}
			}
			if ran != tc.ran {
				t.Errorf("%d actions begun, want %d", ran, tc.ran)
			}
			// Whatever was held is in a plan for a human, and the journal says why.
			if r.EscalationPath == "" {
				t.Fatal("no plan saved for a human")
			}
			held, _, err := plan.Read(r.EscalationPath)
			if err != nil {
				t.Fatal(err)
			}
			if len(held.Findings) == 0 {
				t.Error("the plan for a human holds no finding")
			}
			// Beside it, its report: one HTML page naming every held finding.
			if want := strings.TrimSuffix(r.EscalationPath, ".json") + ".html"; r.EscalationReport != want {
				t.Errorf("report %q, want %q", r.EscalationReport, want)
			} else if page, err := os.ReadFile(want); err != nil {
				t.Error(err)
			} else {
				for _, fd := range held.Findings {
					if !strings.Contains(string(page), html.EscapeString(fd.ID)) || !strings.Contains(string(page), "<svg") {
						t.Errorf("the report lacks finding %s or its drawing", fd.ID)
					}
				}
			}
			refused := 0
			for _, e := range f.entries(journal.KindGate) {
				if e.RunID == r.RunID && strings.HasPrefix(e.Name, "policy:") && e.Outcome == journal.Refused && strings.HasPrefix(e.Reason, tc.wantHold+": ") {
					refused++
				}
			}
			if refused == 0 {
				t.Errorf("no journal gate entry refused with %s", tc.wantHold)
			}
			if tc.wantHold == policy.HoldNever {
				// End to end: the stale object is still in the directory and no LDAP delete
				// was ever attempted.
				if r.Apply != nil {
					t.Errorf("apply ran: %+v", r.Apply)
				}
				for _, fd := range held.Findings {
					for _, a := range fd.Actions {
						if a.Name != "metadata_cleanup" {
							continue
						}
						if d := lz.Demo(); d != nil {
							st, err := lz.Inspect(context.Background(), a)
							if err != nil || !st.Exists {
								t.Errorf("%s: the stale object is gone (%+v, %v)", a.ID, st, err)
							}
						}
					}
				}
			}
		})
	}
}

const permissive = `
allow "everything-a-file-can-allow" {
  max_risk = "medium"
  actions  = ["*"]
}
max_actions_per_run = 100
max_dcs_per_24h     = 1000
cooldown            = "1m"
`

// receiver is a webhook receiver on loopback that records the events it gets.
type receiver struct {
	mu     sync.Mutex
	events []map[string]any
	srv    *httptest.Server
}

func newReceiver(t *testing.T, header ...string) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Errorf("webhook body is not JSON: %v", err)
		}
		if req.Header.Get("Content-Type") != "application/json" || (len(header) == 2 && req.Header.Get(header[0]) != header[1]) {
			t.Errorf("webhook headers %v", req.Header)
		}
		rc.mu.Lock()
		rc.events = append(rc.events, m)
		rc.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) kinds() []string {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []string
	for _, e := range rc.events {
		out = append(out, e["event"].(string))
	}
	return out
}

func (rc *receiver) last() map[string]any {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.events[len(rc.events)-1]
}

// TestBreakerOpensAndStaysOpen: a forest whose remedy never verifies (registration works, the
// destination's DNS server never gets it) fails its verification on every run; the second
// failure within the window opens the breaker, which then refuses every run, also after the
// failures aged out, until a recorded reset. Every step is escalated to a webhook receiver on
// loopback, without repeating an unchanged escalation.
func TestBreakerOpensAndStaysOpen(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t, "X-Team", "ad-ops")
	pol := mustPolicy(t, `
cooldown = "1m"
breaker {
  failures = 2
  within   = "1h"
}
notify "hook" {
  url     = "`+rc.srv.URL+`/hook"
  headers = { "X-Team" = "ad-ops" }
}`)
	const sc = "heal-registration-not-replicated"
	step := func(wantExit int, wantEvent string) *heal.Report {
		t.Helper()
		f.clk.Advance(2 * time.Minute)
		r, _ := f.run(sc, pol)
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		if r.ExitCode() != wantExit || r.Event != wantEvent {
			t.Fatalf("exit %d event %q, want %d %q (%s)", r.ExitCode(), r.Event, wantExit, wantEvent, r.Summary.String())
		}
		return r
	}

	// 1: the registration verifies, replication is never confirmed: a failed verification.
	r := step(policy.ExitHuman, notify.EventVerificationFailed)
	if r.Summary.Failed != 1 || r.Breaker.Open || r.EscalationPath == "" {
		t.Errorf("run 1: %s, breaker %+v, escalation %q", r.Summary.String(), r.Breaker, r.EscalationPath)
	}
	if b := rc.last(); b["plan_path"] != r.EscalationPath || !strings.Contains(b["text"].(string), "fix8524 heal on contoso.com") {
		t.Errorf("run 1 notification %v", b)
	}
	// 2: the second failure within the hour opens the breaker.
	r = step(policy.ExitHuman, notify.EventBreakerOpen)
	if !r.Summary.BreakerTripped || !r.Breaker.Open {
		t.Errorf("run 2: breaker %+v", r.Breaker)
	}
	if b, _ := f.j.Breaker(forest); !b.Open || b.By != heal.Actor {
		t.Errorf("journal breaker %+v", b)
	}
	// 3: open: nothing runs.
	r = step(policy.ExitRefused, notify.EventRefused)
	if holds(r)[policy.HoldBreaker] != 2 || r.Apply != nil {
		t.Errorf("run 3: holds %v", holds(r))
	}
	// 4: hours later the failures are out of the window; the breaker stays open, and the same
	// escalation is not sent again.
	f.clk.Advance(3 * time.Hour)
	r = step(policy.ExitRefused, notify.EventRefused)
	if holds(r)[policy.HoldBreaker] != 2 || !r.NotifyQuiet || len(r.Notified) != 0 {
		t.Errorf("run 4: holds %v quiet %v notified %v", holds(r), r.NotifyQuiet, r.Notified)
	}
	if got, want := strings.Join(rc.kinds(), ","), "verification_failed,breaker_open,refused"; got != want {
		t.Errorf("notifications %s, want %s", got, want)
	}
	// A recorded reset closes it; the next run acts again (and fails again, once: the breaker
	// counts only failures after the reset).
	if _, err := f.j.ResetBreaker(forest, "DNS replication of 192.0.2.11 fixed, CHG-1", "alice@admin01"); err != nil {
		t.Fatal(err)
	}
	r = step(policy.ExitHuman, notify.EventVerificationFailed)
	if r.Breaker.Open || r.Summary.Failed != 1 {
		t.Errorf("after the reset: breaker %+v, %s", r.Breaker, r.Summary.String())
	}
	resets := 0
	for _, e := range f.entries(journal.KindNote) {
		if e.Name == "breaker-reset" && e.Actor == "alice@admin01" && strings.Contains(e.Reason, "CHG-1") {
			resets++
		}
	}
	if resets != 1 {
		t.Errorf("%d breaker-reset notes by alice", resets)
	}
}

// TestHeldPlanIsStableAndApprovable: the same facts held the same way keep one plan file (a
// human's approval of it stays valid), and it parses as a plan apply accepts.
func TestHeldPlanIsStableAndApprovable(t *testing.T) {
	f := newFixture(t)
	r1, _ := f.run("guid-mismatch", policy.Default())
	f.clk.Advance(time.Hour)
	r2, _ := f.run("guid-mismatch", policy.Default())
	if r1.EscalationPath == "" || r1.EscalationPath != r2.EscalationPath {
		t.Fatalf("held plans %q and %q", r1.EscalationPath, r2.EscalationPath)
	}
	b1, err := os.ReadFile(r1.EscalationPath)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Parse(b1)
	if err != nil {
		t.Fatal(err)
	}
	if p.Fingerprint != r1.Plan.Fingerprint || p.Summary.Actions != len(p.Findings) || len(p.Findings) == 0 {
		t.Errorf("held plan: %+v", p.Summary)
	}
	for _, fd := range p.Findings {
		if len(fd.Actions) != 1 || fd.Actions[0].Name != "metadata_cleanup" {
			t.Errorf("%s: actions %+v", fd.ID, fd.Actions)
		}
	}
}

// TestHealthyForest: nothing to do is exit 0, with nothing saved or sent.
func TestHealthyForest(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t)
	pol := mustPolicy(t, `notify "hook" { url = "`+rc.srv.URL+`" }`)
	r, _ := f.run("healthy", pol)
	if r.Err != nil || r.ExitCode() != 0 || r.EscalationPath != "" || r.Event != "" || len(rc.kinds()) != 0 {
		t.Errorf("exit %d err %v escalation %q event %q sent %v", r.ExitCode(), r.Err, r.EscalationPath, r.Event, rc.kinds())
	}
	m := r.MetricsRun()
	if m.ExitCode != 0 || len(m.FailingLinks) != 0 || m.BreakerOpen {
		t.Errorf("metrics run %+v", m)
	}
}

// TestHealthyForestWithWarning: links that replicate through a name that will go away are
// reported (a line each, fix8524_warnings) but change nothing: exit 0, nothing saved or sent.
func TestHealthyForestWithWarning(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t)
	pol := mustPolicy(t, `notify "hook" { url = "`+rc.srv.URL+`" }`)
	r, _ := f.run("link-address-latent", pol)
	if r.Err != nil || r.ExitCode() != 0 || r.EscalationPath != "" || r.Event != "" || len(rc.kinds()) != 0 {
		t.Errorf("exit %d err %v escalation %q event %q sent %v", r.ExitCode(), r.Err, r.EscalationPath, r.Event, rc.kinds())
	}
	if want := "heal: warning DC1<-DC2 link_address_latent: DC1 replicates from DC2"; !strings.Contains(f.out.String(), want) {
		t.Errorf("output lacks %q:\n%s", want, f.out.String())
	}
	m := r.MetricsRun()
	if m.ExitCode != 0 || len(m.FailingLinks) != 0 || len(m.Warnings) != 1 || m.Warnings["link_address_latent"] != 1 {
		t.Errorf("metrics run %+v", m)
	}
}

// TestWarningsAreNotifiedToTargetsThatListThem: a target that lists the "warning" event gets
// the plan's warnings as their own event (exit code unchanged), once per RemindAfter while they
// stay the same; a target without an events list does not get them.
func TestWarningsAreNotifiedToTargetsThatListThem(t *testing.T) {
	f := newFixture(t)
	chat, pager := newReceiver(t), newReceiver(t)
	pol := mustPolicy(t, `
notify "chat" {
  url    = "`+chat.srv.URL+`"
  events = ["held", "warning"]
}
notify "pager" { url = "`+pager.srv.URL+`" }
`)
	r, _ := f.run("link-address-latent", pol)
	if r.Err != nil || r.ExitCode() != 0 || r.Event != "" || len(r.Notified) != 0 {
		t.Fatalf("exit %d err %v event %q notified %v", r.ExitCode(), r.Err, r.Event, r.Notified)
	}
	if got := chat.kinds(); len(got) != 1 || got[0] != notify.EventWarning {
		t.Fatalf("chat got %v, want one warning event", got)
	}
	if got := pager.kinds(); len(got) != 0 {
		t.Errorf("pager (no events list) got %v", got)
	}
	ev := chat.last()
	items, _ := ev["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("items %v", ev["items"])
	}
	it := items[0].(map[string]any)
	if it["status"] != notify.ItemWarning || it["code"] != "link_address_latent" || it["finding"] != "DC1<-DC2" ||
		it["target"] != "DC1" || !strings.Contains(it["reason"].(string), "DC1 replicates from DC2") {
		t.Errorf("item %v", it)
	}
	if text := ev["text"].(string); !strings.Contains(text, "1 link replicates now but will fail") ||
		!strings.Contains(text, "WARNING DC1&lt;-DC2 on DC1") {
		t.Errorf("text %q", text)
	}
	if len(r.WarningsNotified) != 1 || r.WarningsNotified[0].Target != "chat" || r.WarningsQuiet {
		t.Errorf("report: warnings notified %+v quiet %v", r.WarningsNotified, r.WarningsQuiet)
	}
	if n := len(f.entries(journal.KindNote)); n == 0 {
		t.Error("no journal notes")
	}
	noted := false
	for _, e := range f.entries(journal.KindNote) {
		if e.Name == "notified" && strings.HasPrefix(e.Reason, "warning sent to 1 target") {
			noted = true
		}
	}
	if !noted {
		t.Error("the warning notification is not in the journal")
	}

	// the same warnings an hour later: quiet; a day later: sent again
	f.clk.Advance(time.Hour)
	r, _ = f.run("link-address-latent", pol)
	if !r.WarningsQuiet || len(r.WarningsNotified) != 0 || len(chat.kinds()) != 1 {
		t.Errorf("an hour later: quiet %v notified %v chat %v", r.WarningsQuiet, r.WarningsNotified, chat.kinds())
	}
	f.clk.Advance(heal.DefaultRemindAfter)
	r, _ = f.run("link-address-latent", pol)
	if r.WarningsQuiet || len(chat.kinds()) != 2 {
		t.Errorf("a day later: quiet %v chat %v", r.WarningsQuiet, chat.kinds())
	}

	// a run that escalates keeps its own stream: the held event goes out although the
	// warnings' was just sent
	r, _ = f.run("guid-mismatch", pol)
	if r.Event != notify.EventHeld || len(r.Notified) != 2 || r.NotifyQuiet {
		t.Errorf("guid-mismatch: event %q notified %+v quiet %v", r.Event, r.Notified, r.NotifyQuiet)
	}
}

// TestHealLockRefusesASecondRun: while another heal run holds the forest's heal lock, a run
// decides nothing (exit 3); a stale lock is an error naming the command that clears it.
func TestHealLockRefusesASecondRun(t *testing.T) {
	f := newFixture(t)
	l, err := f.j.AcquireLock(heal.LockPrefix+forest, journal.Holder{User: "other", Host: "elsewhere", PID: 1}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := f.run("", policy.Default())
	if r.ExitCode() != policy.ExitRefused || r.Locked == "" || len(r.Verdicts) != 0 {
		t.Fatalf("exit %d locked %q verdicts %d", r.ExitCode(), r.Locked, len(r.Verdicts))
	}
	f.clk.Advance(2 * time.Hour)
	r, _ = f.run("", policy.Default())
	if r.ExitCode() != policy.ExitError || r.Err == nil || !strings.Contains(r.Err.Error(), "--break-lock heal:contoso.com") {
		t.Fatalf("stale lock: exit %d err %v", r.ExitCode(), r.Err)
	}
	_ = l
}

// TestGatherErrorIsEscalated: a gather that fails is exit 1 and an "error" notification.
func TestGatherErrorIsEscalated(t *testing.T) {
	f := newFixture(t)
	rc := newReceiver(t)
	pol := mustPolicy(t, `notify "hook" { url = "`+rc.srv.URL+`" }`)
	lz := &demo.Lazy{Name: "no-such-scenario"}
	r := heal.Run(context.Background(), heal.Options{Policy: pol, Playbook: f.pb, Facts: lz, Exec: lz, Journal: f.j,
		Forest: "dc1.contoso.com", Now: f.clk.Now})
	if r.ExitCode() != policy.ExitError || r.Event != notify.EventError {
		t.Fatalf("exit %d event %q err %v", r.ExitCode(), r.Event, r.Err)
	}
	if k := rc.kinds(); len(k) != 1 || k[0] != notify.EventError || rc.last()["forest"] != "dc1.contoso.com" {
		t.Errorf("notifications %v %v", k, rc.last())
	}
}

func TestOptionsChecked(t *testing.T) {
	r := heal.Run(context.Background(), heal.Options{})
	if r.Err == nil || r.ExitCode() != policy.ExitError {
		t.Errorf("empty options: %v", r.Err)
	}
	f := newFixture(t)
	bad := policy.Default()
	bad.MaxActionsPerRun = 0
	lz := &demo.Lazy{}
	r = heal.Run(context.Background(), heal.Options{Policy: bad, Playbook: f.pb, Facts: lz, Exec: lz, Journal: f.j})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "max_actions_per_run") || lz.Demo() != nil {
		t.Errorf("bad policy: %v", r.Err)
	}
}

func TestOpenBreakers(t *testing.T) {
	f := newFixture(t)
	if bs, err := heal.OpenBreakers(f.j); err != nil || len(bs) != 0 {
		t.Fatalf("%v %v", bs, err)
	}
	for _, fo := range []string{"a.example", "b.example"} {
		if _, err := f.j.OpenBreaker(fo, "r", "heal"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.j.ResetBreaker("a.example", "fixed", "bob"); err != nil {
		t.Fatal(err)
	}
	bs, err := heal.OpenBreakers(f.j)
	if err != nil || len(bs) != 1 || bs[0].Forest != "b.example" {
		t.Errorf("%+v %v", bs, err)
	}
}

// TestPlaybookWindowsAndEmergency: unattended runs respect the playbook's own change windows
// too (both the policy's and the playbook's must admit); --emergency with a recorded reason
// admits a run outside the playbook's windows.
func TestPlaybookWindowsAndEmergency(t *testing.T) {
	f := newFixture(t)
	enforce := func(o *heal.Options) { o.WindowsWaived = "" } // as on a live forest
	// Friday 09:30 UTC: the shipped playbook's windows are weeknights from 22:00 and the weekend.
	r, _ := f.run("", policy.Default(), enforce)
	if r.ExitCode() != policy.ExitRefused || holds(r)[policy.HoldWindow] != 2 || r.Apply != nil {
		t.Fatalf("exit %d holds %v", r.ExitCode(), holds(r))
	}
	if !strings.Contains(r.Verdicts[0].Reason, "outside the playbook's change windows") || r.Verdicts[0].Until.IsZero() {
		t.Errorf("verdict %+v", r.Verdicts[0])
	}
	r, _ = f.run("", policy.Default(), enforce, func(o *heal.Options) { o.Emergency = true })
	if r.Err == nil || r.ExitCode() != policy.ExitError {
		t.Fatalf("emergency without a reason: %v", r.Err)
	}
	r, _ = f.run("", policy.Default(), enforce, func(o *heal.Options) { o.Emergency, o.EmergencyReason = true, "CHG-9: replication down for 3 days" })
	if r.Err != nil || r.ExitCode() != policy.ExitOK {
		t.Fatalf("emergency: exit %d err %v", r.ExitCode(), r.Err)
	}
	n := 0
	for _, e := range f.entries(journal.KindNote) {
		if e.Name == "emergency" && e.RunID == r.RunID && strings.Contains(e.Reason, "CHG-9") {
			n++
		}
	}
	if n == 0 {
		t.Error("the emergency reason is not in the journal")
	}
}

// TestHealLockRenewedDuringApply: heal's lock is renewed while apply runs (here every 10ms of
// a 30ms lock), without disturbing the run.
func TestHealLockRenewedDuringApply(t *testing.T) {
	f := newFixture(t)
	r, _ := f.run("", policy.Default(), func(o *heal.Options) { o.HealLockTTL = 30 * time.Millisecond })
	if r.Err != nil || r.ExitCode() != policy.ExitOK || strings.Contains(f.out.String(), "renewing the heal lock") {
		t.Fatalf("exit %d err %v\n%s", r.ExitCode(), r.Err, f.out.String())
	}
	if li, err := f.j.LockStatus(heal.LockPrefix + forest); err != nil || li != nil {
		t.Errorf("heal lock still held after the run: %+v %v", li, err)
	}
}
