package apply_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/actions"
	"github.com/fix8524/fix8524/actions/ldapdelete"
	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/lab/scenarios"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/remote"
)

const defaultScenario = "source-cname-missing"

// gatePairs checks that every gate entry "started" is followed by a decision for that gate.
func gatePairs(t *testing.T, e *env) {
	t.Helper()
	open := map[string]int{}
	for _, en := range e.entries() {
		if en.Kind != journal.KindGate {
			continue
		}
		switch en.Outcome {
		case journal.Started:
			open[en.Name]++
		case journal.Allowed, journal.Refused:
			if open[en.Name] > 0 {
				open[en.Name]--
			}
		}
	}
	for g, n := range open {
		if n > 0 {
			t.Errorf("gate %s was started but never decided in the journal", g)
		}
	}
}

func TestHealDefaultScenario(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, 4*time.Hour, nil)
	res := e.run(nil)
	if res.Outcome != apply.Succeeded || res.ExitCode() != 0 {
		t.Fatalf("outcome %s, refusals %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
	}
	if !healthy(e.lab.links()) {
		t.Fatalf("links not healed: %+v", e.lab.links())
	}
	if e.lab.count("register_cname") != 1 || e.lab.count("retry_replication") != 1 {
		t.Fatalf("runs: %v", e.lab.runs)
	}
	gatePairs(t, e)
	var begins, finishes int
	for _, en := range e.entries() {
		if en.Kind != journal.KindAction {
			continue
		}
		if en.Command == "" || en.Target == "" || en.Actor == "" || en.Time.IsZero() {
			t.Errorf("action entry without command/target/actor/time: %+v", en)
		}
		switch en.Outcome {
		case journal.Started:
			begins++
		case journal.Succeeded:
			finishes++
			if en.ExitCode == nil || *en.ExitCode != 0 || en.OutputSHA256 == "" || en.Verification == "" {
				t.Errorf("finish entry lacks exit code, output digest or verification: %+v", en)
			}
		default:
			t.Errorf("unexpected action outcome %s", en.Outcome)
		}
	}
	if begins != 2 || finishes != 2 {
		t.Errorf("begins %d finishes %d, want 2 and 2\n%s", begins, finishes, e.dumpJournal())
	}
	if !e.journalHas(journal.KindVerify, "confirm_replication", journal.Succeeded) {
		t.Errorf("no replication confirmation in the journal")
	}
	if li, _ := e.j.LockStatus("contoso.com"); li != nil {
		t.Errorf("lock still held after the apply: %+v", li)
	}
}

