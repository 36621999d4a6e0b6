package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/fix8524/fix8524/engine/window"
	"github.com/fix8524/fix8524/internal/hclscan"
	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/plan"
)

// Source is one playbook file.
type Source struct {
	Name string // shown in diagnostics, e.g. "playbooks/8524.hcl"
	Src  []byte
}

// LoadOptions are the variable values given on the command line, like terraform's.
type LoadOptions struct {
	// Vars are -var NAME=VALUE pairs, in order. A value for a string variable is taken
	// literally; for other types it is parsed as an HCL expression.
	Vars []string
	// VarFiles are -var-file contents: HCL attributes NAME = VALUE.
	VarFiles []Source
}

// MaxPlaybookBytes bounds one playbook file.
const MaxPlaybookBytes = 4 << 20

// LoadDir loads every *.hcl file of dir, in name order.
func LoadDir(dir string, opts LoadOptions) (*Playbook, map[string]*hcl.File, hcl.Diagnostics) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the playbook directory", Detail: err.Error()}}
	}
	var srcs []Source
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".hcl") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		b, err := readLimited(p)
		if err != nil {
			return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read a playbook file", Detail: err.Error()}}
		}
		srcs = append(srcs, Source{Name: p, Src: b})
	}
	if len(srcs) == 0 {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No playbook files", Detail: fmt.Sprintf("%s holds no *.hcl file.", dir)}}
	}
	return Load(srcs, opts)
}

func readLimited(p string) ([]byte, error) {
	return inputfile.ReadFile(p, "playbook file", MaxPlaybookBytes)
}

// LoadFS loads every *.hcl file at the root of fsys (e.g. the embedded playbooks), in name
// order; prefix is prepended to file names in diagnostics.
func LoadFS(fsys fs.FS, prefix string, opts LoadOptions) (*Playbook, map[string]*hcl.File, hcl.Diagnostics) {
	names, err := fs.Glob(fsys, "*.hcl")
	if err != nil || len(names) == 0 {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No playbook files", Detail: "the playbook file system holds no *.hcl file"}}
	}
	sort.Strings(names)
	var srcs []Source
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read a playbook file", Detail: err.Error()}}
		}
		srcs = append(srcs, Source{Name: path.Join(prefix, n), Src: b})
	}
	return Load(srcs, opts)
}

// Load parses and validates playbook files. Every problem is a diagnostic with a source range;
// the Playbook is nil when there is any error. The returned files render diagnostics.
func Load(srcs []Source, opts LoadOptions) (*Playbook, map[string]*hcl.File, hcl.Diagnostics) {
	l := &loader{
		parser: hclparse.NewParser(),
		pb: &Playbook{
			checkByName:  map[string]*Check{},
			actionByName: map[string]*Action{},
			varValues:    map[string]cty.Value{},
			sources:      map[string]*hcl.File{},
		},
	}
	l.load(srcs, opts)
	l.diags = hclscan.Cap(l.diags)
	files := l.parser.Files()
	if l.diags.HasErrors() {
		return nil, files, l.diags
	}
	return l.pb, files, l.diags
}

type loader struct {
	parser *hclparse.Parser
	pb     *Playbook
	diags  hcl.Diagnostics
	files  map[string]*hcl.File

	// raw blocks, by kind, in file order
	playbooks []*hcl.Block
	variables []*hcl.Block
	checks    []*hcl.Block
	decisions []*hcl.Block
	warnings  []*hcl.Block
	actions   []*hcl.Block
	windows   []*hcl.Block

	exprs []typed // every expression to type-check, with its scope and wanted type

	checkUse map[string]map[string]bool // check name -> attributes read ("*": the whole object)
}

// scopes say which root names an expression may use.
type scope int

const (
	scopeConst   scope = iota // var only
	scopeMatches              // link, forest, var
	scopeLink                 // link, forest, var, check
	scopeReply                // + reply (dns expect)
	scopeEvent                // + event (event match)
)

type typed struct {
	e    *cexpr
	sc   scope
	want cty.Type // cty.DynamicPseudoType: any
	what string   // "a bool", for messages
}

var topSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "playbook", LabelNames: []string{"name"}},
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "check", LabelNames: []string{"name"}},
	{Type: "decision", LabelNames: []string{"name"}},
	{Type: "warning", LabelNames: []string{"name"}},
	{Type: "action", LabelNames: []string{"name"}},
	{Type: "window", LabelNames: []string{"name"}},
}}

func (l *loader) errorf(rng *hcl.Range, summary, format string, a ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(format, a...), Subject: rng})
}

func (l *loader) warnf(rng *hcl.Range, summary, format string, a ...any) {
	l.diags = append(l.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary, Detail: fmt.Sprintf(format, a...), Subject: rng})
}

func (l *loader) load(srcs []Source, opts LoadOptions) {
	h := sha256.New()
	for _, s := range srcs {
		if len(s.Src) > MaxPlaybookBytes {
			l.errorf(nil, "Playbook file too large", "%s is larger than %d MiB.", s.Name, MaxPlaybookBytes>>20)
			continue
		}
		fmt.Fprintf(h, "%s\x00%d\x00", s.Name, len(s.Src))
		h.Write(s.Src)
		if d := hclscan.Check(s.Name, s.Src); d.HasErrors() {
			l.diags = append(l.diags, d...)
			l.pb.Files = append(l.pb.Files, s.Name)
			continue
		}
		f, d := l.parser.ParseHCL(s.Src, s.Name)
		l.diags = append(l.diags, d...)
		l.pb.Files = append(l.pb.Files, s.Name)
		if f == nil || d.HasErrors() {
			continue
		}
		l.pb.sources[s.Name] = f
		content, d := f.Body.Content(topSchema)
		l.diags = append(l.diags, d...)
		for _, b := range content.Blocks {
			switch b.Type {
			case "playbook":
				l.playbooks = append(l.playbooks, b)
			case "variable":
				l.variables = append(l.variables, b)
			case "check":
				l.checks = append(l.checks, b)
			case "decision":
				l.decisions = append(l.decisions, b)
			case "warning":
				l.warnings = append(l.warnings, b)
			case "action":
				l.actions = append(l.actions, b)
			case "window":
				l.windows = append(l.windows, b)
			}
		}
	}
	l.pb.Digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	if l.diags.HasErrors() {
		return
	}
	l.files = l.parser.Files()
	l.checkNames()
	l.loadVariables(opts)
	if l.diags.HasErrors() {
		return // every later expression may use var.*
	}
	for _, b := range l.checks {
		l.loadCheck(b)
	}
	for _, b := range l.actions {
		l.loadAction(b)
	}
	for _, b := range l.decisions {
		l.loadDecision(b)
	}
	for _, b := range l.warnings {
		l.loadWarning(b)
	}
	l.loadPlaybookBlock()
	for _, b := range l.windows {
		l.loadWindow(b)
	}
	if l.diags.HasErrors() {
		return
	}
	l.checkCycles()
	if l.diags.HasErrors() {
		return
	}
	l.checkWarningsPure()
	l.typeCheck()
	l.unused()
	for _, ck := range l.pb.Checks {
		use := l.checkUse[ck.Name]
		ck.used, ck.usedAll = use, use["*"]
		ck.placeholder = cty.UnknownVal(resultType(ck.Kind))
		ck.refs = buildCheckRefs(ck)
		if statusOnly(ck) {
			ck.statusVals = map[plan.Status]cty.Value{}
			for _, st := range []plan.Status{plan.StatusOK, plan.StatusFailed, plan.StatusUnknown} {
				ck.statusVals[st] = checkValue(ck, st, map[string]cty.Value{}, nil)
			}
		}
	}
	for _, x := range l.exprs {
		e := x.e
		if len(e.checks) == 0 || len(e.checks) > maxSharedChecks {
			continue
		}
		shared := true
		for _, c := range e.checks {
			if ck := l.pb.checkByName[c]; ck == nil || ck.statusVals == nil {
				shared = false
			}
		}
		if shared {
			e.checkVars = make([]atomic.Pointer[cty.Value], 1<<(2*len(e.checks)))
		}
	}
	if m := l.pb.matches; m != nil {
		for _, t := range m.facts {
			if a, ok := attrStep(t, 1); t.RootName() == "link" && (!ok || perLinkAttrs[a]) {
				l.pb.matchesPerLink = true
			}
		}
	}
}

