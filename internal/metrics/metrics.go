package metrics

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/fix8524/fix8524/internal/atomicfile"
	"github.com/fix8524/fix8524/internal/inputfile"
)

// DefaultListen is the loop mode's default metrics address.
const DefaultListen = "127.0.0.1:9524"

// Action outcomes used as the outcome label.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomePending   = "pending"
	OutcomeError     = "error"
	OutcomeHeld      = "held"
	OutcomeRefused   = "refused"
	OutcomeOther     = "other"
)

var outcomes = []string{OutcomeSucceeded, OutcomeFailed, OutcomePending, OutcomeError, OutcomeHeld, OutcomeRefused}

// Options configure New.
type Options struct {
	// Forest becomes a constant "forest" label on every metric (empty: none).
	Forest string
	// RuntimeMetrics adds the Go runtime and process collectors (useful in loop mode; noise in
	// a textfile).
	RuntimeMetrics bool
}

// Metrics holds heal's metrics in a registry of its own. Methods are safe for concurrent use.
type Metrics struct {
	reg            *prometheus.Registry
	failingLinks   *prometheus.GaugeVec
	warnings       *prometheus.GaugeVec
	actions        *prometheus.CounterVec
	lastRunActions *prometheus.GaugeVec
	held           *prometheus.GaugeVec
	breaker        prometheus.Gauge
	gatherDuration prometheus.Gauge
	runs           *prometheus.CounterVec
	lastExit       prometheus.Gauge
	lastRun        prometheus.Gauge
	lastSuccess    prometheus.Gauge
}

// New creates the metrics and their registry.
func New(opts Options) (*Metrics, error) {
	var cl prometheus.Labels
	if opts.Forest != "" {
		cl = prometheus.Labels{"forest": labelValue(opts.Forest)}
	}
	gauge := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: cl})
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		failingLinks: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fix8524_failing_links",
			Help: "Failing replication links in the last run, by the decision that explains them.", ConstLabels: cl}, []string{"decision"}),
		warnings: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fix8524_warnings",
			Help: "Partnerships whose links replicate but will fail later, in the last run, by the playbook's warning.", ConstLabels: cl}, []string{"warning"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fix8524_heal_actions_total",
			Help: "Actions considered by heal since the process started, by outcome.", ConstLabels: cl}, []string{"outcome"}),
		lastRunActions: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fix8524_heal_last_run_actions",
			Help: "Actions considered by heal in the last run, by outcome.", ConstLabels: cl}, []string{"outcome"}),
		held: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "fix8524_heal_last_run_held",
			Help: "Candidate actions held in the last run, by hold reason.", ConstLabels: cl}, []string{"reason"}),
		breaker:        gauge("fix8524_heal_breaker_open", "1 while the circuit breaker is open (no unattended change until a human resets it)."),
		gatherDuration: gauge("fix8524_gather_duration_seconds", "How long the last gather of facts took."),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "fix8524_heal_runs_total",
			Help: "Heal runs since the process started, by exit code.", ConstLabels: cl}, []string{"exit_code"}),
		lastExit:    gauge("fix8524_heal_last_run_exit_code", "Exit code of the last heal run (0 healthy or healed, 1 error, 2 human needed, 3 refused by a guardrail)."),
		lastRun:     gauge("fix8524_heal_last_run_timestamp_seconds", "When the last heal run ended, as Unix time."),
		lastSuccess: gauge("fix8524_heal_last_success_timestamp_seconds", "When the last heal run that completed without error ended, as Unix time."),
	}
	cs := []prometheus.Collector{m.failingLinks, m.warnings, m.actions, m.lastRunActions, m.held, m.breaker, m.gatherDuration,
		m.runs, m.lastExit, m.lastRun, m.lastSuccess}
	if opts.RuntimeMetrics {
		cs = append(cs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: registering a collector: %w", err)
		}
	}
	// Outcomes exist from the start, at zero, so that rate() and absent() behave.
	for _, o := range outcomes {
		m.actions.WithLabelValues(o)
		m.lastRunActions.WithLabelValues(o)
	}
	return m, nil
}

// Registry returns the registry (a prometheus.Gatherer).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Run is what one heal run reports.
type Run struct {
	End            time.Time
	GatherDuration time.Duration
	// FailingLinks counts failing links by decision name.
	FailingLinks map[string]int
	// Warnings counts partnerships by the warning reported for them (plan.Plan.Warnings).
	Warnings map[string]int
	// Actions counts actions by outcome (Outcome* constants).
	Actions map[string]int
	// Held counts held candidates by hold code.
	Held        map[string]int
	BreakerOpen bool
	ExitCode    int
}

// RecordRun sets every metric from one run: the last-run gauges are replaced, the counters
// advance. A run with exit code 0, 2 or 3 counts as a success for the last-success time.
func (m *Metrics) RecordRun(r Run) {
	m.failingLinks.Reset()
	for d, n := range r.FailingLinks {
		if g, err := m.failingLinks.GetMetricWithLabelValues(labelValue(d)); err == nil {
			g.Add(float64(n))
		}
	}
	for _, o := range outcomes {
		m.lastRunActions.WithLabelValues(o).Set(0)
	}
	m.lastRunActions.DeleteLabelValues(OutcomeOther)
	m.warnings.Reset()
	for w, n := range r.Warnings {
		if g, err := m.warnings.GetMetricWithLabelValues(labelValue(w)); err == nil {
			g.Add(float64(n))
		}
	}
	for o, n := range r.Actions {
		if n <= 0 {
			continue
		}
		o = outcomeLabel(o)
		m.actions.WithLabelValues(o).Add(float64(n))
		m.lastRunActions.WithLabelValues(o).Add(float64(n))
	}
	m.held.Reset()
	for h, n := range r.Held {
		if g, err := m.held.GetMetricWithLabelValues(labelValue(h)); err == nil {
			g.Add(float64(n))
		}
	}
	m.SetBreakerOpen(r.BreakerOpen)
	m.gatherDuration.Set(r.GatherDuration.Seconds())
	m.runs.WithLabelValues(strconv.Itoa(r.ExitCode)).Inc()
	m.lastExit.Set(float64(r.ExitCode))
	end := r.End
	if end.IsZero() {
		end = time.Now()
	}
	m.lastRun.Set(unixSeconds(end))
	if r.ExitCode != 1 {
		m.lastSuccess.Set(unixSeconds(end))
	}
}

