package policy

import (
	"errors"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/fix8524/fix8524/engine/window"
	"github.com/fix8524/fix8524/internal/hclscan"
	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/internal/notify"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
)

// MaxFileSize bounds a policy file.
const MaxFileSize = 1 << 20

var topSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "max_actions_per_run"},
		{Name: "max_dcs_per_24h"},
		{Name: "cooldown"},
		{Name: "deny"},
	},
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "allow", LabelNames: []string{"name"}},
		{Type: "action", LabelNames: []string{"name"}},
		{Type: "breaker"},
		{Type: "window", LabelNames: []string{"name"}},
		{Type: "notify", LabelNames: []string{"name"}},
	},
}

var allowSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "max_risk"}, {Name: "actions"}}}

var actionSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "cooldown", Required: true}}}

var breakerSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "failures"}, {Name: "within"}}}

var windowSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "cron", Required: true}, {Name: "duration", Required: true}, {Name: "time_zone"},
}}

var notifySchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "url"}, {Name: "url_env"}, {Name: "headers"}, {Name: "secret_headers"},
	{Name: "timeout"}, {Name: "attempts"}, {Name: "events"},
}}

var (
	actionNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]{0,127}$`)
	labelRE      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)
	// cleanupWords mark names that look like an attempt to let metadata cleanup run unattended.
	cleanupWords = []string{"cleanup", "clean_up", "demote", "ldap_delete", "tree_delete", "high_risk", "allow_high", "seize", "unsafe"}
	// secretHeaderWords mark header names whose values are secrets.
	secretHeaderWords = []string{"authorization", "token", "secret", "key", "password", "cookie", "signature", "auth"}
)

// Load reads and parses a policy file. A read failure is an error diagnostic too.
func Load(path string) (*Policy, hcl.Diagnostics) {
	src, err := inputfile.ReadFile(path, "policy", MaxFileSize)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the policy file",
			Detail: fmt.Sprintf("%s: %v", path, unwrapPathError(err))}}
	}
	return Parse(path, src)
}

func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// LoadOrDefault loads the policy at path, or returns Default() and DefaultNotice when path is
// empty (heal prints the notice).
func LoadOrDefault(path string) (p *Policy, notice string, diags hcl.Diagnostics) {
	if path == "" {
		return Default(), DefaultNotice, nil
	}
	p, diags = Load(path)
	return p, "", diags
}

// Parse decodes a policy from HCL source. With error diagnostics it returns nil; warnings may
// come with a policy. It never panics, whatever src holds.
func Parse(filename string, src []byte) (p *Policy, diags hcl.Diagnostics) {
	defer func() {
		if r := recover(); r != nil { // defensive: a parser bug must not crash heal
			p = nil
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Internal error while parsing the policy",
				Detail: fmt.Sprintf("%s: the parser failed (%v); please report this file", filename, r)})
		}
	}()
	if len(src) > MaxFileSize {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Policy file too large",
			Detail: fmt.Sprintf("%s is larger than %d bytes", filename, MaxFileSize)}}
	}
	if d := hclscan.Check(filename, src); d.HasErrors() {
		return nil, d
	}
	file, diags := hclsyntax.ParseConfig(src, filename, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, hclscan.Cap(diags)
	}
	d := &decoder{src: src}
	p = d.decode(file.Body, filename)
	diags = append(diags, d.diags...)
	if diags.HasErrors() {
		return nil, hclscan.Cap(diags)
	}
	return p, hclscan.Cap(diags)
}

type decoder struct {
	src   []byte
	diags hcl.Diagnostics
}

func (d *decoder) errorf(rng *hcl.Range, ctx *hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng, Context: ctx})
}

func (d *decoder) warnf(rng *hcl.Range, summary, format string, args ...any) {
	d.diags = append(d.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng})
}

// content decodes a body against a schema, and explains unsupported names that look like an
// attempt to allow metadata cleanup.
func (d *decoder) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, diags := body.Content(schema)
	for _, dg := range diags {
		if dg.Subject != nil && (dg.Summary == "Unsupported argument" || dg.Summary == "Unsupported block type") &&
			dg.Subject.CanSliceBytes(d.src) && looksLikeCleanup(string(dg.Subject.SliceBytes(d.src))) {
			dg.Summary = "Metadata cleanup can never run unattended"
			dg.Detail = neverHighDetail + "."
		}
	}
	d.diags = append(d.diags, diags...)
	return c
}

func looksLikeCleanup(name string) bool {
	n := strings.ToLower(name)
	for _, w := range cleanupWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func (d *decoder) decode(body hcl.Body, filename string) *Policy {
	def := Default()
	p := &Policy{
		Source:           filename,
		Cooldown:         def.Cooldown,
		ActionCooldowns:  map[string]time.Duration{},
		MaxActionsPerRun: def.MaxActionsPerRun,
		MaxDCsPer24h:     def.MaxDCsPer24h,
		Breaker:          def.Breaker,
		ranges:           map[string]hcl.Range{},
	}
	c := d.content(body, topSchema)
	if c == nil {
		return p
	}
	if a := c.Attributes["max_actions_per_run"]; a != nil {
		p.MaxActionsPerRun = d.integer(a, 1, MaxActionsPerRunCap, p.MaxActionsPerRun)
	}
	if a := c.Attributes["max_dcs_per_24h"]; a != nil {
		p.MaxDCsPer24h = d.integer(a, 1, MaxDCsPer24hCap, p.MaxDCsPer24h)
	}
	if a := c.Attributes["cooldown"]; a != nil {
		p.Cooldown = d.duration(a, MinCooldown, MaxCooldown, p.Cooldown)
	}
	if a := c.Attributes["deny"]; a != nil {
		p.Deny = d.actionNames(a, true)
	}

	labels := map[string]map[string]hcl.Range{}
	unique := func(b *hcl.Block) bool {
		if len(b.Labels) == 0 {
			return true
		}
		name := b.Labels[0]
		rng := b.LabelRanges[0]
		if labels[b.Type] == nil {
			labels[b.Type] = map[string]hcl.Range{}
		}
		if first, dup := labels[b.Type][name]; dup {
			d.errorf(&rng, &b.DefRange, fmt.Sprintf("Duplicate %s block", b.Type),
				"%s %q is already defined at %s.", b.Type, name, position(first))
			return false
		}
		labels[b.Type][name] = rng
		return true
	}

	breakers := 0
	for _, b := range c.Blocks {
		if !unique(b) {
			continue
		}
		switch b.Type {
		case "allow":
			if r, ok := d.allow(b, p); ok {
				p.Allow = append(p.Allow, r)
			}
		case "action":
			name := b.Labels[0]
			if !actionNameRE.MatchString(name) {
				d.errorf(&b.LabelRanges[0], &b.DefRange, "Invalid action name", "%q is not an action name (letters, digits, '_' and '-').", name)
				continue
			}
			p.ranges["action:"+name] = b.LabelRanges[0]
			ac := d.content(b.Body, actionSchema)
			if a := ac.Attributes["cooldown"]; a != nil {
				p.ActionCooldowns[name] = d.duration(a, MinCooldown, MaxCooldown, p.Cooldown)
			}
		case "breaker":
			breakers++
			if breakers > 1 {
				d.errorf(&b.DefRange, nil, "Duplicate breaker block", "A policy has at most one breaker block.")
				continue
			}
			bc := d.content(b.Body, breakerSchema)
			if a := bc.Attributes["failures"]; a != nil {
				p.Breaker.Failures = d.integer(a, 1, MaxBreakerFailures, p.Breaker.Failures)
			}
			if a := bc.Attributes["within"]; a != nil {
				p.Breaker.Within = d.duration(a, MinBreakerWithin, MaxBreakerWithin, p.Breaker.Within)
			}
		case "window":
			if w, ok := d.window(b); ok {
				p.Windows = append(p.Windows, w)
			}
		case "notify":
			if t, ok := d.notify(b); ok {
				p.Notify = append(p.Notify, t)
			}
		}
	}
	if len(p.Allow) == 0 && !d.diags.HasErrors() {
		p.Allow = Default().Allow // no allow block: low-risk actions only
	}
	if c.Attributes["deny"] != nil {
		for _, name := range p.Deny {
			for _, r := range p.Allow {
				if slices.Contains(r.Actions, name) {
					rng := p.ranges["allow:"+r.Name+"/"+name]
					d.warnf(&rng, "Action both allowed and denied", "%q is listed in allow %q and in deny; deny wins.", name, r.Name)
				}
			}
		}
	}
	return p
}

func position(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

func (d *decoder) allow(b *hcl.Block, p *Policy) (AllowRule, bool) {
	r := AllowRule{Name: b.Labels[0], MaxRisk: plan.RiskLow}
	if !labelRE.MatchString(r.Name) {
		d.errorf(&b.LabelRanges[0], &b.DefRange, "Invalid allow rule name", "%q: use letters, digits, '_', '.' and '-'.", r.Name)
		return r, false
	}
	c := d.content(b.Body, allowSchema)
	ok := true
	if a := c.Attributes["max_risk"]; a != nil {
		risk, good := d.str(a)
		switch {
		case !good:
			ok = false
		case plan.Risk(risk) == plan.RiskHigh:
			d.errorf(a.Expr.Range().Ptr(), &a.Range, "High risk can never run unattended", "%s.", neverHighDetail)
			ok = false
		case plan.Risk(risk) != plan.RiskLow && plan.Risk(risk) != plan.RiskMedium:
			d.errorf(a.Expr.Range().Ptr(), &a.Range, "Invalid risk", "max_risk %q: want %q or %q.", risk, plan.RiskLow, plan.RiskMedium)
			ok = false
		default:
			r.MaxRisk = plan.Risk(risk)
		}
	}
	if a := c.Attributes["actions"]; a != nil {
		before := len(d.diags)
		r.Actions = d.actionNames(a, true)
		clean := len(d.diags) == before
		for i, name := range r.Actions {
			rng := elemRange(a, i)
			p.ranges["allow:"+r.Name+"/"+name] = rng
			if looksLikeCleanup(name) {
				d.warnf(&rng, "Cleanup actions never run unattended",
					"%q looks like a metadata-cleanup action. If it is one (an LDAP delete or a high-risk action), heal will always hold it for a human whatever this policy says.", name)
			}
		}
		if clean && len(r.Actions) == 0 {
			d.warnf(a.Expr.Range().Ptr(), "Empty actions list", "An empty list admits every action up to max_risk, as if actions were not set. To let nothing run unattended, use deny = [\"*\"].")
		}
	}
	return r, ok
}

// elemRange locates element i of a list attribute, or the attribute's expression.
func elemRange(a *hcl.Attribute, i int) hcl.Range {
	if t, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && i < len(t.Exprs) {
		return t.Exprs[i].Range()
	}
	return a.Expr.Range()
}

func (d *decoder) window(b *hcl.Block) (window.Window, bool) {
	c := d.content(b.Body, windowSchema)
	var cron, dur, tz string
	ok := true
	get := func(name string, dst *string) {
		if a := c.Attributes[name]; a != nil {
			v, good := d.str(a)
			*dst = v
			ok = ok && good
		}
	}
	get("cron", &cron)
	get("duration", &dur)
	get("time_zone", &tz)
	if !ok || c.Attributes["cron"] == nil || c.Attributes["duration"] == nil {
		return window.Window{}, false
	}
	w, err := window.Parse(b.Labels[0], cron, dur, tz)
	if err != nil {
		rng := b.DefRange
		switch {
		case strings.Contains(err.Error(), "duration"):
			rng = c.Attributes["duration"].Expr.Range()
		case strings.Contains(err.Error(), "time zone") && c.Attributes["time_zone"] != nil:
			rng = c.Attributes["time_zone"].Expr.Range()
		case strings.Contains(err.Error(), "cron"):
			rng = c.Attributes["cron"].Expr.Range()
		}
		d.errorf(&rng, &b.DefRange, "Invalid change window", "%v.", err)
		return window.Window{}, false
	}
	return w, true
}

func (d *decoder) notify(b *hcl.Block) (notify.Target, bool) {
	t := notify.Target{Name: b.Labels[0]}
	c := d.content(b.Body, notifySchema)
	ok := true
	if a := c.Attributes["url"]; a != nil {
		v, good := d.str(a)
		t.URL, ok = v, ok && good
		if good && secretURL(v) {
			d.warnf(a.Expr.Range().Ptr(), "Webhook URL holds a secret",
				"This looks like a Slack or Teams webhook URL, whose path or signature is its secret. Put it in an environment variable and name it with url_env, so the policy file holds no secret.")
		}
	}
	if a := c.Attributes["url_env"]; a != nil {
		v, good := d.str(a)
		t.URLEnv, ok = v, ok && good
	}
	if a := c.Attributes["headers"]; a != nil {
		h, good := d.strMap(a)
		t.Headers, ok = h, ok && good
		for _, k := range sortedKeys(h) {
			for _, w := range secretHeaderWords {
				if strings.Contains(strings.ToLower(k), w) {
					d.errorf(a.Expr.Range().Ptr(), &a.Range, "Secret header value in the policy file",
						"Header %q looks like a secret. Move it to secret_headers = { %q = \"ENV_VAR_NAME\" } so its value comes from the environment and is never written or printed.", k, k)
					ok = false
					break
				}
			}
		}
	}
	if a := c.Attributes["secret_headers"]; a != nil {
		h, good := d.strMap(a)
		t.SecretHeaders, ok = h, ok && good
	}
	if a := c.Attributes["timeout"]; a != nil {
		t.Timeout = d.duration(a, time.Second, notify.MaxTimeout, notify.DefaultTimeout)
	}
	if a := c.Attributes["attempts"]; a != nil {
		t.Attempts = d.integer(a, 1, notify.MaxAttempts, notify.DefaultAttempts)
	}
	if a := c.Attributes["events"]; a != nil {
		evs, good := d.strList(a)
		t.Events, ok = evs, ok && good
	}
	if !ok {
		return t, false
	}
	if err := t.Validate(); err != nil {
		d.errorf(&b.DefRange, nil, "Invalid notify target", "%v.", err)
		return t, false
	}
	return t, true
}

// secretURL reports URLs known to carry their secret in the path or query.
func secretURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	h := strings.ToLower(u.Hostname())
	q := u.Query()
	return h == "hooks.slack.com" || strings.HasSuffix(h, ".webhook.office.com") ||
		strings.HasSuffix(h, ".logic.azure.com") || q.Has("sig") || q.Has("token") || q.Has("key")
}

// --- values ---

func (d *decoder) value(a *hcl.Attribute) (cty.Value, bool) {
	v, diags := a.Expr.Value(nil)
	d.diags = append(d.diags, diags...)
	if diags.HasErrors() {
		return cty.NilVal, false
	}
	if v.IsNull() {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Invalid value", "%s must not be null.", a.Name)
		return cty.NilVal, false
	}
	if !v.IsWhollyKnown() {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Invalid value", "%s must be a constant.", a.Name)
		return cty.NilVal, false
	}
	return v, true
}

func (d *decoder) str(a *hcl.Attribute) (string, bool) {
	v, ok := d.value(a)
	if !ok {
		return "", false
	}
	if v.Type() != cty.String {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Incorrect attribute value type", "%s must be a string.", a.Name)
		return "", false
	}
	return v.AsString(), true
}

func (d *decoder) integer(a *hcl.Attribute, lo, hi, def int) int {
	v, ok := d.value(a)
	if !ok {
		return def
	}
	if v.Type() != cty.Number {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Incorrect attribute value type", "%s must be a whole number.", a.Name)
		return def
	}
	bf := v.AsBigFloat()
	if !bf.IsInt() {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Invalid value", "%s must be a whole number.", a.Name)
		return def
	}
	n, acc := bf.Int64()
	if acc != big.Exact || n < int64(lo) || n > int64(hi) {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Value out of range", "%s must be between %d and %d.", a.Name, lo, hi)
		return def
	}
	return int(n)
}

func (d *decoder) duration(a *hcl.Attribute, lo, hi, def time.Duration) time.Duration {
	s, ok := d.str(a)
	if !ok {
		return def
	}
	v, err := window.ParseDuration(s)
	if err != nil {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Invalid duration", "%s: %v (write e.g. \"90m\", \"4h\" or \"1d\").", a.Name, err)
		return def
	}
	if v < lo || v > hi {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Value out of range", "%s %s: must be between %s and %s.", a.Name, s, lo, hi)
		return def
	}
	return v
}

func (d *decoder) strList(a *hcl.Attribute) ([]string, bool) {
	v, ok := d.value(a)
	if !ok {
		return nil, false
	}
	lv, err := convert.Convert(v, cty.List(cty.String))
	if err != nil || lv.IsNull() {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Incorrect attribute value type", "%s must be a list of strings.", a.Name)
		return nil, false
	}
	out := []string{}
	for i, e := range lv.AsValueSlice() {
		if e.IsNull() {
			rng := elemRange(a, i)
			d.errorf(&rng, &a.Range, "Invalid value", "%s: element %d is null.", a.Name, i)
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

func (d *decoder) actionNames(a *hcl.Attribute, wildcard bool) []string {
	names, ok := d.strList(a)
	if !ok {
		return nil
	}
	seen := map[string]bool{}
	var out []string
	for i, n := range names {
		rng := elemRange(a, i)
		if !(wildcard && n == "*") && !actionNameRE.MatchString(n) {
			d.errorf(&rng, &a.Range, "Invalid action name", "%q is not an action name (letters, digits, '_' and '-').", n)
			continue
		}
		if seen[n] {
			d.warnf(&rng, "Duplicate action name", "%q is listed twice.", n)
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

func (d *decoder) strMap(a *hcl.Attribute) (map[string]string, bool) {
	v, ok := d.value(a)
	if !ok {
		return nil, false
	}
	mv, err := convert.Convert(v, cty.Map(cty.String))
	if err != nil || mv.IsNull() {
		d.errorf(a.Expr.Range().Ptr(), &a.Range, "Incorrect attribute value type", "%s must be a map of strings, like { \"X-Team\" = \"ad-ops\" }.", a.Name)
		return nil, false
	}
	out := map[string]string{}
	for k, e := range mv.AsValueMap() {
		if e.IsNull() {
			d.errorf(a.Expr.Range().Ptr(), &a.Range, "Invalid value", "%s: %q is null.", a.Name, k)
			return nil, false
		}
		out[k] = e.AsString()
	}
	return out, true
}

// --- diagnostics ---

// FormatDiagnostics renders diagnostics one a line as "file:line:col: severity: summary: detail".
// It never prints source text, so a value in the file is never echoed.
func FormatDiagnostics(diags hcl.Diagnostics) string {
	var b strings.Builder
	for _, dg := range diags {
		sev := "error"
		if dg.Severity == hcl.DiagWarning {
			sev = "warning"
		}
		// escaped: summaries and details quote the policy file's text
		if dg.Subject != nil {
			fmt.Fprintf(&b, "%s: ", termtext.Escape(position(*dg.Subject)))
		}
		fmt.Fprintf(&b, "%s: %s", sev, termtext.Escape(dg.Summary))
		if dg.Detail != "" {
			fmt.Fprintf(&b, ": %s", termtext.Escape(strings.TrimSuffix(dg.Detail, ".")))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// DiagnosticsError returns the error diagnostics as one error (formatted by FormatDiagnostics),
// or nil when there are none.
func DiagnosticsError(diags hcl.Diagnostics) error {
	var errs hcl.Diagnostics
	for _, dg := range diags {
		if dg.Severity == hcl.DiagError {
			errs = append(errs, dg)
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.TrimRight(FormatDiagnostics(errs), "\n"))
}

// ActionInfo describes one action a playbook defines, for Lint.
type ActionInfo struct {
	Name string
	Risk plan.Risk
	Kind plan.Kind
}

// Lint checks the policy against the actions a playbook defines (fix8524 validate): an
// allow-listed action that is high risk or an LDAP delete is an error (it could never run
// unattended), one above its rule's max_risk or unknown to the playbook is a warning.
func (p *Policy) Lint(actions []ActionInfo) hcl.Diagnostics {
	var diags hcl.Diagnostics
	known := map[string]ActionInfo{}
	for _, a := range actions {
		known[a.Name] = a
	}
	for _, r := range p.Allow {
		for _, name := range r.Actions {
			if name == "*" {
				continue
			}
			var subj *hcl.Range
			if rng, ok := p.ranges["allow:"+r.Name+"/"+name]; ok {
				subj = rng.Ptr()
			}
			a, ok := known[name]
			switch {
			case !ok:
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unknown action",
					Detail: fmt.Sprintf("allow %q names %q, which the playbook does not define.", r.Name, name), Subject: subj})
			case plan.Destructive(a.Kind, a.Risk):
				what := fmt.Sprintf("risk %q", a.Risk)
				if a.Kind != "" {
					what += fmt.Sprintf(", kind %q", a.Kind)
				}
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Metadata cleanup can never run unattended",
					Detail: fmt.Sprintf("allow %q names %q (%s): %s.", r.Name, name, what, neverHighDetail), Subject: subj})
			case a.Risk.Rank() > r.MaxRisk.Rank():
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Action above the rule's max_risk",
					Detail: fmt.Sprintf("allow %q names %q, which is %s risk, but the rule admits at most %s risk: it will be held.", r.Name, name, a.Risk, r.MaxRisk), Subject: subj})
			}
		}
	}
	for _, name := range sortedKeys(p.ActionCooldowns) {
		if _, ok := known[name]; !ok {
			var subj *hcl.Range
			if rng, ok := p.ranges["action:"+name]; ok {
				subj = rng.Ptr()
			}
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: "Unknown action",
				Detail: fmt.Sprintf("action %q sets a cooldown, but the playbook does not define it.", name), Subject: subj})
		}
	}
	return diags
}
