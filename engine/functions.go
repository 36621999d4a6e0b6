package engine

import (
	"strings"
	"sync"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

var (
	funcsOnce sync.Once
	funcs     map[string]function.Function
)

// functions returns the functions playbook expressions may call. The set is small on purpose:
// a playbook is a decision table, not a program.
func functions() map[string]function.Function {
	funcsOnce.Do(func() {
		funcs = map[string]function.Function{
			"alltrue":         allTrueFunc,
			"anytrue":         anyTrueFunc,
			"coalesce":        stdlib.CoalesceFunc,
			"concat":          stdlib.ConcatFunc,
			"contains":        stdlib.ContainsFunc,
			"distinct":        stdlib.DistinctFunc,
			"endswith":        endsWithFunc,
			"flatten":         stdlib.FlattenFunc,
			"format":          stdlib.FormatFunc,
			"formatlist":      stdlib.FormatListFunc,
			"is_guid":         isGUIDFunc,
			"is_ip":           isIPFunc,
			"join":            stdlib.JoinFunc,
			"known":           knownFunc,
			"length":          stdlib.LengthFunc,
			"lower":           stdlib.LowerFunc,
			"max":             stdlib.MaxFunc,
			"min":             stdlib.MinFunc,
			"setintersection": stdlib.SetIntersectionFunc,
			"setsubtract":     stdlib.SetSubtractFunc,
			"sort":            stdlib.SortFunc,
			"split":           stdlib.SplitFunc,
			"startswith":      startsWithFunc,
			"trimsuffix":      stdlib.TrimSuffixFunc,
			"upper":           stdlib.UpperFunc,
		}
	})
	return funcs
}

// withFacts adds the functions that look things up in the facts being planned.
func withFacts(lookup func(ips []string) []cty.Value) map[string]function.Function {
	fs := make(map[string]function.Function, len(functions())+1)
	for k, v := range functions() {
		fs[k] = v
	}
	fs["dcs_with_ip"] = function.New(&function.Spec{
		Description: "The DCs (as in link.source) that have one of the given IP addresses, e.g. the DCs that run a DC's DNS servers.",
		Params:      []function.Parameter{{Name: "ips", Type: cty.List(cty.String)}},
		Type:        function.StaticReturnType(cty.List(dcType)),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			var ips []string
			for _, v := range elems(args[0]) {
				if !v.IsNull() {
					ips = append(ips, v.AsString())
				}
			}
			if lookup == nil {
				return cty.UnknownVal(cty.List(dcType)), nil
			}
			return listOf(dcType, lookup(ips)), nil
		},
	})
	return fs
}

// knownFunc reports whether a value is known: known(link.source.own_dsa_guid) is false when
// the source could not be asked. It is the only way to branch on unknown-ness explicitly.
var knownFunc = function.New(&function.Spec{
	Description: "Reports whether a fact is known (gathered) rather than unknown.",
	Params: []function.Parameter{{
		Name: "value", Type: cty.DynamicPseudoType,
		AllowUnknown: true, AllowNull: true, AllowDynamicType: true, AllowMarked: true,
	}},
	Type:         function.StaticReturnType(cty.Bool),
	RefineResult: func(b *cty.RefinementBuilder) *cty.RefinementBuilder { return b.NotNull() },
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		return cty.BoolVal(args[0].IsWhollyKnown()), nil
	},
})

// anyTrueFunc is true when any element is true, false when all are false, unknown otherwise.
var anyTrueFunc = function.New(&function.Spec{
	Description: "True when any element of the list is true (three-valued).",
	Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool), AllowUnknown: true}},
	Type:        function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		l := args[0]
		if !l.IsKnown() {
			return cty.UnknownVal(cty.Bool), nil
		}
		unknown := false
		for _, v := range elems(l) {
			switch {
			case !v.IsKnown():
				unknown = true
			case v.IsNull():
			case v.True():
				return cty.True, nil
			}
		}
		if unknown {
			return cty.UnknownVal(cty.Bool), nil
		}
		return cty.False, nil
	},
})

// allTrueFunc is false when any element is false, true when all are true, unknown otherwise.
var allTrueFunc = function.New(&function.Spec{
	Description: "True when every element of the list is true (three-valued).",
	Params:      []function.Parameter{{Name: "list", Type: cty.List(cty.Bool), AllowUnknown: true}},
	Type:        function.StaticReturnType(cty.Bool),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		l := args[0]
		if !l.IsKnown() {
			return cty.UnknownVal(cty.Bool), nil
		}
		unknown := false
		for _, v := range elems(l) {
			switch {
			case !v.IsKnown():
				unknown = true
			case v.IsNull() || !v.True():
				return cty.False, nil
			}
		}
		if unknown {
			return cty.UnknownVal(cty.Bool), nil
		}
		return cty.True, nil
	},
})

func strPredicate(desc string, f func(s, arg string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params: []function.Parameter{
			{Name: "str", Type: cty.String},
			{Name: "arg", Type: cty.String},
		},
		Type: function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(f(args[0].AsString(), args[1].AsString())), nil
		},
	})
}

var startsWithFunc = strPredicate("Reports whether str begins with prefix.", strings.HasPrefix)
var endsWithFunc = strPredicate("Reports whether str ends with suffix.", strings.HasSuffix)

func strTest(desc string, f func(string) bool) function.Function {
	return function.New(&function.Spec{
		Description: desc,
		Params:      []function.Parameter{{Name: "str", Type: cty.String}},
		Type:        function.StaticReturnType(cty.Bool),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return cty.BoolVal(f(args[0].AsString())), nil
		},
	})
}

var isGUIDFunc = strTest("Reports whether str is a GUID in text form.", isGUID)
var isIPFunc = strTest("Reports whether str is an IPv4 or IPv6 address.", isIP)