func validIdent(s string) bool { return hclsyntax.ValidIdentifier(s) }

// checkNames registers every named block and reports duplicates and invalid names.
func (l *loader) checkNames() {
	seen := map[string]map[string]*hcl.Block{}
	for _, group := range [][]*hcl.Block{l.playbooks, l.variables, l.checks, l.decisions, l.warnings, l.actions, l.windows} {
		for _, b := range group {
			name := b.Labels[0]
			if !validIdent(name) {
				l.errorf(b.LabelRanges[0].Ptr(), "Invalid name", "A %s name must be an identifier (letters, digits, '_' and '-', starting with a letter); %q is not.", b.Type, name)
				continue
			}
			if seen[b.Type] == nil {
				seen[b.Type] = map[string]*hcl.Block{}
			}
			if prev := seen[b.Type][name]; prev != nil {
				l.errorf(b.LabelRanges[0].Ptr(), fmt.Sprintf("Duplicate %s %q", b.Type, name), "A %s named %q was already declared at %s.", b.Type, name, prev.DefRange)
				continue
			}
			seen[b.Type][name] = b
		}
	}
	switch len(l.playbooks) {
	case 0:
		l.errorf(nil, "Missing playbook block", "A playbook needs exactly one playbook block: its name, title and the links it matches.")
	case 1:
	default:
		l.errorf(l.playbooks[1].DefRange.Ptr(), "Duplicate playbook block", "A playbook has exactly one playbook block; the first is at %s.", l.playbooks[0].DefRange)
	}
	if len(l.decisions) == 0 {
		l.errorf(nil, "No decisions", "A playbook needs at least one decision block.")
	}
}

// src returns the source text of a range.
func (l *loader) src(r hcl.Range) string {
	f := l.files[r.Filename]
	if f == nil || r.End.Byte > len(f.Bytes) || r.Start.Byte > r.End.Byte {
		return ""
	}
	return string(f.Bytes[r.Start.Byte:r.End.Byte])
}

// compile records an expression's references and checks that each is allowed in its scope.
func (l *loader) compile(expr hcl.Expression, sc scope, want cty.Type, what string) *cexpr {
	c := &cexpr{expr: expr, src: l.src(expr.Range())}
	seenCheck := map[string]bool{}
	vars := expr.Variables()
	for _, t := range vars {
		root := t.RootName()
		rng := t.SourceRange()
		switch root {
		case "var":
			if name, ok := attrStep(t, 1); ok {
				if _, declared := l.pb.varValues[name]; !declared {
					l.errorf(&rng, "Reference to undeclared variable", "There is no variable %q: declare it with a variable block.", name)
					continue
				}
			}
			c.facts = append(c.facts, t)
		case "link", "forest":
			if sc == scopeConst {
				l.errorf(&rng, "Facts are not available here", "This value is fixed when the playbook loads, so it cannot use %s.*.", root)
				continue
			}
			c.facts = append(c.facts, t)
		case "check":
			if sc == scopeConst || sc == scopeMatches {
				l.errorf(&rng, "Checks are not available here", "This expression cannot use check results.")
				continue
			}
			name, ok := attrStep(t, 1)
			if !ok {
				l.errorf(&rng, "Invalid check reference", "A check reference is check.NAME or check.NAME.ATTRIBUTE.")
				continue
			}
			if l.checkBlock(name) == nil {
				l.errorf(&rng, "Reference to undeclared check", "There is no check named %q.%s", name, suggest(name, l.names(l.checks)))
				continue
			}
			if !seenCheck[name] {
				seenCheck[name] = true
				c.checks = append(c.checks, name)
			}
			l.useCheckAttr(name, t)
		case "action":
			l.errorf(&rng, "Action references are not values", "action.NAME is only valid in a decision's remedy list.")
		case "reply":
			if sc != scopeReply {
				l.errorf(&rng, "reply is not available here", "reply (one DNS server's answer) is only defined in a dns check's expect expression.")
			}
		case "event":
			if sc != scopeEvent {
				l.errorf(&rng, "event is not available here", "event (one event log entry) is only defined in an event check's match expression.")
			}
		default:
			l.errorf(&rng, "Unknown variable", "There is no variable named %q. Expressions can use link, forest, var and check.%s", root, suggest(root, []string{"link", "forest", "var", "check"}))
		}
	}
	if root := "forest"; len(c.facts) > 0 {
		for _, t := range c.facts {
			if t.RootName() == root {
				if a, ok := attrStep(t, 1); ok && a == "dcs" {
					l.pb.needForestDCs = true
				}
			}
		}
	}
	if t, d := hcl.AbsTraversalForExpr(expr); !d.HasErrors() && (t.RootName() == "link" || t.RootName() == "forest" || t.RootName() == "var") {
		if _, isScope := expr.(*hclsyntax.ScopeTraversalExpr); isScope {
			c.trav = t
		}
	}
	seenRef := map[string]bool{}
	for _, t := range c.facts {
		if p := traversalString(t); !seenRef[p] {
			seenRef[p] = true
			c.refs = append(c.refs, newFactRef(t, p))
		}
	}
	if len(vars) == 0 {
		c.konst, c.isConst = foldConstant(expr)
	}
	l.exprs = append(l.exprs, typed{e: c, sc: sc, want: want, what: what})
	return c
}

// compileOn compiles the `on` of an action or manual step: a DC, whose name and platform the
// planner records as dependencies (see addOnDeps).
func (l *loader) compileOn(expr hcl.Expression, what string) *cexpr {
	c := l.compile(expr, scopeLink, dcType, what)
	if t, d := hcl.AbsTraversalForExpr(expr); !d.HasErrors() {
		c.abs, c.absOK = t, true
		c.onRefs = make(map[string]factRef, len(onAttrs))
		for _, a := range onAttrs {
			t2 := append(append(hcl.Traversal{}, t...), hcl.TraverseAttr{Name: a})
			c.onRefs[a] = newFactRef(t2, traversalString(t2))
		}
	}
	return c
}

