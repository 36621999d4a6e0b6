package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// PayloadVersion is the version of the JSON body. It changes when a field changes meaning or
// disappears; adding a field does not change it.
const PayloadVersion = 1

// Event kinds.
const (
	EventHeld               = "held"                // items were held for a human
	EventVerificationFailed = "verification_failed" // an applied action failed its verification
	EventBreakerOpen        = "breaker_open"        // the circuit breaker is open: no unattended changes
	EventRefused            = "refused"             // guardrails (cooldown, caps, window) held items back
	EventError              = "error"               // the run failed
	// EventWarning: links that replicate now will fail later (the plan's warnings). Sent on its
	// own, besides any other event of the run, and only to targets that list it.
	EventWarning = "warning"
)

// Events lists every event kind, in a stable order.
var Events = []string{EventHeld, EventVerificationFailed, EventBreakerOpen, EventRefused, EventError, EventWarning}

// Item statuses.
const (
	ItemHeld    = "held"    // needs a human: not allowed unattended, high risk, blocked
	ItemRefused = "refused" // held back by a guardrail (cooldown, caps, breaker, window)
	ItemFailed  = "failed"  // applied, but verification failed
	ItemPending = "pending" // applied, verification did not conclude
	ItemError   = "error"   // could not be decided or applied
	ItemWarning = "warning" // a link that replicates now and will fail (EventWarning only)
)

// Defaults and bounds of delivery.
const (
	DefaultTimeout  = 10 * time.Second
	MaxTimeout      = 2 * time.Minute
	DefaultAttempts = 3
	MaxAttempts     = 10
	// MaxItemsInText bounds the items listed in the text field; the JSON items list is complete.
	MaxItemsInText = 20
)

// Event is one notification.
type Event struct {
	Version  int       `json:"version"`
	Event    string    `json:"event"`
	Forest   string    `json:"forest"`
	RunID    string    `json:"run_id"`
	Time     time.Time `json:"time"`
	Host     string    `json:"host,omitempty"`
	PlanPath string    `json:"plan_path,omitempty"`
	ExitCode int       `json:"exit_code"`
	Summary  string    `json:"summary,omitempty"`
	Items    []Item    `json:"items"`
	Breaker  *Breaker  `json:"breaker,omitempty"`
}

// Item is one held, refused or failed action, a link a human must look at, or (EventWarning)
// a link that will fail.
type Item struct {
	Status   string `json:"status"`         // Item* constant
	Code     string `json:"code,omitempty"` // machine-readable reason (policy hold codes, "verification_failed")
	Finding  string `json:"finding,omitempty"`
	Action   string `json:"action,omitempty"`
	ActionID string `json:"action_id,omitempty"`
	Target   string `json:"target,omitempty"` // the DC
	Risk     string `json:"risk,omitempty"`
	Reason   string `json:"reason"`
}

// Breaker is the circuit breaker's state when it matters to the event.
type Breaker struct {
	Open   bool      `json:"open"`
	Since  time.Time `json:"since,omitempty"`
	Reason string    `json:"reason,omitempty"`
}

// body is the wire form: text first, so a human reading the raw JSON sees it first.
type body struct {
	Text string `json:"text"`
	Event
}

// Payload renders e as the JSON body of a webhook POST, with the top-level text field.
func Payload(e Event) ([]byte, error) {
	if e.Version == 0 {
		e.Version = PayloadVersion
	}
	if e.Items == nil {
		e.Items = []Item{}
	}
	b, err := json.Marshal(body{Text: Text(e), Event: e})
	if err != nil {
		return nil, fmt.Errorf("notify: encoding the event: %w", err)
	}
	return b, nil
}

