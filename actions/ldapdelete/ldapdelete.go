// Package ldapdelete runs fix8524's LDAP metadata cleanup: a delete of a stale DC's NTDS
// Settings object with the tree-delete control (1.2.840.113556.1.4.805, sent as critical so a
// server that does not support it fails loudly instead of refusing "not allowed on non-leaf"
// or, worse, ignoring it), existence re-checks for crash-safe resumes, and the leftovers check
// that follows a cleanup: the server object, the computer object and the dead DC's DNS records
// (GUID CNAME, host A/AAAA, locator SRV, NS, gc._msdcs A), each reported with exact commands.
//
// The package owns what Go knows about a metadata cleanup: the built-in guards (Guards), which
// apply evaluates on fresh facts right before the delete besides the playbook's, and the
// re-check of a delete an earlier run may have done (Recheck). Apply decides, from them, whether
// the delete runs; the delete itself only refuses what can never be right: an empty DN, a DN
// that is not an NTDS Settings object (for TreeDelete), or hostile text.
package ldapdelete

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/go-ldap/ldap/v3"

	"github.com/fix8524/fix8524/facts/guid"
)

// TreeDeleteOID is LDAP_SERVER_TREE_DELETE_OID.
const TreeDeleteOID = ldap.ControlTypeSubtreeDelete

// Conn is the part of *ldap.Conn this package uses: a connection bound to a surviving DC,
// never to the DC being removed.
type Conn interface {
	Del(*ldap.DelRequest) error
	Search(*ldap.SearchRequest) (*ldap.SearchResult, error)
}

// ErrNotNTDSSettings is returned by TreeDelete for a DN that does not name an NTDS Settings
// object under CN=Servers,CN=<site>,CN=Sites.
var ErrNotNTDSSettings = errors.New("not an NTDS Settings DN (CN=NTDS Settings,CN=<server>,CN=Servers,CN=<site>,CN=Sites,CN=Configuration,...)")

// TreeDeleteControl returns the tree-delete control, critical, without a value.
func TreeDeleteControl() ldap.Control {
	return ldap.NewControlString(ldap.ControlTypeSubtreeDelete, true, "")
}

// Request builds the delete request: with the tree-delete control when tree is set.
func Request(dn string, tree bool) *ldap.DelRequest {
	var controls []ldap.Control
	if tree {
		controls = []ldap.Control{TreeDeleteControl()}
	}
	return ldap.NewDelRequest(dn, controls)
}

// ValidateDN refuses DNs that are empty, overlong, contain control characters, or do not parse.
func ValidateDN(dn string) (*ldap.DN, error) {
	if strings.TrimSpace(dn) == "" {
		return nil, errors.New("empty DN")
	}
	if len(dn) > 2048 {
		return nil, fmt.Errorf("DN is %d bytes long (limit 2048)", len(dn))
	}
	for _, r := range dn {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return nil, fmt.Errorf("DN %q contains a control or invalid character", dn)
		}
	}
	parsed, err := ldap.ParseDN(dn)
	if err != nil {
		return nil, fmt.Errorf("DN %q does not parse: %w", dn, err)
	}
	if len(parsed.RDNs) == 0 {
		return nil, errors.New("empty DN")
	}
	return parsed, nil
}

// IsNTDSSettingsDN reports whether dn has the shape
// CN=NTDS Settings,CN=<server>,CN=Servers,CN=<site>,CN=Sites,CN=Configuration,<forest root>.
func IsNTDSSettingsDN(dn string) bool {
	p, err := ValidateDN(dn)
	if err != nil || len(p.RDNs) < 7 {
		return false
	}
	want := []struct{ typ, val string }{
		{"cn", "ntds settings"}, {"cn", ""}, {"cn", "servers"}, {"cn", ""}, {"cn", "sites"}, {"cn", "configuration"},
	}
	for i, w := range want {
		r := p.RDNs[i]
		if len(r.Attributes) != 1 || !strings.EqualFold(r.Attributes[0].Type, w.typ) {
			return false
		}
		if w.val != "" && !strings.EqualFold(r.Attributes[0].Value, w.val) {
			return false
		}
		if r.Attributes[0].Value == "" {
			return false
		}
	}
	return true
}

// ServerDNOf returns the parent (server object) DN of an NTDS Settings DN.
func ServerDNOf(ntdsDN string) (string, error) {
	if !IsNTDSSettingsDN(ntdsDN) {
		return "", fmt.Errorf("%q: %w", ntdsDN, ErrNotNTDSSettings)
	}
	p, _ := ValidateDN(ntdsDN)
	parent := &ldap.DN{RDNs: p.RDNs[1:]}
	return parent.String(), nil
}