// foldConstant evaluates an expression that reads no variable once, at load: without an
// evaluation context, so that only literals, operators, templates and for expressions over
// literals succeed (a function call fails, and the expression is then evaluated at plan time,
// as any other). Such a value is the same in every finding.
func foldConstant(expr hcl.Expression) (v cty.Value, ok bool) {
	defer func() {
		if recover() != nil {
			v, ok = cty.NilVal, false
		}
	}()
	v, d := expr.Value(nil)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	return v, true
}

// buildCheckRefs lists the facts a check reads. An event check's `on`, when it is a plain
// reference to DCs (link.source, forest.dcs), adds none: the check records, per DC it reads
// (by name), which of its event IDs matched or that the log could not be read (eventsDep), and
// not the whole log, which grows with every failed attempt.
func buildCheckRefs(ck *Check) []factRef {
	var out []factRef
	seen := map[string]bool{}
	add := func(r factRef) {
		if !seen[r.path] {
			seen[r.path] = true
			out = append(out, r)
		}
	}
	for _, e := range ck.exprs {
		if e == ck.on {
			if t, d := hcl.AbsTraversalForExpr(e.expr); !d.HasErrors() && (t.RootName() == "link" || t.RootName() == "forest") {
				continue
			}
		}
		for _, r := range e.refs {
			add(r)
		}
	}
	return out
}

// useCheckAttr records which attribute of a check an expression reads.
func (l *loader) useCheckAttr(name string, t hcl.Traversal) {
	if l.checkUse == nil {
		l.checkUse = map[string]map[string]bool{}
	}
	if l.checkUse[name] == nil {
		l.checkUse[name] = map[string]bool{}
	}
	if a, ok := attrStep(t, 2); ok {
		l.checkUse[name][a] = true
	} else {
		l.checkUse[name]["*"] = true
	}
}

// perLinkAttrs are the attributes of link that differ between the NCs of one partnership.
var perLinkAttrs = map[string]bool{
	"nc": true, "ncs": true, "consecutive_failures": true, "last_success": true, "last_success_unix": true,
	"last_attempt": true, "never_succeeded": true, "days_since_success": true,
}

func attrStep(t hcl.Traversal, i int) (string, bool) {
	if len(t) <= i {
		return "", false
	}
	if a, ok := t[i].(hcl.TraverseAttr); ok {
		return a.Name, true
	}
	if idx, ok := t[i].(hcl.TraverseIndex); ok && idx.Key.Type() == cty.String && idx.Key.IsKnown() && !idx.Key.IsNull() {
		return idx.Key.AsString(), true
	}
	return "", false
}

// compileAttr compiles an attribute that may be missing (Content already reported a missing
// required one): nil then.
func (l *loader) compileAttr(attrs hcl.Attributes, name string, sc scope, want cty.Type, what string) *cexpr {
	a := attrs[name]
	if a == nil {
		return nil
	}
	return l.compile(a.Expr, sc, want, what)
}

func (l *loader) checkBlock(name string) *hcl.Block {
	for _, b := range l.checks {
		if b.Labels[0] == name {
			return b
		}
	}
	return nil
}

func (l *loader) actionBlock(name string) *hcl.Block {
	for _, b := range l.actions {
		if b.Labels[0] == name {
			return b
		}
	}
	return nil
}

func (l *loader) names(bs []*hcl.Block) []string {
	var out []string
	for _, b := range bs {
		out = append(out, b.Labels[0])
	}
	return out
}

// constant evaluates an expression that may only use var.* and functions.
func (l *loader) constant(expr hcl.Expression, want cty.Type, what string) (cty.Value, bool) {
	before := len(l.diags)
	l.compile(expr, scopeConst, want, what)
	if l.diags[before:].HasErrors() {
		return cty.NilVal, false
	}
	v, d := expr.Value(l.constCtx())
	if d.HasErrors() {
		l.diags = append(l.diags, d...)
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, want)
	if err != nil || cv.IsNull() || !cv.IsWhollyKnown() {
		msg := "null"
		if err != nil {
			msg = err.Error()
		}
		l.errorf(expr.Range().Ptr(), "Incorrect attribute value type", "Expected %s: %s.", what, msg)
		return cty.NilVal, false
	}
	return cv, true
}

func (l *loader) constCtx() *hcl.EvalContext {
	return &hcl.EvalContext{Variables: map[string]cty.Value{"var": cty.ObjectVal(l.pb.varValues)}, Functions: functions()}
}

func (l *loader) constString(attrs hcl.Attributes, name, def string) string {
	a := attrs[name]
	if a == nil {
		return def
	}
	v, ok := l.constant(a.Expr, cty.String, "a string")
	if !ok {
		return def
	}
	return v.AsString()
}

func (l *loader) constBool(attrs hcl.Attributes, name string, def bool) bool {
	a := attrs[name]
	if a == nil {
		return def
	}
	v, ok := l.constant(a.Expr, cty.Bool, "a bool")
	if !ok {
		return def
	}
	return v.True()
}

func (l *loader) constDuration(attrs hcl.Attributes, name string, def time.Duration) time.Duration {
	a := attrs[name]
	if a == nil {
		return def
	}
	s := l.constString(attrs, name, "")
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		l.errorf(a.Expr.Range().Ptr(), "Invalid duration", "%q is not a positive Go duration such as \"90s\", \"5m\" or \"24h\".", s)
		return def
	}
	return d
}

func (l *loader) oneOf(attrs hcl.Attributes, name, def string, allowed ...string) string {
	return oneOf(l, attrs, name, def, allowed...)
}

// oneOf is loader.oneOf for a vocabulary of the plan (a risk, an ok_means).
func oneOf[T ~string](l *loader, attrs hcl.Attributes, name string, def T, allowed ...T) T {
	s := T(l.constString(attrs, name, string(def)))
	if slices.Contains(allowed, s) {
		return s
	}
	if a := attrs[name]; a != nil {
		words := make([]string, len(allowed))
		for i, w := range allowed {
			words[i] = string(w)
		}
		l.errorf(a.Expr.Range().Ptr(), "Invalid value for "+name, "%q is not one of: %s.", s, strings.Join(words, ", "))
	}
	return def
}

func (l *loader) content(body hcl.Body, schema *hcl.BodySchema) *hcl.BodyContent {
	c, d := body.Content(schema)
	l.diags = append(l.diags, d...)
	return c
}

// ---- variables ----

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"},
}}

