package sim

import (
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/fix8524/fix8524/facts"
)

// Deleter is implemented by worlds that support metadata cleanup (*scenario.World does): an LDAP
// tree delete of a DC's NTDS Settings object removes it from the simulated forest.
type Deleter interface {
	DeleteDSA(ntdsDN string) error
}

// treeDeleteOID is LDAP_SERVER_TREE_DELETE_OID.
const treeDeleteOID = "1.2.840.113556.1.4.805"

// handleDelete answers an LDAP delete the way a DC answers the metadata-cleanup delete of an
// NTDS Settings object: only for a bound administrator, only with the tree-delete control (the
// object has child connection objects), never for the serving DC's own NTDS Settings.
func (f *Forest) handleDelete(name string) func(st *ldapConnState, dn string, controls []string) (ldapResult, bool) {
	return func(st *ldapConnState, dn string, controls []string) (ldapResult, bool) {
		f.LDAPRequests.Add(1)
		if f.hold(name) {
			return ldapResult{}, false
		}
		if !st.bound.Load() {
			return ldapResult{code: ldap.LDAPResultInsufficientAccessRights, diag: "00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0"}, true
		}
		del, ok := f.world.(Deleter)
		if !ok {
			return ldapResult{code: ldap.LDAPResultUnwillingToPerform, diag: "the simulated DC is read-only"}, true
		}
		tree := false
		for _, c := range controls {
			if c == treeDeleteOID {
				tree = true
			}
		}
		_, ix := f.snapshot()
		target := ix.DCByNTDSDN(dn)
		switch {
		case target == nil:
			return ldapResult{code: ldap.LDAPResultNoSuchObject, diag: "0000208D: NameErr: DSID-0310028D, problem 2001 (NO_OBJECT)"}, true
		case strings.EqualFold(target.Name, name):
			return ldapResult{code: ldap.LDAPResultUnwillingToPerform, diag: "00002035: it's the DC's own nTDSDSA object"}, true
		case !tree:
			return ldapResult{code: ldap.LDAPResultNotAllowedOnNonLeaf, diag: "00002015: the object has children: use the tree-delete control"}, true
		}
		removed := *target
		if err := del.DeleteDSA(dn); err != nil {
			return ldapResult{code: ldap.LDAPResultNoSuchObject, diag: err.Error()}, true
		}
		f.keepLeftovers(removed)
		return ldapResult{code: ldap.LDAPResultSuccess}, true
	}
}

// keepLeftovers remembers what a tree delete of dc's NTDS Settings leaves behind: the server
// object above it and the computer object it references (metadata cleanup's leftovers).
func (f *Forest) keepLeftovers(dc facts.DC) {
	f.leftMu.Lock()
	defer f.leftMu.Unlock()
	for _, l := range f.leftovers {
		if strings.EqualFold(l.NTDSSettingsDN, dc.NTDSSettingsDN) {
			return
		}
	}
	f.leftovers = append(f.leftovers, dc)
}

// removedDCs returns the DCs whose NTDS Settings were removed by a tree delete.
func (f *Forest) removedDCs() []facts.DC {
	f.leftMu.Lock()
	defer f.leftMu.Unlock()
	return append([]facts.DC(nil), f.leftovers...)
}