// Text renders e as the plain-text message chat webhooks display.
func Text(e Event) string {
	var b strings.Builder
	forest := e.Forest
	if forest == "" {
		forest = "(unknown forest)"
	}
	fmt.Fprintf(&b, "fix8524 heal on %s: %s", clean(forest), headline(e))
	if e.Summary != "" {
		fmt.Fprintf(&b, " (%s)", clean(e.Summary))
	}
	b.WriteString("\n")
	if e.Breaker != nil && e.Breaker.Open {
		b.WriteString("Circuit breaker OPEN")
		if !e.Breaker.Since.IsZero() {
			fmt.Fprintf(&b, " since %s", e.Breaker.Since.UTC().Format(time.RFC3339))
		}
		if e.Breaker.Reason != "" {
			fmt.Fprintf(&b, ": %s", clean(e.Breaker.Reason))
		}
		b.WriteString(". No unattended change until a human runs: fix8524 heal --reset-breaker --reason TEXT\n")
	}
	for i, it := range e.Items {
		if i == MaxItemsInText {
			fmt.Fprintf(&b, "… and %d more (see the items field or the plan)\n", len(e.Items)-i)
			break
		}
		what := it.ActionID
		if what == "" {
			what = strings.Trim(it.Finding+"/"+it.Action, "/")
		}
		fmt.Fprintf(&b, "- %s %s", strings.ToUpper(clean(it.Status)), clean(what))
		if it.Target != "" {
			fmt.Fprintf(&b, " on %s", clean(it.Target))
		}
		if it.Risk != "" {
			fmt.Fprintf(&b, " (%s risk)", clean(it.Risk))
		}
		if it.Reason != "" {
			fmt.Fprintf(&b, ": %s", clean(it.Reason))
		}
		b.WriteString("\n")
	}
	if e.PlanPath != "" {
		fmt.Fprintf(&b, "Plan for review: %s\n", clean(e.PlanPath))
	}
	if e.RunID != "" {
		fmt.Fprintf(&b, "Run %s", clean(e.RunID))
		if e.Host != "" {
			fmt.Fprintf(&b, " on %s", clean(e.Host))
		}
		if !e.Time.IsZero() {
			fmt.Fprintf(&b, " at %s", e.Time.UTC().Format(time.RFC3339))
		}
		fmt.Fprintf(&b, ", exit code %d\n", e.ExitCode)
	}
	return strings.TrimRight(b.String(), "\n")
}

func headline(e Event) string {
	n := len(e.Items)
	plural := func(n int, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.Itoa(n) + " " + many
	}
	switch e.Event {
	case EventHeld:
		return plural(n, "item needs a human", "items need a human")
	case EventVerificationFailed:
		return plural(n, "action failed verification", "actions failed verification")
	case EventBreakerOpen:
		return "circuit breaker open, unattended healing stopped"
	case EventRefused:
		return plural(n, "item held back by guardrails", "items held back by guardrails")
	case EventError:
		return "the run failed"
	case EventWarning:
		return plural(n, "link replicates now but will fail", "links replicate now but will fail")
	}
	return clean(e.Event)
}