func TestRefusals(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	friday := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) // outside both windows
	cases := []struct {
		name   string
		setup  func(e *env)
		mod    func(o *apply.Options)
		gate   string
		reason string
	}{
		{name: "no approval", gate: "approval", reason: "no approval"},
		{name: "expired", setup: func(e *env) { e.approve(e.now.Add(-5*time.Hour), time.Hour, nil) }, gate: "approval", reason: "expired"},
		{name: "another plan", setup: func(e *env) {
			a, err := approval.ApproveAt(e.now, e.bytes, "sha256:"+strings.Repeat("0", 64), "alice", time.Hour, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			approval.Save(e.planPath, a)
		}, gate: "approval", reason: "another plan"},
		{name: "tampered plan", setup: func(e *env) {
			e.approve(e.now, time.Hour, nil)
			e.bytes = append(e.bytes, '\n')
		}, gate: "approval", reason: "plan changed after approval"},
		{name: "clock skew", setup: func(e *env) { e.approve(e.now.Add(time.Hour), 4*time.Hour, nil) }, gate: "approval", reason: "clock skew"},
		{name: "unsigned with trust keys", setup: func(e *env) { e.approve(e.now, time.Hour, nil) },
			mod: func(o *apply.Options) {
				o.Approvals = apply.FileApprovals{PlanPath: o.PlanPath, Trust: approval.NewTrustSet(pub)}
			}, gate: "approval", reason: "not signed"},
		{name: "unknown key", setup: func(e *env) { e.approve(e.now, time.Hour, otherPriv) },
			mod: func(o *apply.Options) {
				o.Approvals = apply.FileApprovals{PlanPath: o.PlanPath, Trust: approval.NewTrustSet(pub)}
			}, gate: "approval", reason: "untrusted key"},
		{name: "outside windows", setup: func(e *env) { e.clock = friday; e.approve(friday, time.Hour, nil) }, gate: "window", reason: "outside every change window"},
		{name: "emergency without reason", setup: func(e *env) { e.clock = friday; e.approve(friday, time.Hour, nil) },
			mod: func(o *apply.Options) { o.Emergency = true }, gate: "window", reason: "needs --reason"},
		{name: "lock held", setup: func(e *env) {
			e.approve(e.now, time.Hour, nil)
			if _, err := e.j.AcquireLock("contoso.com", journal.Holder{User: "bob", Host: "other-host", PID: 4242}, time.Hour); err != nil {
				t.Fatal(err)
			}
		}, gate: "lock", reason: "bob@other-host pid 4242"},
		{name: "other playbook", setup: func(e *env) {
			e.plan.Playbook.Digest = "sha256:" + strings.Repeat("1", 64)
			e.approve(e.now, time.Hour, nil)
		}, gate: "plan", reason: "playbook"},
	}
	_ = priv
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, defaultScenario, "")
			if c.setup != nil {
				c.setup(e)
			}
			res := e.run(c.mod)
			if res.Outcome != apply.Refused || res.ExitCode() != 3 {
				t.Fatalf("outcome %s, want refused\n%s", res.Outcome, e.out.String())
			}
			if len(res.Refusals) == 0 || res.Refusals[0].Gate != c.gate || !strings.Contains(res.Refusals[0].Reason, c.reason) {
				t.Fatalf("refusals %+v, want gate %s with %q", res.Refusals, c.gate, c.reason)
			}
			if res.Refusals[0].Do == "" || strings.Contains(res.Refusals[0].Reason, res.Refusals[0].Do) {
				t.Errorf("the %s refusal says no (separate) thing to do: %+v", c.gate, res.Refusals[0])
			}
			if n := e.lab.count("register_cname") + e.lab.count("retry_replication"); n != 0 {
				t.Fatalf("%d actions ran despite the refusal", n)
			}
			if healthy(e.lab.links()) {
				t.Fatal("the world changed")
			}
			if !e.journalHas(journal.KindGate, c.gate, journal.Refused) {
				t.Fatalf("no refused %s gate in the journal:\n%s", c.gate, e.dumpJournal())
			}
			gatePairs(t, e)
		})
	}
}

func TestTrustedSignatureAndEmergency(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	e := newEnv(t, defaultScenario, "")
	friday := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	e.clock = friday
	e.approve(friday, time.Hour, priv)
	res := e.run(func(o *apply.Options) {
		o.Approvals = apply.FileApprovals{PlanPath: o.PlanPath, Trust: approval.NewTrustSet(pub)}
		o.Emergency, o.EmergencyReason = true, "INC-42 replication down for 3 days"
	})
	if res.Outcome != apply.Succeeded {
		t.Fatalf("outcome %s %+v\n%s", res.Outcome, res.Refusals, e.out.String())
	}
	found := false
	for _, en := range e.entries() {
		if en.Kind == journal.KindNote && en.Name == "emergency" && en.Reason == "INC-42 replication down for 3 days" {
			found = true
		}
	}
	if !found {
		t.Fatalf("the emergency reason is not in the journal:\n%s", e.dumpJournal())
	}
}

func TestDriftHealthyNowIsSkipped(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	// Someone fixes it by hand between plan and apply.
	if err := e.lab.mutate("register DC2 cname"); err != nil {
		t.Fatal(err)
	}
	if err := e.lab.mutate("replicate DC1 DC2"); err != nil {
		t.Fatal(err)
	}
	res := e.run(nil)
	if res.Outcome != apply.Nothing || res.ExitCode() != 0 {
		t.Fatalf("outcome %s %+v\n%s", res.Outcome, res.Refusals, e.out.String())
	}
	if len(res.Findings) != 1 || res.Findings[0].Outcome != apply.Skipped || !strings.Contains(res.Findings[0].Reason, "healthy now") {
		t.Fatalf("findings %+v", res.Findings)
	}
	if e.lab.count("register_cname") != 0 {
		t.Fatal("an action ran for a healthy link")
	}
}

