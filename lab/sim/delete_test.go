package sim

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/fix8524/fix8524/lab/scenario"
)

// The simulated DCs accept the metadata-cleanup delete only as a real DC does: bound, with the
// tree-delete control, never for their own NTDS Settings; the deletion changes the World.
func TestTreeDeleteOfStaleNTDSSettings(t *testing.T) {
	s, err := scenario.Load("stale-metadata")
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewWorld()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := Start(ctx, w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()

	base := w.Base()
	var gone, self string
	for _, dc := range base.DCs {
		switch dc.Name {
		case "DC2":
			gone = dc.NTDSSettingsDN
		case "DC1":
			self = dc.NTDSSettingsDN
		}
	}
	if gone == "" || self == "" {
		t.Fatalf("scenario lacks DC1/DC2: %+v", base.DCs)
	}
	dial := func() *ldap.Conn {
		// The simulated DC is reached through the forest's dial map (logical names on loopback).
		conn, err := f.Dial(ctx, "tcp", "dc1.contoso.com:636")
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		tc := tls.Client(conn, &tls.Config{RootCAs: f.RootCAs(), ServerName: "dc1.contoso.com"})
		lc := ldap.NewConn(tc, true)
		lc.Start()
		return lc
	}
	tree := []ldap.Control{ldap.NewControlString(ldap.ControlTypeSubtreeDelete, true, "")}
	code := func(err error) uint16 {
		var le *ldap.Error
		if errors.As(err, &le) {
			return le.ResultCode
		}
		return 0
	}

	c := dial()
	defer c.Close()
	if err := c.Del(ldap.NewDelRequest(gone, tree)); code(err) != ldap.LDAPResultInsufficientAccessRights {
		t.Fatalf("unbound delete = %v, want insufficient access", err)
	}
	if err := c.Bind(User, f.Password()); err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ldap.NewDelRequest(gone, nil)); code(err) != ldap.LDAPResultNotAllowedOnNonLeaf {
		t.Fatalf("delete without tree control = %v, want not allowed on non-leaf", err)
	}
	if err := c.Del(ldap.NewDelRequest(self, tree)); code(err) != ldap.LDAPResultUnwillingToPerform {
		t.Fatalf("delete of own NTDS Settings = %v, want unwilling", err)
	}
	var server, computer string
	for _, dc := range base.DCs {
		if dc.NTDSSettingsDN == gone {
			server, computer = dc.ServerDN, dc.ComputerDN
		}
	}
	if server == "" || computer == "" {
		t.Fatalf("DC2 has no server or computer DN in the scenario")
	}
	count := func(dn string, scope int) (int, uint16) {
		res, err := c.Search(ldap.NewSearchRequest(dn, scope, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
		if err != nil {
			return 0, code(err)
		}
		return len(res.Entries), 0
	}
	if n, rc := count(server, ldap.ScopeSingleLevel); n != 1 || rc != 0 {
		t.Fatalf("DC2's server object before the delete: %d child(ren), result %d; want its NTDS Settings", n, rc)
	}
	if err := c.Del(ldap.NewDelRequest(gone, tree)); err != nil {
		t.Fatalf("tree delete: %v", err)
	}
	// What a tree delete of NTDS Settings leaves behind, as on a real DC: the server object
	// (without children) and the computer object; the NTDS Settings object is gone.
	if n, rc := count(gone, ldap.ScopeBaseObject); n != 0 || rc != ldap.LDAPResultNoSuchObject {
		t.Fatalf("NTDS Settings after the delete: %d entries, result %d", n, rc)
	}
	if n, rc := count(server, ldap.ScopeBaseObject); n != 1 || rc != 0 {
		t.Fatalf("server object after the delete: %d entries, result %d; want it left behind", n, rc)
	}
	if n, rc := count(server, ldap.ScopeSingleLevel); n != 0 || rc != 0 {
		t.Fatalf("server object children after the delete: %d, result %d; want none", n, rc)
	}
	if n, rc := count(computer, ldap.ScopeBaseObject); n != 1 || rc != 0 {
		t.Fatalf("computer object after the delete: %d entries, result %d; want it left behind", n, rc)
	}
	for _, dc := range w.Base().DCs {
		if dc.NTDSSettingsDN == gone {
			t.Fatalf("DC2's NTDS Settings still in the world")
		}
	}
	if err := c.Del(ldap.NewDelRequest(gone, tree)); code(err) != ldap.LDAPResultNoSuchObject {
		t.Fatalf("second delete = %v, want no such object", err)
	}
}

// guid-mismatch: DC2 was promoted again and runs as another DSA; DC1 replicates from the stale
// object. After the stale object's tree delete, DC2's server object still holds the current
// NTDS Settings: the leftovers check must not see an empty server object that is safe to delete.
func TestTreeDeleteOfARepromotedDCsStaleObject(t *testing.T) {
	s, err := scenario.Load("guid-mismatch")
	if err != nil {
		t.Fatal(err)
	}
	w := s.NewWorld()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f, err := Start(ctx, w, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stale, server string
	for _, dc := range w.Base().DCs {
		if dc.Name == "DC2" {
			stale, server = dc.NTDSSettingsDN, dc.ServerDN
		}
	}
	if stale == "" || server == "" {
		t.Fatal("the scenario has no DC2")
	}
	nc, err := f.Dial(ctx, "tcp", "dc1.contoso.com:636")
	if err != nil {
		t.Fatal(err)
	}
	c := ldap.NewConn(tls.Client(nc, &tls.Config{RootCAs: f.RootCAs(), ServerName: "dc1.contoso.com"}), true)
	c.Start()
	defer c.Close()
	if err := c.Bind(User, f.Password()); err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ldap.NewDelRequest(stale, []ldap.Control{ldap.NewControlString(ldap.ControlTypeSubtreeDelete, true, "")})); err != nil {
		t.Fatalf("tree delete: %v", err)
	}
	res, err := c.Search(ldap.NewSearchRequest(server, ldap.ScopeSingleLevel, ldap.NeverDerefAliases, 0, 0, false, "(objectClass=*)", []string{"1.1"}, nil))
	if err != nil || len(res.Entries) != 1 {
		t.Fatalf("children of DC2's server object after the stale object's delete: %v, %v; want its current NTDS Settings", res, err)
	}
}
