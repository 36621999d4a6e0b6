package engine

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// findingEval evaluates a playbook for one partnership: checks are evaluated lazily, at most
// once, in dependency order; every fact and observation a decision reads is recorded for the
// fingerprint.
type findingEval struct {
	p   *planner
	g   *partnership
	ctx *hcl.EvalContext

	results map[string]*checkEval
	errors  []string
	flags   []plan.Flag
	flagged []string // raw values of flagged facts: always quoted, and block actions

	deps      map[string]string // fingerprint entries: key -> canonical value
	depChecks map[string]bool

	linkAttrs map[string]cty.Value // the attributes `link` was built from (see lookupLink)
	scratch   []byte               // canon's buffer
	// quick: only the values of expressions are wanted, no evidence (a warning's when on a
	// healthy partnership): assert checks whose value depends on their status alone skip it.
	quick bool
}

type checkEval struct {
	ck      *Check
	status  plan.Status
	val     cty.Value
	result  plan.CheckResult
	needs   []plan.Need
	fixed   bool              // val is ck.statusVals[status] (see checkVar)
	missing bool              // an observation it needs is missing
	obsDeps map[string]string // observation key -> canonical value
}

func (p *planner) newEval(g *partnership, links []*facts.Link) *findingEval {
	fe := &findingEval{p: p, g: g, results: map[string]*checkEval{}}
	fe.ctx = p.base.NewChild()
	link, attrs := p.linkValue(g, links)
	fe.linkAttrs = attrs
	fe.ctx.Variables = map[string]cty.Value{"link": link, "check": cty.EmptyObjectVal}
	for _, f := range g.flags {
		if f.Raw != "" {
			fe.flagged = append(fe.flagged, f.Raw)
		}
	}
	return fe
}

// eval evaluates an expression; a failing expression counts as unknown and is reported.
func (fe *findingEval) eval(e *cexpr) cty.Value { return fe.evalIn(e, nil) }

// evalIn evaluates an expression lazily with respect to checks: checks not evaluated yet are
// first given as unknown placeholders, and evaluated one at a time (in the order the expression
// names them) only while the result is still unknown. Because unknown values are
// three-valued (false && unknown is false), a result that is known without a check does not
// depend on it: `!check.a.ok && check.b.ok` never evaluates b when a is ok.
func (fe *findingEval) evalIn(e *cexpr, extra map[string]cty.Value) cty.Value {
	if e == nil {
		return cty.NullVal(cty.DynamicPseudoType)
	}
	if e.isConst {
		return e.konst
	}
	if e.trav != nil && extra == nil {
		if v, ok := fe.lookup(e.trav); ok {
			return v
		}
	}
	// When none of the checks is evaluated yet, a first evaluation would almost always be
	// unknown: evaluate the first check right away.
	if len(e.checks) > 0 {
		none := true
		for _, c := range e.checks {
			if fe.results[c] != nil {
				none = false
				break
			}
		}
		if none {
			fe.check(e.checks[0])
		}
	}
	for {
		pending := ""
		if len(e.checks) > 0 {
			fe.ctx.Variables["check"], pending = fe.checkVar(e)
		}
		ctx := fe.ctx
		if extra != nil {
			ctx = fe.ctx.NewChild()
			ctx.Variables = extra
		}
		v, d := e.expr.Value(ctx)
		if pending != "" && (d.HasErrors() || !whollyKnown(v)) {
			fe.check(pending)
			continue
		}
		if d.HasErrors() {
			fe.errors = append(fe.errors, diagString(d))
			return cty.DynamicVal
		}
		return v
	}
}

// checkVar returns the `check` object an expression sees now (its checks: the results so far,
// placeholders for the others), and the first of its checks not evaluated yet ("" if none).
// When every check the expression reads has a value that depends on its status alone, the
// object depends on those statuses alone, and is built once per playbook (e.checkVars).
func (fe *findingEval) checkVar(e *cexpr) (cty.Value, string) {
	pending := ""
	sig, shared := 0, e.checkVars != nil
	for i, c := range e.checks {
		ce := fe.results[c]
		switch {
		case ce == nil:
			if pending == "" {
				pending = c
			}
		case shared && ce.fixed:
			sig |= statusIndex(ce.status) << (2 * i)
		default:
			shared = false
		}
	}
	if shared {
		if v := e.checkVars[sig].Load(); v != nil {
			return *v, pending
		}
	}
	vals := make(map[string]cty.Value, len(e.checks))
	for _, c := range e.checks {
		if ce := fe.results[c]; ce != nil {
			vals[c] = ce.val
		} else {
			vals[c] = fe.p.pb.checkByName[c].placeholder
		}
	}
	v := cty.ObjectVal(vals)
	if shared {
		e.checkVars[sig].Store(&v)
	}
	return v, pending
}

// statusIndex numbers the statuses 1..3 for checkVar (0 is "not evaluated yet").
func statusIndex(status plan.Status) int {
	switch status {
	case plan.StatusOK:
		return 1
	case plan.StatusFailed:
		return 2
	}
	return 3
}

func diagString(d hcl.Diagnostics) string {
	var parts []string
	for _, x := range d {
		if x.Severity != hcl.DiagError {
			continue
		}
		s := x.Summary
		if x.Detail != "" {
			s += ": " + x.Detail
		}
		if x.Subject != nil {
			s = fmt.Sprintf("%s:%d: %s", x.Subject.Filename, x.Subject.Start.Line, s)
		}
		parts = append(parts, safeText(s))
	}
	return strings.Join(parts, "; ")
}

// evalBool evaluates a condition; a value that is not a bool is an error (and unknown).
func (fe *findingEval) evalBool(e *cexpr) cty.Value {
	v := fe.eval(e)
	if !v.IsKnown() || v.IsNull() || v.Type() == cty.Bool {
		return v
	}
	bv, err := convert.Convert(v, cty.Bool)
	if err != nil {
		fe.errors = append(fe.errors, safeText(fmt.Sprintf("%s:%d: %s is not a bool: %v", e.expr.Range().Filename, e.expr.Range().Start.Line, e.src, err)))
		return cty.DynamicVal
	}
	return bv
}