func (l *loader) loadVariables(opts LoadOptions) {
	type pending struct {
		v   *Variable
		blk *hcl.Block
		def *hcl.Attribute
	}
	var vars []pending
	for _, b := range l.variables {
		c := l.content(b.Body, variableSchema)
		v := &Variable{Name: b.Labels[0], Type: cty.DynamicPseudoType}
		if a := c.Attributes["type"]; a != nil {
			ty, d := typeexpr.TypeConstraint(a.Expr)
			l.diags = append(l.diags, d...)
			if !d.HasErrors() {
				v.Type = ty
			}
		}
		if a := c.Attributes["description"]; a != nil {
			if dv, d := a.Expr.Value(nil); !d.HasErrors() && dv.Type() == cty.String && dv.IsKnown() && !dv.IsNull() {
				v.Description = dv.AsString()
			} else {
				l.errorf(a.Expr.Range().Ptr(), "Invalid description", "A variable description is a literal string.")
			}
		}
		vars = append(vars, pending{v: v, blk: b, def: c.Attributes["default"]})
	}
	given := map[string]cty.Value{}
	givenAs := map[string]string{}    // the -var option a value came from, for its errors
	givenAt := map[string]hcl.Range{} // the -var-file attribute a value came from
	byName := map[string]*Variable{}
	for _, p := range vars {
		byName[p.v.Name] = p.v
	}
	decl := make([]*Variable, 0, len(vars))
	for _, p := range vars {
		decl = append(decl, p.v)
	}
	declared := declaredVariables(decl)
	varNames := make([]string, 0, len(decl))
	for _, v := range decl {
		varNames = append(varNames, v.Name)
	}
	sort.Strings(varNames)
	for _, vf := range opts.VarFiles {
		if d := hclscan.Check(vf.Name, vf.Src); d.HasErrors() {
			l.diags = append(l.diags, d...)
			continue
		}
		f, d := l.parser.ParseHCL(vf.Src, vf.Name)
		l.diags = append(l.diags, d...)
		if d.HasErrors() {
			continue
		}
		attrs, d := f.Body.JustAttributes()
		l.diags = append(l.diags, d...)
		for name, a := range attrs {
			if byName[name] == nil {
				l.errorf(a.NameRange.Ptr(), "Value for undeclared variable", "The playbook declares no variable %q.%s %s", name, suggest(name, varNames), declared)
				continue
			}
			val, d := a.Expr.Value(nil)
			if d.HasErrors() {
				v := byName[name]
				l.errorf(a.Expr.Range().Ptr(), "Invalid value for variable", "The variable %q is %s: write its value as a constant, e.g. %s = %s.", name, typeWords(v.Type), name, typeExample(v.Type))
				continue
			}
			given[name], givenAt[name] = val, a.Expr.Range()
			delete(givenAs, name)
		}
	}
	for _, kv := range opts.Vars {
		name, raw, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			l.errorf(nil, "Invalid -var option", "The given -var option %q is not correctly specified: it must be NAME=VALUE.", kv)
			continue
		}
		v := byName[name]
		if v == nil {
			l.errorf(nil, "Value for undeclared variable", "-var %s: the playbook declares no variable %q.%s %s", kv, name, suggest(name, varNames), declared)
			continue
		}
		givenAs[name] = "-var " + kv
		delete(givenAt, name)
		if v.Type == cty.String || v.Type == cty.DynamicPseudoType {
			given[name] = cty.StringVal(raw)
			continue
		}
		bad := func() {
			l.errorf(nil, "Invalid value for variable", "-var %s: the variable %q is %s, and %q is not one. Write it as HCL, e.g. -var '%s=%s'.", kv, name, typeWords(v.Type), raw, name, typeExample(v.Type))
		}
		if d := hclscan.Check("-var "+name, []byte(raw)); d.HasErrors() {
			l.diags = append(l.diags, d...)
			continue
		}
		expr, d := hclsyntax.ParseExpression([]byte(raw), "-var "+name, hcl.InitialPos)
		if d.HasErrors() {
			bad()
			continue
		}
		val, d := expr.Value(nil)
		if d.HasErrors() {
			bad()
			continue
		}
		given[name] = val
	}
	for _, p := range vars {
		val, ok := given[p.v.Name]
		rng := p.blk.DefRange
		if !ok {
			if p.def == nil {
				l.errorf(&rng, "No value for required variable", "The variable %q has no default: give it with -var %s=VALUE or in a -var-file.", p.v.Name, p.v.Name)
				continue
			}
			dv, d := p.def.Expr.Value(nil)
			l.diags = append(l.diags, d...)
			if d.HasErrors() {
				continue
			}
			val, rng = dv, p.def.Expr.Range()
		}
		cv, err := convert.Convert(val, p.v.Type)
		if err != nil {
			if opt := givenAs[p.v.Name]; opt != "" {
				l.errorf(nil, "Invalid value for variable", "%s: the variable %q is %s: %v. Write it as HCL, e.g. -var '%s=%s'.", opt, p.v.Name, typeWords(p.v.Type), err, p.v.Name, typeExample(p.v.Type))
			} else if at, ok := givenAt[p.v.Name]; ok {
				l.errorf(&at, "Invalid value for variable", "The variable %q is %s: %v. For example: %s = %s.", p.v.Name, typeWords(p.v.Type), err, p.v.Name, typeExample(p.v.Type))
			} else {
				l.errorf(&rng, "Invalid value for variable", "The value for variable %q is not %s: %v.", p.v.Name, typeWords(p.v.Type), err)
			}
			continue
		}
		if !cv.IsWhollyKnown() {
			l.errorf(&rng, "Invalid value for variable", "The value for variable %q must be known.", p.v.Name)
			continue
		}
		p.v.Value = cv
		l.pb.varValues[p.v.Name] = cv
		l.pb.Variables = append(l.pb.Variables, p.v)
	}
}

// declaredVariables names the playbook's variables and their types, for errors.
func declaredVariables(vs []*Variable) string {
	if len(vs) == 0 {
		return "It declares no variables."
	}
	names := make([]string, 0, len(vs))
	for _, v := range vs {
		names = append(names, v.Name+" ("+typeexpr.TypeString(v.Type)+")")
	}
	sort.Strings(names)
	return "Its variables: " + strings.Join(names, ", ") + "."
}

// typeWords names a variable type for people: "a number", "a list(string)".
func typeWords(t cty.Type) string {
	switch {
	case t == cty.Number:
		return "a number"
	case t == cty.Bool:
		return "a bool (true or false)"
	case t == cty.String:
		return "a string"
	}
	return "of type " + typeexpr.TypeString(t)
}

// typeExample is an HCL value of type t, for errors.
func typeExample(t cty.Type) string {
	switch {
	case t == cty.Number:
		return "30"
	case t == cty.Bool:
		return "true"
	case t == cty.String:
		return `"text"`
	case t.IsListType() || t.IsSetType() || t.IsTupleType():
		if t.IsListType() || t.IsSetType() {
			return "[" + typeExample(t.ElementType()) + "]"
		}
		return "[...]"
	case t.IsMapType():
		return "{ key = " + typeExample(t.ElementType()) + " }"
	case t.IsObjectType():
		return "{ ... }"
	}
	return `"value"`
}

// ---- checks ----

var checkSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "doc"}, {Name: "condition"}, {Name: "ok_means"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "dns"}, {Type: "tcp"}, {Type: "event"}, {Type: "assert"}},
}

var dnsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "name", Required: true}, {Name: "type", Required: true}, {Name: "servers", Required: true},
	{Name: "recurse"}, {Name: "rcode"}, {Name: "answer"}, {Name: "in_authority"}, {Name: "absent"}, {Name: "match"}, {Name: "expect"},
}}

var tcpSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "host", Required: true}, {Name: "port"}, {Name: "ports"}, {Name: "match"},
}}

var eventSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "on", Required: true}, {Name: "ids", Required: true}, {Name: "within"}, {Name: "match"},
}}

var assertSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}}}

var dnsTypes = []string{"A", "AAAA", "CNAME", "SOA", "NS", "SRV", "PTR", "TXT"}

