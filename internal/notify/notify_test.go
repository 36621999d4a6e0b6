package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

const secretToken = "Bearer s3cr3t-t0ken-value"
const secretPath = "/services/T000/B000/XXXXSECRETPATH"

// receiver is a webhook receiver on loopback that answers with a scripted list of statuses
// (the last one repeats) and records every request.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	statuses []int
	headers  map[string]string // extra response headers
	reqs     []recorded
}

type recorded struct {
	method string
	path   string
	header http.Header
	body   []byte
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{t: t, statuses: statuses, headers: map[string]string{}}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.reqs = append(r.reqs, recorded{req.Method, req.URL.Path, req.Header.Clone(), b})
		i := len(r.reqs) - 1
		if i >= len(r.statuses) {
			i = len(r.statuses) - 1
		}
		code := http.StatusOK
		if i >= 0 {
			code = r.statuses[i]
		}
		for k, v := range r.headers {
			w.Header().Set(k, v)
		}
		r.mu.Unlock()
		if code >= 300 && code < 400 {
			w.Header().Set("Location", "/elsewhere")
		}
		w.WriteHeader(code)
		// Echo the request back: a careless sender would put this in an error or a log.
		_, _ = w.Write(b)
		_, _ = io.WriteString(w, req.Header.Get("Authorization"))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// testSender records sleeps instead of sleeping, and logs into a buffer.
type testSender struct {
	Sender
	mu     sync.Mutex
	sleeps []time.Duration
	logs   []string
	env    map[string]string
}

func newTestSender() *testSender {
	ts := &testSender{env: map[string]string{
		"HOOK_TOKEN": secretToken,
	}}
	ts.Getenv = func(k string) string { return ts.env[k] }
	ts.Sleep = func(ctx context.Context, d time.Duration) error {
		ts.mu.Lock()
		ts.sleeps = append(ts.sleeps, d)
		ts.mu.Unlock()
		return ctx.Err()
	}
	ts.Logf = func(format string, args ...any) {
		ts.mu.Lock()
		ts.logs = append(ts.logs, fmt.Sprintf(format, args...))
		ts.mu.Unlock()
	}
	return ts
}

func sampleEvent() Event {
	return Event{
		Event:    EventHeld,
		Forest:   "contoso.com",
		RunID:    "20261120T093000Z-ab12",
		Time:     time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC),
		Host:     "ops-vm1",
		PlanPath: "/var/lib/fix8524/plans/heal-20261120T093000Z.json",
		ExitCode: 2,
		Summary:  "1 held for a human",
		Items: []Item{{
			Status: ItemHeld, Code: "high_risk", Finding: "DC1<-DC2", Action: "metadata_cleanup",
			ActionID: "DC1<-DC2/metadata_cleanup", Target: "DC1", Risk: "high",
			Reason: "high-risk actions never run unattended",
		}},
	}
}

func assertNoSecret(t *testing.T, where string, s string) {
	t.Helper()
	for _, secret := range []string{secretToken, "s3cr3t", "XXXXSECRETPATH", "B000"} {
		if strings.Contains(s, secret) {
			t.Errorf("%s contains the secret %q: %s", where, secret, s)
		}
	}
}