// A zone's SOA serial moves with every dynamic update (AD makes them all day, and a registration
// the plan asks for is one): the drift gate must not take a new serial for changed evidence. Seen
// on real Samba: heal refused its own fresh plan when DC1's zone went from serial 9 to 10.
func TestDriftIgnoresSOASerial(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	soas := 0
	e.lab.mangle = func(n int, s *facts.Snapshot) {
		for i := range s.DNS {
			for j := range s.DNS[i].Answers {
				rr := &s.DNS[i].Answers[j]
				if rr.Type != facts.TypeSOA {
					continue
				}
				if f := strings.Fields(rr.Data); len(f) == 7 {
					f[2] = strconv.Itoa(1000 + n)
					rr.Data = strings.Join(f, " ")
					soas++
				}
			}
		}
	}
	res := e.run(nil)
	if soas == 0 {
		t.Fatal("the plan's gathers held no SOA answer: the test proves nothing")
	}
	if res.Outcome != apply.Succeeded {
		t.Fatalf("outcome %s, refusals %+v\n%s", res.Outcome, res.Refusals, e.out.String())
	}
}

func TestDriftChangedEvidenceIsStale(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	// The CNAME appears, but the link still fails: another diagnosis now.
	if err := e.lab.mutate("register DC2 cname"); err != nil {
		t.Fatal(err)
	}
	res := e.run(nil)
	if res.Outcome != apply.Refused || res.Refusals[0].Gate != "drift" || !strings.Contains(res.Refusals[0].Reason, "evidence changed") {
		t.Fatalf("outcome %s %+v\n%s", res.Outcome, res.Refusals, e.out.String())
	}
	if e.lab.count("register_cname")+e.lab.count("retry_replication") != 0 {
		t.Fatal("a stale plan ran")
	}
	// The refusal names the evidence that changed, before and after, and journals it.
	rf := res.Refusals[0]
	want := "DC1<-DC2: ping_from_destination: 192.0.2.11 A 8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com: NXDOMAIN (authoritative) → NOERROR (authoritative) dc2.contoso.com., 192.0.2.12"
	found := false
	for _, c := range rf.Changes {
		found = found || strings.HasPrefix(c, want)
	}
	if !found || !strings.Contains(e.out.String(), "changed: "+want) {
		t.Errorf("the drift refusal does not show %q:\n%q\n%s", want, rf.Changes, e.out.String())
	}
	if !strings.Contains(rf.Do, "make a new plan") {
		t.Errorf("what to do: %q", rf.Do)
	}
	entries, err := e.j.List(journal.Filter{Kinds: []journal.Kind{journal.KindGate}})
	if err != nil {
		t.Fatal(err)
	}
	journaled := false
	for _, en := range entries {
		journaled = journaled || en.Name == "drift" && en.Outcome == journal.Refused && strings.Contains(en.Verification, want) && strings.Contains(en.Reason, "to do: make a new plan")
	}
	if !journaled {
		t.Errorf("the journal's drift refusal lacks the changed evidence: %+v", entries)
	}
}

func TestEditedPlanActionsAreRefused(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	// Edit the script in the plan file, then approve the edited file: the approval is valid,
	// but the actions are not what the playbook gives for the facts.
	var raw map[string]any
	if err := json.Unmarshal(e.bytes, &raw); err != nil {
		t.Fatal(err)
	}
	e.plan.Findings[0].Actions[0].PowerShell = "Format-Volume -DriveLetter C"
	b, _ := json.MarshalIndent(e.plan, "", "  ")
	e.bytes = b
	os.WriteFile(e.planPath, b, 0o644)
	e.approve(e.now, time.Hour, nil)
	res := e.run(nil)
	if res.Outcome != apply.Refused || res.Refusals[0].Gate != "drift" || !strings.Contains(res.Refusals[0].Reason, "differs") {
		t.Fatalf("outcome %s %+v", res.Outcome, res.Refusals)
	}
	if e.lab.count("register_cname") != 0 {
		t.Fatal("the edited action ran")
	}
}

func TestVerificationNeverPasses(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	e.lab.noEffect = true // the command "succeeds" and changes nothing
	start := e.clock
	res := e.run(nil)
	if res.Outcome != apply.Failed || res.ExitCode() == 0 {
		t.Fatalf("outcome %s, want failed\n%s", res.Outcome, e.out.String())
	}
	st := res.Findings[0].Steps[0]
	if st.Outcome != apply.Failed || !strings.Contains(st.Verification, "did not pass within") {
		t.Fatalf("step %+v", st)
	}
	if waited := e.clock.Sub(start); waited < apply.DefaultVerifyTimeout {
		t.Fatalf("verification gave up after %s, before its %s deadline", waited, apply.DefaultVerifyTimeout)
	}
	if e.lab.count("retry_replication") != 0 {
		t.Fatal("replication was retried after a failed verification")
	}
	if !e.journalHas(journal.KindAction, "register_cname", journal.Failed) {
		t.Fatalf("failed verification not journaled:\n%s", e.dumpJournal())
	}
}

