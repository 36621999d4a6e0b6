package ldapdelete_test

import (
	"errors"
	"testing"

	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/plan"
)

func TestRecheck(t *testing.T) {
	d := &plan.LDAPDelete{DN: "CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default,CN=Sites,CN=Configuration,DC=x", Tree: true, ExpectGUID: "0f1e"}
	for _, c := range []struct {
		name           string
		st             ldapdelete.ObjectState
		err            error
		inPlace, known bool
	}{
		{"gone", ldapdelete.ObjectState{}, nil, true, true},
		{"still there", ldapdelete.ObjectState{Exists: true, GUID: "0F1E"}, nil, false, true},
		{"another object", ldapdelete.ObjectState{Exists: true, GUID: "aaaa"}, nil, false, true},
		{"unreadable", ldapdelete.ObjectState{}, errors.New("connection refused"), false, false},
	} {
		in, known, detail := ldapdelete.Recheck(d, c.st, c.err)
		if in != c.inPlace || known != c.known || detail == "" {
			t.Errorf("%s: in place %v, known %v (%q); want %v, %v", c.name, in, known, detail, c.inPlace, c.known)
		}
	}
}

func TestGuardsOnlyForDeletes(t *testing.T) {
	if g := ldapdelete.Guards(nil, plan.Action{Kind: plan.KindPowerShell}); g != nil {
		t.Errorf("guards of a PowerShell action: %v", g)
	}
	g := ldapdelete.Guards(nil, plan.Action{Kind: plan.KindLDAPDelete})
	if len(g) != 1 || g[0].Status != plan.StatusFailed {
		t.Errorf("guards of a delete without a DN: %v", g)
	}
}