var rcodes = map[string]bool{"NOERROR": true, "FORMERR": true, "SERVFAIL": true, "NXDOMAIN": true, "NOTIMP": true, "REFUSED": true, "YXDOMAIN": true, "YXRRSET": true, "NXRRSET": true, "NOTAUTH": true, "NOTZONE": true}

func (l *loader) loadCheck(b *hcl.Block) {
	c := l.content(b.Body, checkSchema)
	ck := &Check{Name: b.Labels[0], DeclRange: b.DefRange}
	ck.Doc = l.constString(c.Attributes, "doc", "")
	ck.OKMeans = oneOf(l, c.Attributes, "ok_means", plan.OKMeansHealthy, plan.OKMeansHealthy, plan.OKMeansProblem)
	kinds := len(c.Blocks)
	if c.Attributes["condition"] != nil {
		kinds++
	}
	if kinds != 1 {
		l.errorf(b.DefRange.Ptr(), "Invalid check", "A check has exactly one of: a dns, tcp, event or assert block, or a condition attribute (this one has %d).", kinds)
		return
	}
	add := func(e *cexpr) *cexpr {
		if e != nil {
			ck.exprs = append(ck.exprs, e)
		}
		return e
	}
	if a := c.Attributes["condition"]; a != nil {
		ck.Kind = "assert"
		ck.cond = add(l.compile(a.Expr, scopeLink, cty.Bool, "a bool"))
	}
	for _, kb := range c.Blocks {
		ck.Kind = kb.Type
		switch kb.Type {
		case "dns":
			kc := l.content(kb.Body, dnsSchema)
			ck.dnsName = add(l.compileAttr(kc.Attributes, "name", scopeLink, cty.String, "a string"))
			ck.dnsServers = add(l.compileAttr(kc.Attributes, "servers", scopeLink, cty.List(cty.String), "a list of server addresses"))
			ck.dnsType = strings.ToUpper(l.constString(kc.Attributes, "type", "A"))
			if !contains(dnsTypes, ck.dnsType) {
				l.errorf(kc.Attributes["type"].Expr.Range().Ptr(), "Invalid DNS type", "%q is not one of %s.", ck.dnsType, strings.Join(dnsTypes, ", "))
			}
			ck.recurse = l.constBool(kc.Attributes, "recurse", true)
			ck.answer = l.constBool(kc.Attributes, "answer", true)
			ck.inAuth = l.constBool(kc.Attributes, "in_authority", false)
			ck.absent = l.constBool(kc.Attributes, "absent", false)
			if ck.absent && (kc.Attributes["answer"] != nil || kc.Attributes["rcode"] != nil || ck.inAuth) {
				l.errorf(kc.Attributes["absent"].Expr.Range().Ptr(), "Invalid dns check", "absent = true (the record must not exist: NXDOMAIN, or NOERROR without it) cannot be combined with answer, rcode or in_authority.")
			}
			ck.all = l.oneOf(kc.Attributes, "match", "all", "all", "any") == "all"
			ck.rcodes = []string{"NOERROR"}
			if a := kc.Attributes["rcode"]; a != nil {
				if v, ok := l.constant(a.Expr, cty.List(cty.String), "a list of rcode names"); ok {
					ck.rcodes = nil
					for _, e := range v.AsValueSlice() {
						rc := strings.ToUpper(e.AsString())
						if !rcodes[rc] {
							l.errorf(a.Expr.Range().Ptr(), "Invalid rcode", "%q is not a DNS rcode name (NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ...).", rc)
						}
						ck.rcodes = append(ck.rcodes, rc)
					}
				}
			}
			if a := kc.Attributes["expect"]; a != nil {
				ck.expect = add(l.compile(a.Expr, scopeReply, cty.Bool, "a bool"))
			}
		case "tcp":
			kc := l.content(kb.Body, tcpSchema)
			ck.host = add(l.compileAttr(kc.Attributes, "host", scopeLink, cty.String, "a string"))
			switch {
			case kc.Attributes["port"] != nil && kc.Attributes["ports"] != nil:
				l.errorf(kb.DefRange.Ptr(), "Invalid tcp check", "Give port or ports, not both.")
			case kc.Attributes["port"] != nil:
				// port = N is ports = [N]
				ck.ports = add(l.compile(kc.Attributes["port"].Expr, scopeLink, cty.Number, "a port number"))
			case kc.Attributes["ports"] != nil:
				ck.ports = add(l.compile(kc.Attributes["ports"].Expr, scopeLink, cty.List(cty.Number), "a list of port numbers"))
			default:
				l.errorf(kb.DefRange.Ptr(), "Invalid tcp check", "A tcp check needs port or ports.")
			}
			ck.all = l.oneOf(kc.Attributes, "match", "any", "all", "any") == "all"
		case "event":
			kc := l.content(kb.Body, eventSchema)
			ck.on = add(l.compileAttr(kc.Attributes, "on", scopeLink, cty.DynamicPseudoType, "a DC or a list of DCs"))
			ck.ids = add(l.compileAttr(kc.Attributes, "ids", scopeLink, cty.List(cty.Number), "a list of event IDs"))
			ck.within = l.constDuration(kc.Attributes, "within", 0)
			if a := kc.Attributes["match"]; a != nil {
				ck.match = add(l.compile(a.Expr, scopeEvent, cty.Bool, "a bool"))
			}
		case "assert":
			kc := l.content(kb.Body, assertSchema)
			ck.cond = add(l.compileAttr(kc.Attributes, "condition", scopeLink, cty.Bool, "a bool"))
		}
	}
	if l.pb.checkByName[ck.Name] == nil {
		l.pb.Checks = append(l.pb.Checks, ck)
		l.pb.checkByName[ck.Name] = ck
	}
}

// ---- actions ----

var actionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "title", Required: true}, {Name: "on", Required: true}, {Name: "risk", Required: true},
		{Name: "doc"}, {Name: "params"}, {Name: "verify"}, {Name: "verify_timeout"}, {Name: "requires_approval_each"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "windows"}, {Type: "samba"}, {Type: "ldap_delete"}, {Type: "guard", LabelNames: []string{"name"}}},
}

var windowsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "powershell", Required: true}}}
var sambaSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "argv", Required: true}, {Name: "ignore_exit"}}}
var ldapDeleteSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "dn", Required: true}, {Name: "tree"}, {Name: "expect_guid"}}}
var guardSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "condition", Required: true}, {Name: "message", Required: true}}}

// DefaultVerifyTimeout is how long apply re-runs an action's verify checks when the playbook
// does not say (record TTLs and AD replication make a few minutes normal).
const DefaultVerifyTimeout = 5 * time.Minute

