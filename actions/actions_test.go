package actions_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-ldap/ldap/v3"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/facts/guid"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/remote"
)

const (
	ntdsDN  = "CN=NTDS Settings,CN=DC3,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=contoso,DC=com"
	dc3GUID = "3f2b1c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
)

// fakeConn is an LDAP connection to a directory holding objects with GUIDs.
type fakeConn struct {
	objects map[string]string // DN -> objectGUID
	deleted []*ldap.DelRequest
	delErr  error
}

func (f *fakeConn) Del(r *ldap.DelRequest) error {
	f.deleted = append(f.deleted, r)
	if f.delErr != nil {
		return f.delErr
	}
	delete(f.objects, r.DN)
	return nil
}

func (f *fakeConn) Search(r *ldap.SearchRequest) (*ldap.SearchResult, error) {
	g, ok := f.objects[r.BaseDN]
	if !ok {
		return nil, ldap.NewError(ldap.LDAPResultNoSuchObject, errors.New("no such object"))
	}
	raw, _ := guid.ToBytes(g)
	e := ldap.NewEntry(r.BaseDN, nil)
	e.Attributes = []*ldap.EntryAttribute{{Name: "objectGUID", Values: []string{string(raw)}, ByteValues: [][]byte{raw}}}
	return &ldap.SearchResult{Entries: []*ldap.Entry{e}}, nil
}

type conns struct{ c *fakeConn }

func (c conns) LDAP(context.Context, remote.DC) (ldapdelete.Conn, func(), error) {
	return c.c, func() {}, nil
}

func cleanup(expect string) plan.Action {
	return plan.Action{ID: "DC1<-DC3/metadata_cleanup", Name: "metadata_cleanup", Kind: plan.KindLDAPDelete, Risk: plan.RiskHigh,
		Target: "DC1", Transport: "ldap", LDAPDelete: &plan.LDAPDelete{DN: ntdsDN, Tree: true, ExpectGUID: expect}}
}

func TestLDAPDeleteChecksTheGUID(t *testing.T) {
	fc := &fakeConn{objects: map[string]string{ntdsDN: dc3GUID}}
	x := &actions.Executor{LDAP: conns{fc}}
	out := x.Run(context.Background(), cleanup("00000000-0000-0000-0000-000000000001"))
	if out.OK() || !errors.Is(out.Err, actions.ErrGUIDMismatch) || len(fc.deleted) != 0 {
		t.Fatalf("GUID mismatch: %+v, deletes %d", out, len(fc.deleted))
	}
	out = x.Run(context.Background(), cleanup(dc3GUID))
	if !out.OK() || len(fc.deleted) != 1 || out.ExitCode == nil || *out.ExitCode != 0 {
		t.Fatalf("delete: %+v", out)
	}
	ctl := fc.deleted[0].Controls
	if len(ctl) != 1 || ctl[0].GetControlType() != "1.2.840.113556.1.4.805" || !strings.Contains(ctl[0].String(), "Criticality: true") {
		t.Fatalf("controls %v", ctl)
	}
	st, err := x.Inspect(context.Background(), cleanup(dc3GUID))
	if err != nil || st.Exists {
		t.Fatalf("after the delete: %+v %v", st, err)
	}
	out = x.Run(context.Background(), cleanup(dc3GUID))
	if out.OK() || !strings.Contains(out.Err.Error(), "does not exist") {
		t.Fatalf("deleting again: %+v", out)
	}
}

func TestLDAPDeleteRefusals(t *testing.T) {
	fc := &fakeConn{objects: map[string]string{ntdsDN: dc3GUID}, delErr: ldap.NewError(ldap.LDAPResultUnwillingToPerform, errors.New("0000209A: SvcErr"))}
	x := &actions.Executor{LDAP: conns{fc}}
	out := x.Run(context.Background(), cleanup(dc3GUID))
	if out.OK() || out.ExitCode == nil || *out.ExitCode != int(ldap.LDAPResultUnwillingToPerform) || !strings.Contains(out.Err.Error(), "own NTDS Settings") {
		t.Fatalf("unwilling: %+v", out)
	}
	bad := cleanup(dc3GUID)
	bad.LDAPDelete.DN = "CN=DC3,OU=Domain Controllers,DC=contoso,DC=com"
	if out := x.Run(context.Background(), bad); out.OK() || out.Ran {
		t.Fatalf("tree delete of a computer object: %+v", out)
	}
	if out := (&actions.Executor{}).Run(context.Background(), cleanup(dc3GUID)); out.OK() {
		t.Fatal("no LDAP configured, yet it succeeded")
	}
}

// runner records commands and answers with a fixed result.
type runner struct {
	got    []remote.Command
	res    remote.Result
	err    error
	closed bool
}

func (r *runner) Run(_ context.Context, c remote.Command) (remote.Result, error) {
	r.got = append(r.got, c)
	return r.res, r.err
}
func (r *runner) Close() error { r.closed = true; return nil }

type runners struct{ r *runner }

func (rs runners) Runner(context.Context, remote.DC) (remote.Runner, error) { return rs.r, nil }

