package sim

import (
	"strings"
	"sync"

	"github.com/jimlambrt/gldap"

	"github.com/fix8524/fix8524/facts"
)

// Deleter is implemented by worlds that support metadata cleanup (*scenario.World does): an LDAP
// tree delete of a DC's NTDS Settings object removes it from the simulated forest.
type Deleter interface {
	DeleteDSA(ntdsDN string) error
}

// treeDeleteOID is LDAP_SERVER_TREE_DELETE_OID.
const treeDeleteOID = "1.2.840.113556.1.4.805"

// authSet remembers which connections of one simulated LDAP server bound as User.
type authSet struct {
	mu  sync.Mutex
	ids map[int]bool
}

func (a *authSet) set(id int, ok bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ok {
		a.ids[id] = true
	} else {
		delete(a.ids, id)
	}
}

// forget drops a closed connection (gldap's OnClose callback).
func (a *authSet) forget(id int) { a.set(id, false) }

func (a *authSet) ok(id int) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.ids[id]
}

// handleDelete answers an LDAP delete the way a DC answers the metadata-cleanup delete of an
// NTDS Settings object: only for a bound administrator, only with the tree-delete control (the
// object has child connection objects), never for the serving DC's own NTDS Settings.
func (f *Forest) handleDelete(name string, auth *authSet) gldap.HandlerFunc {
	return func(w *gldap.ResponseWriter, r *gldap.Request) {
		f.LDAPRequests.Add(1)
		resp := r.NewResponse(gldap.WithApplicationCode(gldap.ApplicationDelResponse), gldap.WithResponseCode(gldap.ResultUnwillingToPerform))
		if f.hold(name) {
			return // a stalled DC leaves the request unanswered
		}
		defer func() { _ = w.Write(resp) }()
		m, err := r.GetDeleteMessage()
		if err != nil {
			resp.SetResultCode(gldap.ResultProtocolError)
			return
		}
		if !auth.ok(r.ConnectionID()) {
			resp.SetResultCode(gldap.ResultInsufficientAccessRights)
			resp.SetDiagnosticMessage("00002098: SecErr: DSID-03150F94, problem 4003 (INSUFF_ACCESS_RIGHTS), data 0")
			return
		}
		del, ok := f.world.(Deleter)
		if !ok {
			resp.SetDiagnosticMessage("the simulated DC is read-only")
			return
		}
		tree := false
		for _, c := range m.Controls {
			if c.GetControlType() == treeDeleteOID {
				tree = true
			}
		}
		_, ix := f.snapshot()
		target := ix.DCByNTDSDN(m.DN)
		switch {
		case target == nil:
			resp.SetResultCode(gldap.ResultNoSuchObject)
			resp.SetDiagnosticMessage("0000208D: NameErr: DSID-0310028D, problem 2001 (NO_OBJECT)")
		case strings.EqualFold(target.Name, name):
			resp.SetDiagnosticMessage("00002035: it's the DC's own nTDSDSA object")
		case !tree:
			resp.SetResultCode(gldap.ResultNotAllowedOnNonLeaf)
			resp.SetDiagnosticMessage("00002015: the object has children: use the tree-delete control")
		default:
			removed := *target
			if err := del.DeleteDSA(m.DN); err != nil {
				resp.SetResultCode(gldap.ResultNoSuchObject)
				resp.SetDiagnosticMessage(err.Error())
				return
			}
			f.keepLeftovers(removed)
			resp.SetResultCode(gldap.ResultSuccess)
		}
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
