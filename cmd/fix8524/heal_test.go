package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/journal"
)

func (c *cli) write(name, content string) string {
	c.t.Helper()
	p := c.path(name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		c.t.Fatal(err)
	}
	return p
}

// TestHealDemoDoneWhen is issue 7's done-when: `fix8524 heal --demo --state DIR` heals the
// default demo forest on the first run (exit 0); a second run with the same --state (the demo
// forest starts broken again) is held by the cooldown (exit 3), and `fix8524 journal --state
// DIR` shows why.
func TestHealDemoDoneWhen(t *testing.T) {
	c := newCLI(t)
	code, out, stderr := c.run("", "heal", "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitOK {
		t.Fatalf("first run: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, policy.DefaultNotice) {
		t.Errorf("the built-in default policy is not announced:\n%s", stderr)
	}
	if !strings.Contains(out, "succeeded DC1<-DC2/register_cname on DC2") || !strings.Contains(out, "heal: exit 0 (healthy or healed)") {
		t.Errorf("first run output:\n%s", out)
	}
	code, out, stderr = c.run("", "heal", "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitRefused {
		t.Fatalf("second run: exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "(cooldown): cooldown: register_cname ran on DC2") || !strings.Contains(out, "Plan for a human: ") {
		t.Errorf("second run output:\n%s", out)
	}
	code, out, stderr = c.run("", "journal", "--state", c.state)
	if code != exitOK {
		t.Fatalf("journal: exit %d: %s", code, stderr)
	}
	var why string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "policy:DC1<-DC2/register_cname") && strings.Contains(l, "refused") {
			why = l
		}
	}
	if !strings.Contains(why, "cooldown: register_cname ran on DC2") || !strings.Contains(why, "heal") {
		t.Errorf("journal does not show the cooldown refusal:\n%s", out)
	}
	// Both runs, and their actions, are the "heal" actor's.
	var healActions int
	for _, e := range c.journalEntries() {
		if e.Kind == journal.KindAction && e.Outcome == journal.Started {
			if e.Actor != "heal" {
				t.Errorf("action %s by %q", e.Name, e.Actor)
			}
			healActions++
		}
	}
	if healActions != 2 {
		t.Errorf("%d actions begun, want 2", healActions)
	}
}