func TestVerifyTimeoutOverride(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	e.lab.noEffect = true
	start := e.clock
	e.run(func(o *apply.Options) { o.VerifyTimeout = 30 * time.Second })
	if waited := e.clock.Sub(start); waited < 30*time.Second || waited >= apply.DefaultVerifyTimeout {
		t.Fatalf("waited %s with --verify-timeout 30s", waited)
	}
}

func TestCommandFailures(t *testing.T) {
	one := 1
	cases := map[string]actions.Outcome{
		"exit code 1": {Ran: true, ExitCode: &one, Stderr: []byte("nltest failed"), Err: &remote.ExitError{Name: "register_cname", Code: 1, Stderr: "nltest failed"}},
		"transport drops mid-action": {Ran: true, Err: &remote.TransportError{Kind: remote.KindDropped, Op: "receive output", Target: "dc2.contoso.com",
			Err: errors.New("connection reset by peer")}},
	}
	for name, out := range cases {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, defaultScenario, "")
			e.approve(e.now, time.Hour, nil)
			e.lab.hook = func(a plan.Action) *actions.Outcome {
				if a.Name == "register_cname" {
					o := out
					o.Command = actions.Display(a)
					return &o
				}
				return nil
			}
			res := e.run(nil)
			if res.Outcome != apply.Failed || res.ExitCode() != 1 {
				t.Fatalf("outcome %s", res.Outcome)
			}
			var fin *journal.Entry
			for _, en := range e.entries() {
				if en.Kind == journal.KindAction && en.Outcome == journal.Failed {
					en := en
					fin = &en
				}
			}
			if fin == nil || fin.Error == "" {
				t.Fatalf("no failed finish entry with an error:\n%s", e.dumpJournal())
			}
			if (out.ExitCode == nil) != (fin.ExitCode == nil) {
				t.Fatalf("exit code recorded %v, want %v", fin.ExitCode, out.ExitCode)
			}
			un, _ := e.j.Unfinished("contoso.com")
			if len(un) != 0 {
				t.Fatalf("unfinished actions after a failure: %+v", un)
			}
		})
	}
}

func TestJournalUnwritableStopsBeforeAnyChange(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	e.j.Close()
	res, err := apply.Run(context.Background(), e.options())
	if err == nil || !errors.Is(err, apply.ErrJournal) || res.ExitCode() != 1 {
		t.Fatalf("Run with a closed journal: %v %s", err, res.Outcome)
	}
	if e.lab.count("register_cname") != 0 {
		t.Fatal("an action ran without a journal")
	}
}

// --- metadata cleanup ---

func staleEnv(t *testing.T, dc3, records, extra string) *env {
	return newEnv(t, "", fmt.Sprintf(staleScenario, dc3, records, extra))
}

// dc3Leftovers are DNS records that still name DC3 without changing the diagnosis.
const dc3Leftovers = `
  record {
    name = "contoso.com"
    type = "NS"
    data = "dc3.contoso.com."
  }
  record {
    name = "_ldap._tcp.dc._msdcs.contoso.com"
    type = "SRV"
    data = "0 100 389 dc3.contoso.com."
  }`

const cleanupID = "DC1<-DC3/metadata_cleanup"

func TestCleanupNeedsItsOwnApproval(t *testing.T) {
	e := staleEnv(t, "", "", "")
	e.approve(e.now, time.Hour, nil) // the plan, but not the cleanup itself
	res := e.run(nil)
	if res.Outcome != apply.Refused || !strings.Contains(fmt.Sprint(res.Refusals), "--allow-each") {
		t.Fatalf("outcome %s %+v", res.Outcome, res.Refusals)
	}
	if e.lab.count("metadata_cleanup") != 0 {
		t.Fatal("a cleanup ran without its own approval")
	}
}