func (ts *testSender) assertClean(t *testing.T, res Result) {
	t.Helper()
	if res.Err != nil {
		assertNoSecret(t, "error", res.Err.Error())
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for _, l := range ts.logs {
		assertNoSecret(t, "log line", l)
	}
}

func TestSendBodyShape(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	ts := newTestSender()
	target := Target{
		Name:          "ops",
		URL:           rcv.srv.URL + "/hook",
		Headers:       map[string]string{"X-Team": "ad-ops"},
		SecretHeaders: map[string]string{"Authorization": "HOOK_TOKEN"},
	}
	res := ts.Send(context.Background(), target, sampleEvent())
	if res.Err != nil || res.Attempts != 1 || res.Status != 200 {
		t.Fatalf("Send = %+v", res)
	}
	ts.assertClean(t, res)
	reqs := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.method != http.MethodPost || r.path != "/hook" {
		t.Errorf("request %s %s, want POST /hook", r.method, r.path)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	if got := r.header.Get("Authorization"); got != secretToken {
		t.Errorf("Authorization header %q, want the value of HOOK_TOKEN", got)
	}
	if got := r.header.Get("X-Team"); got != "ad-ops" {
		t.Errorf("X-Team header %q", got)
	}
	assertNoSecret(t, "body", string(r.body))

	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, r.body)
	}
	for _, k := range []string{"text", "version", "event", "forest", "run_id", "time", "plan_path", "exit_code", "items"} {
		if _, ok := m[k]; !ok {
			t.Errorf("body lacks %q: %s", k, r.body)
		}
	}
	if m["event"] != "held" || m["forest"] != "contoso.com" || m["exit_code"] != float64(2) || m["version"] != float64(1) {
		t.Errorf("body fields wrong: %s", r.body)
	}
	text, _ := m["text"].(string)
	for _, want := range []string{"contoso.com", "1 item needs a human", "DC1&lt;-DC2/metadata_cleanup", "high-risk actions never run unattended", "heal-20261120T093000Z.json"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	items, _ := m["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("items: %v", m["items"])
	}
	it := items[0].(map[string]any)
	if it["reason"] != "high-risk actions never run unattended" || it["code"] != "high_risk" || it["target"] != "DC1" || it["finding"] != "DC1<-DC2" {
		t.Errorf("item: %v", it)
	}
	// A Slack/Teams-style receiver only needs {"text": ...}.
	var slack struct{ Text string }
	if err := json.Unmarshal(r.body, &slack); err != nil || slack.Text == "" {
		t.Errorf("no usable text field: %v", err)
	}
}

func TestSendRetriesThenSucceeds(t *testing.T) {
	rcv := newReceiver(t, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusOK)
	ts := newTestSender()
	res := ts.Send(context.Background(), Target{Name: "ops", URL: rcv.srv.URL + secretPath}, sampleEvent())
	if res.Err != nil {
		t.Fatalf("Send: %v", res.Err)
	}
	if res.Attempts != 3 || len(rcv.requests()) != 3 {
		t.Fatalf("attempts %d, requests %d; want 3 and 3", res.Attempts, len(rcv.requests()))
	}
	if len(ts.sleeps) != 2 {
		t.Fatalf("sleeps %v, want 2", ts.sleeps)
	}
	// Exponential backoff with equal jitter: [0.5s,1s] then [1s,2s].
	if ts.sleeps[0] < 500*time.Millisecond || ts.sleeps[0] > time.Second ||
		ts.sleeps[1] < time.Second || ts.sleeps[1] > 2*time.Second {
		t.Errorf("backoff %v out of bounds", ts.sleeps)
	}
	ts.assertClean(t, res)
}

func TestSendGivesUp(t *testing.T) {
	rcv := newReceiver(t, http.StatusInternalServerError)
	ts := newTestSender()
	target := Target{Name: "ops", URL: rcv.srv.URL + secretPath, Attempts: 4,
		SecretHeaders: map[string]string{"Authorization": "HOOK_TOKEN"}}
	res := ts.Send(context.Background(), target, sampleEvent())
	if res.Err == nil {
		t.Fatal("Send succeeded against a receiver that always fails")
	}
	if res.Attempts != 4 || len(rcv.requests()) != 4 || len(ts.sleeps) != 3 || res.Status != 500 {
		t.Fatalf("attempts %d, requests %d, sleeps %d, status %d; want 4, 4, 3, 500",
			res.Attempts, len(rcv.requests()), len(ts.sleeps), res.Status)
	}
	if !strings.Contains(res.Err.Error(), "status 500") || !strings.Contains(res.Err.Error(), "ops") {
		t.Errorf("error %q should name the target and the status", res.Err)
	}
	ts.assertClean(t, res)
	if Failed([]Result{res}) == nil {
		t.Error("Failed() = nil for a failed result")
	}
}

func TestSendBackoffIsBounded(t *testing.T) {
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	ts := newTestSender()
	res := ts.Send(context.Background(), Target{Name: "ops", URL: rcv.srv.URL, Attempts: MaxAttempts}, sampleEvent())
	if res.Err == nil || res.Attempts != MaxAttempts {
		t.Fatalf("Send = %+v", res)
	}
	for _, d := range ts.sleeps {
		if d > backoffMax {
			t.Errorf("a wait of %s exceeds the cap %s", d, backoffMax)
		}
	}
	if ts.sleeps[len(ts.sleeps)-1] < backoffMax/2 {
		t.Errorf("late waits should reach the cap: %v", ts.sleeps)
	}
}

func TestSendPermanentFailuresAreNotRetried(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusUnauthorized, http.StatusNotFound, http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			rcv := newReceiver(t, code)
			ts := newTestSender()
			res := ts.Send(context.Background(), Target{Name: "ops", URL: rcv.srv.URL + "/hook",
				SecretHeaders: map[string]string{"Authorization": "HOOK_TOKEN"}}, sampleEvent())
			if res.Err == nil || res.Attempts != 1 || len(ts.sleeps) != 0 {
				t.Fatalf("Send = %+v, sleeps %v; want one failed attempt", res, ts.sleeps)
			}
			reqs := rcv.requests()
			if len(reqs) != 1 || reqs[0].path != "/hook" {
				t.Fatalf("requests %+v: a redirect must not be followed", reqs)
			}
			ts.assertClean(t, res)
		})
	}
}

