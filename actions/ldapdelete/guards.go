package ldapdelete

import (
	"fmt"
	"strings"

	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/plan"
)

// Guards are the metadata-cleanup guards Go enforces whatever the playbook says, for an
// ldap_delete (nil for other kinds), evaluated on the facts s: the object is an NTDS Settings
// object with the objectGUID the plan names, no DC answers as that DSA, it is neither the DC
// fix8524 is bound to nor the delete's target, it holds no FSMO role, it is not protected from
// deletion, its DC is not the last of its domain and no longer answers LDAP or RPC. Apply
// evaluates them on fresh facts right before the delete, besides the playbook's guards; a
// false or unknown guard refuses it.
func Guards(s *facts.Snapshot, a plan.Action) []plan.GuardResult {
	if a.Kind != plan.KindLDAPDelete {
		return nil
	}
	res := func(name string, status plan.Status, msg string) plan.GuardResult {
		return plan.GuardResult{Name: "builtin:" + name, Status: status, Message: msg}
	}
	d := a.LDAPDelete
	if d == nil {
		return []plan.GuardResult{res("dn", plan.StatusFailed, "the action has no DN")}
	}
	var out []plan.GuardResult
	if d.Tree && !IsNTDSSettingsDN(d.DN) {
		out = append(out, res("ntds_settings_only", plan.StatusFailed, "a tree delete may only remove an NTDS Settings object"))
	} else {
		out = append(out, res("ntds_settings_only", plan.StatusOK, ""))
	}
	if d.ExpectGUID == "" {
		out = append(out, res("expected_guid", plan.StatusFailed, "the plan does not name the objectGUID to delete"))
	} else {
		out = append(out, res("expected_guid", plan.StatusOK, ""))
	}
	ix := facts.NewIndex(s)
	// Nothing stale: a DC that says it is this DSA.
	live := plan.StatusOK
	msg := ""
	for _, dc := range s.DCs {
		if g, ok := dc.OwnDSAGUID.Get(); ok && d.ExpectGUID != "" && strings.EqualFold(g, d.ExpectGUID) {
			live, msg = plan.StatusFailed, dc.Name+" answers as DSA "+g+": the object is its current NTDS Settings, nothing is stale"
		}
	}
	out = append(out, res("not_a_live_dsa", live, msg))
	// Not the DC we are bound to, nor the delete's own target.
	bound := plan.StatusOK
	msg = ""
	for _, name := range []string{s.SeedDC, a.Target} {
		if dc := ix.DCByName(name); dc != nil && strings.EqualFold(dc.NTDSSettingsDN, d.DN) {
			bound, msg = plan.StatusFailed, d.DN+" is the NTDS Settings of "+dc.Name+", the DC fix8524 is bound to"
		}
	}
	out = append(out, res("not_bound_dc", bound, msg))
	// FSMO roles.
	fsmo := plan.StatusOK
	msg = ""
	for _, role := range s.Forest.FSMO {
		if strings.EqualFold(role.OwnerDSA, d.DN) {
			fsmo, msg = plan.StatusFailed, "it holds the "+role.Role+" role: seize it first, with a separate approval"
		}
	}
	out = append(out, res("holds_no_fsmo", fsmo, msg))
	dc := ix.DCByNTDSDN(d.DN)
	if dc == nil {
		out = append(out, res("known_dc", plan.StatusUnknown, "the fresh topology has no DC with this NTDS Settings object"))
		return out
	}
	// Protected from accidental deletion.
	switch p, ok := dc.ProtectedFromDeletion.Get(); {
	case !ok:
		out = append(out, res("not_protected", plan.StatusUnknown, "whether "+dc.Name+"'s objects are protected from deletion is unknown: "+dc.ProtectedFromDeletion.Why()))
	case p:
		out = append(out, res("not_protected", plan.StatusFailed, dc.Name+"'s objects are protected from accidental deletion"))
	default:
		out = append(out, res("not_protected", plan.StatusOK, ""))
	}
	// Last DC of its domain.
	others := 0
	for _, o := range s.DCs {
		if o.NTDSSettingsDN != dc.NTDSSettingsDN && strings.EqualFold(o.Domain, dc.Domain) {
			others++
		}
	}
	if others == 0 {
		out = append(out, res("not_last_dc", plan.StatusFailed, dc.Name+" is the last DC of "+dc.Domain))
	} else {
		out = append(out, res("not_last_dc", plan.StatusOK, ""))
	}
	// Still answers LDAP or RPC as itself.
	own, ownKnown := dc.OwnDSAGUID.Get()
	repromoted := ownKnown && d.ExpectGUID != "" && !strings.EqualFold(own, d.ExpectGUID)
	ans := plan.StatusOK
	msg = ""
	probed := 0
	for _, o := range s.Reach {
		if ix.DCByName(o.Host) != dc {
			continue
		}
		switch o.Port {
		case 135, 389, 636, 3268:
		default:
			continue
		}
		probed++
		if o.Result == facts.ReachOpen && !repromoted {
			ans, msg = plan.StatusFailed, fmt.Sprintf("%s still answers on port %d", dc.Name, o.Port)
		}
	}
	if probed == 0 && !repromoted {
		ans, msg = plan.StatusUnknown, "no fresh LDAP/RPC probe of "+dc.Name
	}
	out = append(out, res("not_answering", ans, msg))
	return out
}

// Recheck says whether the effect of an ldap_delete is in place, from the state of its object
// on the target's copy (Inspect) or the error reading it: deleted is in place; the object
// with another objectGUID (the DN names another object now) or with the expected one is
// known not to be; an object that could not be read is unknown. Apply re-checks a delete the
// journal has seen begin before it decides to skip or repeat it.
func Recheck(d *plan.LDAPDelete, st ObjectState, err error) (inPlace, known bool, detail string) {
	switch {
	case err != nil:
		return false, false, "could not read " + d.DN + ": " + err.Error()
	case !st.Exists:
		return true, true, d.DN + " no longer exists"
	case d.ExpectGUID != "" && !strings.EqualFold(st.GUID, d.ExpectGUID):
		return false, true, fmt.Sprintf("%s exists with another objectGUID (%s)", d.DN, st.GUID)
	}
	return false, true, d.DN + " still exists"
}