func TestCleanupWithApprovalAndLeftovers(t *testing.T) {
	e := staleEnv(t, "", dc3Leftovers, "")
	e.approve(e.now, time.Hour, nil, cleanupID)
	res := e.run(nil)
	if res.Outcome != apply.Succeeded {
		t.Fatalf("outcome %s %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
	}
	if e.lab.count("metadata_cleanup") != 1 {
		t.Fatalf("cleanup ran %d times", e.lab.count("metadata_cleanup"))
	}
	var fr *apply.FindingResult
	for i := range res.Findings {
		if res.Findings[i].ID == "DC1<-DC3" {
			fr = &res.Findings[i]
		}
	}
	if fr == nil {
		t.Fatalf("no result for DC1<-DC3: %+v", res.Findings)
	}
	kinds := map[string]bool{}
	for _, l := range fr.Leftovers {
		if l.Record != nil {
			kinds[l.Record.Type] = true
			if len(l.PowerShell) == 0 || !strings.Contains(l.PowerShell[0], "Remove-DnsServerResourceRecord") {
				t.Errorf("leftover %s without an exact command: %q", l.What, l.PowerShell)
			}
		}
	}
	if !kinds["NS"] || !kinds["SRV"] {
		t.Fatalf("DC3's NS and SRV records were not reported as leftovers: %+v", fr.Leftovers)
	}
	if facts.NewIndex(e.lab.world.Base()).DCByName("DC3") != nil {
		t.Fatal("DC3's NTDS Settings are still in the world")
	}
	if !e.journalHas(journal.KindGate, "guards:"+cleanupID, journal.Allowed) || !e.journalHas(journal.KindNote, "leftover", "") {
		t.Fatalf("guards or leftovers missing from the journal:\n%s", e.dumpJournal())
	}
}

func TestCleanupGuardsOnFreshFacts(t *testing.T) {
	cases := map[string]func(s *facts.Snapshot){
		"protected": func(s *facts.Snapshot) { dc(s, "DC3").ProtectedFromDeletion = facts.Some(true) },
		"protected unknown": func(s *facts.Snapshot) {
			dc(s, "DC3").ProtectedFromDeletion = facts.Unknown[bool]("access denied reading nTSecurityDescriptor")
		},
		"holds fsmo": func(s *facts.Snapshot) {
			s.Forest.FSMO = append(s.Forest.FSMO, facts.FSMORole{Role: facts.RoleRID, OwnerDSA: dc(s, "DC3").NTDSSettingsDN})
		},
		"answers again": func(s *facts.Snapshot) {
			d := dc(s, "DC3")
			d.OwnDSAGUID = facts.Some(d.DSAGUID)
		},
	}
	for name, mangle := range cases {
		t.Run(name, func(t *testing.T) {
			e := staleEnv(t, "", "", "")
			e.approve(e.now, time.Hour, nil, cleanupID)
			// Gather 1 is the drift check; gather 2 the guards right before the delete.
			e.lab.gathers = 0
			e.lab.mangle = func(n int, s *facts.Snapshot) {
				if n >= 2 {
					mangle(s)
				}
			}
			res := e.run(nil)
			if res.Outcome != apply.Refused || e.lab.count("metadata_cleanup") != 0 {
				t.Fatalf("outcome %s, cleanup ran %d times\n%s", res.Outcome, e.lab.count("metadata_cleanup"), e.out.String())
			}
			if !e.journalHas(journal.KindGate, "guards:"+cleanupID, journal.Refused) {
				t.Fatalf("no refused guard gate:\n%s", e.dumpJournal())
			}
		})
	}
}

func dc(s *facts.Snapshot, name string) *facts.DC {
	return facts.NewIndex(s).DCByName(name)
}

func TestTwoCleanupsNeedEachApproval(t *testing.T) {
	const dc4 = `
dc "DC4" {
  guid  = "4a4b4c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"
  ips   = ["192.0.2.14"]
  state = "gone"
}
workstation {
  inventory "DC4" { ips = ["192.0.2.14"] }
}
link {
  destination  = "DC1"
  source       = "DC4"
  failures     = 900
  last_success = "2026-08-01T00:00:00Z"
}`
	e := staleEnv(t, "", "", dc4)
	var ids []string
	for _, f := range e.plan.Findings {
		for _, a := range f.Actions {
			if a.Kind == plan.KindLDAPDelete {
				ids = append(ids, a.ID)
			}
		}
	}
	if len(ids) != 2 {
		t.Fatalf("want two cleanups in the plan, got %v", ids)
	}
	e.approve(e.now, time.Hour, nil, ids[0])
	res := e.run(nil)
	if res.Outcome != apply.Refused || e.lab.count("metadata_cleanup") != 0 {
		t.Fatalf("one of two cleanups approved: outcome %s, ran %d", res.Outcome, e.lab.count("metadata_cleanup"))
	}
	e.approve(e.now, time.Hour, nil, ids...)
	res = e.run(nil)
	if res.Outcome != apply.Succeeded || e.lab.count("metadata_cleanup") != 2 {
		t.Fatalf("both approved: outcome %s %+v, ran %d\n%s", res.Outcome, res.Refusals, e.lab.count("metadata_cleanup"), e.out.String())
	}
}

// unattended approves everything, as a careless policy would.
type unattended struct{}

func (unattended) ApprovePlan(context.Context, apply.Request) (apply.Grant, error) {
	return apply.Grant{By: "heal", Unattended: true}, nil
}
func (unattended) ApproveAction(context.Context, apply.Request, plan.Action, bool) (apply.Grant, error) {
	return apply.Grant{By: "heal", Unattended: true}, nil
}

func TestNeverUnattendedCleanup(t *testing.T) {
	e := staleEnv(t, "", "", "")
	res := e.run(func(o *apply.Options) { o.Approvals = unattended{} })
	if res.Outcome != apply.Refused || e.lab.count("metadata_cleanup") != 0 {
		t.Fatalf("unattended cleanup: outcome %s, ran %d", res.Outcome, e.lab.count("metadata_cleanup"))
	}
	if !strings.Contains(fmt.Sprint(res.Refusals), "never run unattended") {
		t.Fatalf("refusals %+v", res.Refusals)
	}
}

func TestUnattendedLowRiskRuns(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	res := e.run(func(o *apply.Options) { o.Approvals = unattended{} })
	if res.Outcome != apply.Succeeded {
		t.Fatalf("outcome %s %+v", res.Outcome, res.Refusals)
	}
}

func TestSecondRunRechecksAndRepeatsOnlyWhatIsNotInPlace(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	if res := e.run(nil); res.Outcome != apply.Succeeded {
		t.Fatalf("first run: %s", res.Outcome)
	}
	// The same plan again on the healed forest: nothing to do (approved again: an approval
	// admits one apply).
	e.approve(e.now.Add(time.Second), time.Hour, nil)
	if res := e.run(nil); res.Outcome != apply.Nothing || e.lab.count("register_cname") != 1 {
		t.Fatalf("second run on a healed forest: %s, register ran %d", res.Outcome, e.lab.count("register_cname"))
	}
	// Broken again (as the demo forest is on every start): the step is re-checked, found not in
	// effect, and run again.
	os.Remove(e.lab.logPath)
	e.lab.load()
	e.approve(e.now.Add(2*time.Second), time.Hour, nil)
	res := e.run(nil)
	if res.Outcome != apply.Succeeded || e.lab.count("register_cname") != 2 {
		t.Fatalf("third run: %s, register ran %d\n%s", res.Outcome, e.lab.count("register_cname"), e.out.String())
	}
	if !e.journalHas(journal.KindVerify, journal.RecheckPrefix+"register_cname", journal.Failed) {
		t.Fatalf("no re-check recorded:\n%s", e.dumpJournal())
	}
}

func TestBuiltinGuards(t *testing.T) {
	e := staleEnv(t, "", "", "")
	var a plan.Action
	for _, f := range e.plan.Findings {
		for _, x := range f.Actions {
			if x.Kind == plan.KindLDAPDelete {
				a = x
			}
		}
	}
	base, _ := e.lab.Gather(context.Background(), playbook(t).Needs)
	all := func(s *facts.Snapshot, act plan.Action) (bad []string) {
		for _, g := range ldapdelete.Guards(s, act) {
			if g.Status != plan.StatusOK {
				bad = append(bad, g.Name)
			}
		}
		return bad
	}
	if bad := all(base, a); len(bad) != 0 {
		t.Fatalf("guards fail on the stale scenario: %v", bad)
	}
	cp := func() *facts.Snapshot {
		b, _ := json.Marshal(base)
		var s facts.Snapshot
		json.Unmarshal(b, &s)
		return &s
	}
	cases := []struct {
		name  string
		edit  func(s *facts.Snapshot, a *plan.Action)
		guard string
	}{
		{"seed DC", func(s *facts.Snapshot, a *plan.Action) { s.SeedDC = "DC3" }, "builtin:not_bound_dc"},
		{"not an NTDS Settings DN", func(s *facts.Snapshot, a *plan.Action) {
			a.LDAPDelete.DN = "CN=DC3,OU=Domain Controllers,DC=contoso,DC=com"
		}, "builtin:ntds_settings_only"},
		{"no expected GUID", func(s *facts.Snapshot, a *plan.Action) { a.LDAPDelete.ExpectGUID = "" }, "builtin:expected_guid"},
		{"live DSA", func(s *facts.Snapshot, a *plan.Action) {
			dc(s, "DC2").OwnDSAGUID = facts.Some(a.LDAPDelete.ExpectGUID)
		}, "builtin:not_a_live_dsa"},
		{"fsmo", func(s *facts.Snapshot, a *plan.Action) {
			s.Forest.FSMO = append(s.Forest.FSMO, facts.FSMORole{Role: "pdc", OwnerDSA: a.LDAPDelete.DN})
		}, "builtin:holds_no_fsmo"},
		{"protected", func(s *facts.Snapshot, a *plan.Action) {
			dc(s, "DC3").ProtectedFromDeletion = facts.Some(true)
		}, "builtin:not_protected"},
		{"last DC of its domain", func(s *facts.Snapshot, a *plan.Action) { dc(s, "DC3").Domain = "child.contoso.com" }, "builtin:not_last_dc"},
		{"answers LDAP", func(s *facts.Snapshot, a *plan.Action) {
			for i := range s.Reach {
				if strings.EqualFold(s.Reach[i].Host, "DC3") || strings.HasPrefix(strings.ToLower(s.Reach[i].Host), "dc3.") {
					s.Reach[i].Result = facts.ReachOpen
				}
			}
		}, "builtin:not_answering"},
		{"never probed", func(s *facts.Snapshot, a *plan.Action) { s.Reach = nil }, "builtin:not_answering"},
		{"unknown DC", func(s *facts.Snapshot, a *plan.Action) {
			a.LDAPDelete.DN = strings.Replace(a.LDAPDelete.DN, "CN=DC3,", "CN=DC9,", 1)
		}, "builtin:known_dc"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, act := cp(), a
			d := *a.LDAPDelete
			act.LDAPDelete = &d
			c.edit(s, &act)
			bad := all(s, act)
			if !strings.Contains(strings.Join(bad, " "), c.guard) {
				t.Fatalf("guards failing: %v, want %s", bad, c.guard)
			}
		})
	}
}