func TestSendHonoursRetryAfter(t *testing.T) {
	rcv := newReceiver(t, http.StatusTooManyRequests, http.StatusOK)
	rcv.headers["Retry-After"] = "7"
	ts := newTestSender()
	res := ts.Send(context.Background(), Target{Name: "ops", URL: rcv.srv.URL}, sampleEvent())
	if res.Err != nil || res.Attempts != 2 {
		t.Fatalf("Send = %+v", res)
	}
	if len(ts.sleeps) != 1 || ts.sleeps[0] != 7*time.Second {
		t.Errorf("sleeps %v, want [7s]", ts.sleeps)
	}
	rcv2 := newReceiver(t, http.StatusTooManyRequests, http.StatusOK)
	rcv2.headers["Retry-After"] = "86400"
	ts2 := newTestSender()
	if res := ts2.Send(context.Background(), Target{Name: "ops", URL: rcv2.srv.URL}, sampleEvent()); res.Err != nil {
		t.Fatal(res.Err)
	}
	if ts2.sleeps[0] != maxRetryAfter {
		t.Errorf("Retry-After of a day: waited %s, want the cap %s", ts2.sleeps[0], maxRetryAfter)
	}
}

func TestSendTimeoutIsRetried(t *testing.T) {
	release := make(chan struct{})
	var mu sync.Mutex
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			select { // hang until the client gives up
			case <-r.Context().Done():
			case <-release:
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	ts := newTestSender()
	res := ts.Send(context.Background(), Target{Name: "ops", URL: srv.URL + secretPath, Timeout: 100 * time.Millisecond}, sampleEvent())
	if res.Err != nil || res.Attempts != 2 || res.Status != http.StatusNoContent {
		t.Fatalf("Send = %+v", res)
	}
	found := false
	for _, l := range ts.logs {
		if strings.Contains(l, "no response within 100ms") {
			found = true
		}
	}
	if !found {
		t.Errorf("logs do not mention the timeout: %q", ts.logs)
	}
	ts.assertClean(t, res)
}

func TestSendConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL + secretPath
	srv.Close() // nothing listens there any more
	ts := newTestSender()
	res := ts.Send(context.Background(), Target{Name: "ops", URL: url, Attempts: 2}, sampleEvent())
	if res.Err == nil || res.Attempts != 2 {
		t.Fatalf("Send = %+v", res)
	}
	ts.assertClean(t, res)
}

func TestSendStopsWhenContextEnds(t *testing.T) {
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	ts := newTestSender()
	ctx, cancel := context.WithCancel(context.Background())
	ts.Sleep = func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }
	res := ts.Send(ctx, Target{Name: "ops", URL: rcv.srv.URL, Attempts: 5}, sampleEvent())
	if res.Err == nil || res.Attempts != 1 {
		t.Fatalf("Send = %+v; want a stop after the first attempt", res)
	}
}