// clean makes a value safe for chat text: no control characters (newlines become spaces),
// Slack's three special characters escaped, and a bounded length.
func clean(s string) string {
	const max = 500
	var b strings.Builder
	n := 0
	for _, r := range s {
		if n >= max {
			b.WriteString("…")
			break
		}
		n++
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\n' || r == '\r' || r == '\t':
			b.WriteByte(' ')
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || r == unicode.ReplacementChar:
			b.WriteRune('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Target is one webhook receiver. It holds names of environment variables, never secret
// values.
type Target struct {
	Name string
	// URL is the webhook URL when it is not a secret. Exactly one of URL and URLEnv is set.
	URL string
	// URLEnv names the environment variable that holds the URL (Slack and Teams webhook URLs
	// carry their secret in the path).
	URLEnv string
	// Headers are extra headers whose values are not secret.
	Headers map[string]string
	// SecretHeaders maps a header name to the environment variable holding its value.
	SecretHeaders map[string]string
	// Timeout bounds each attempt (0: DefaultTimeout).
	Timeout time.Duration
	// Attempts is the number of attempts in all, retries included (0: DefaultAttempts).
	Attempts int
	// Events restricts the event kinds sent to this target (empty: all but EventWarning, which
	// a target receives only when it lists it).
	Events []string
}

var (
	envNameRE    = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	headerNameRE = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,128}$")
	targetNameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
)

// reservedHeaders are set by the sender and may not be overridden.
var reservedHeaders = map[string]bool{"content-type": true, "content-length": true, "host": true,
	"transfer-encoding": true, "connection": true, "user-agent": true}

// ValidEnvName reports whether s is an acceptable environment variable name.
func ValidEnvName(s string) bool { return envNameRE.MatchString(s) }

// ValidHeaderName reports whether s is an HTTP header name a target may set.
func ValidHeaderName(s string) bool {
	return headerNameRE.MatchString(s) && !reservedHeaders[strings.ToLower(s)]
}

// ValidEvent reports whether s is an event kind.
func ValidEvent(s string) bool {
	for _, e := range Events {
		if s == e {
			return true
		}
	}
	return false
}

// Validate checks a target's static configuration (not the environment).
func (t Target) Validate() error {
	if !targetNameRE.MatchString(t.Name) {
		return fmt.Errorf("notify target %q: the name must be letters, digits, '_', '.' or '-'", t.Name)
	}
	switch {
	case t.URL == "" && t.URLEnv == "":
		return fmt.Errorf("notify target %q: set url or url_env", t.Name)
	case t.URL != "" && t.URLEnv != "":
		return fmt.Errorf("notify target %q: set url or url_env, not both", t.Name)
	case t.URLEnv != "" && !ValidEnvName(t.URLEnv):
		return fmt.Errorf("notify target %q: url_env %q is not an environment variable name", t.Name, t.URLEnv)
	}
	if t.URL != "" {
		if err := checkURL(t.URL, len(t.SecretHeaders) > 0); err != nil {
			return fmt.Errorf("notify target %q: url %s: %w", t.Name, RedactURL(t.URL), err)
		}
	}
	for _, h := range sortedKeys(t.Headers) {
		if !ValidHeaderName(h) {
			return fmt.Errorf("notify target %q: header %q: not an allowed header name", t.Name, h)
		}
		if strings.ContainsAny(t.Headers[h], "\r\n\x00") {
			return fmt.Errorf("notify target %q: header %q: the value contains a line break or NUL", t.Name, h)
		}
	}
	for _, h := range sortedKeys(t.SecretHeaders) {
		if !ValidHeaderName(h) {
			return fmt.Errorf("notify target %q: secret header %q: not an allowed header name", t.Name, h)
		}
		if _, dup := t.Headers[h]; dup {
			return fmt.Errorf("notify target %q: header %q is set twice (headers and secret_headers)", t.Name, h)
		}
		if !ValidEnvName(t.SecretHeaders[h]) {
			return fmt.Errorf("notify target %q: secret header %q: %q is not an environment variable name", t.Name, h, t.SecretHeaders[h])
		}
	}
	if t.Timeout < 0 || t.Timeout > MaxTimeout {
		return fmt.Errorf("notify target %q: timeout %s: want between 1s and %s", t.Name, t.Timeout, MaxTimeout)
	}
	if t.Attempts < 0 || t.Attempts > MaxAttempts {
		return fmt.Errorf("notify target %q: attempts %d: want between 1 and %d", t.Name, t.Attempts, MaxAttempts)
	}
	for _, e := range t.Events {
		if !ValidEvent(e) {
			return fmt.Errorf("notify target %q: unknown event %q (known: %s)", t.Name, e, strings.Join(Events, ", "))
		}
	}
	return nil
}

// Wants reports whether the target receives events of kind ev.
func (t Target) Wants(ev string) bool {
	if len(t.Events) == 0 {
		return ev != EventWarning
	}
	for _, e := range t.Events {
		if e == ev {
			return true
		}
	}
	return false
}

// String names the target for people: its name and its URL reduced to scheme and host.
func (t Target) String() string {
	if t.URLEnv != "" {
		return fmt.Sprintf("%s (url from $%s)", t.Name, t.URLEnv)
	}
	return fmt.Sprintf("%s (%s)", t.Name, RedactURL(t.URL))
}

// RedactURL reduces a URL to its scheme and host, so that a secret in its path, query or user
// information is never shown: "https://hooks.slack.com/…".
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "(invalid URL)"
	}
	host := u.Host
	if strings.ContainsAny(host, "@ \t\r\n") {
		return "(invalid URL)"
	}
	if u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.User == nil {
		return u.Scheme + "://" + host
	}
	return u.Scheme + "://" + host + "/…"
}