func TestReplicationRetryFallsBackToBuiltin(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	zero := 0
	e.lab.hook = func(a plan.Action) *actions.Outcome {
		if a.Name == "retry_replication" && !strings.Contains(a.ID, "builtin:") {
			// The playbook's retry ran but replicated nothing (e.g. a cached DRS connection).
			return &actions.Outcome{Command: actions.Display(a), Ran: true, ExitCode: &zero}
		}
		return nil
	}
	res := e.run(nil)
	if res.Outcome != apply.Succeeded || e.lab.count("retry_replication") != 2 {
		t.Fatalf("outcome %s, retries %d\n%s", res.Outcome, e.lab.count("retry_replication"), e.out.String())
	}
	if !e.journalHas(journal.KindGate, "approval:DC1<-DC2/builtin:retry_replication", journal.Allowed) {
		t.Fatalf("the built-in retry was not approved through the gate:\n%s", e.dumpJournal())
	}
}

func TestReplicationNeverConfirmed(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	one := 1
	e.lab.hook = func(a plan.Action) *actions.Outcome {
		if a.Name == "retry_replication" {
			return &actions.Outcome{Command: actions.Display(a), Ran: true, ExitCode: &one, Err: errors.New("DsReplicaSync() failed with status 8524")}
		}
		return nil
	}
	res := e.run(nil)
	if res.Outcome != apply.Failed || res.ExitCode() != 1 || e.lab.count("retry_replication") != apply.DefaultReplicationAttempts {
		t.Fatalf("outcome %s, retries %d", res.Outcome, e.lab.count("retry_replication"))
	}
	if !strings.Contains(res.Findings[0].Confirmed, "still failing") || !e.journalHas(journal.KindVerify, "confirm_replication", journal.Failed) {
		t.Fatalf("confirmation: %q\n%s", res.Findings[0].Confirmed, e.dumpJournal())
	}
}

