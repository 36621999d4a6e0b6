package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// Shells a manual step's commands are rendered for.
const (
	ShellCmd        = "cmd"
	ShellPowerShell = "powershell"
	ShellPOSIX      = "posix"
)

// bareSafe reports whether an argument needs no quoting at all in a shell.
func bareSafe(shell, s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.' || c == '-' || c == '_' || c == '/' || c == ':':
		case c == '=' && shell != ShellPOSIX:
			// cmd and PowerShell pass "-type=soa" as one argument.
		case c == '=' && shell == ShellPOSIX && i > 0:
			// "a=b" is an assignment only as the first word; argv[0] never has '='.
		case c == ',' && shell == ShellPOSIX:
		case c == '\\' && shell != ShellPOSIX:
		case c == '@' && shell == ShellPOSIX:
		default:
			return false
		}
	}
	if shell == ShellPowerShell && (s[0] == '@' || s[0] == '$') {
		return false
	}
	return true
}

// quoteArg quotes s for a shell so that the program receives exactly s; err explains why a
// value cannot be quoted safely (it must then not be rendered).
func quoteArg(shell, s string) (string, error) {
	if p := unrenderable(s); p != "" {
		return "", fmt.Errorf("%s", p)
	}
	switch shell {
	case ShellPOSIX:
		return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'", nil
	case ShellPowerShell:
		var b strings.Builder
		b.WriteByte('\'')
		for _, r := range s {
			b.WriteRune(r)
			switch r {
			case '\'', '\u2018', '\u2019', '\u201a', '\u201b':
				b.WriteRune(r) // every character PowerShell treats as a single quote is doubled
			}
		}
		b.WriteByte('\'')
		return b.String(), nil
	default: // cmd.exe
		// Inside double quotes cmd.exe treats & | < > ( ) and spaces literally, but still
		// expands %VAR% (and !VAR! with delayed expansion), and a " ends the quoting. Values
		// with those cannot be written safely for cmd.exe.
		if strings.ContainsAny(s, "\"%!^") {
			return "", fmt.Errorf("contains a character (\" %% ! ^) that cmd.exe cannot quote safely")
		}
		// CommandLineToArgvW: backslashes before the closing quote must be doubled.
		n := len(s) - len(strings.TrimRight(s, `\`))
		return `"` + s + strings.Repeat(`\`, n) + `"`, nil
	}
}

// metaChars are characters that mean something to at least one of the shells.
const metaChars = "`$&|;<>()'\"%!^*?[]{}~#\n\r"

// renderCommand renders an argument vector for a shell. Values that hold a flagged fact are
// always quoted; values that cannot be quoted are replaced by <VALUE-n> placeholders.
func (fe *findingEval) renderCommand(shell string, argv []string, where string, n *int) (string, bool) {
	flagged := false
	parts := make([]string, 0, len(argv))
	for i, a := range argv {
		hostile := fe.holdsFlagged(a) || (i > 0 && strings.ContainsAny(a, metaChars))
		if !hostile && bareSafe(shell, a) {
			parts = append(parts, a)
			continue
		}
		q, err := quoteArg(shell, a)
		if err != nil {
			*n++
			ph := fmt.Sprintf("<VALUE-%d>", *n)
			fe.flag(where+" "+ph, a, "not rendered: "+err.Error())
			parts = append(parts, ph)
			flagged = true
			continue
		}
		if hostile {
			flagged = true
			if !fe.holdsFlagged(a) {
				fe.flag(where, a, "holds shell metacharacters: rendered quoted for "+shell)
			}
		}
		if i == 0 && shell == ShellPowerShell {
			q = "& " + q // a quoted string is an expression in PowerShell; & runs it
		}
		parts = append(parts, q)
	}
	return strings.Join(parts, " "), flagged
}

func (fe *findingEval) holdsFlagged(s string) bool {
	for _, f := range fe.flagged {
		if f != "" && strings.Contains(s, f) {
			return true
		}
	}
	return false
}

// renderManual renders one manual step for this finding; false when its when is false.
func (fe *findingEval) renderManual(m *Manual) (plan.ManualStep, bool) {
	ms := plan.ManualStep{Title: m.Title, Shell: m.Shell}
	if m.when != nil {
		fe.addExprDeps(m.when)
		v := fe.evalBool(m.when)
		switch {
		case !v.IsKnown() || v.IsNull():
			ms.Text = "(This step may not apply: " + strings.Join(fe.unknownsOf(m.when), ", ") + " is unknown.) "
		case !v.True():
			return ms, false
		}
	}
	if m.text != nil {
		ms.Text += safeText(fe.evalText(m.text))
	}
	if m.on != nil {
		fe.addOnDeps(m.on, "name")
		if name, ok := knownString(dcAttr(fe.eval(m.on), "name")); ok {
			ms.On = safeText(name)
		}
	}
	var cmds [][]string
	for _, e := range []*cexpr{m.commands, m.command} {
		if e == nil {
			continue
		}
		fe.addExprDeps(e)
		v := fe.eval(e)
		if !whollyKnown(v) || v.IsNull() {
			ms.Commands = append(ms.Commands, "(commands unknown until "+strings.Join(fe.unknownsOf(e), ", ")+" is gathered)")
			continue
		}
		if e == m.command {
			if argv, ok := knownStrings(v); ok {
				cmds = append(cmds, argv)
			}
			continue
		}
		for _, c := range elems(v) {
			if argv, ok := knownStrings(c); ok {
				cmds = append(cmds, argv)
			}
		}
	}
	n := 0
	for _, argv := range cmds {
		if len(argv) == 0 {
			continue
		}
		line, flagged := fe.renderCommand(m.Shell, argv, "manual step \""+m.Title+"\"", &n)
		ms.Commands = append(ms.Commands, line)
		ms.Flagged = ms.Flagged || flagged
	}
	return ms, true
}

func dcAttr(v cty.Value, attr string) cty.Value {
	if !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() || !v.Type().HasAttribute(attr) {
		return cty.UnknownVal(cty.String)
	}
	return v.GetAttr(attr)
}

// planAction renders one remedy action for this finding.
func (fe *findingEval) planAction(a *Action) (plan.Action, []plan.Need) {
	pa := plan.Action{
		ID: fe.g.id + "/" + a.Name, Name: a.Name, Risk: a.Risk,
		Verify: append([]string(nil), a.Verify...), VerifyTimeout: a.VerifyTimeout.String(),
		RequiresApprovalEach: a.RequiresApprovalEach,
	}
	var needs []plan.Need
	block := func(format string, args ...any) {
		pa.Blocked = true
		pa.Reasons = append(pa.Reasons, safeText(fmt.Sprintf(format, args...)))
	}
	pa.Title = safeText(fe.evalText(a.title))
	fe.addOnDeps(a.on, "name")
	on := fe.eval(a.on)
	name, nameOK := knownString(dcAttr(on, "name"))
	if !nameOK || name == "" {
		block("the target DC is unknown")
	} else {
		pa.Target = name
		if fe.holdsFlagged(name) || !isDCName(name) {
			block("the target's name %s is flagged as hostile or invalid", displayValue(name))
		}
	}
	if dc := fe.p.ix.DCByName(name); nameOK && dc != nil {
		pa.TargetDNSHostName = facts.CanonicalName(dc.DNSHostName)
		if ips, ok := dc.IPs.Get(); ok {
			pa.TargetIPs = append([]string(nil), ips...)
		}
	}
	switch {
	case a.hasLDAP:
		pa.Kind, pa.Platform, pa.Transport = plan.KindLDAPDelete, "any", "ldap"
		fe.addExprDeps(a.ldapDN)
		dn, ok := knownString(fe.eval(a.ldapDN))
		del := &plan.LDAPDelete{DN: dn, Tree: a.ldapTree}
		if !ok || dn == "" {
			block("the DN to delete is unknown")
			needs = append(needs, fe.factNeeds(a.ldapDN, "action."+a.Name)...)
		} else if p := unrenderable(dn); p != "" {
			block("the DN to delete is unusable: %s", p)
			del.DN = displayValue(dn)
		}
		if a.ldapGUID != nil {
			fe.addExprDeps(a.ldapGUID)
			g, ok := knownString(fe.eval(a.ldapGUID))
			switch {
			case !ok:
				block("the GUID the deleted object must have is unknown")
			case !isGUID(g):
				block("expect_guid %s is not a GUID", displayValue(g))
			default:
				del.ExpectGUID = strings.ToLower(g)
			}
		}
		pa.LDAPDelete = del
	default:
		plat, ok := knownString(dcAttr(on, "platform"))
		if !ok {
			pa.Platform = "unknown"
			block("the target's platform is unknown: the action cannot be chosen")
			if !a.on.absOK {
				break
			}
			needs = append(needs, fe.factNeed(a.on.attrRef("platform").t, "action."+a.Name)...)
			break
		}
		pa.Platform = plan.Platform(plat)
		if a.on.absOK {
			fe.addFactRef(a.on.attrRef("platform"))
		}
		switch plat {
		case facts.PlatformWindows:
			if !a.hasWindows {
				block("the action has no windows body")
				break
			}
			pa.Kind, pa.Transport, pa.PowerShell = plan.KindPowerShell, "winrm", a.windowsPS
		case facts.PlatformSamba:
			if !a.hasSamba {
				block("the action has no samba body")
				break
			}
			pa.Kind, pa.Transport, pa.IgnoreExit = plan.KindArgv, "ssh", a.sambaIgnoreExit
			fe.addExprDeps(a.sambaArgv)
			argv, ok := knownStrings(fe.eval(a.sambaArgv))
			if !ok || len(argv) == 0 {
				block("the argument vector is unknown")
				needs = append(needs, fe.factNeeds(a.sambaArgv, "action."+a.Name)...)
				break
			}
			literal := literalArgs(a.sambaArgv.expr, len(argv))
			var shown []string
			for i, arg := range argv {
				if p := unrenderable(arg); p != "" {
					block("argument %d is unusable: %s", i, p)
					shown = append(shown, "<unusable>")
					continue
				}
				if !literal[i] && (fe.holdsFlagged(arg) || strings.HasPrefix(arg, "-")) {
					block("argument %d (%s) comes from a flagged fact or looks like an option", i, displayValue(arg))
				}
				q := arg
				if !bareSafe(ShellPOSIX, arg) {
					q, _ = quoteArg(ShellPOSIX, arg)
				}
				shown = append(shown, q)
			}
			pa.Argv, pa.ArgvDisplay = argv, strings.Join(shown, " ")
		default:
			block("unsupported platform %s", displayValue(plat))
		}
	}
	if a.params != nil {
		fe.addExprDeps(a.params)
		pv := fe.eval(a.params)
		switch {
		case !whollyKnown(pv) || pv.IsNull():
			block("params are unknown: %s", strings.Join(fe.unknownsOf(a.params), ", "))
			needs = append(needs, fe.factNeeds(a.params, "action."+a.Name)...)
		default:
			if m, ok := goValue(pv).(map[string]any); ok {
				pa.Params = m
				walkStrings(pv, func(s string) {
					if p := unrenderable(s); p != "" {
						block("a parameter is unusable: %s", p)
					} else if fe.holdsFlagged(s) {
						block("a parameter holds a flagged value %s", displayValue(s))
					}
				})
			} else {
				block("params must be an object")
			}
		}
	}
	if pa.LDAPDelete != nil && fe.holdsFlagged(pa.LDAPDelete.DN) {
		block("the DN to delete holds a flagged value")
	}
	for _, g := range a.guards {
		gr := plan.GuardResult{Name: g.Name, Condition: g.cond.src}
		fe.addExprDeps(g.cond)
		v := fe.eval(g.cond)
		if !v.IsKnown() || v.IsNull() || v.Type() != cty.Bool || !v.True() {
			gr.Message = safeText(fe.evalText(g.message)) // rendered only when it explains a refusal
		}
		switch {
		case !v.IsKnown() || v.IsNull() || v.Type() != cty.Bool:
			gr.Status = plan.StatusUnknown
			block("guard %s is unknown (%s): %s", g.Name, strings.Join(fe.unknownsOf(g.cond), ", "), gr.Message)
			needs = append(needs, fe.needsOf(g.cond, "guard "+a.Name+"."+g.Name)...)
		case v.True():
			gr.Status = plan.StatusOK
		default:
			gr.Status = plan.StatusFailed
			block("guard %s: %s", g.Name, gr.Message)
		}
		pa.Guards = append(pa.Guards, gr)
	}
	pa.Key = actionKey(&pa)
	return pa, needs
}

// addOnDeps records the attributes of a DC an `on` expression is used for, not the whole DC.
func (fe *findingEval) addOnDeps(e *cexpr, attrs ...string) {
	if !e.absOK {
		fe.addExprDeps(e)
		return
	}
	for _, a := range attrs {
		fe.addFactRef(e.attrRef(a))
	}
}

// literalArgs reports which elements of a static list expression are playbook literals.
func literalArgs(expr hcl.Expression, n int) []bool {
	out := make([]bool, n)
	items, d := hcl.ExprList(expr)
	if d.HasErrors() || len(items) != n {
		return out
	}
	for i, it := range items {
		out[i] = len(it.Variables()) == 0
	}
	return out
}

func walkStrings(v cty.Value, f func(string)) {
	if !v.IsKnown() || v.IsNull() {
		return
	}
	switch {
	case v.Type() == cty.String:
		f(v.AsString())
	case v.CanIterateElements():
		for _, e := range elems(v) {
			walkStrings(e, f)
		}
	}
}

// actionKey identifies the effect of an action: the same key in two findings means the same
// command on the same DC, which apply runs once.
func actionKey(pa *plan.Action) string {
	params, _ := json.Marshal(pa.Params)
	argv, _ := json.Marshal(pa.Argv)
	del, _ := json.Marshal(pa.LDAPDelete)
	target := strings.ToLower(pa.Target)
	b := make([]byte, 0, len(pa.Name)+len(target)+len(pa.Kind)+len(pa.PowerShell)+len(argv)+len(params)+len(del)+6)
	// The bytes fmt.Fprintf(h, "%s\x00%s\x00...") wrote before: the keys of existing plans stand.
	b = append(append(b, pa.Name...), 0)
	b = append(append(b, target...), 0)
	b = append(append(b, pa.Kind...), 0)
	b = append(append(b, pa.PowerShell...), 0)
	b = append(append(b, argv...), 0)
	b = append(append(b, params...), 0)
	b = append(b, del...)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// goValue converts a known cty value to plain Go, as encoding/json would decode its JSON:
// map[string]any, []any, string, json.Number, bool.
func goValue(v cty.Value) any {
	if !whollyKnown(v) || v.IsNull() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.String:
		return v.AsString()
	case ty == cty.Bool:
		return v.True()
	case ty == cty.Number:
		return json.Number(v.AsBigFloat().Text('f', -1))
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType():
		out := make([]any, 0, v.LengthInt())
		for _, e := range elems(v) {
			out = append(out, goValue(e))
		}
		return out
	case ty.IsObjectType() && !v.IsMarked():
		atys := ty.AttributeTypes()
		out := make(map[string]any, len(atys))
		for k := range atys {
			out[k] = goValue(v.GetAttr(k))
		}
		return out
	case ty.IsObjectType() || ty.IsMapType():
		out := make(map[string]any, v.LengthInt())
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			out[k.AsString()] = goValue(e)
		}
		return out
	}
	return nil
}
