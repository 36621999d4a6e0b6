package engine

import (
	"strings"
	"time"

	"github.com/zclconf/go-cty/cty"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// The cty types of the values playbook expressions see. They are the language's contract: the
// README's reference lists the same attributes.
var (
	eventType = cty.Object(map[string]cty.Type{
		"id":            cty.Number,
		"time":          cty.String, // RFC 3339
		"time_unix":     cty.Number,
		"level":         cty.String,
		"message":       cty.String,
		"failing_name":  cty.String,
		"source_dsa_dn": cty.String,
		"nc":            cty.String,
		"error_code":    cty.Number,
		"data":          cty.List(cty.String),
	})

	domainType = cty.Object(map[string]cty.Type{
		"dns_name": cty.String,
		"dn":       cty.String,
		"netbios":  cty.String,
	})

	dcType = cty.Object(map[string]cty.Type{
		"name":                    cty.String,
		"dns_host_name":           cty.String,
		"domain":                  cty.String,
		"site":                    cty.String,
		"server_dn":               cty.String,
		"ntds_settings_dn":        cty.String,
		"computer_dn":             cty.String,
		"dsa_guid":                cty.String,
		"invocation_id":           cty.String,
		"when_created":            cty.String,
		"when_created_unix":       cty.Number,
		"is_gc":                   cty.Bool,
		"is_rodc":                 cty.Bool,
		"fsmo_roles":              cty.List(cty.String),
		"holds_fsmo":              cty.Bool,
		"platform":                cty.String,
		"operating_system":        cty.String,
		"ips":                     cty.List(cty.String),
		"located":                 cty.Bool,   // some source knows an address of the DC (ips is known)
		"host_records":            cty.String, // "present" | "absent" | "unknown": what DNS and AD's zones hold for dns_host_name
		"address_evidence":        cty.String, // where each address came from, or where fix8524 looked in vain
		"addresses_disagree":      cty.Bool,   // the sources that answered disagree (zone copies differ, a stale record)
		"dns_servers":             cty.List(cty.String),
		"dns_servers_from":        cty.String,
		"protected_from_deletion": cty.Bool,
		"own_dsa_guid":            cty.String,
		"inbound":                 cty.String,
		"events":                  cty.List(eventType),
		"exists":                  cty.Bool, // the DSA is in the topology read from the seed DC
		"is_seed":                 cty.Bool, // the DC fix8524 is bound to
		"domain_dc_count":         cty.Number,
	})

	linkType = cty.Object(map[string]cty.Type{
		"destination":          dcType,
		"source":               dcType,
		"current_source":       dcType, // the DSA the source itself says it is (its own GUID)
		"nc":                   cty.String,
		"ncs":                  cty.List(cty.String),
		"last_result":          cty.Number,
		"results":              cty.List(cty.Number),
		"consecutive_failures": cty.Number,
		"destination_guid":     cty.String,
		"source_dsa_guid":      cty.String,
		"source_dsa_dn":        cty.String,
		"source_address":       cty.String,
		"source_deleted":       cty.Bool,
		"source_name":          cty.String,
		"cname":                cty.String, // "<source_dsa_guid>._msdcs.<root>": the name that fails
		"last_success":         cty.String, // RFC 3339, "" = never
		"last_success_unix":    cty.Number, // 0 = never
		"last_attempt":         cty.String,
		"never_succeeded":      cty.Bool,
		"days_since_success":   cty.Number, // whole days between the last success and the gathering; -1 = never
	})

	forestType = cty.Object(map[string]cty.Type{
		"root_domain": cty.String,
		"root_dn":     cty.String,
		"config_dn":   cty.String,
		"schema_dn":   cty.String,
		"msdcs":       cty.String, // "_msdcs.<root>"
		"domains":     cty.List(domainType),
		"ncs":         cty.List(cty.String),
		"dc_count":    cty.Number,
		"seed_dc":     cty.String,
		"dcs":         cty.List(dcType),
		// The forest's tombstoneLifetime in days (absent from the directory: 60).
		"tombstone_lifetime_days": cty.Number,
		// Every DNS server of the forest fix8524 asked for DC addresses.
		"dns_servers": cty.List(cty.String),
	})

	rrType = cty.Object(map[string]cty.Type{
		"name": cty.String,
		"type": cty.String,
		"ttl":  cty.Number,
		"data": cty.String,
	})

	// replyType is `reply` inside a dns check's expect expression.
	replyType = cty.Object(map[string]cty.Type{
		"server":    cty.String,
		"name":      cty.String,
		"type":      cty.String,
		"rcode":     cty.String,
		"aa":        cty.Bool,
		"answers":   cty.List(rrType),
		"authority": cty.List(rrType),
		"error":     cty.String,
		"responded": cty.Bool,
	})

	dnsServerResultType = cty.Object(map[string]cty.Type{
		"server":    cty.String,
		"status":    cty.String,
		"rcode":     cty.String,
		"aa":        cty.Bool,
		"answers":   cty.List(cty.String),
		"authority": cty.List(cty.String),
		"error":     cty.String,
	})

	tcpPortResultType = cty.Object(map[string]cty.Type{
		"port":    cty.Number,
		"status":  cty.String,
		"result":  cty.String,
		"address": cty.String,
		"error":   cty.String,
	})
)

// commonResultAttrs are the attributes every check result has.
func commonResultAttrs() map[string]cty.Type {
	return map[string]cty.Type{
		"ok":       cty.Bool,   // unknown when the status is unknown
		"status":   cty.String, // ok | failed | unknown (always known)
		"kind":     cty.String,
		"evidence": cty.List(cty.String),
	}
}

var resultTypes = map[string]cty.Type{
	"dns": buildResultType("dns"), "tcp": buildResultType("tcp"), "event": buildResultType("event"), "assert": buildResultType("assert"),
}

// resultType returns the type of check.NAME for a check kind.
func resultType(kind string) cty.Type {
	if t, ok := resultTypes[kind]; ok {
		return t
	}
	return buildResultType(kind)
}

func buildResultType(kind string) cty.Type {
	attrs := commonResultAttrs()
	switch kind {
	case "dns":
		attrs["name"] = cty.String
		attrs["type"] = cty.String
		attrs["servers"] = cty.List(dnsServerResultType)
		attrs["ok_servers"] = cty.List(cty.String)
		attrs["failed_servers"] = cty.List(cty.String)
		attrs["unknown_servers"] = cty.List(cty.String)
		attrs["answers"] = cty.List(cty.String)
	case "tcp":
		attrs["host"] = cty.String
		attrs["ports"] = cty.List(tcpPortResultType)
		attrs["open_ports"] = cty.List(cty.Number)
	case "event":
		attrs["count"] = cty.Number
		attrs["events"] = cty.List(eventType)
		attrs["dcs"] = cty.List(cty.String)
	}
	return cty.Object(attrs)
}

// Values built once: cty allocates for every empty list and every refined unknown.
var (
	emptyStrings = cty.ListValEmpty(cty.String)
	emptyNumbers = cty.ListValEmpty(cty.Number)
	unknownStr   = cty.UnknownVal(cty.String).RefineNotNull()
	unknownBool  = cty.UnknownVal(cty.Bool).RefineNotNull()
	unknownStrs  = cty.UnknownVal(cty.List(cty.String)).RefineNotNull()
	unknownEvts  = cty.UnknownVal(cty.List(eventType)).RefineNotNull()
	unknownDC    = cty.UnknownVal(dcType).RefineNotNull()
	smallInts    = func() []cty.Value {
		vs := make([]cty.Value, 256)
		for i := range vs {
			vs[i] = cty.NumberIntVal(int64(i))
		}
		return vs
	}()
)

// intVal is cty.NumberIntVal without an allocation for small values.
func intVal(n int64) cty.Value {
	if n >= 0 && n < int64(len(smallInts)) {
		return smallInts[n]
	}
	return cty.NumberIntVal(n)
}

// unknownOf returns a not-null unknown value of a type, shared when it can be.
func unknownOf(ty cty.Type) cty.Value {
	switch {
	case ty == cty.String:
		return unknownStr
	case ty == cty.Bool:
		return unknownBool
	case ty.Equals(cty.List(cty.String)):
		return unknownStrs
	case ty.Equals(cty.List(eventType)):
		return unknownEvts
	case ty.Equals(dcType):
		return unknownDC
	}
	return cty.UnknownVal(ty).RefineNotNull()
}

func strList(ss []string) cty.Value {
	if len(ss) == 0 {
		return emptyStrings
	}
	vs := make([]cty.Value, len(ss))
	for i, s := range ss {
		vs[i] = cty.StringVal(s)
	}
	return cty.ListVal(vs)
}

func numList(ns []int) cty.Value {
	if len(ns) == 0 {
		return emptyNumbers
	}
	vs := make([]cty.Value, len(ns))
	for i, n := range ns {
		if i > 0 && n == ns[i-1] {
			vs[i] = vs[i-1] // values are immutable: equal neighbours share one
			continue
		}
		vs[i] = intVal(int64(n))
	}
	return cty.ListVal(vs)
}

func listOf(ty cty.Type, vs []cty.Value) cty.Value {
	if len(vs) == 0 {
		switch {
		case ty == cty.String:
			return emptyStrings
		case ty == cty.Number:
			return emptyNumbers
		}
		return cty.ListValEmpty(ty)
	}
	return cty.ListVal(vs)
}

func timeStr(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func timeUnix(t time.Time) cty.Value {
	if t.IsZero() {
		return cty.Zero
	}
	return cty.NumberIntVal(t.Unix())
}

func eventVal(e facts.Event) cty.Value {
	return cty.ObjectVal(map[string]cty.Value{
		"id":            cty.NumberIntVal(int64(e.ID)),
		"time":          cty.StringVal(timeStr(e.Time)),
		"time_unix":     timeUnix(e.Time),
		"level":         cty.StringVal(e.Level),
		"message":       cty.StringVal(e.Message),
		"failing_name":  cty.StringVal(facts.CanonicalName(e.FailingName)),
		"source_dsa_dn": cty.StringVal(e.SourceDSADN),
		"nc":            cty.StringVal(e.NC),
		"error_code":    cty.NumberIntVal(int64(e.ErrorCode)),
		"data":          strList(e.Data),
	})
}

// dcValue is a DC as expressions see it, with why each unknown attribute is unknown and the
// attributes that look hostile.
type dcValue struct {
	dc      *facts.DC // nil when the DSA is not in the topology
	val     cty.Value
	attrs   map[string]cty.Value // the attributes val was built from (read-only)
	nm      string               // name(), computed once
	reasons map[string]string    // attribute -> why it is unknown
	flags   []plan.Flag          // Fact is relative to the DC ("name", "ips", ...)
}

func maybeStr(m facts.Maybe[string], attr string, reasons map[string]string) cty.Value {
	if v, ok := m.Get(); ok {
		return cty.StringVal(v)
	}
	reasons[attr] = m.Why()
	return unknownStr
}

func maybeList(m facts.Maybe[[]string], attr string, reasons map[string]string) cty.Value {
	if v, ok := m.Get(); ok {
		return strList(v)
	}
	reasons[attr] = m.Why()
	return unknownStrs
}

// buildDC turns a facts.DC into its expression value.
func buildDC(dc *facts.DC, seed string, domainCount map[string]int) dcValue {
	reasons := map[string]string{}
	attrs := map[string]cty.Value{
		"name":               cty.StringVal(dc.Name),
		"dns_host_name":      cty.StringVal(facts.CanonicalName(dc.DNSHostName)),
		"domain":             cty.StringVal(facts.CanonicalName(dc.Domain)),
		"site":               cty.StringVal(dc.Site),
		"server_dn":          cty.StringVal(dc.ServerDN),
		"ntds_settings_dn":   cty.StringVal(dc.NTDSSettingsDN),
		"computer_dn":        cty.StringVal(dc.ComputerDN),
		"dsa_guid":           cty.StringVal(strings.ToLower(dc.DSAGUID)),
		"invocation_id":      cty.StringVal(strings.ToLower(dc.InvocationID)),
		"when_created":       cty.StringVal(timeStr(dc.WhenCreated)),
		"when_created_unix":  timeUnix(dc.WhenCreated),
		"is_gc":              cty.BoolVal(dc.IsGC),
		"is_rodc":            cty.BoolVal(dc.IsRODC),
		"fsmo_roles":         strList(dc.FSMORoles),
		"holds_fsmo":         cty.BoolVal(len(dc.FSMORoles) > 0),
		"platform":           maybeStr(dc.Platform, "platform", reasons),
		"operating_system":   maybeStr(dc.OperatingSystem, "operating_system", reasons),
		"ips":                maybeList(dc.IPs, "ips", reasons),
		"located":            cty.BoolVal(located(dc)),
		"host_records":       cty.StringVal(facts.HostRecords(dc.AddressLookups)),
		"address_evidence":   cty.StringVal(addressEvidence(dc)),
		"addresses_disagree": cty.BoolVal(facts.AddressesDisagree(dc.AddressLookups)),
		"dns_servers":        maybeList(dc.DNSServers, "dns_servers", reasons),
		"dns_servers_from":   cty.StringVal(dc.DNSServersFrom),
		"own_dsa_guid":       unknownStr,
		"inbound":            maybeStr(dc.Inbound, "inbound", reasons),
		"exists":             cty.True,
		"is_seed":            cty.BoolVal(isSeed(dc, seed)),
		"domain_dc_count":    cty.NumberIntVal(int64(domainCount[facts.CanonicalName(dc.Domain)])),
	}
	if g, ok := dc.OwnDSAGUID.Get(); ok {
		attrs["own_dsa_guid"] = cty.StringVal(strings.ToLower(g))
	} else {
		reasons["own_dsa_guid"] = dc.OwnDSAGUID.Why()
	}
	if p, ok := dc.ProtectedFromDeletion.Get(); ok {
		attrs["protected_from_deletion"] = cty.BoolVal(p)
	} else {
		reasons["protected_from_deletion"] = dc.ProtectedFromDeletion.Why()
		attrs["protected_from_deletion"] = unknownBool
	}
	if evs, ok := dc.Events.Get(); ok {
		vs := make([]cty.Value, len(evs))
		for i, e := range evs {
			vs[i] = eventVal(e)
		}
		attrs["events"] = listOf(eventType, vs)
	} else {
		reasons["events"] = dc.Events.Why()
		attrs["events"] = unknownEvts
	}
	val := cty.ObjectVal(attrs)
	return dcValue{dc: dc, val: val, attrs: attrs, nm: dcName(val), reasons: reasons, flags: dcFlags(dc)}
}

func located(dc *facts.DC) bool {
	ips, ok := dc.IPs.Get()
	return ok && len(ips) > 0
}

// addressEvidence is where the DC's addresses came from, or where fix8524 looked in vain.
func addressEvidence(dc *facts.DC) string {
	if located(dc) {
		if len(dc.AddressLookups) == 0 {
			return strings.Join(dc.IPs.Value, ", ")
		}
		return facts.AddressSummary(dc.AddressLookups)
	}
	return dc.IPs.Why()
}

func isSeed(dc *facts.DC, seed string) bool {
	if seed == "" {
		return false
	}
	s := facts.CanonicalName(seed)
	return s == strings.ToLower(dc.Name) || (dc.DNSHostName != "" && s == facts.CanonicalName(dc.DNSHostName))
}

// absentDC is the value of a DSA the topology does not hold (a source known only from the
// destination's replication status, or a current GUID no NTDS Settings object carries).
func absentDC(name, guid, dn, why string) dcValue {
	reasons := map[string]string{}
	attrs := map[string]cty.Value{}
	for attr, ty := range dcType.AttributeTypes() {
		attrs[attr] = unknownOf(ty)
		reasons[attr] = why
	}
	set := func(attr string, v cty.Value) {
		attrs[attr] = v
		delete(reasons, attr)
	}
	set("name", cty.StringVal(name))
	set("dsa_guid", cty.StringVal(strings.ToLower(guid)))
	set("ntds_settings_dn", cty.StringVal(dn))
	set("exists", cty.False)
	set("is_seed", cty.False)
	set("fsmo_roles", cty.ListValEmpty(cty.String))
	set("holds_fsmo", cty.False)
	val := cty.ObjectVal(attrs)
	v := dcValue{val: val, attrs: attrs, nm: dcName(val), reasons: reasons}
	for _, f := range []struct{ attr, val string }{{"name", name}, {"dsa_guid", guid}, {"ntds_settings_dn", dn}} {
		if p := valueProblem(f.attr, f.val); p != "" {
			v.flags = append(v.flags, plan.Flag{Fact: f.attr, Value: displayValue(f.val), Problem: p, Raw: f.val})
		}
	}
	return v
}

// elems returns the elements of a known list, set or tuple (cty's element iterator allocates
// a number for every index).
func elems(v cty.Value) []cty.Value {
	if !v.IsKnown() || v.IsNull() || !v.CanIterateElements() {
		return nil
	}
	ty := v.Type()
	if ty.IsObjectType() || ty.IsMapType() {
		var out []cty.Value
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			out = append(out, e)
		}
		return out
	}
	n := v.LengthInt()
	if n == 0 {
		return nil
	}
	if (ty.IsListType() || ty.IsTupleType()) && n <= len(smallInts) {
		// Index with a shared key allocates nothing; AsValueSlice allocates a key per element.
		out := make([]cty.Value, n)
		for i := range out {
			out[i] = v.Index(smallInts[i])
		}
		return out
	}
	return v.AsValueSlice()
}

// attrNames returns the attribute names of an object type, in no particular order.
func attrNames(ty cty.Type) []string {
	atys := ty.AttributeTypes()
	names := make([]string, 0, len(atys))
	for k := range atys {
		names = append(names, k)
	}
	return names
}

// whollyKnown is v.IsWhollyKnown() without cty's element iterators, which allocate a key for
// every element (and sort an object's attribute names).
func whollyKnown(v cty.Value) bool {
	if v.IsMarked() {
		return v.IsWhollyKnown()
	}
	if !v.IsKnown() {
		return false
	}
	if v.IsNull() {
		return true
	}
	ty := v.Type()
	switch {
	case ty.IsPrimitiveType():
		return true
	case ty.IsListType() || ty.IsTupleType():
		n := v.LengthInt()
		if n > len(smallInts) {
			return v.IsWhollyKnown()
		}
		for i := 0; i < n; i++ {
			if !whollyKnown(v.Index(smallInts[i])) {
				return false
			}
		}
		return true
	case ty.IsObjectType():
		for k := range ty.AttributeTypes() {
			if !whollyKnown(v.GetAttr(k)) {
				return false
			}
		}
		return true
	}
	return v.IsWhollyKnown()
}