func TestPlanVariablesMustMatch(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.plan.Variables = map[string]any{"gone_after_days": 1}
	b, _ := json.MarshalIndent(e.plan, "", "  ")
	e.bytes = b
	os.WriteFile(e.planPath, b, 0o644)
	e.approve(e.now, time.Hour, nil)
	res := e.run(nil)
	if res.Outcome != apply.Refused || res.Refusals[0].Gate != "plan" || !strings.Contains(res.Refusals[0].Reason, "-var") {
		t.Fatalf("%s %+v", res.Outcome, res.Refusals)
	}
}

func TestRetryWaitsForTheDestinationToResolve(t *testing.T) {
	e := newEnv(t, "heal-registration-not-replicated", "")
	e.approve(e.now, time.Hour, nil)
	start := e.clock
	var retriedAt time.Time
	e.lab.hook = func(a plan.Action) *actions.Outcome {
		if a.Name == "retry_replication" && retriedAt.IsZero() {
			retriedAt = e.clock
		}
		return nil
	}
	res := e.run(nil)
	if res.Outcome != apply.Failed {
		t.Fatalf("outcome %s\n%s", res.Outcome, e.out.String())
	}
	if retriedAt.Sub(start) < apply.DefaultVerifyTimeout {
		t.Fatalf("replication was retried %s after the start, before the destination could resolve the source", retriedAt.Sub(start))
	}
	if !e.journalHas(journal.KindVerify, "precheck:retry_replication", journal.Pending) {
		t.Fatalf("no pending pre-check in the journal:\n%s", e.dumpJournal())
	}
}