func (l *loader) loadAction(b *hcl.Block) {
	c := l.content(b.Body, actionSchema)
	a := &Action{Name: b.Labels[0], DeclRange: b.DefRange}
	if c.Attributes["title"] != nil {
		a.title = l.compile(c.Attributes["title"].Expr, scopeLink, cty.String, "a string")
	}
	if c.Attributes["on"] != nil {
		a.on = l.compileOn(c.Attributes["on"].Expr, "a DC (link.source, link.destination, or one of forest.dcs)")
	}
	a.Risk = oneOf(l, c.Attributes, "risk", plan.RiskHigh, plan.RiskLow, plan.RiskMedium, plan.RiskHigh)
	a.Doc = l.constString(c.Attributes, "doc", "")
	a.RequiresApprovalEach = l.constBool(c.Attributes, "requires_approval_each", false)
	a.VerifyTimeout = l.constDuration(c.Attributes, "verify_timeout", DefaultVerifyTimeout)
	if at := c.Attributes["params"]; at != nil {
		a.params = l.compile(at.Expr, scopeLink, cty.DynamicPseudoType, "an object")
	}
	if at := c.Attributes["verify"]; at != nil {
		a.Verify = l.refList(at.Expr, "check", "verify")
	}
	seenGuard := map[string]bool{}
	for _, kb := range c.Blocks {
		switch kb.Type {
		case "windows":
			if a.hasWindows {
				l.errorf(kb.DefRange.Ptr(), "Duplicate windows block", "An action has at most one windows block.")
				continue
			}
			a.hasWindows = true
			kc := l.content(kb.Body, windowsSchema)
			if at := kc.Attributes["powershell"]; at != nil {
				if vars := at.Expr.Variables(); len(vars) > 0 {
					l.errorf(vars[0].SourceRange().Ptr(), "PowerShell must not interpolate values",
						"Facts never become command text: put the value in params (params = { name = %s }) and read it in the script as $P.name.", l.src(vars[0].SourceRange()))
					continue
				}
				if v, ok := l.constant(at.Expr, cty.String, "a string"); ok {
					a.windowsPS = v.AsString()
				}
			}
		case "samba":
			if a.hasSamba {
				l.errorf(kb.DefRange.Ptr(), "Duplicate samba block", "An action has at most one samba block.")
				continue
			}
			a.hasSamba = true
			kc := l.content(kb.Body, sambaSchema)
			if at := kc.Attributes["argv"]; at != nil {
				a.sambaArgv = l.compile(at.Expr, scopeLink, cty.List(cty.String), "a list of strings (the argument vector)")
			}
			a.sambaIgnoreExit = l.constBool(kc.Attributes, "ignore_exit", false)
		case "ldap_delete":
			if a.hasLDAP {
				l.errorf(kb.DefRange.Ptr(), "Duplicate ldap_delete block", "An action has at most one ldap_delete block.")
				continue
			}
			a.hasLDAP = true
			kc := l.content(kb.Body, ldapDeleteSchema)
			if at := kc.Attributes["dn"]; at != nil {
				a.ldapDN = l.compile(at.Expr, scopeLink, cty.String, "a DN")
			}
			if at := kc.Attributes["expect_guid"]; at != nil {
				a.ldapGUID = l.compile(at.Expr, scopeLink, cty.String, "a GUID")
			}
			a.ldapTree = l.constBool(kc.Attributes, "tree", false)
		case "guard":
			name := kb.Labels[0]
			if seenGuard[name] {
				l.errorf(kb.LabelRanges[0].Ptr(), "Duplicate guard", "This action already has a guard %q.", name)
				continue
			}
			seenGuard[name] = true
			kc := l.content(kb.Body, guardSchema)
			g := &Guard{Name: name}
			if at := kc.Attributes["condition"]; at != nil {
				g.cond = l.compile(at.Expr, scopeLink, cty.Bool, "a bool")
			}
			if at := kc.Attributes["message"]; at != nil {
				g.message = l.compile(at.Expr, scopeLink, cty.String, "a string")
			}
			a.guards = append(a.guards, g)
		}
	}
	switch {
	case !a.hasWindows && !a.hasSamba && !a.hasLDAP:
		l.errorf(b.DefRange.Ptr(), "Action does nothing", "An action needs a windows, samba or ldap_delete block.")
	case a.hasLDAP && (a.hasWindows || a.hasSamba):
		l.errorf(b.DefRange.Ptr(), "Invalid action", "An ldap_delete action runs over LDAP and cannot also have windows or samba bodies.")
	}
	if a.hasLDAP && a.Risk != plan.RiskHigh {
		l.errorf(c.Attributes["risk"].Expr.Range().Ptr(), "LDAP deletes are high risk", "An ldap_delete action must declare risk = \"high\".")
	}
	if l.pb.actionByName[a.Name] == nil {
		l.pb.Actions = append(l.pb.Actions, a)
		l.pb.actionByName[a.Name] = a
	}
}

// refList reads a static list of references: [check.a, check.b] or [action.x].
func (l *loader) refList(expr hcl.Expression, root, what string) []string {
	items, d := hcl.ExprList(expr)
	l.diags = append(l.diags, d...)
	var out []string
	for _, it := range items {
		t, d := hcl.AbsTraversalForExpr(it)
		if d.HasErrors() || t.RootName() != root || len(t) != 2 {
			l.errorf(it.Range().Ptr(), "Invalid reference in "+what, "Each element of %s must be a reference like %s.NAME.", what, root)
			continue
		}
		name, _ := attrStep(t, 1)
		var exists bool
		var all []string
		if root == "check" {
			exists, all = l.checkBlock(name) != nil, l.names(l.checks)
		} else {
			exists, all = l.actionBlock(name) != nil, l.names(l.actions)
		}
		if !exists {
			l.errorf(it.Range().Ptr(), "Reference to undeclared "+root, "There is no %s named %q.%s", root, name, suggest(name, all))
			continue
		}
		out = append(out, name)
	}
	return out
}

// ---- decisions ----

var decisionSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "when", Required: true}, {Name: "cause", Required: true}, {Name: "see", Required: true},
		{Name: "doc"}, {Name: "remedy"}, {Name: "optional"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "manual", LabelNames: []string{"title"}}},
}

var manualSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "text"}, {Name: "on"}, {Name: "shell"}, {Name: "commands"}, {Name: "command"}, {Name: "when"},
}}

func (l *loader) loadDecision(b *hcl.Block) {
	c := l.content(b.Body, decisionSchema)
	d := &Decision{Name: b.Labels[0], DeclRange: b.DefRange}
	if a := c.Attributes["when"]; a != nil {
		d.when = l.compile(a.Expr, scopeLink, cty.Bool, "a bool")
	}
	if a := c.Attributes["cause"]; a != nil {
		d.cause = l.compile(a.Expr, scopeLink, cty.String, "a string")
	}
	d.See = l.constString(c.Attributes, "see", "")
	d.Doc = l.constString(c.Attributes, "doc", "")
	if a := c.Attributes["remedy"]; a != nil {
		d.Remedy = l.refList(a.Expr, "action", "remedy")
	}
	if a := c.Attributes["optional"]; a != nil {
		items, dd := hcl.ExprList(a.Expr)
		l.diags = append(l.diags, dd...)
		for _, it := range items {
			t, dd := hcl.AbsTraversalForExpr(it)
			if dd.HasErrors() {
				l.errorf(it.Range().Ptr(), "Invalid optional fact", "Each element of optional must be a reference to a fact (link.source.events) or a check (check.NAME).")
				continue
			}
			switch t.RootName() {
			case "link", "forest":
			case "check":
				name, _ := attrStep(t, 1)
				if l.checkBlock(name) == nil {
					l.errorf(it.Range().Ptr(), "Reference to undeclared check", "There is no check named %q.%s", name, suggest(name, l.names(l.checks)))
					continue
				}
			default:
				l.errorf(it.Range().Ptr(), "Invalid optional fact", "optional lists facts (link.*, forest.*) or checks (check.NAME).")
				continue
			}
			d.optional = append(d.optional, t)
		}
	}
	for _, mb := range c.Blocks {
		d.manual = append(d.manual, l.loadManual(mb))
	}
	if d.See == "" && c.Attributes["see"] != nil {
		l.errorf(c.Attributes["see"].Expr.Range().Ptr(), "Empty see", "see names the article section the decision comes from.")
	}
	l.pb.Decisions = append(l.pb.Decisions, d)
}