// Error is a refused or failed LDAP delete, with the LDAP result code and what it usually
// means on a domain controller.
type Error struct {
	DN   string
	Code uint16 // LDAP result code; 0 when the request did not get an answer
	Hint string
	Err  error
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("LDAP delete of %q failed", e.DN)
	if e.Code != 0 {
		msg += fmt.Sprintf(" (result %d %s)", e.Code, ldap.LDAPResultCodeMap[e.Code])
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Hint != "" {
		msg += " — " + e.Hint
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

func hintFor(code uint16) string {
	switch code {
	case ldap.LDAPResultInsufficientAccessRights:
		return "access denied: the bind account needs Enterprise Admins rights, or the object is protected from accidental deletion (clear it on the NTDS Settings and computer objects first)"
	case ldap.LDAPResultUnwillingToPerform:
		return "the DC refused: it never deletes its own NTDS Settings object (bind to another surviving DC), or the tree-delete control is not supported"
	case ldap.LDAPResultNotAllowedOnNonLeaf:
		return "the object has children and the tree-delete control was not honoured"
	case ldap.LDAPResultUnavailableCriticalExtension:
		return "the server does not support the tree-delete control (1.2.840.113556.1.4.805)"
	case ldap.LDAPResultNoSuchObject:
		return "the object does not exist (already deleted?)"
	case ldap.LDAPResultBusy, ldap.LDAPResultUnavailable:
		return "the DC is busy or unavailable; retry later"
	}
	return ""
}

// TreeDelete deletes the NTDS Settings object dn and its children (connection objects) with
// the critical tree-delete control. It refuses any DN that is not an NTDS Settings object.
func TreeDelete(c Conn, dn string) error {
	if !IsNTDSSettingsDN(dn) {
		return &Error{DN: dn, Err: ErrNotNTDSSettings}
	}
	return Delete(c, dn, true)
}

// Delete deletes dn, with the tree-delete control when tree is set.
func Delete(c Conn, dn string, tree bool) error {
	if _, err := ValidateDN(dn); err != nil {
		return &Error{DN: dn, Err: err}
	}
	if c == nil {
		return &Error{DN: dn, Err: errors.New("no LDAP connection")}
	}
	if err := c.Del(Request(dn, tree)); err != nil {
		e := &Error{DN: dn, Err: err}
		var le *ldap.Error
		if errors.As(err, &le) {
			e.Code = le.ResultCode
			e.Hint = hintFor(le.ResultCode)
		}
		return e
	}
	return nil
}

// Exists reports whether dn exists (a base-scope search). A noSuchObject answer is false
// with no error; any other failure is an error (the caller must treat it as unknown).
func Exists(c Conn, dn string) (bool, error) {
	n, err := children(c, dn, ldap.ScopeBaseObject)
	if err != nil {
		return false, err
	}
	return n > 0, nil
}

// Children counts dn's direct children. A missing dn is an error.
func Children(c Conn, dn string) (int, error) {
	return children(c, dn, ldap.ScopeSingleLevel)
}

func children(c Conn, dn string, scope int) (int, error) {
	if _, err := ValidateDN(dn); err != nil {
		return 0, err
	}
	if c == nil {
		return 0, errors.New("no LDAP connection")
	}
	req := ldap.NewSearchRequest(dn, scope, ldap.NeverDerefAliases, 1000, 30, false,
		"(objectClass=*)", []string{"1.1"}, nil)
	res, err := c.Search(req)
	if err != nil {
		var le *ldap.Error
		if errors.As(err, &le) && le.ResultCode == ldap.LDAPResultNoSuchObject {
			if scope == ldap.ScopeBaseObject {
				return 0, nil
			}
			return 0, fmt.Errorf("search %q: object does not exist", dn)
		}
		if errors.As(err, &le) && le.ResultCode == ldap.LDAPResultSizeLimitExceeded && res != nil {
			return len(res.Entries), nil
		}
		return 0, fmt.Errorf("search %q: %w", dn, err)
	}
	return len(res.Entries), nil
}

// ObjectState is what Inspect found.
type ObjectState struct {
	Exists bool
	GUID   string // objectGUID in text form; "" when the object does not exist or has none
}

// Inspect reads whether dn exists and its objectGUID. A noSuchObject answer is Exists false
// with no error; any other failure is an error (unknown).
func Inspect(c Conn, dn string) (ObjectState, error) {
	if _, err := ValidateDN(dn); err != nil {
		return ObjectState{}, err
	}
	if c == nil {
		return ObjectState{}, errors.New("no LDAP connection")
	}
	req := ldap.NewSearchRequest(dn, ldap.ScopeBaseObject, ldap.NeverDerefAliases, 1, 30, false,
		"(objectClass=*)", []string{"objectGUID"}, nil)
	res, err := c.Search(req)
	if err != nil {
		var le *ldap.Error
		if errors.As(err, &le) && le.ResultCode == ldap.LDAPResultNoSuchObject {
			return ObjectState{}, nil
		}
		return ObjectState{}, fmt.Errorf("read %q: %w", dn, err)
	}
	if len(res.Entries) == 0 {
		return ObjectState{}, nil
	}
	st := ObjectState{Exists: true}
	if raw := res.Entries[0].GetEqualFoldRawAttributeValue("objectGUID"); len(raw) > 0 {
		g, err := guid.FromBytes(raw)
		if err != nil {
			return st, fmt.Errorf("read %q: objectGUID: %w", dn, err)
		}
		st.GUID = g
	}
	return st, nil
}