// SetBreakerOpen sets the breaker gauge (also after a reset between runs).
func (m *Metrics) SetBreakerOpen(open bool) {
	if open {
		m.breaker.Set(1)
	} else {
		m.breaker.Set(0)
	}
}

// SetLastSuccess seeds the last-success time (one-shot mode: from the previous textfile).
// It never moves the time backwards.
func (m *Metrics) SetLastSuccess(t time.Time) {
	if t.IsZero() {
		return
	}
	v := unixSeconds(t)
	var cur dto.Metric
	if err := m.lastSuccess.Write(&cur); err == nil && cur.GetGauge().GetValue() >= v {
		return
	}
	m.lastSuccess.Set(v)
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }

func outcomeLabel(o string) string {
	for _, k := range outcomes {
		if o == k {
			return o
		}
	}
	return OutcomeOther
}

// labelValue makes a label value valid and bounded.
func labelValue(s string) string {
	s = strings.ToValidUTF8(s, "?")
	if len(s) > 128 {
		s = strings.ToValidUTF8(s[:128], "")
	}
	return s
}

// --- HTTP ---

// ErrNotLoopback is returned by Listen for a non-loopback address without allowRemote.
var ErrNotLoopback = errors.New("not a loopback address")

// CheckListenAddress validates a host:port listen address and returns it normalised
// ("localhost" becomes 127.0.0.1). Without allowRemote only loopback IPs and localhost pass.
func CheckListenAddress(addr string, allowRemote bool) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("metrics listen address %q: want host:port, like %s: %w", addr, DefaultListen, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("metrics listen address %q: invalid port", addr)
	}
	if strings.EqualFold(host, "localhost") {
		host = "127.0.0.1"
	}
	if allowRemote {
		return net.JoinHostPort(host, port), nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		what := host
		if host == "" {
			what = "every interface"
		}
		return "", fmt.Errorf("metrics listen address %q (%s): %w; the endpoint has no authentication, "+
			"so only 127.0.0.1 or [::1] are allowed unless --metrics-allow-remote is given", addr, what, ErrNotLoopback)
	}
	return net.JoinHostPort(host, port), nil
}

// Listen opens a TCP listener for Serve after CheckListenAddress.
func Listen(addr string, allowRemote bool) (net.Listener, error) {
	a, err := CheckListenAddress(addr, allowRemote)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", a)
	if err != nil {
		return nil, fmt.Errorf("metrics: listening on %s: %w", a, err)
	}
	return ln, nil
}

// Handler serves /metrics (and a one-line page at /).
func (m *Metrics) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 4,
		Timeout:             10 * time.Second,
	}))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = io.WriteString(w, "fix8524 heal metrics: /metrics\n")
	})
	return mux
}

// Serve answers HTTP on ln until ctx ends, then shuts down gracefully (5s at most). It returns
// nil after a shutdown caused by ctx.
func (m *Metrics) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           m.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    16 << 10,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics server: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("metrics server shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics server: %w", err)
	}
	return nil
}

// --- textfile ---

// Text renders the metrics in the Prometheus text exposition format.
func (m *Metrics) Text() ([]byte, error) {
	mfs, err := m.reg.Gather()
	if err != nil {
		return nil, fmt.Errorf("metrics: gathering: %w", err)
	}
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("metrics: encoding %s: %w", mf.GetName(), err)
		}
	}
	return buf.Bytes(), nil
}

// WriteTextfile writes the metrics atomically to path, which must end in ".prom": a hidden
// temporary file in the same directory, synced, mode 0644, renamed over path.
func (m *Metrics) WriteTextfile(path string) (err error) {
	if filepath.Ext(path) != ".prom" {
		return fmt.Errorf("metrics textfile %q: the name must end in .prom (node_exporter reads only those)", path)
	}
	data, err := m.Text()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, data, 0o644); err != nil {
		return fmt.Errorf("metrics textfile: %w", err)
	}
	return nil
}

// LastSuccessFromTextfile reads fix8524_heal_last_success_timestamp_seconds from a textfile
// written earlier. A missing file gives the zero time and no error.
func LastSuccessFromTextfile(path string) (time.Time, error) {
	f, err := inputfile.Open(path, "metrics textfile", 4<<20)
	if errors.Is(err, os.ErrNotExist) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		return time.Time{}, fmt.Errorf("metrics textfile %s: %w", path, err)
	}
	mf := mfs["fix8524_heal_last_success_timestamp_seconds"]
	if mf == nil || len(mf.GetMetric()) == 0 {
		return time.Time{}, nil
	}
	v := mf.GetMetric()[0].GetGauge().GetValue()
	if v <= 0 || v > 1e11 {
		return time.Time{}, nil
	}
	sec := int64(v)
	return time.Unix(sec, int64((v-float64(sec))*1e9)).UTC(), nil
}