// evalText evaluates a display string; unknown parts are shown as such.
func (fe *findingEval) evalText(e *cexpr) string {
	v := fe.eval(e)
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "(unknown: " + strings.Join(fe.unknownsOf(e), ", ") + ")"
	}
	return v.AsString()
}

// check evaluates a check once.
func (fe *findingEval) check(name string) *checkEval {
	if ce := fe.results[name]; ce != nil {
		return ce
	}
	ck := fe.p.pb.checkByName[name]
	ce := &checkEval{ck: ck, status: plan.StatusUnknown}
	ce.val = cty.UnknownVal(resultType(ck.Kind))
	fe.results[name] = ce // a placeholder: cycles are rejected at load
	ce.result = plan.CheckResult{Name: ck.Name, Kind: ck.Kind, Doc: ck.Doc}
	// A check whose readers only read ok, status or kind has one value per status, built at
	// load: no attribute map is needed.
	var attrs map[string]cty.Value
	if ck.statusVals == nil {
		attrs = map[string]cty.Value{}
	}
	var evidence []string
	switch ck.Kind {
	case "dns":
		evidence = fe.evalDNS(ce, attrs)
	case "tcp":
		evidence = fe.evalTCP(ce, attrs)
	case "event":
		evidence = fe.evalEvent(ce, attrs)
	default:
		evidence = fe.evalAssert(ce)
	}
	if ce.status == plan.StatusUnknown {
		ce.needs = append(ce.needs, fe.inputNeeds(ck)...)
		ce.needs = dedupNeeds(ce.needs)
	}
	if ck.statusVals != nil {
		ce.val, ce.fixed = ck.statusVals[ce.status], true
	} else {
		ce.val = checkValue(ck, ce.status, attrs, evidence)
	}
	ce.result.Status = ce.status
	ce.result.Reading = plan.ReadingOf(ce.status, ck.OKMeans)
	if ce.result.Summary == "" {
		ce.result.Summary = strings.Join(evidence, "; ")
	}
	return ce
}

// checkValue builds check.NAME from the attributes a kind set: status, ok, kind and evidence
// are added, attributes no expression reads are dropped, and those read but not set are unknown.
func checkValue(ck *Check, status plan.Status, attrs map[string]cty.Value, evidence []string) cty.Value {
	attrs["status"] = statusVals[status]
	if ck.usedAll || ck.used["kind"] {
		attrs["kind"] = cty.StringVal(ck.Kind)
	}
	if ck.usedAll || ck.used["evidence"] {
		attrs["evidence"] = strList(evidence)
	}
	switch status {
	case plan.StatusOK:
		attrs["ok"] = cty.True
	case plan.StatusFailed:
		attrs["ok"] = cty.False
	default:
		attrs["ok"] = unknownBool
	}
	// Fill any attribute a kind left out (an unknown input) with an unknown value, and keep
	// only the attributes expressions read.
	for a, ty := range resultType(ck.Kind).AttributeTypes() {
		if !ck.usedAll && !ck.used[a] {
			delete(attrs, a)
			continue
		}
		if _, ok := attrs[a]; !ok {
			attrs[a] = unknownOf(ty)
		}
	}
	return cty.ObjectVal(attrs)
}

// statusOnly reports whether expressions read nothing of a check but ok, status and kind: its
// value then depends on its status alone.
func statusOnly(ck *Check) bool {
	if ck.usedAll {
		return false
	}
	for a := range ck.used {
		if a != "ok" && a != "status" && a != "kind" {
			return false
		}
	}
	return true
}

// setAttr sets a check attribute; attrs is nil when the check's value does not need them.
func setAttr(attrs map[string]cty.Value, name string, v cty.Value) {
	if attrs != nil {
		attrs[name] = v
	}
}

var statusVals = map[plan.Status]cty.Value{
	plan.StatusOK: cty.StringVal(string(plan.StatusOK)), plan.StatusFailed: cty.StringVal(string(plan.StatusFailed)), plan.StatusUnknown: cty.StringVal(string(plan.StatusUnknown)),
}

// wants reports whether expressions read a check's attribute (so it must be built).
func wants(ck *Check, attr string) bool { return ck.usedAll || ck.used[attr] }

func aggregate(all bool, ok, failed, unknown int) plan.Status {
	if all {
		switch {
		case failed > 0:
			return plan.StatusFailed
		case unknown > 0:
			return plan.StatusUnknown
		case ok > 0:
			return plan.StatusOK
		}
		return plan.StatusFailed // nothing to ask
	}
	switch {
	case ok > 0:
		return plan.StatusOK
	case unknown > 0:
		return plan.StatusUnknown
	}
	return plan.StatusFailed
}

func matchWord(all bool) string {
	if all {
		return "every"
	}
	return "any"
}

func rrStrings(rrs []facts.RR, withName bool) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if withName {
			out = append(out, facts.CanonicalName(rr.Name)+" "+rr.Type+" "+rr.Data)
		} else {
			out = append(out, rr.Data)
		}
	}
	return out
}

func rrList(rrs []facts.RR) cty.Value {
	vs := make([]cty.Value, len(rrs))
	for i, rr := range rrs {
		vs[i] = cty.ObjectVal(map[string]cty.Value{
			"name": cty.StringVal(facts.CanonicalName(rr.Name)),
			"type": cty.StringVal(strings.ToUpper(rr.Type)),
			"ttl":  cty.NumberIntVal(int64(rr.TTL)),
			"data": cty.StringVal(rr.Data),
		})
	}
	return listOf(rrType, vs)
}

func replyVal(o *facts.DNSObservation) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"server":    cty.StringVal(o.Server),
		"name":      cty.StringVal(facts.CanonicalName(o.Name)),
		"type":      cty.StringVal(strings.ToUpper(o.Type)),
		"rcode":     cty.StringVal(strings.ToUpper(o.Rcode)),
		"aa":        cty.BoolVal(o.Authoritative),
		"answers":   rrList(o.Answers),
		"authority": rrList(o.Authority),
		"error":     cty.StringVal(o.Error),
		"responded": cty.BoolVal(o.Responded()),
	})
}

