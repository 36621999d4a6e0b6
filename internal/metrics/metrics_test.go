package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var runEnd = time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)

func sampleRun() Run {
	return Run{
		End:            runEnd,
		GatherDuration: 1500 * time.Millisecond,
		FailingLinks:   map[string]int{"source_cname_not_registered": 2, "incomplete": 1},
		Actions:        map[string]int{OutcomeSucceeded: 2, OutcomeRefused: 1, "bogus": 1},
		Held:           map[string]int{"cooldown": 1},
		Warnings:       map[string]int{"link_address_latent": 2},
		BreakerOpen:    false,
		ExitCode:       3,
	}
}

func parse(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parsing the exposition: %v", err)
	}
	return mfs
}

// value returns the value of the sample of family name whose labels include want.
func value(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	mf := mfs[name]
	if mf == nil {
		t.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range mf.GetMetric() {
		labels := map[string]string{}
		for _, lp := range m.GetLabel() {
			labels[lp.GetName()] = lp.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			return m.GetCounter().GetValue()
		case dto.MetricType_GAUGE:
			return m.GetGauge().GetValue()
		}
		t.Fatalf("%s: unexpected type %v", name, mf.GetType())
	}
	t.Fatalf("%s: no sample with labels %v", name, want)
	return 0
}

func checkRun(t *testing.T, mfs map[string]*dto.MetricFamily, forest string) {
	t.Helper()
	f := map[string]string{}
	if forest != "" {
		f["forest"] = forest
	}
	with := func(k, v string) map[string]string {
		m := map[string]string{k: v}
		for a, b := range f {
			m[a] = b
		}
		return m
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"fix8524_failing_links", with("decision", "source_cname_not_registered"), 2},
		{"fix8524_failing_links", with("decision", "incomplete"), 1},
		{"fix8524_warnings", with("warning", "link_address_latent"), 2},
		{"fix8524_heal_actions_total", with("outcome", "succeeded"), 2},
		{"fix8524_heal_actions_total", with("outcome", "refused"), 1},
		{"fix8524_heal_actions_total", with("outcome", "other"), 1},
		{"fix8524_heal_actions_total", with("outcome", "failed"), 0},
		{"fix8524_heal_last_run_actions", with("outcome", "succeeded"), 2},
		{"fix8524_heal_last_run_held", with("reason", "cooldown"), 1},
		{"fix8524_heal_breaker_open", f, 0},
		{"fix8524_gather_duration_seconds", f, 1.5},
		{"fix8524_heal_runs_total", with("exit_code", "3"), 1},
		{"fix8524_heal_last_run_exit_code", f, 3},
		{"fix8524_heal_last_run_timestamp_seconds", f, float64(runEnd.Unix())},
		{"fix8524_heal_last_success_timestamp_seconds", f, float64(runEnd.Unix())},
	}
	for _, c := range checks {
		if got := value(t, mfs, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if mfs["fix8524_heal_actions_total"].GetType() != dto.MetricType_COUNTER ||
		mfs["fix8524_failing_links"].GetType() != dto.MetricType_GAUGE {
		t.Error("wrong metric types")
	}
	for name := range mfs {
		if strings.HasPrefix(name, "go_") || strings.HasPrefix(name, "process_") {
			t.Errorf("runtime metric %s without RuntimeMetrics", name)
		}
	}
}

func TestScrapeHTTP(t *testing.T) {
	m, err := New(Options{Forest: "contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	m.RecordRun(sampleRun())

	ln, err := Listen("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Serve(ctx, ln) }()
	base := "http://" + ln.Addr().String()

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type %q", ct)
	}
	checkRun(t, parse(t, bytes.NewReader(body)), "contoso.com")

	// A second run replaces the last-run gauges and advances the counters.
	r2 := sampleRun()
	r2.End = runEnd.Add(15 * time.Minute)
	r2.FailingLinks = map[string]int{}
	r2.Actions = map[string]int{OutcomeFailed: 1}
	r2.Held = nil
	r2.BreakerOpen = true
	r2.ExitCode = 1
	m.RecordRun(r2)
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, resp.Body)
	resp.Body.Close()
	fl := map[string]string{"forest": "contoso.com"}
	if mf := mfs["fix8524_failing_links"]; mf != nil && len(mf.GetMetric()) != 0 {
		t.Errorf("stale failing links kept: %v", mf)
	}
	if mf := mfs["fix8524_heal_last_run_held"]; mf != nil && len(mf.GetMetric()) != 0 {
		t.Errorf("stale held kept: %v", mf)
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"fix8524_heal_actions_total", map[string]string{"outcome": "succeeded"}, 2},
		{"fix8524_heal_actions_total", map[string]string{"outcome": "failed"}, 1},
		{"fix8524_heal_last_run_actions", map[string]string{"outcome": "succeeded"}, 0},
		{"fix8524_heal_last_run_actions", map[string]string{"outcome": "failed"}, 1},
		{"fix8524_heal_breaker_open", fl, 1},
		{"fix8524_heal_runs_total", map[string]string{"exit_code": "1"}, 1},
		{"fix8524_heal_runs_total", map[string]string{"exit_code": "3"}, 1},
		{"fix8524_heal_last_run_timestamp_seconds", fl, float64(r2.End.Unix())},
		// exit code 1: the last success stays at the first run
		{"fix8524_heal_last_success_timestamp_seconds", fl, float64(runEnd.Unix())},
	} {
		if got := value(t, mfs, c.name, c.labels); got != c.want {
			t.Errorf("after run 2: %s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}

	resp, err = http.Get(base + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/ status %d", resp.StatusCode)
	}
	resp, err = http.Get(base + "/other")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("/other status %d", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
	if _, err := http.Get(base + "/metrics"); err == nil {
		t.Error("the server still answers after shutdown")
	}
}

func TestOwnRegistry(t *testing.T) {
	a, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{RuntimeMetrics: true}) // a second instance must not collide
	if err != nil {
		t.Fatal(err)
	}
	a.RecordRun(sampleRun())
	mfs, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if strings.HasPrefix(mf.GetName(), "fix8524_") {
			t.Errorf("%s is in the global default registry", mf.GetName())
		}
	}
	text, err := b.Text()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(text), "go_goroutines") {
		t.Error("RuntimeMetrics did not add the Go collector")
	}
	if strings.Contains(string(text), `fix8524_heal_last_run_exit_code 3`) {
		t.Error("instances share state")
	}
}

func TestCheckListenAddress(t *testing.T) {
	cases := []struct {
		addr   string
		remote bool
		want   string // "" = refused
	}{
		{"127.0.0.1:9524", false, "127.0.0.1:9524"},
		{"127.0.0.2:9524", false, "127.0.0.2:9524"},
		{"localhost:9524", false, "127.0.0.1:9524"},
		{"[::1]:9524", false, "[::1]:9524"},
		{":9524", false, ""},
		{"0.0.0.0:9524", false, ""},
		{"[::]:9524", false, ""},
		{"192.0.2.10:9524", false, ""},
		{"metrics.example.net:9524", false, ""},
		{"127.0.0.1", false, ""},
		{"127.0.0.1:99999", false, ""},
		{"0.0.0.0:9524", true, "0.0.0.0:9524"},
		{":9524", true, ":9524"},
	}
	for _, c := range cases {
		got, err := CheckListenAddress(c.addr, c.remote)
		if c.want == "" {
			if err == nil {
				t.Errorf("CheckListenAddress(%q, %v) = %q, want a refusal", c.addr, c.remote, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("CheckListenAddress(%q, %v) = %q, %v; want %q", c.addr, c.remote, got, err, c.want)
		}
	}
	_, err := Listen("0.0.0.0:0", false)
	if !errors.Is(err, ErrNotLoopback) || !strings.Contains(err.Error(), "--metrics-allow-remote") {
		t.Errorf("Listen(0.0.0.0:0) = %v", err)
	}
}

func TestWriteTextfile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fix8524.prom")
	m, err := New(Options{Forest: "contoso.com"})
	if err != nil {
		t.Fatal(err)
	}
	m.RecordRun(sampleRun())
	if err := m.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	checkRun(t, parse(t, f), "contoso.com")
	f.Close()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644 (node_exporter runs as another user)", st.Mode().Perm())
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), "# HELP fix8524_heal_breaker_open") || !strings.Contains(string(raw), "# TYPE fix8524_heal_actions_total counter") {
		t.Errorf("textfile lacks HELP/TYPE lines:\n%s", raw)
	}

	// Overwrite: the file is replaced, no temporary file is left behind.
	r := sampleRun()
	r.ExitCode = 0
	m.RecordRun(r)
	if err := m.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "fix8524.prom" {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only fix8524.prom", names)
	}
	raw, _ = os.ReadFile(path)
	if !strings.Contains(string(raw), `fix8524_heal_last_run_exit_code{forest="contoso.com"} 0`) {
		t.Errorf("not overwritten:\n%s", raw)
	}

	if err := m.WriteTextfile(filepath.Join(dir, "fix8524.txt")); err == nil {
		t.Error("a name without .prom was accepted")
	}
	missing := filepath.Join(dir, "nope", "fix8524.prom")
	if err := m.WriteTextfile(missing); err == nil {
		t.Error("a missing directory was accepted")
	}
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() != 0 { // root writes anywhere
		if err := m.WriteTextfile(filepath.Join(ro, "x.prom")); err == nil {
			t.Error("a read-only directory was accepted")
		}
	}
	// A target that cannot be replaced (a directory) fails and leaves no temporary file.
	blocker := filepath.Join(dir, "dir.prom")
	if err := os.Mkdir(blocker, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := m.WriteTextfile(blocker); err == nil {
		t.Error("renaming over a directory succeeded")
	}
	ents, _ = os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestLastSuccessCarriesOver(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "fix8524.prom")
	if ts, err := LastSuccessFromTextfile(path); err != nil || !ts.IsZero() {
		t.Fatalf("missing file: %v, %v", ts, err)
	}
	m1, _ := New(Options{})
	m1.RecordRun(sampleRun()) // exit 3: a success
	if err := m1.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	ts, err := LastSuccessFromTextfile(path)
	if err != nil || !ts.Equal(runEnd) {
		t.Fatalf("LastSuccessFromTextfile = %v, %v; want %v", ts, err, runEnd)
	}
	// The next process fails; seeded, it keeps the previous success time.
	m2, _ := New(Options{})
	m2.SetLastSuccess(ts)
	r := sampleRun()
	r.End = runEnd.Add(time.Hour)
	r.ExitCode = 1
	m2.RecordRun(r)
	if err := m2.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	mfs := parse(t, f)
	if got := value(t, mfs, "fix8524_heal_last_success_timestamp_seconds", nil); got != float64(runEnd.Unix()) {
		t.Errorf("last success %v, want %v", got, runEnd.Unix())
	}
	if got := value(t, mfs, "fix8524_heal_last_run_timestamp_seconds", nil); got != float64(r.End.Unix()) {
		t.Errorf("last run %v", got)
	}
	// SetLastSuccess never moves backwards.
	m2.SetLastSuccess(runEnd.Add(-24 * time.Hour))
	text, _ := m2.Text()
	if got := value(t, parse(t, bytes.NewReader(text)), "fix8524_heal_last_success_timestamp_seconds", nil); got != float64(runEnd.Unix()) {
		t.Errorf("moved backwards: %v", got)
	}

	bad := filepath.Join(dir, "bad.prom")
	if err := os.WriteFile(bad, []byte("this is { not metrics\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LastSuccessFromTextfile(bad); err == nil {
		t.Error("garbage parsed")
	}
}

func TestLabelValuesAreSanitised(t *testing.T) {
	m, _ := New(Options{Forest: "bad\xffforest"})
	r := sampleRun()
	r.FailingLinks = map[string]int{"x\xff": 1, strings.Repeat("d", 500): 1}
	m.RecordRun(r) // must not panic
	text, err := m.Text()
	if err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, bytes.NewReader(text))
	if len(mfs["fix8524_failing_links"].GetMetric()) != 2 {
		t.Errorf("failing links: %v", mfs["fix8524_failing_links"])
	}
}

// TestWarningsGauge: fix8524_warnings holds the last run's warnings only: a warning that is no
// longer reported disappears.
func TestWarningsGauge(t *testing.T) {
	m, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	m.RecordRun(sampleRun())
	text, err := m.Text()
	if err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, bytes.NewReader(text))
	if got := value(t, mfs, "fix8524_warnings", map[string]string{"warning": "link_address_latent"}); got != 2 {
		t.Errorf("fix8524_warnings = %v, want 2", got)
	}
	if mfs["fix8524_warnings"].GetType() != dto.MetricType_GAUGE {
		t.Error("fix8524_warnings is not a gauge")
	}
	r := sampleRun()
	r.Warnings = map[string]int{"other": 1}
	m.RecordRun(r)
	if text, err = m.Text(); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(text), `warning="link_address_latent"`) || !strings.Contains(string(text), `fix8524_warnings{warning="other"} 1`) {
		t.Errorf("warnings of an earlier run remain, or the new one is missing:\n%s", text)
	}
}