func checkURL(raw string, secretHeaders bool) error {
	if strings.ContainsAny(raw, " \t\r\n\x00") {
		return errors.New("contains whitespace or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("not a valid URL")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("want an http:// or https:// URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("no host")
	}
	if u.User != nil {
		return errors.New("user information in the URL is not allowed: use secret_headers")
	}
	if u.Scheme == "http" && secretHeaders && !isLoopbackHost(u.Hostname()) {
		return errors.New("secret headers over plain http:// to a non-loopback host: use https://")
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

var osGetenv = os.Getenv

// Sender delivers events. The zero value works: it reads the process environment and sleeps
// for real between attempts.
type Sender struct {
	// Client is used for every attempt when set (tests); its CheckRedirect is replaced so that
	// redirects are never followed. When nil a client with the standard transport (proxy from
	// the environment, TLS verification on) is used.
	Client *http.Client
	// Getenv reads environment variables (nil: os.Getenv).
	Getenv func(string) string
	// Sleep waits between attempts (nil: a timer that honours ctx). Tests record the waits.
	Sleep func(ctx context.Context, d time.Duration) error
	// Logf receives one line per attempt and outcome; never secrets (nil: silent).
	Logf func(format string, args ...any)
	// UserAgent is sent as User-Agent (empty: "fix8524").
	UserAgent string
}

// Result is the outcome of delivering one event to one target.
type Result struct {
	Target   string // the target's name
	Skipped  bool   // the target does not want this event kind
	Attempts int    // attempts made
	Status   int    // the last HTTP status (0 if none)
	Err      error  // nil when delivered (or skipped)
}

// Backoff bounds.
const (
	backoffBase      = time.Second
	backoffMax       = 30 * time.Second
	maxRetryAfter    = 60 * time.Second
	maxResponseBytes = 64 << 10
)

// backoff is the wait before attempt n+1 (n >= 1): exponential with "equal jitter", so it is
// never below half the exponential step.
func backoff(n int) time.Duration {
	d := backoffBase << uint(min(n-1, 10))
	if d > backoffMax {
		d = backoffMax
	}
	half := d / 2
	return half + time.Duration(rand.Int64N(int64(half)+1))
}

// SendAll delivers e to every target that wants it, one after another, and returns one Result
// per target in order.
func (s *Sender) SendAll(ctx context.Context, targets []Target, e Event) []Result {
	out := make([]Result, 0, len(targets))
	for _, t := range targets {
		out = append(out, s.Send(ctx, t, e))
	}
	return out
}

// Failed returns the results that were not delivered, as one error (nil if all succeeded).
func Failed(results []Result) error {
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return errors.Join(errs...)
}

// Send delivers e to t, retrying as the package documentation describes.
func (s *Sender) Send(ctx context.Context, t Target, e Event) Result {
	res := Result{Target: t.Name}
	if !t.Wants(e.Event) {
		res.Skipped = true
		return res
	}
	fail := func(err error) Result {
		res.Err = fmt.Errorf("notify %s: %w", t.String(), err)
		s.logf("notify %s: giving up after %d attempt(s): %v", t.String(), res.Attempts, err)
		return res
	}
	if err := t.Validate(); err != nil {
		res.Err = err
		return res
	}
	rawURL, headers, err := s.resolve(t)
	if err != nil {
		return fail(err)
	}
	payload, err := Payload(e)
	if err != nil {
		return fail(err)
	}
	timeout := t.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	attempts := t.Attempts
	if attempts == 0 {
		attempts = DefaultAttempts
	}
	client := s.client()
	var last error
	for n := 1; n <= attempts; n++ {
		res.Attempts = n
		status, retryAfter, err := s.attempt(ctx, client, rawURL, headers, payload, timeout)
		res.Status = status
		if err == nil {
			s.logf("notify %s: delivered (status %d, attempt %d)", t.String(), status, n)
			return res
		}
		last = err
		var perm *permanentError
		if errors.As(err, &perm) {
			return fail(err)
		}
		if ctx.Err() != nil {
			return fail(fmt.Errorf("%w (%v)", err, ctx.Err()))
		}
		if n == attempts {
			break
		}
		wait := backoff(n)
		if retryAfter > 0 {
			wait = min(retryAfter, maxRetryAfter)
		}
		s.logf("notify %s: attempt %d of %d failed: %v; retrying in %s", t.String(), n, attempts, err, wait.Round(time.Millisecond))
		if err := s.sleep(ctx, wait); err != nil {
			return fail(fmt.Errorf("%w (stopped waiting to retry: %v)", last, err))
		}
	}
	return fail(last)
}

// permanentError is a failure that retrying cannot fix.
type permanentError struct{ msg string }

func (e *permanentError) Error() string { return e.msg }

func (s *Sender) resolve(t Target) (string, http.Header, error) {
	getenv := s.Getenv
	if getenv == nil {
		getenv = osGetenv
	}
	raw := t.URL
	if t.URLEnv != "" {
		raw = strings.TrimSpace(getenv(t.URLEnv))
		if raw == "" {
			return "", nil, fmt.Errorf("environment variable %s (the webhook URL) is not set", t.URLEnv)
		}
		if err := checkURL(raw, len(t.SecretHeaders) > 0); err != nil {
			return "", nil, fmt.Errorf("the URL in environment variable %s: %v", t.URLEnv, err)
		}
	}
	h := http.Header{}
	for _, k := range sortedKeys(t.Headers) {
		h.Set(k, t.Headers[k])
	}
	for _, k := range sortedKeys(t.SecretHeaders) {
		env := t.SecretHeaders[k]
		v := getenv(env)
		if v == "" {
			return "", nil, fmt.Errorf("environment variable %s (for header %s) is not set", env, k)
		}
		if strings.ContainsAny(v, "\r\n\x00") {
			return "", nil, fmt.Errorf("environment variable %s (for header %s) contains a line break or NUL", env, k)
		}
		h.Set(k, v)
	}
	return raw, h, nil
}

func (s *Sender) client() *http.Client {
	var c http.Client
	if s.Client != nil {
		c = *s.Client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// attempt makes one POST. It returns the status, a Retry-After hint, and an error that is a
// *permanentError when retrying is pointless.
func (s *Sender) attempt(ctx context.Context, c *http.Client, rawURL string, h http.Header, payload []byte, timeout time.Duration) (int, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, rawURL, bytes.NewReader(payload))
	if err != nil {
		return 0, 0, &permanentError{"building the request failed (check the URL)"}
	}
	req.Header = h.Clone()
	req.Header.Set("Content-Type", "application/json")
	ua := s.UserAgent
	if ua == "" {
		ua = "fix8524"
	}
	req.Header.Set("User-Agent", ua)
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, errors.New(scrub(describeTransportError(err, timeout), rawURL))
	}
	_, _ = io.CopyN(io.Discard, resp.Body, maxResponseBytes)
	_ = resp.Body.Close()
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300:
		return code, 0, nil
	case code >= 300 && code < 400:
		return code, 0, &permanentError{fmt.Sprintf("status %d: redirects are not followed; configure the final URL", code)}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return code, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), fmt.Errorf("status %d", code)
	default:
		return code, 0, &permanentError{fmt.Sprintf("status %d (not retried)", code)}
	}
}

// describeTransportError words a client error without the URL (url.Error embeds it).
func describeTransportError(err error, timeout time.Duration) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Sprintf("no response within %s", timeout)
		}
		err = ue.Err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("no response within %s", timeout)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Sprintf("no response within %s", timeout)
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}

// scrub removes the URL and its path from a message, in case an error embeds them.
func scrub(msg, rawURL string) string {
	msg = strings.ReplaceAll(msg, rawURL, RedactURL(rawURL))
	if u, err := url.Parse(rawURL); err == nil {
		if p := u.EscapedPath(); len(p) > 1 {
			msg = strings.ReplaceAll(msg, p, "/…")
		}
		if u.RawQuery != "" {
			msg = strings.ReplaceAll(msg, u.RawQuery, "…")
		}
	}
	return msg
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n <= 0 {
			return 0
		}
		if n >= int(maxRetryAfter/time.Second) { // also keeps huge values from overflowing
			return maxRetryAfter
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}

func (s *Sender) sleep(ctx context.Context, d time.Duration) error {
	if s.Sleep != nil {
		return s.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *Sender) logf(format string, args ...any) {
	if s.Logf != nil {
		s.Logf(format, args...)
	}
}