func TestSendURLFromEnv(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	ts := newTestSender()
	target := Target{Name: "slack", URLEnv: "SLACK_URL"}
	res := ts.Send(context.Background(), target, sampleEvent())
	if res.Err == nil || res.Attempts != 0 || len(rcv.requests()) != 0 {
		t.Fatalf("unset URL env: %+v", res)
	}
	if !strings.Contains(res.Err.Error(), "SLACK_URL") {
		t.Errorf("error %q should name the variable", res.Err)
	}
	ts.env["SLACK_URL"] = rcv.srv.URL + secretPath
	res = ts.Send(context.Background(), target, sampleEvent())
	if res.Err != nil || len(rcv.requests()) != 1 || rcv.requests()[0].path != secretPath {
		t.Fatalf("Send = %+v", res)
	}
	ts.assertClean(t, res)
	if s := target.String(); strings.Contains(s, "SECRET") || !strings.Contains(s, "$SLACK_URL") {
		t.Errorf("String() = %q", s)
	}
	ts.env["SLACK_URL"] = "ftp://example.invalid" + secretPath
	res = ts.Send(context.Background(), target, sampleEvent())
	if res.Err == nil {
		t.Fatal("an ftp URL was accepted")
	}
	ts.assertClean(t, res)
}

func TestSendMissingSecretHeader(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	ts := newTestSender()
	res := ts.Send(context.Background(), Target{Name: "ops", URL: rcv.srv.URL,
		SecretHeaders: map[string]string{"Authorization": "NOT_SET"}}, sampleEvent())
	if res.Err == nil || len(rcv.requests()) != 0 || !strings.Contains(res.Err.Error(), "NOT_SET") {
		t.Fatalf("Send = %+v", res)
	}
	ts.env["BAD"] = "a\r\nX-Injected: 1"
	res = ts.Send(context.Background(), Target{Name: "ops", URL: rcv.srv.URL,
		SecretHeaders: map[string]string{"Authorization": "BAD"}}, sampleEvent())
	if res.Err == nil || len(rcv.requests()) != 0 || strings.Contains(res.Err.Error(), "Injected") {
		t.Fatalf("header injection: %+v", res)
	}
}

func TestSendEventFilter(t *testing.T) {
	rcv := newReceiver(t, http.StatusOK)
	ts := newTestSender()
	target := Target{Name: "ops", URL: rcv.srv.URL, Events: []string{EventBreakerOpen}}
	results := ts.SendAll(context.Background(), []Target{target}, sampleEvent())
	if len(results) != 1 || !results[0].Skipped || results[0].Err != nil || len(rcv.requests()) != 0 {
		t.Fatalf("results %+v", results)
	}
	ev := sampleEvent()
	ev.Event = EventBreakerOpen
	ev.Breaker = &Breaker{Open: true, Since: ev.Time, Reason: "3 failed verifications within 6h0m0s"}
	results = ts.SendAll(context.Background(), []Target{target}, ev)
	if results[0].Skipped || results[0].Err != nil || len(rcv.requests()) != 1 {
		t.Fatalf("results %+v", results)
	}
	var m struct {
		Text    string
		Breaker Breaker
	}
	if err := json.Unmarshal(rcv.requests()[0].body, &m); err != nil {
		t.Fatal(err)
	}
	if !m.Breaker.Open || !strings.Contains(m.Text, "--reset-breaker") {
		t.Errorf("breaker event: %+v", m)
	}
}

func TestTextEscapesAndBounds(t *testing.T) {
	ev := sampleEvent()
	ev.Items = nil
	for i := 0; i < MaxItemsInText+5; i++ {
		ev.Items = append(ev.Items, Item{Status: ItemHeld, ActionID: fmt.Sprintf("a%d", i), Target: "<!channel>\n@here", Reason: "x & y"})
	}
	txt := Text(ev)
	if strings.Contains(txt, "<!channel>") || !strings.Contains(txt, "&lt;!channel&gt;") || !strings.Contains(txt, "x &amp; y") {
		t.Errorf("not escaped:\n%s", txt)
	}
	if strings.Contains(txt, "\n@here") {
		t.Errorf("a newline inside a value survived:\n%s", txt)
	}
	if !strings.Contains(txt, "and 5 more") || strings.Contains(txt, fmt.Sprintf("a%d ", MaxItemsInText)) {
		t.Errorf("item list not bounded:\n%s", txt)
	}
	if long := clean(strings.Repeat("x", 10000)); len(long) > 600 {
		t.Errorf("clean does not bound length: %d", len(long))
	}
}