// loadManual reads one `manual` block (of a decision or a warning).
func (l *loader) loadManual(mb *hcl.Block) *Manual {
	mc := l.content(mb.Body, manualSchema)
	m := &Manual{Title: mb.Labels[0]}
	m.Shell = l.oneOf(mc.Attributes, "shell", "cmd", "cmd", "powershell", "posix")
	if a := mc.Attributes["text"]; a != nil {
		m.text = l.compile(a.Expr, scopeLink, cty.String, "a string")
	}
	if a := mc.Attributes["on"]; a != nil {
		m.on = l.compileOn(a.Expr, "a DC")
	}
	if a := mc.Attributes["when"]; a != nil {
		m.when = l.compile(a.Expr, scopeLink, cty.Bool, "a bool")
	}
	if mc.Attributes["commands"] != nil && mc.Attributes["command"] != nil {
		l.errorf(mb.DefRange.Ptr(), "Invalid manual step", "Give command (one argument vector) or commands (a list of them), not both.")
	}
	if a := mc.Attributes["commands"]; a != nil {
		m.commands = l.compile(a.Expr, scopeLink, cty.List(cty.List(cty.String)), "a list of argument vectors (lists of strings)")
	}
	if a := mc.Attributes["command"]; a != nil {
		m.command = l.compile(a.Expr, scopeLink, cty.List(cty.String), "an argument vector (a list of strings)")
	}
	if m.text == nil && m.commands == nil && m.command == nil {
		l.errorf(mb.DefRange.Ptr(), "Empty manual step", "A manual step needs text, command or commands.")
	}
	return m
}

// ---- warnings ----

var warningSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{
		{Name: "when", Required: true}, {Name: "message", Required: true}, {Name: "see"}, {Name: "doc"},
	},
	Blocks: []hcl.BlockHeaderSchema{{Type: "manual", LabelNames: []string{"title"}}},
}

func (l *loader) loadWarning(b *hcl.Block) {
	c := l.content(b.Body, warningSchema)
	w := &WarningRule{Name: b.Labels[0], DeclRange: b.DefRange}
	if a := c.Attributes["when"]; a != nil {
		w.when = l.compile(a.Expr, scopeLink, cty.Bool, "a bool")
	}
	if a := c.Attributes["message"]; a != nil {
		w.message = l.compile(a.Expr, scopeLink, cty.String, "a string")
	}
	w.See = l.constString(c.Attributes, "see", "")
	w.Doc = l.constString(c.Attributes, "doc", "")
	for _, mb := range c.Blocks {
		w.manual = append(w.manual, l.loadManual(mb))
	}
	l.pb.Warnings = append(l.pb.Warnings, w)
}

// exprs lists every expression of a warning.
func (w *WarningRule) exprs() []*cexpr {
	out := []*cexpr{w.when, w.message}
	for _, m := range w.manual {
		out = append(out, m.text, m.on, m.when, m.commands, m.command)
	}
	return out
}

// checkWarningsPure enforces that warnings read facts only: every check a warning's
// expressions use, and every check those use in turn, must be an assert check. Warnings are
// evaluated for every healthy partnership of a forest; a dns, tcp or event check there would
// make the gatherer query DNS servers, probe ports or read event logs for links that work.
// It also records the attributes of link the warnings' when expressions read
// (Playbook.warnLinkAttrs).
func (l *loader) checkWarningsPure() {
	memo := map[string][]string{} // check -> chain to a check that is not an assert ([] if pure)
	var impure func(name string) []string
	impure = func(name string) []string {
		if chain, ok := memo[name]; ok {
			return chain
		}
		ck := l.pb.checkByName[name]
		var chain []string
		switch {
		case ck == nil:
		case ck.Kind != "assert":
			chain = []string{name}
		default:
			for _, e := range ck.exprs {
				for _, dep := range e.checks {
					if sub := impure(dep); sub != nil {
						chain = append([]string{name}, sub...)
						break
					}
				}
				if chain != nil {
					break
				}
			}
		}
		memo[name] = chain
		return chain
	}
	for _, w := range l.pb.Warnings {
		for _, e := range w.exprs() {
			if e == nil {
				continue
			}
			for _, c := range e.checks {
				chain := impure(c)
				if chain == nil {
					continue
				}
				last := l.pb.checkByName[chain[len(chain)-1]]
				via := ""
				if len(chain) > 1 {
					via = fmt.Sprintf(" (through %s)", strings.Join(chain[:len(chain)-1], " -> "))
				}
				l.errorf(refRange(e, c), "Warning uses a check that needs observations",
					"Warning %q uses check %q%s, a %s check: a warning is evaluated for every healthy partnership, so it may only use checks that read facts (assert checks, and the assert checks they use), never DNS queries, TCP probes or events.",
					w.Name, last.Name, via, last.Kind)
			}
		}
	}
	var whens []*cexpr
	for _, w := range l.pb.Warnings {
		whens = append(whens, w.when)
	}
	l.pb.warnLinkAttrs, l.pb.warnLinkAll = linkAttrsOf(l.pb, whens...)
	l.pb.warnMemo = !l.pb.warnLinkAll
	for _, a := range l.pb.warnLinkAttrs {
		switch a {
		case "destination", "source", "current_source", "source_name":
			l.pb.warnNeedDCs = true
		}
		if !warnStringAttrs[a] {
			l.pb.warnMemo = false
		}
	}
}

// linkAttrsOf lists the attributes of link expressions read, directly or through the checks
// they use (all: one reads link as a whole, or an attribute by a computed index).
func linkAttrsOf(pb *Playbook, es ...*cexpr) (attrs []string, all bool) {
	seen := map[string]bool{}
	seenCheck := map[string]bool{}
	var walk func(e *cexpr)
	walk = func(e *cexpr) {
		for _, t := range e.facts {
			if t.RootName() != "link" {
				continue
			}
			a, ok := attrStep(t, 1)
			if !ok {
				all = true
				continue
			}
			if !seen[a] {
				seen[a] = true
				attrs = append(attrs, a)
			}
		}
		for _, c := range e.checks {
			if ck := pb.checkByName[c]; ck != nil && !seenCheck[c] {
				seenCheck[c] = true
				for _, x := range ck.exprs {
					walk(x)
				}
			}
		}
	}
	for _, e := range es {
		if e != nil {
			walk(e)
		}
	}
	sort.Strings(attrs)
	if all {
		return nil, true
	}
	return attrs, false
}

// ---- playbook and windows ----

var playbookSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "title", Required: true}, {Name: "matches", Required: true}, {Name: "description"}, {Name: "evidence"},
}}