// knownString returns a known, non-null string value.
func knownString(v cty.Value) (string, bool) {
	if !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

func knownStrings(v cty.Value) ([]string, bool) {
	if !whollyKnown(v) || v.IsNull() {
		return nil, false
	}
	if !v.Type().IsListType() && !v.Type().IsTupleType() && !v.Type().IsSetType() {
		return nil, false
	}
	var out []string
	for _, e := range elems(v) {
		if e.IsNull() || e.Type() != cty.String {
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

func (fe *findingEval) flag(fact, raw, problem string) {
	fe.flags = append(fe.flags, plan.Flag{Fact: fact, Value: displayValue(raw), Problem: problem, Raw: raw})
	fe.flagged = append(fe.flagged, raw)
}

// dnsQueries returns the queries a dns check asks for this partnership; ok is false when its
// inputs are unknown. Invalid names and servers are flagged and left out.
func (fe *findingEval) dnsQueries(ck *Check) (name string, qs []facts.DNSQuery, bad []string, ok bool) {
	nv := fe.eval(ck.dnsName)
	sv := fe.eval(ck.dnsServers)
	name, nok := knownString(nv)
	servers, sok := knownStrings(sv)
	if !nok || !sok {
		return name, nil, nil, false
	}
	if !isDNSName(name) {
		fe.flag("check."+ck.Name+".name", name, "not a valid DNS name: it is not asked")
		return name, nil, nil, true
	}
	seen := map[string]bool{}
	for _, s := range servers {
		if seen[s] {
			continue
		}
		seen[s] = true
		if !isIP(s) {
			fe.flag("check."+ck.Name+".servers", s, "not an IP address: it is not asked")
			bad = append(bad, s)
			continue
		}
		qs = append(qs, facts.DNSQuery{Server: s, Name: facts.CanonicalName(name), Type: ck.dnsType, NoRecurse: !ck.recurse})
	}
	return name, qs, bad, true
}

func (fe *findingEval) evalDNS(ce *checkEval, attrs map[string]cty.Value) []string {
	ck := ce.ck
	buildServers := ck.usedAll || ck.used["servers"]
	name, qs, bad, ok := fe.dnsQueries(ck)
	setAttr(attrs, "type", cty.StringVal(ck.dnsType))
	if !ok {
		return []string{"the query name or the server list is unknown"}
	}
	setAttr(attrs, "name", cty.StringVal(facts.CanonicalName(name)))
	ce.result.Summary = ""
	if !isDNSName(name) {
		ce.result.Summary = fmt.Sprintf("%s %s: not a valid DNS name, not asked", ck.dnsType, displayValue(name))
		return []string{ce.result.Summary}
	}
	ce.obsDeps = map[string]string{}
	var okS, failS, unkS, answers []string
	var servers []cty.Value
	var evidence []string
	for _, s := range bad {
		failS = append(failS, s)
		if buildServers {
			servers = append(servers, cty.ObjectVal(map[string]cty.Value{
				"server": cty.StringVal(s), "status": cty.StringVal(string(plan.StatusFailed)), "rcode": cty.StringVal(""), "aa": cty.False,
				"answers": cty.ListValEmpty(cty.String), "authority": cty.ListValEmpty(cty.String), "error": cty.StringVal("not an IP address"),
			}))
		}
		ce.result.Observations = append(ce.result.Observations, plan.Observation{Target: displayValue(s), Status: plan.StatusFailed, Note: "not an IP address"})
	}
	for _, q := range qs {
		o := fe.p.ix.DNS(q)
		obs := plan.Observation{Target: q.Server, Query: q.Type + " " + q.Name}
		var sv map[string]cty.Value
		if buildServers {
			sv = map[string]cty.Value{"server": cty.StringVal(q.Server), "rcode": cty.StringVal(""), "aa": cty.False,
				"answers": cty.ListValEmpty(cty.String), "authority": cty.ListValEmpty(cty.String), "error": cty.StringVal("")}
		}
		if o == nil {
			ce.missing = true
			qq := q
			ce.needs = append(ce.needs, plan.Need{Kind: plan.NeedDNS, DNS: &qq, For: []string{"check." + ck.Name}})
			ce.obsDeps["dns|"+q.Key()] = "missing"
			unkS = append(unkS, q.Server)
			obs.Status, obs.Note = plan.StatusUnknown, "not gathered"
			if buildServers {
				sv["status"] = cty.StringVal(string(plan.StatusUnknown))
			}
			evidence = append(evidence, q.Server+": not gathered")
		} else {
			ce.obsDeps["dns|"+q.Key()] = canonDNS(o)
			st := fe.judgeDNS(ck, o)
			obs.Status, obs.Rcode, obs.AA, obs.Error = st, o.Rcode, o.Authoritative, safeText(o.Error)
			obs.Answers = safeAll(rrStrings(o.Answers, false))
			obs.Authority = safeAll(rrStrings(o.Authority, true))
			if buildServers {
				sv["status"], sv["rcode"], sv["aa"], sv["error"] = cty.StringVal(string(st)), cty.StringVal(o.Rcode), cty.BoolVal(o.Authoritative), cty.StringVal(o.Error)
				sv["answers"], sv["authority"] = strList(rrStrings(o.Answers, false)), strList(rrStrings(o.Authority, true))
			}
			if attrs != nil && wants(ck, "answers") {
				answers = append(answers, rrStrings(o.Answers, false)...)
			}
			switch st {
			case plan.StatusOK:
				okS = append(okS, q.Server)
			case plan.StatusFailed:
				failS = append(failS, q.Server)
			default:
				unkS = append(unkS, q.Server)
			}
			evidence = append(evidence, q.Server+": "+describeDNS(o))
		}
		if buildServers {
			servers = append(servers, cty.ObjectVal(sv))
		}
		ce.result.Observations = append(ce.result.Observations, obs)
	}
	ce.status = aggregate(ck.all, len(okS), len(failS), len(unkS))
	if buildServers {
		setAttr(attrs, "servers", listOf(dnsServerResultType, servers))
	}
	for _, x := range []struct {
		attr string
		ss   []string
	}{{"ok_servers", okS}, {"failed_servers", failS}, {"unknown_servers", unkS}, {"answers", answers}} {
		if wants(ck, x.attr) {
			setAttr(attrs, x.attr, strList(x.ss))
		}
	}
	if len(qs)+len(bad) == 0 {
		evidence = append(evidence, "no DNS servers to ask")
	}
	ce.result.Summary = ck.dnsType + " " + safeText(facts.CanonicalName(name)) + " must resolve on " + matchWord(ck.all) + " server: " + strings.Join(safeAll(evidence), "; ")
	return evidence
}

func describeDNS(o *facts.DNSObservation) string {
	if !o.Responded() {
		if o.Error != "" {
			return o.Error
		}
		return "no response"
	}
	s := o.Rcode
	if o.Authoritative {
		s += " (authoritative)"
	}
	if len(o.Answers) > 0 {
		s += " " + strings.Join(rrStrings(o.Answers, false), ", ")
	} else if len(o.Authority) > 0 && o.Rcode == "NOERROR" {
		s += " no answer, authority " + strings.Join(rrStrings(o.Authority, true), ", ")
	}
	return s
}

func safeAll(ss []string) []string {
	for i, s := range ss {
		ss[i] = safeText(s)
	}
	return ss
}

func (fe *findingEval) judgeDNS(ck *Check, o *facts.DNSObservation) plan.Status {
	if !o.Responded() {
		return plan.StatusFailed
	}
	rcode := strings.ToUpper(o.Rcode)
	has := func(rrs []facts.RR) bool {
		for _, rr := range rrs {
			if strings.EqualFold(rr.Type, ck.dnsType) {
				return true
			}
		}
		return false
	}
	switch {
	case ck.absent:
		if rcode != "NXDOMAIN" && (rcode != "NOERROR" || has(o.Answers)) {
			return plan.StatusFailed
		}
	case !contains(ck.rcodes, rcode):
		return plan.StatusFailed
	case ck.answer && !has(o.Answers) && !(ck.inAuth && has(o.Authority)):
		return plan.StatusFailed
	}
	if ck.expect != nil {
		v := fe.evalIn(ck.expect, map[string]cty.Value{"reply": replyVal(o)})
		switch {
		case !v.IsKnown() || v.IsNull():
			return plan.StatusUnknown
		case v.Type() != cty.Bool:
			return plan.StatusUnknown
		case !v.True():
			return plan.StatusFailed
		}
	}
	return plan.StatusOK
}

// tcpProbes returns the probes a tcp check makes; ok is false when its inputs are unknown.
func (fe *findingEval) tcpProbes(ck *Check) (host string, ps []facts.TCPProbe, ok bool) {
	hv := fe.eval(ck.host)
	pv := fe.eval(ck.ports)
	host, hok := knownString(hv)
	if !hok || !whollyKnown(pv) || pv.IsNull() {
		return host, nil, false
	}
	var ports []int
	add := func(v cty.Value) bool {
		if v.IsNull() || v.Type() != cty.Number {
			return false
		}
		bf := v.AsBigFloat()
		n, acc := bf.Int64()
		if acc != big.Exact || n < 1 || n > 65535 {
			return false
		}
		ports = append(ports, int(n))
		return true
	}
	if pv.Type() == cty.Number {
		if !add(pv) {
			fe.errors = append(fe.errors, fmt.Sprintf("check %s: port %s is not a port number", ck.Name, pv.GoString()))
			return host, nil, false
		}
	} else {
		for _, e := range elems(pv) {
			if !add(e) {
				fe.errors = append(fe.errors, fmt.Sprintf("check %s: a port is not a port number", ck.Name))
				return host, nil, false
			}
		}
	}
	if !(isDNSName(host) || isIP(host) || isDCName(host)) {
		fe.flag("check."+ck.Name+".host", host, "not a host name or address: it is not probed")
		return host, nil, true
	}
	for _, p := range ports {
		ps = append(ps, facts.TCPProbe{Host: host, Port: p})
	}
	return host, ps, true
}

func (fe *findingEval) evalTCP(ce *checkEval, attrs map[string]cty.Value) []string {
	ck := ce.ck
	host, ps, ok := fe.tcpProbes(ck)
	if !ok {
		return []string{"the host or the ports are unknown"}
	}
	setAttr(attrs, "host", cty.StringVal(host))
	if len(ps) == 0 {
		return []string{"host " + displayValue(host) + " is not a valid name: not probed"}
	}
	ce.obsDeps = map[string]string{}
	buildPorts := wants(ck, "ports") // built only when an expression reads them
	var okN, failN, unkN int
	var ports []cty.Value
	var open []cty.Value
	var evidence []string
	for _, p := range ps {
		o := fe.p.ix.Reach(p)
		port := strconv.Itoa(p.Port)
		obs := plan.Observation{Target: host + ":" + port}
		var pvals map[string]cty.Value
		if buildPorts {
			pvals = map[string]cty.Value{"port": cty.NumberIntVal(int64(p.Port)), "result": cty.StringVal(""), "address": cty.StringVal(""), "error": cty.StringVal("")}
		}
		if o == nil {
			ce.missing = true
			pp := p
			ce.needs = append(ce.needs, plan.Need{Kind: plan.NeedTCP, TCP: &pp, For: []string{"check." + ck.Name}})
			ce.obsDeps["tcp|"+p.Key()] = "missing"
			unkN++
			obs.Status, obs.Note = plan.StatusUnknown, "not gathered"
			if buildPorts {
				pvals["status"] = cty.StringVal(string(plan.StatusUnknown))
			}
			evidence = append(evidence, "port "+port+": not gathered")
		} else {
			ce.obsDeps["tcp|"+p.Key()] = o.Result
			// Only what the network said about an address dialled fails a check: no address
			// known, a name that does not resolve or a local error is unknown, never "does
			// not answer".
			var st plan.Status
			switch {
			case o.Result == facts.ReachOpen:
				st = plan.StatusOK
				okN++
				if attrs != nil && wants(ck, "open_ports") {
					open = append(open, cty.NumberIntVal(int64(p.Port)))
				}
			case facts.ReachObserved(o.Result):
				st = plan.StatusFailed
				failN++
			default:
				st = plan.StatusUnknown
				unkN++
				obs.Note = "not observed"
			}
			obs.Status, obs.Result, obs.Error = st, o.Result, safeText(o.Error)
			if buildPorts {
				pvals["status"], pvals["result"], pvals["address"], pvals["error"] = cty.StringVal(string(st)), cty.StringVal(o.Result), cty.StringVal(o.Address), cty.StringVal(o.Error)
			}
			evidence = append(evidence, "port "+port+": "+reachText(o))
		}
		if buildPorts {
			ports = append(ports, cty.ObjectVal(pvals))
		}
		ce.result.Observations = append(ce.result.Observations, obs)
	}
	ce.status = aggregate(ck.all, okN, failN, unkN)
	if buildPorts {
		setAttr(attrs, "ports", listOf(tcpPortResultType, ports))
	}
	if wants(ck, "open_ports") {
		setAttr(attrs, "open_ports", listOf(cty.Number, open))
	}
	ce.result.Summary = safeText(host) + " answers on " + matchWord(ck.all) + " port: " + strings.Join(evidence, "; ")
	return evidence
}

// reachText says what a probe met, with the addresses dialled: "timeout at 192.0.2.12",
// "unknown (no address of DC2 is known: ...)".
func reachText(o *facts.ReachObservation) string {
	switch {
	case o.Result == facts.ReachUnknown || o.Result == facts.ReachError:
		return o.Result + " (" + safeText(o.Error) + ")"
	case len(o.Attempts) > 1:
		var parts []string
		for _, a := range o.Attempts {
			parts = append(parts, a.Result+" at "+safeText(a.Address))
		}
		return o.Result + " (" + strings.Join(parts, ", ") + ")"
	case o.Address != "":
		return o.Result + " at " + safeText(o.Address)
	}
	return o.Result
}

func (fe *findingEval) evalEvent(ce *checkEval, attrs map[string]cty.Value) []string {
	ck := ce.ck
	onV := fe.eval(ck.on)
	idsV := fe.eval(ck.ids)
	if !onV.IsKnown() || onV.IsNull() || !whollyKnown(idsV) || idsV.IsNull() {
		return []string{"the DCs or the event IDs are unknown"}
	}
	ids := map[int64]bool{}
	var idList []string
	for _, e := range elems(idsV) {
		if e.IsNull() {
			continue
		}
		n, _ := e.AsBigFloat().Int64()
		ids[n] = true
		idList = append(idList, strconv.FormatInt(n, 10))
	}
	var dcs []cty.Value
	if onV.Type().IsObjectType() {
		dcs = []cty.Value{onV}
	} else if onV.CanIterateElements() {
		dcs = elems(onV)
	}
	cutoff := int64(0)
	if ck.within > 0 {
		cutoff = fe.p.ref.Add(-ck.within).Unix()
	}
	var matched []cty.Value
	var names, evidence []string
	unknownDCs := 0
	for _, dc := range dcs {
		if !dc.IsKnown() || dc.IsNull() || !dc.Type().IsObjectType() || !dc.Type().HasAttribute("events") {
			unknownDCs++
			continue
		}
		name, _ := knownString(dc.GetAttr("name"))
		names = append(names, name)
		evs := dc.GetAttr("events")
		obs := plan.Observation{Target: name}
		if ce.obsDeps == nil {
			ce.obsDeps = map[string]string{}
		}
		depKey := "events|" + ck.Name + "|" + strings.ToLower(name)
		if !whollyKnown(evs) {
			ce.obsDeps[depKey] = "unknown"
			unknownDCs++
			obs.Status, obs.Note = plan.StatusUnknown, "events not gathered"
			evidence = append(evidence, name+": events not gathered")
			ce.result.Observations = append(ce.result.Observations, obs)
			continue
		}
		n, first := 0, len(matched)
		for _, ev := range elems(evs) {
			id, _ := ev.GetAttr("id").AsBigFloat().Int64()
			if !ids[id] {
				continue
			}
			if t, _ := ev.GetAttr("time_unix").AsBigFloat().Int64(); cutoff > 0 && t > 0 && t < cutoff {
				continue
			}
			if ck.match != nil {
				mv := fe.evalIn(ck.match, map[string]cty.Value{"event": ev})
				if !mv.IsKnown() || mv.IsNull() || mv.Type() != cty.Bool {
					unknownDCs++
					continue
				}
				if !mv.True() {
					continue
				}
			}
			n++
			matched = append(matched, ev)
			ts, _ := knownString(ev.GetAttr("time"))
			obs.Answers = append(obs.Answers, safeText(fmt.Sprintf("event %d at %s %s", id, ts, eventDetail(ev))))
		}
		if n > 0 {
			obs.Status = plan.StatusOK
		} else {
			obs.Status = plan.StatusFailed
		}
		ce.obsDeps[depKey] = fe.eventsDep(ck, matched[first:])
		evidence = append(evidence, name+": "+strconv.Itoa(n)+" matching event(s)")
		ce.result.Observations = append(ce.result.Observations, obs)
	}
	switch {
	case len(matched) > 0:
		ce.status = plan.StatusOK
	case unknownDCs > 0:
		ce.status = plan.StatusUnknown
	default:
		ce.status = plan.StatusFailed
	}
	if wants(ck, "count") {
		setAttr(attrs, "count", cty.NumberIntVal(int64(len(matched))))
	}
	if wants(ck, "events") {
		setAttr(attrs, "events", listOf(eventType, matched))
	}
	if wants(ck, "dcs") {
		setAttr(attrs, "dcs", strList(names))
	}
	within := ""
	if ck.within > 0 {
		within = " within " + ck.within.String()
	}
	ce.result.Summary = safeText("events " + strings.Join(idList, ", ") + " seen" + within + ": " + strings.Join(evidence, "; "))
	return evidence
}

// eventsDep is what an event check's fingerprint keeps of one DC's log: which of the event IDs
// it looks for matched, not when or how often. A failing partnership logs its events again and
// again (2087 at every attempt) and older ones leave the lookback window: between a plan and its
// apply the list changes while what the check found does not. When the playbook reads the
// matched events or their count, those count too.
func (fe *findingEval) eventsDep(ck *Check, matched []cty.Value) string {
	seen := map[int64]bool{}
	var ids []int64
	for _, ev := range matched {
		id, _ := ev.GetAttr("id").AsBigFloat().Int64()
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString("ids")
	for _, id := range ids {
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(id, 10))
	}
	if wants(ck, "count") {
		b.WriteString("|count ")
		b.WriteString(strconv.Itoa(len(matched)))
	}
	if wants(ck, "events") && len(matched) > 0 {
		b.WriteString("|")
		fe.scratch = canon(fe.scratch[:0], cty.TupleVal(matched))
		b.Write(fe.scratch)
	}
	return b.String()
}

func eventDetail(ev cty.Value) string {
	var parts []string
	if s, _ := knownString(ev.GetAttr("failing_name")); s != "" {
		parts = append(parts, "failing name "+s)
	}
	if n, _ := ev.GetAttr("error_code").AsBigFloat().Int64(); n != 0 {
		parts = append(parts, fmt.Sprintf("error %d", n))
	}
	if s, _ := knownString(ev.GetAttr("nc")); s != "" {
		parts = append(parts, "NC "+s)
	}
	return strings.Join(parts, ", ")
}

func (fe *findingEval) evalAssert(ce *checkEval) []string {
	ck := ce.ck
	v := fe.eval(ck.cond)
	switch {
	case !v.IsKnown() || v.IsNull() || v.Type() != cty.Bool:
		ce.status = plan.StatusUnknown
	case v.True():
		ce.status = plan.StatusOK
	default:
		ce.status = plan.StatusFailed
	}
	if fe.quick && ck.statusVals != nil {
		return nil
	}
	seen := map[string]bool{}
	var ev []string
	for _, r := range ck.cond.refs {
		t, path := r.t, r.path
		if seen[path] || t.RootName() == "var" {
			continue
		}
		seen[path] = true
		val, ok := fe.lookup(t)
		shown := "(error)"
		if ok {
			shown = fe.showValue(t, val)
		}
		ce.result.Facts = append(ce.result.Facts, plan.FactValue{Fact: path, Value: shown})
		ev = append(ev, path+" = "+shown)
	}
	for _, c := range ck.cond.checks {
		if r := fe.results[c]; r != nil {
			ev = append(ev, "check."+c+" is "+string(r.status))
		} else {
			ev = append(ev, "check."+c+" not needed")
		}
	}
	word := ""
	switch ce.status {
	case plan.StatusOK:
		word = "holds"
	case plan.StatusFailed:
		word = "does not hold"
	case plan.StatusUnknown:
		word = "unknown"
	}
	ce.result.Summary = safeText(word + " (" + strings.Join(ev, ", ") + ")")
	return ev
}

// showValue renders a value for evidence: short, safe, with the reason when unknown.
func (fe *findingEval) showValue(t hcl.Traversal, v cty.Value) string {
	if !whollyKnown(v) {
		_, why := fe.reasonFor(t)
		return "(unknown: " + why + ")"
	}
	s := renderValue(v)
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return safeText(s)
}

func renderValue(v cty.Value) string {
	switch {
	case !v.IsKnown():
		return "(unknown)"
	case v.IsNull():
		return "null"
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return strconv.Quote(v.AsString())
	case ty == cty.Number:
		return v.AsBigFloat().Text('f', -1)
	case ty == cty.Bool:
		return strconv.FormatBool(v.True())
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		var parts []string
		for _, e := range elems(v) {
			parts = append(parts, renderValue(e))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case ty.IsObjectType() || ty.IsMapType():
		if ty.IsObjectType() && ty.HasAttribute("name") && ty.HasAttribute("dsa_guid") {
			n, _ := knownString(v.GetAttr("name"))
			return "DC " + n
		}
		var parts []string
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			parts = append(parts, k.AsString()+" = "+renderValue(e))
		}
		sort.Strings(parts)
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return v.GoString()
}

// ---- what is unknown, and what to gather ----

// lookup finds the value of a fact reference in the finding's context, without hcl's
// traversal machinery for the common case of attribute steps.
func (fe *findingEval) lookup(t hcl.Traversal) (cty.Value, bool) {
	if v, ok := fe.lookupLink(t); ok {
		return v, true
	}
	root := t.RootName()
	var v cty.Value
	found := false
	for ctx := fe.ctx; ctx != nil && !found; ctx = ctx.Parent() {
		v, found = ctx.Variables[root]
	}
	if !found {
		return cty.NilVal, false
	}
	for _, step := range t[1:] {
		a, ok := step.(hcl.TraverseAttr)
		if !ok || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute(a.Name) {
			r, d := t.TraverseAbs(fe.ctx)
			return r, !d.HasErrors()
		}
		v = v.GetAttr(a.Name)
	}
	return v, true
}

// lookupLink resolves link.ATTR and link.destination|source|current_source.ATTR from the
// attribute maps `link` and the DC values were built from: the values GetAttr would return,
// without its name normalization and type lookups. Anything else (other roots, index steps,
// non-ASCII names, which cty normalizes) is left to lookup.
func (fe *findingEval) lookupLink(t hcl.Traversal) (cty.Value, bool) {
	if fe.linkAttrs == nil || len(t) < 2 || len(t) > 3 {
		return cty.NilVal, false
	}
	if r, ok := t[0].(hcl.TraverseRoot); !ok || r.Name != "link" {
		return cty.NilVal, false
	}
	a1, ok := t[1].(hcl.TraverseAttr)
	if !ok || !isASCII(a1.Name) {
		return cty.NilVal, false
	}
	v, ok := fe.linkAttrs[a1.Name]
	if !ok {
		return cty.NilVal, false
	}
	if len(t) == 2 {
		return v, true
	}
	a2, ok := t[2].(hcl.TraverseAttr)
	if !ok || !isASCII(a2.Name) {
		return cty.NilVal, false
	}
	var dv *dcValue
	switch a1.Name {
	case "destination":
		dv = fe.g.dest
	case "source":
		dv = fe.g.src
	case "current_source":
		dv = fe.g.cur // nil: link.current_source is unknown
	}
	if dv == nil || dv.attrs == nil {
		return cty.NilVal, false
	}
	w, ok := dv.attrs[a2.Name]
	return w, ok
}

// writeLower writes strings.ToLower(s) without an intermediate string when s is ASCII.
func writeLower(b *strings.Builder, s string) {
	if !isASCII(s) {
		b.WriteString(strings.ToLower(s))
		return
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b.WriteByte(c)
	}
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// unknownsOf lists the unknown facts and checks an expression reads.
func (fe *findingEval) unknownsOf(e *cexpr) []string {
	set := map[string]bool{}
	for _, r := range e.refs {
		if v, ok := fe.lookup(r.t); !ok || !whollyKnown(v) {
			set[r.path] = true
		}
	}
	for _, c := range e.checks {
		if ce := fe.results[c]; ce != nil && ce.status == plan.StatusUnknown {
			set["check."+c] = true
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// factNeeds lists the unknown facts of an expression as needs.
func (fe *findingEval) factNeeds(e *cexpr, forName string) []plan.Need {
	var out []plan.Need
	for _, r := range e.refs {
		out = append(out, fe.factNeed(r.t, forName)...)
	}
	return out
}

func (fe *findingEval) factNeed(t hcl.Traversal, forName string) []plan.Need {
	if v, ok := fe.lookup(t); ok && whollyKnown(v) {
		return nil
	}
	dc, why := fe.reasonFor(t)
	return []plan.Need{{Kind: plan.NeedFact, Fact: traversalString(t), DC: dc, Reason: why, For: []string{forName}}}
}

// needsOf lists everything to gather for an unknown expression: its unknown facts and the
// needs of the unknown checks it reads.
func (fe *findingEval) needsOf(e *cexpr, forName string) []plan.Need {
	out := fe.factNeeds(e, forName)
	for _, c := range e.checks {
		if ce := fe.results[c]; ce != nil && ce.status == plan.StatusUnknown {
			out = append(out, ce.needs...)
		}
	}
	return out
}

// inputNeeds lists what an unknown check needs besides its missing observations.
func (fe *findingEval) inputNeeds(ck *Check) []plan.Need {
	var out []plan.Need
	for _, r := range ck.refs {
		out = append(out, fe.factNeed(r.t, "check."+ck.Name)...)
	}
	for _, e := range ck.exprs {
		for _, c := range e.checks {
			if ce := fe.results[c]; ce != nil && ce.status == plan.StatusUnknown && ce != fe.results[ck.Name] {
				out = append(out, ce.needs...)
			}
		}
	}
	return out
}

// reasonFor says which DC an unknown fact is about and why it is unknown.
func (fe *findingEval) reasonFor(t hcl.Traversal) (dc, reason string) {
	if t.RootName() != "link" {
		return "", "not gathered"
	}
	who, ok := attrStep(t, 1)
	if !ok {
		return "", "not gathered"
	}
	var dv *dcValue
	switch who {
	case "destination":
		dv = fe.g.dest
	case "source":
		dv = fe.g.src
	case "current_source":
		if fe.g.cur == nil {
			return fe.g.src.name(), fe.g.curWhy
		}
		dv = fe.g.cur
	default:
		return "", "not gathered"
	}
	attr, ok := attrStep(t, 2)
	if !ok {
		var unk []string
		for a := range dv.reasons {
			unk = append(unk, a)
		}
		sort.Strings(unk)
		return dv.name(), "unknown attributes: " + strings.Join(unk, ", ")
	}
	if r := dv.reasons[attr]; r != "" {
		return dv.name(), r
	}
	return dv.name(), "not gathered"
}

// coveredBy reports whether an unknown expression is unknown only because of facts or checks
// the decision lists as optional.
func (fe *findingEval) coveredBy(d *Decision, e *cexpr, depth int) bool {
	if depth > 64 {
		return false
	}
	for _, r := range e.refs {
		if v, ok := fe.lookup(r.t); ok && whollyKnown(v) {
			continue
		}
		if !covered(d.optional, []string{r.path}) {
			return false
		}
	}
	for _, c := range e.checks {
		ce := fe.results[c]
		if ce == nil || ce.status != plan.StatusUnknown {
			continue
		}
		if covered(d.optional, []string{"check." + c}) {
			continue
		}
		if ce.missing {
			return false
		}
		for _, r := range ce.ck.refs {
			if v, ok := fe.lookup(r.t); ok && whollyKnown(v) {
				continue
			}
			if !covered(d.optional, []string{r.path}) {
				return false
			}
		}
		for _, x := range ce.ck.exprs {
			for _, c2 := range x.checks {
				if ce2 := fe.results[c2]; ce2 != nil && ce2.status == plan.StatusUnknown {
					sub := &cexpr{checks: []string{c2}}
					if !fe.coveredBy(d, sub, depth+1) {
						return false
					}
				}
			}
		}
	}
	return true
}

// traversalString renders link.source.dns_servers or forest.dcs[0].name.
func traversalString(t hcl.Traversal) string {
	var b strings.Builder
	for i, step := range t {
		switch s := step.(type) {
		case hcl.TraverseRoot:
			b.WriteString(s.Name)
		case hcl.TraverseAttr:
			b.WriteString("." + s.Name)
		case hcl.TraverseIndex:
			if s.Key.Type() == cty.String && s.Key.IsKnown() && !s.Key.IsNull() {
				b.WriteString("." + s.Key.AsString())
			} else if s.Key.Type() == cty.Number && s.Key.IsKnown() && !s.Key.IsNull() {
				b.WriteString("[" + s.Key.AsBigFloat().Text('f', -1) + "]")
			} else {
				b.WriteString("[?]")
			}
		case hcl.TraverseSplat:
			b.WriteString("[*]")
		default:
			if i > 0 {
				b.WriteString("?")
			}
		}
	}
	return b.String()
}

// ---- dependencies (fingerprint) ----

func (fe *findingEval) addDep(k, v string) {
	if fe.deps == nil {
		fe.deps = make(map[string]string, 28)
	}
	fe.deps[k] = v
}

func (fe *findingEval) addLinkDeps() {
	var b strings.Builder
	for _, l := range fe.g.links {
		b.Reset()
		b.Grow(len("link|||") + len(l.Destination) + len(l.SourceDSAGUID) + len(l.NC))
		b.WriteString("link|")
		writeLower(&b, l.Destination)
		b.WriteByte('|')
		writeLower(&b, l.SourceDSAGUID)
		b.WriteByte('|')
		b.WriteString(l.NC)
		fe.addDep(b.String(), strconv.Itoa(l.LastResult))
	}
}

func (fe *findingEval) addFactRef(r factRef) {
	k := r.key
	if k == "" {
		k = "fact|" + r.path
	}
	if _, done := fe.deps[k]; done {
		return
	}
	v, ok := fe.lookup(r.t)
	if !ok {
		fe.addDep(k, "error")
		return
	}
	fe.scratch = canon(fe.scratch[:0], v)
	fe.addDep(k, string(fe.scratch))
}

// addExprDeps records the facts an expression reads, and those of the checks it reads.
func (fe *findingEval) addExprDeps(e *cexpr) {
	if e == nil {
		return
	}
	for _, r := range e.refs {
		fe.addFactRef(r)
	}
	for _, c := range e.checks {
		fe.addCheckDeps(c)
	}
}

// clockFacts are the facts whose value moves with the clock while nothing in the forest changes:
// the age of a partnership's last success grows by a day every day. A check that reads one is
// kept in the fingerprint by its answer (ok, failed, unknown), not by the number: a plan
// approved in the afternoon and applied in the night's change window would otherwise be stale
// whenever the day count ticked in between, though no answer changed. Read anywhere else (a
// decision's when, a guard, an action), the value itself counts.
var clockFacts = map[string]bool{"link.days_since_success": true}

func (fe *findingEval) addCheckDeps(name string) {
	if fe.depChecks == nil {
		fe.depChecks = map[string]bool{}
	}
	if fe.depChecks[name] {
		return
	}
	fe.depChecks[name] = true
	ce := fe.results[name]
	if ce == nil {
		return // never evaluated: nothing depended on it
	}
	clock := false
	for _, r := range ce.ck.refs {
		if clockFacts[r.path] {
			clock = true
			continue
		}
		fe.addFactRef(r)
	}
	if clock {
		// What the check answered stands for the facts that move with the clock.
		fe.addDep("check|"+name, string(ce.status))
	}
	for _, x := range ce.ck.exprs {
		for _, c := range x.checks {
			fe.addCheckDeps(c)
		}
	}
	for k, v := range ce.obsDeps {
		fe.addDep(k, v)
	}
}

// canonDNS encodes what a DNS observation says, without timings, TTLs or an SOA's serial and
// timers (which vary between equal gatherings: every dynamic update of a zone, which AD makes all
// day, bumps its serial; what a check learns from an SOA is who answers for the zone).
func canonDNS(o *facts.DNSObservation) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(o.Rcode))
	if o.Authoritative {
		b.WriteString("|aa")
	}
	if o.Error != "" {
		if strings.Contains(strings.ToLower(o.Error), "timeout") {
			b.WriteString("|timeout")
		} else {
			b.WriteString("|error")
		}
	}
	var rrs []string
	var q []byte
	for _, sec := range [][]facts.RR{o.Answers, o.Authority} {
		rrs = rrs[:0]
		for _, rr := range sec {
			data := rr.Data
			if strings.EqualFold(rr.Type, facts.TypeSOA) {
				data = soaNames(data)
			}
			rrs = append(rrs, facts.CanonicalName(rr.Name)+" "+strings.ToUpper(rr.Type)+" "+strings.ToLower(strings.TrimSuffix(data, ".")))
		}
		sort.Strings(rrs)
		b.WriteByte('|')
		q = strconv.AppendQuote(q[:0], strings.Join(rrs, "\n"))
		b.Write(q)
	}
	return b.String()
}

// soaNames returns the mname and rname of an SOA's data ("mname rname serial refresh retry
// expire minimum"), each without its final dot; data that is not shaped so is returned whole.
func soaNames(data string) string {
	f := strings.Fields(data)
	if len(f) != 7 {
		return data
	}
	return strings.TrimSuffix(f[0], ".") + " " + strings.TrimSuffix(f[1], ".")
}

// canon appends a canonical, unambiguous encoding of v (object keys sorted).
func canon(b []byte, v cty.Value) []byte {
	switch {
	case !v.IsKnown():
		return append(b, '?')
	case v.IsNull():
		return append(b, '~')
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		s := v.AsString()
		b = append(b, 's')
		b = strconv.AppendInt(b, int64(len(s)), 10)
		b = append(b, ':')
		return append(b, s...)
	case ty == cty.Number:
		b = append(b, 'n')
		return append(b, v.AsBigFloat().Text('g', -1)...)
	case ty == cty.Bool:
		if v.True() {
			return append(b, 'T')
		}
		return append(b, 'F')
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		b = append(b, '[')
		for _, e := range elems(v) {
			b = canon(b, e)
			b = append(b, ',')
		}
		return append(b, ']')
	case ty.IsObjectType() && !v.IsMarked():
		names := attrNames(ty)
		sort.Strings(names)
		b = append(b, '{')
		for _, k := range names {
			b = strconv.AppendInt(b, int64(len(k)), 10)
			b = append(b, ':')
			b = append(b, k...)
			b = append(b, '=')
			b = canon(b, v.GetAttr(k))
			b = append(b, ',')
		}
		return append(b, '}')
	case ty.IsObjectType() || ty.IsMapType():
		type kv struct {
			k string
			v cty.Value
		}
		var kvs []kv
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			kvs = append(kvs, kv{k.AsString(), e})
		}
		sort.Slice(kvs, func(i, j int) bool { return kvs[i].k < kvs[j].k })
		b = append(b, '{')
		for _, p := range kvs {
			b = strconv.AppendInt(b, int64(len(p.k)), 10)
			b = append(b, ':')
			b = append(b, p.k...)
			b = append(b, '=')
			b = canon(b, p.v)
			b = append(b, ',')
		}
		return append(b, '}')
	}
	return append(b, v.GoString()...)
}