func TestRunCommandActions(t *testing.T) {
	ps := plan.Action{ID: "a/retry_replication", Name: "retry_replication", Kind: plan.KindPowerShell, Transport: "winrm", Target: "DC1",
		PowerShell: "foreach ($nc in ($P.ncs | ConvertFrom-Json)) { repadmin /replicate $P.destination $P.source $nc }",
		Params:     map[string]any{"destination": "dc1.contoso.com", "ncs": []any{"DC=contoso,DC=com", "CN=Configuration,DC=contoso,DC=com"}, "n": 3}}
	r := &runner{res: remote.Result{ExitCode: 0, Stdout: []byte("ok")}}
	out := (&actions.Executor{Runners: runners{r}}).Run(context.Background(), ps)
	if !out.OK() || !r.closed || len(r.got) != 1 {
		t.Fatalf("%+v", out)
	}
	p := r.got[0].Params
	if p["destination"] != "dc1.contoso.com" || p["ncs"] != `["DC=contoso,DC=com","CN=Configuration,DC=contoso,DC=com"]` || p["n"] != "3" {
		t.Fatalf("params %q", p)
	}
	// A non-zero exit fails, unless the action ignores its exit code (samba_dnsupdate).
	r.res = remote.Result{ExitCode: 2, Stderr: []byte("TSIG error")}
	argv := plan.Action{ID: "a/register_cname", Name: "register_cname", Kind: plan.KindArgv, Transport: "ssh", Target: "DC2",
		Argv: []string{"samba_dnsupdate", "--all-interfaces"}}
	if out := (&actions.Executor{Runners: runners{r}}).Run(context.Background(), argv); out.OK() || *out.ExitCode != 2 {
		t.Fatalf("exit 2: %+v", out)
	}
	argv.IgnoreExit = true
	if out := (&actions.Executor{Runners: runners{r}}).Run(context.Background(), argv); !out.OK() || *out.ExitCode != 2 {
		t.Fatalf("exit 2 ignored: %+v", out)
	}
	// A transport failure is an error without an exit code.
	r.err = &remote.TransportError{Kind: remote.KindDropped, Op: "receive", Target: "DC2", Err: errors.New("reset")}
	if out := (&actions.Executor{Runners: runners{r}}).Run(context.Background(), argv); out.OK() || out.ExitCode != nil || !out.Ran {
		t.Fatalf("dropped: %+v", out)
	}
	r.err = &remote.TransportError{Kind: remote.KindRefused, Op: "connect", Target: "DC2", Err: errors.New("refused")}
	if out := (&actions.Executor{Runners: runners{r}}).Run(context.Background(), argv); out.OK() || out.Ran {
		t.Fatalf("refused connection must not count as ran: %+v", out)
	}
	// Kind and transport must agree; unknown platforms have no command.
	bad := argv
	bad.Transport = "winrm"
	if out := (&actions.Executor{Runners: runners{r}}).Run(context.Background(), bad); out.OK() || !strings.Contains(out.Err.Error(), "cannot travel") {
		t.Fatalf("argv over winrm: %+v", out)
	}
	bad = argv
	bad.Kind = ""
	if out := (&actions.Executor{Runners: runners{r}}).Run(context.Background(), bad); out.OK() || !strings.Contains(out.Err.Error(), "platform is unknown") {
		t.Fatalf("unknown platform: %+v", out)
	}
}

func TestDisplayRedactsAndQuotes(t *testing.T) {
	a := plan.Action{ID: "x", Name: "register_cname", Kind: plan.KindPowerShell, Target: "DC2",
		PowerShell: "Write-Output $P.dc", Params: map[string]any{"dc": "dc2'; Remove-Item C:\\ -Recurse #", "password": "hunter2"}}
	d := actions.Display(a)
	if strings.Contains(d, "hunter2") || !strings.Contains(d, "<redacted>") || !strings.Contains(d, "'dc2''; Remove-Item") {
		t.Fatalf("display %q", d)
	}
}

func TestRetryReplicationFallback(t *testing.T) {
	f := &plan.Finding{ID: "DC1<-DC2", Link: plan.LinkInfo{Destination: "DC1", Source: "DC2", SourceDSAGUID: "8a7baee5-cd81-4c8c-9c0f-b10030574016",
		NCs: []plan.NCLink{{NC: "DC=contoso,DC=com"}, {NC: "CN=Configuration,DC=contoso,DC=com"}}}}
	ws, err := actions.RetryReplication(f, "windows", "dc1.contoso.com", nil, "dc2.contoso.com", nil)
	if err != nil || len(ws) != 1 {
		t.Fatalf("windows: %+v %v", ws, err)
	}
	w := ws[0]
	if w.Kind != plan.KindPowerShell || w.Transport != "winrm" || !strings.Contains(w.PowerShell, "repadmin.exe /replicate") ||
		w.Params["ncs"] != `["CN=Configuration,DC=contoso,DC=com","DC=contoso,DC=com"]` {
		t.Fatalf("windows: %+v", w)
	}
	if _, err := actions.Command(w); err != nil {
		t.Fatalf("the built-in retry is not a valid command: %v", err)
	}
	ss, err := actions.RetryReplication(f, "samba", "dc1.contoso.com", nil, "", nil)
	if err != nil || len(ss) != 2 || ss[0].Argv[0] != "samba-tool" || ss[0].Argv[4] != f.Link.SourceDSAGUID || ss[1].Argv[5] != "DC=contoso,DC=com" || ss[0].ID == ss[1].ID {
		t.Fatalf("samba: %+v %v", ss, err)
	}
	if one, _ := actions.RetryReplication(f, "samba", "dc1", nil, "dc2", []string{"DC=contoso,DC=com"}); len(one) != 1 || one[0].Argv[5] != "DC=contoso,DC=com" {
		t.Fatalf("samba, one NC: %+v", one)
	}
	if _, err := actions.RetryReplication(f, "unknown", "", nil, "", nil); err == nil {
		t.Fatal("unknown platform accepted")
	}
}