func (l *loader) loadPlaybookBlock() {
	if len(l.playbooks) != 1 {
		return
	}
	b := l.playbooks[0]
	c := l.content(b.Body, playbookSchema)
	l.pb.Name = b.Labels[0]
	l.pb.Title = l.constString(c.Attributes, "title", "")
	l.pb.Description = l.constString(c.Attributes, "description", "")
	if a := c.Attributes["matches"]; a != nil {
		l.pb.matches = l.compile(a.Expr, scopeMatches, cty.Bool, "a bool")
	}
	if a := c.Attributes["evidence"]; a != nil {
		l.pb.evidence = l.refList(a.Expr, "check", "evidence")
	}
}

var windowSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "cron", Required: true}, {Name: "duration", Required: true}, {Name: "time_zone"},
}}

func (l *loader) loadWindow(b *hcl.Block) {
	c := l.content(b.Body, windowSchema)
	w := plan.WindowSpec{Name: b.Labels[0], TimeZone: "UTC"}
	w.Cron = l.constString(c.Attributes, "cron", "")
	w.Duration = l.constString(c.Attributes, "duration", "")
	w.TimeZone = l.constString(c.Attributes, "time_zone", "UTC")
	if w.Cron == "" || w.Duration == "" {
		return // Content reported the missing attribute
	}
	if _, err := window.Parse(w.Name, w.Cron, w.Duration, w.TimeZone); err != nil || strings.Contains(w.Cron, "TZ=") {
		msg := "set the zone with time_zone, not in the cron text"
		if err != nil {
			msg = err.Error()
		}
		// Point at the attribute the message is about.
		attr := "cron"
		switch low := strings.ToLower(msg); {
		case strings.Contains(low, "duration"):
			attr = "duration"
		case strings.Contains(low, "zone") || strings.Contains(low, "location"):
			if c.Attributes["time_zone"] != nil {
				attr = "time_zone"
			}
		}
		l.errorf(c.Attributes[attr].Expr.Range().Ptr(), "Invalid change window", "%s. A window is a cron schedule (five fields: minute hour day-of-month month day-of-week), a duration (\"6h\", \"2d\") and an IANA time zone (\"Europe/Paris\").", msg)
	}
	l.pb.Windows = append(l.pb.Windows, w)
}

// ---- graph and types ----

// checkCycles reports a cycle of check references with the range of the reference that closes it.
func (l *loader) checkCycles() {
	const (
		white = iota
		grey
		black
	)
	color := map[string]int{}
	var stack []string
	var visit func(ck *Check) bool
	visit = func(ck *Check) bool {
		color[ck.Name] = grey
		stack = append(stack, ck.Name)
		for _, e := range ck.exprs {
			for _, dep := range e.checks {
				switch color[dep] {
				case grey:
					i := indexOf(stack, dep)
					cycle := append(append([]string{}, stack[i:]...), dep)
					rng := refRange(e, dep)
					l.errorf(rng, "Cycle in check references", "The checks reference each other in a loop: %s. A check can only use checks that do not depend on it.", strings.Join(cycle, " -> "))
					return false
				case white:
					if !visit(l.pb.checkByName[dep]) {
						return false
					}
				}
			}
		}
		stack = stack[:len(stack)-1]
		color[ck.Name] = black
		return true
	}
	for _, ck := range l.pb.Checks {
		if color[ck.Name] == white && !visit(ck) {
			return
		}
	}
}

func refRange(e *cexpr, check string) *hcl.Range {
	for _, t := range e.expr.Variables() {
		if n, ok := attrStep(t, 1); ok && t.RootName() == "check" && n == check {
			return t.SourceRange().Ptr()
		}
	}
	return e.expr.Range().Ptr()
}

// typeCheck evaluates every expression once with unknown values of the right types: unknown
// attributes, wrong operand types and wrong result types become located diagnostics.
func (l *loader) typeCheck() {
	checks := map[string]cty.Value{}
	for _, ck := range l.pb.Checks {
		checks[ck.Name] = cty.UnknownVal(resultType(ck.Kind))
	}
	vars := map[string]cty.Value{
		"link":   cty.UnknownVal(linkType),
		"forest": cty.UnknownVal(forestType),
		"var":    cty.ObjectVal(l.pb.varValues),
		"check":  cty.ObjectVal(checks),
		"reply":  cty.UnknownVal(replyType),
		"event":  cty.UnknownVal(eventType),
	}
	ctx := &hcl.EvalContext{Variables: vars, Functions: withFacts(nil)}
	for _, t := range l.exprs {
		if t.sc == scopeConst {
			continue // evaluated with real values already
		}
		v, d := t.e.expr.Value(ctx)
		if d.HasErrors() {
			l.diags = append(l.diags, d...)
			continue
		}
		if t.want == cty.DynamicPseudoType {
			continue
		}
		if vt := v.Type(); vt.IsPrimitiveType() && t.want.IsPrimitiveType() && !vt.Equals(t.want) {
			l.errorf(t.e.expr.Range().Ptr(), "Incorrect value type", "Expected %s, got a %s.", t.what, vt.FriendlyName())
			continue
		}
		if _, err := convert.Convert(v, t.want); err != nil {
			l.errorf(t.e.expr.Range().Ptr(), "Incorrect value type", "Expected %s: %v.", t.what, err)
		}
	}
	// action.on must be a DC object; event.on a DC or a list of DCs.
	for _, ck := range l.pb.Checks {
		if ck.Kind != "event" {
			continue
		}
		v, d := ck.on.expr.Value(ctx)
		if d.HasErrors() {
			continue
		}
		ty := v.Type()
		okType := ty.Equals(dcType) || ty == cty.DynamicPseudoType ||
			((ty.IsListType() || ty.IsSetType()) && ty.ElementType().Equals(dcType)) || ty.IsTupleType()
		if !okType {
			l.errorf(ck.on.expr.Range().Ptr(), "Incorrect value type", "on must be a DC (link.source, link.destination) or a list of DCs.")
		}
	}
}

// unused warns about checks nothing references.
func (l *loader) unused() {
	used := map[string]bool{}
	for _, t := range l.exprs {
		for _, c := range t.e.checks {
			used[c] = true
		}
	}
	for _, a := range l.pb.Actions {
		for _, c := range a.Verify {
			used[c] = true
		}
	}
	for _, c := range l.pb.evidence {
		used[c] = true
	}
	for _, d := range l.pb.Decisions {
		for _, t := range d.optional {
			if n, ok := attrStep(t, 1); ok && t.RootName() == "check" {
				used[n] = true
			}
		}
	}
	for _, ck := range l.pb.Checks {
		if !used[ck.Name] {
			l.warnf(ck.DeclRange.Ptr(), "Unused check", "No decision, action or evidence list uses check %q.", ck.Name)
		}
	}
	usedAction := map[string]bool{}
	for _, d := range l.pb.Decisions {
		for _, a := range d.Remedy {
			usedAction[a] = true
		}
	}
	for _, a := range l.pb.Actions {
		if !usedAction[a.Name] {
			l.warnf(a.DeclRange.Ptr(), "Unused action", "No decision's remedy uses action %q.", a.Name)
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}

// suggest proposes the closest known name, terraform-style.
func suggest(name string, known []string) string {
	best, bestD := "", 4
	for _, k := range known {
		if d := levenshtein(name, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" Did you mean %q?", best)
}

func levenshtein(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