func TestBlockedCleanupIsRefusedAtItsTurn(t *testing.T) {
	e := staleEnv(t, "protected = true", "", "")
	var blocked bool
	for _, f := range e.plan.Findings {
		for _, a := range f.Actions {
			blocked = blocked || (a.Kind == plan.KindLDAPDelete && a.Blocked)
		}
	}
	if !blocked {
		t.Skip("the playbook does not block the cleanup of a protected DC at plan time")
	}
	e.approve(e.now, time.Hour, nil)
	res := e.run(nil)
	if res.Outcome != apply.Refused || e.lab.count("metadata_cleanup") != 0 {
		t.Fatalf("outcome %s, ran %d", res.Outcome, e.lab.count("metadata_cleanup"))
	}
	if !e.journalHas(journal.KindGate, "blocked:"+cleanupID, journal.Refused) || strings.Contains(fmt.Sprint(res.Refusals), "--allow-each") {
		t.Fatalf("refusals %+v\n%s", res.Refusals, e.dumpJournal())
	}
}

// A Samba retry pulls one NC per command: the first attempt pulls every failing NC (the
// playbook's command for the first, built-in ones for the rest), not one per poll interval.
func TestSambaRetryPullsEveryFailingNCAtOnce(t *testing.T) {
	src, err := scenarios.FS.ReadFile("samba-result-2.hcl")
	if err != nil {
		t.Fatal(err)
	}
	// only the CNAME is missing: re-registering it is the whole fix
	src = bytes.Replace(src, []byte(`unregistered = ["cname", "host"]`), []byte(`unregistered = ["cname"]`), 1)
	e := newEnv(t, "", string(src))
	e.approve(e.now, time.Hour, nil)
	failing := 0
	for _, l := range e.lab.links() {
		if l.LastResult != 0 {
			failing++
		}
	}
	if failing < 2 {
		t.Fatalf("the scenario has %d failing NC(s); the test needs several", failing)
	}
	// The pulls run side by side: each waits (up to 5 s) until as many as may run at once
	// are running; one after the other, none would ever see another.
	wantAtOnce := min(failing, 4)
	var mu sync.Mutex
	pulled := map[string]bool{}
	active, peak := 0, 0
	together := make(chan struct{})
	e.lab.hook = func(a plan.Action) *actions.Outcome {
		if a.Name != "retry_replication" {
			return nil
		}
		if len(a.Argv) < 6 {
			t.Errorf("%s: not a samba-tool drs replicate command: %q", a.ID, a.Argv)
			return nil
		}
		mu.Lock()
		pulled[a.Argv[5]] = true // samba-tool drs replicate DEST SOURCE NC -P
		active++
		if active > peak {
			peak = active
			if peak == wantAtOnce {
				close(together)
			}
		}
		mu.Unlock()
		select {
		case <-together:
		case <-time.After(5 * time.Second):
		}
		mu.Lock()
		active--
		mu.Unlock()
		return nil
	}
	res := e.run(nil)
	if res.Outcome != apply.Succeeded {
		t.Fatalf("outcome %s\n%s", res.Outcome, e.out.String())
	}
	if peak < wantAtOnce || len(pulled) != failing {
		t.Errorf("%d pull(s) at once at most, want %d; NCs pulled: %v\n%s", peak, wantAtOnce, pulled, e.out.String())
	}
	if strings.Contains(e.out.String(), "attempt 2 of") {
		t.Errorf("a second attempt ran:\n%s", e.out.String())
	}
	if got := e.lab.count("retry_replication"); got != failing {
		t.Errorf("%d retry command(s) for %d failing NC(s) (%v)\n%s", got, failing, pulled, e.out.String())
	}
}