func TestPayloadEmptyItemsIsArray(t *testing.T) {
	b, err := Payload(Event{Event: EventError, Forest: "f"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"items":[]`) || !strings.HasPrefix(string(b), `{"text":`) {
		t.Errorf("payload %s", b)
	}
}

func TestTargetValidate(t *testing.T) {
	ok := Target{Name: "ops", URL: "https://hooks.example.net/x"}
	cases := []struct {
		name string
		mod  func(*Target)
		want string // "" = valid
	}{
		{"valid", func(*Target) {}, ""},
		{"valid env url", func(t *Target) { t.URL, t.URLEnv = "", "SLACK_URL" }, ""},
		{"valid loopback http with secret", func(t *Target) {
			t.URL = "http://127.0.0.1:8080/x"
			t.SecretHeaders = map[string]string{"Authorization": "TOK"}
		}, ""},
		{"bad name", func(t *Target) { t.Name = "a b" }, "name"},
		{"no url", func(t *Target) { t.URL = "" }, "set url or url_env"},
		{"both urls", func(t *Target) { t.URLEnv = "X" }, "not both"},
		{"bad env name", func(t *Target) { t.URL, t.URLEnv = "", "1X" }, "not an environment variable name"},
		{"ftp", func(t *Target) { t.URL = "ftp://x/y" }, "http"},
		{"no host", func(t *Target) { t.URL = "https:///x" }, "no host"},
		{"userinfo", func(t *Target) { t.URL = "https://u:p@h/x" }, "user information"},
		{"http secret remote", func(t *Target) {
			t.URL = "http://hooks.example.net/x"
			t.SecretHeaders = map[string]string{"Authorization": "TOK"}
		}, "plain http"},
		{"reserved header", func(t *Target) { t.Headers = map[string]string{"Content-Type": "text/plain"} }, "not an allowed header"},
		{"crlf header", func(t *Target) { t.Headers = map[string]string{"X-A": "a\r\nb"} }, "line break"},
		{"dup header", func(t *Target) {
			t.Headers = map[string]string{"X-A": "a"}
			t.SecretHeaders = map[string]string{"X-A": "TOK"}
		}, "set twice"},
		{"bad secret env", func(t *Target) { t.SecretHeaders = map[string]string{"X-A": "$TOK"} }, "not an environment variable name"},
		{"attempts", func(t *Target) { t.Attempts = 99 }, "attempts"},
		{"timeout", func(t *Target) { t.Timeout = time.Hour }, "timeout"},
		{"event", func(t *Target) { t.Events = []string{"everything"} }, "unknown event"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tg := ok
			c.mod(&tg)
			err := tg.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Errorf("Validate: %v", err)
			case c.want != "" && err == nil:
				t.Errorf("Validate accepted %+v", tg)
			case c.want != "" && !strings.Contains(err.Error(), c.want):
				t.Errorf("Validate: %v; want it to mention %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "u:p") {
				t.Errorf("error shows user information: %v", err)
			}
		})
	}
}

// A target without an events list receives every event but "warning": that one is opt-in
// (nothing is broken yet; a pager configured before it existed must not start ringing).
func TestTargetWants(t *testing.T) {
	all := Target{Name: "all"}
	for _, ev := range Events {
		if got, want := all.Wants(ev), ev != EventWarning; got != want {
			t.Errorf("no events list: Wants(%q) = %v, want %v", ev, got, want)
		}
	}
	some := Target{Name: "some", URL: "https://hooks.example.net/x", Events: []string{EventHeld, EventWarning}}
	for _, ev := range Events {
		if got, want := some.Wants(ev), ev == EventHeld || ev == EventWarning; got != want {
			t.Errorf("events [held warning]: Wants(%q) = %v, want %v", ev, got, want)
		}
	}
	if err := some.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://hooks.slack.com/services/T/B/X": "https://hooks.slack.com/…",
		"https://h.example:8443":                 "https://h.example:8443",
		"https://h.example/?token=x":             "https://h.example/…",
		"https://u:p@h.example/x":                "https://h.example/…",
		"not a url":                              "(invalid URL)",
		"file:///etc/passwd":                     "(invalid URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"":     0,
		"0":    0,
		"-5":   0,
		"3":    3 * time.Second,
		"9999": maxRetryAfter,
		"soon": 0,
		now.Add(10 * time.Second).Format(http.TimeFormat): 10 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", in, got, want)
		}
	}
}