// TestHealNeverAutoCleanup: even the most permissive policy leaves metadata cleanup to a
// human: exit 2, a plan saved with the approve command that names the action, and a
// notification through a webhook whose URL comes from the environment.
func TestHealNeverAutoCleanup(t *testing.T) {
	c := newCLI(t)
	var mu sync.Mutex
	var bodies []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		mu.Lock()
		bodies = append(bodies, m)
		mu.Unlock()
	}))
	defer srv.Close()
	c.vars["FIX8524_HOOK"] = srv.URL + "/secret-path"
	pol := c.write("policy.hcl", `
allow "all" {
  max_risk = "medium"
  actions  = ["*"]
}
max_actions_per_run = 100
max_dcs_per_24h     = 1000
notify "ops" {
  url_env = "FIX8524_HOOK"
}
`)
	code, out, stderr := c.run("", "heal", "--demo", "guid-mismatch", "--clock", inWindow, "--policy", pol, "--state", c.state)
	if code != exitProposed {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	if !strings.Contains(out, "(never_unattended)") || !strings.Contains(out, "--allow-each 'DC1<-DC2/metadata_cleanup'") {
		t.Errorf("output:\n%s", out)
	}
	if strings.Contains(out+stderr, "secret-path") {
		t.Error("the webhook URL from the environment was printed")
	}
	for _, e := range c.journalEntries() {
		if e.Kind == journal.KindAction {
			t.Errorf("an action ran: %+v", e)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || bodies[0]["event"] != "held" || bodies[0]["exit_code"] != float64(2) ||
		!strings.Contains(bodies[0]["text"].(string), "metadata_cleanup") {
		t.Errorf("notifications %v", bodies)
	}
	held, _ := bodies[0]["plan_path"].(string)
	if b, err := os.ReadFile(held); err != nil || !bytes.Contains(b, []byte(`"ldap_delete"`)) {
		t.Errorf("plan for a human %q: %v", held, err)
	}
}

// TestHealBreakerCLI: an open breaker refuses heal (exit 3) until `heal --reset-breaker
// --reason`, which is recorded with who.
func TestHealBreakerCLI(t *testing.T) {
	c := newCLI(t)
	j, err := journal.Open(c.state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.OpenBreaker("contoso.com", "3 failed verifications within 6h", "heal"); err != nil {
		t.Fatal(err)
	}
	j.Close()
	code, out, _ := c.run("", "heal", "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitRefused || !strings.Contains(out, "(breaker_open)") || !strings.Contains(out, "Circuit breaker OPEN") || !strings.Contains(out, "  What to do: find why the verifications failed") {
		t.Fatalf("exit %d\n%s", code, out)
	}
	if code, _, stderr := c.run("", "heal", "--reset-breaker", "--state", c.state); code != exitError || !strings.Contains(stderr, "--reason") {
		t.Errorf("reset without a reason: exit %d %s", code, stderr)
	}
	code, out, stderr := c.run("", "heal", "--reset-breaker", "--reason", "DNS fixed, CHG-7", "--by", "alice", "--state", c.state)
	if code != exitOK || !strings.Contains(out, "Closed the circuit breaker of contoso.com") {
		t.Fatalf("reset: exit %d\n%s\n%s", code, out, stderr)
	}
	reset := false
	for _, e := range c.journalEntries() {
		if e.Kind == journal.KindNote && e.Name == "breaker-reset" && e.Actor == "alice" && e.Reason == "DNS fixed, CHG-7" {
			reset = true
		}
	}
	if !reset {
		t.Error("the reset is not in the journal with who and why")
	}
	if code, out, _ := c.run("", "heal", "--reset-breaker", "--reason", "again", "--state", c.state); code != exitOK || !strings.Contains(out, "No circuit breaker is open") {
		t.Errorf("second reset: exit %d %s", code, out)
	}
	if code, out, _ := c.run("", "heal", "--demo", "--clock", inWindow, "--state", c.state); code != exitOK {
		t.Errorf("after the reset: exit %d\n%s", code, out)
	}
}

// TestHealMetricsTextfile: one-shot mode writes the metrics for node_exporter's textfile
// collector.
func TestHealMetricsTextfile(t *testing.T) {
	c := newCLI(t)
	prom := c.path("fix8524.prom")
	if code, out, stderr := c.run("", "heal", "--demo", "--clock", inWindow, "--state", c.state, "--metrics-textfile", prom); code != exitOK {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
	b, err := os.ReadFile(prom)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"fix8524_heal_last_run_exit_code 0",
		`fix8524_heal_actions_total{outcome="succeeded"} 2`,
		`fix8524_heal_runs_total{exit_code="0"} 1`,
		"fix8524_heal_breaker_open 0",
		"fix8524_gather_duration_seconds ",
		"fix8524_heal_last_success_timestamp_seconds ",
	} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("textfile lacks %q:\n%s", want, b)
		}
	}
	// The links heal healed are no longer failing (issue 15: the gauge still said 5).
	if bytes.Contains(b, []byte(`fix8524_failing_links{decision="source_cname_not_registered"}`)) {
		t.Errorf("a healed partnership still counts as failing:\n%s", b)
	}
	// The second run (refused by the cooldown; the demo forest starts broken again) keeps a
	// last-success time, says exit 3 and counts the failing links it left.
	if code, _, _ := c.run("", "heal", "--demo", "--clock", inWindow, "--state", c.state, "--metrics-textfile", prom); code != exitRefused {
		t.Fatalf("second run: exit %d", code)
	}
	b, _ = os.ReadFile(prom)
	if !bytes.Contains(b, []byte("fix8524_heal_last_run_exit_code 3")) || !bytes.Contains(b, []byte(`fix8524_heal_last_run_held{reason="cooldown"} 2`)) ||
		!bytes.Contains(b, []byte(`fix8524_failing_links{decision="source_cname_not_registered"} 5`)) {
		t.Errorf("second textfile:\n%s", b)
	}
}

// syncBuffer is a bytes.Buffer safe for the loop's writes while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestHealLoopServesMetrics: loop mode on 127.0.0.1:0 serves /metrics, scraped here after the
// first run; a failing run does not end the loop (it is counted, and the next run is
// scheduled after a backoff); cancelling the context (SIGTERM) ends the loop with exit 0.
func TestHealLoopServesMetrics(t *testing.T) {
	for _, tc := range []struct {
		name    string
		args    []string
		want    []string
		wantOut string
	}{
		{"healed", []string{"--demo"}, []string{`fix8524_heal_runs_total{exit_code="0"} 1`, `fix8524_heal_actions_total{outcome="succeeded"} 2`,
			"fix8524_heal_breaker_open 0", "fix8524_heal_last_run_exit_code 0"}, "exit 0; next run in 1h"},
		{"failing run", []string{"--demo", "no-such-scenario"}, []string{`fix8524_heal_runs_total{exit_code="1"} 1`,
			"fix8524_heal_last_run_exit_code 1"}, "run failed (exit 1, 1 in a row): next run in 1m"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			addr := make(chan string, 1)
			healHooks.listening = func(a string) { addr <- a }
			defer func() { healHooks.listening = nil }()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var out, errb syncBuffer
			done := make(chan int, 1)
			go func() {
				e := &env{stdin: strings.NewReader(""), stdout: &out, stderr: &errb, getenv: func(string) string { return "" }}
				args := append([]string{"heal"}, tc.args...)
				done <- run(ctx, e, append(args, "--state", c.state, "--clock", inWindow, "--every", "1h", "--metrics-listen", "127.0.0.1:0"))
			}()
			var a string
			select {
			case a = <-addr:
			case code := <-done:
				t.Fatalf("heal ended: exit %d\n%s\n%s", code, out.String(), errb.String())
			}
			var body string
			for i := 0; i < 600; i++ { // until the first run is recorded (no timing assertion: it just has to happen)
				resp, err := http.Get("http://" + a + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				body = string(b)
				if strings.Contains(body, tc.want[0]) && strings.Contains(out.String(), tc.wantOut) {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			for _, want := range tc.want {
				if !strings.Contains(body, want) {
					t.Errorf("metrics lack %q:\n%s", want, body)
				}
			}
			cancel()
			if code := <-done; code != exitOK {
				t.Errorf("loop ended with exit %d\n%s", code, errb.String())
			}
			if !strings.Contains(out.String(), "heal: stopped") || !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output:\n%s", out.String())
			}
		})
	}
}

func TestHealFlagErrors(t *testing.T) {
	c := newCLI(t)
	badPolicy := c.write("bad.hcl", `max_actions_per_run = "many"`)
	cleanup := c.write("cleanup.hcl", `allow "x" { actions = ["metadata_cleanup"] }`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--state", c.state}, "give --dc HOST"},
		{[]string{"--demo", "--dc", "dc1", "--state", c.state}, "not both"},
		{[]string{"--demo", "--state", c.state, "--metrics-listen", "127.0.0.1:0"}, "loop mode"},
		{[]string{"--demo", "--state", c.state, "--every", "1h", "--metrics-listen", "0.0.0.0:0"}, "not a loopback address"},
		{[]string{"--demo", "--state", c.state, "--every", "10s"}, "at least 1m"},
		{[]string{"--demo", "--state", c.state, "--metrics-textfile", c.path("m.txt")}, ".prom"},
		{[]string{"--demo", "--state", c.state, "--policy", badPolicy}, "bad.hcl:1"},
		{[]string{"--demo", "--state", c.state, "--policy", cleanup}, "never run unattended"},
		{[]string{"--demo", "--state", c.state, "--policy", c.path("missing.hcl")}, "Cannot read the policy file"},
		{[]string{"--demo", "--state", c.state, "--reason", "x"}, "--reset-breaker"},
		{[]string{"--demo", "--state", c.state, "--emergency"}, "--emergency needs --reason"},
		{[]string{"--demo", "--state", c.state, "--by", "me"}, "go with --reset-breaker"},
		{[]string{"--demo", "no-such-scenario", "--state", c.state}, "no-such-scenario"},
		{[]string{"--demo", "--state", filepath.Join(c.dir, "nope")}, "does not exist"},
		{[]string{"--demo", "--state", c.state, "extra"}, "unexpected argument"},
	} {
		code, out, stderr := c.run("", append([]string{"heal"}, tc.args...)...)
		if code != exitError || !strings.Contains(stderr+out, tc.want) {
			t.Errorf("heal %v: exit %d, want 1 and %q:\n%s\n%s", tc.args, code, tc.want, out, stderr)
		}
	}
}
