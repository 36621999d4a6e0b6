package apply_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/plan"
)

// edit rewrites the plan file with f applied to the plan, as someone with write access to it
// would, and approves the edited file (an approver sees the same text).
func (e *env) edit(f func(p *plan.Plan)) {
	e.t.Helper()
	f(e.plan)
	b, err := json.MarshalIndent(e.plan, "", "  ")
	if err != nil {
		e.t.Fatal(err)
	}
	e.bytes = b
	if err := os.WriteFile(e.planPath, b, 0o644); err != nil {
		e.t.Fatal(err)
	}
	e.approve(e.now, time.Hour, nil)
}

// Every field apply acts on is recomputed from fresh facts and the playbook: an edited plan,
// approved as edited, is refused at the drift gate naming the field, and nothing runs.
func TestEditedTargetIsRefusedAtTheDriftGate(t *testing.T) {
	cases := []struct {
		name, field string
		edit        func(p *plan.Plan)
	}{
		{"target host", "target_dns_host_name", func(p *plan.Plan) {
			p.Findings[0].Actions[0].TargetDNSHostName = "evil.example.net"
		}},
		{"target address", "target_ips", func(p *plan.Plan) {
			p.Findings[0].Actions[0].TargetIPs = []string{"198.51.100.66"}
		}},
		{"transport", "transport", func(p *plan.Plan) { p.Findings[0].Actions[0].Transport = "ssh" }},
		{"params", "params", func(p *plan.Plan) {
			p.Findings[0].Actions[0].Params = map[string]any{"dc": "evil.example.net"}
		}},
		{"link destination", "link.destination", func(p *plan.Plan) { p.Findings[0].Link.Destination = "DC2" }},
		{"link source GUID", "link.source_dsa_guid", func(p *plan.Plan) {
			p.Findings[0].Link.SourceDSAGUID = "00000000-0000-0000-0000-000000000001"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, defaultScenario, "")
			e.edit(c.edit)
			res := e.run(nil)
			if res.Outcome != apply.Refused || res.ExitCode() != 3 || len(res.Refusals) == 0 || res.Refusals[0].Gate != "drift" ||
				!strings.Contains(res.Refusals[0].Reason, c.field) {
				t.Fatalf("outcome %s %+v, want refused at the drift gate naming %s\n%s", res.Outcome, res.Refusals, c.field, e.out.String())
			}
			if n := e.lab.count("register_cname") + e.lab.count("retry_replication"); n != 0 {
				t.Fatalf("%d actions ran from an edited plan", n)
			}
		})
	}
}

// The window gate enforces the playbook's windows: a plan edited to an always-open window (or
// to none) is refused, and outside the playbook's windows nothing runs.
func TestEditedWindowsAreRefused(t *testing.T) {
	friday := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC) // outside both playbook windows
	for _, c := range []struct {
		name    string
		windows []plan.WindowSpec
	}{
		{"always open", []plan.WindowSpec{{Name: "always", Cron: "* * * * *", Duration: "24h", TimeZone: "UTC"}}},
		{"none", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, defaultScenario, "")
			e.clock, e.now = friday, friday
			e.edit(func(p *plan.Plan) { p.Windows = c.windows })
			res := e.run(nil)
			if res.Outcome != apply.Refused || len(res.Refusals) == 0 || res.Refusals[0].Gate != "plan" ||
				!strings.Contains(res.Refusals[0].Reason, "change windows") {
				t.Fatalf("outcome %s %+v\n%s", res.Outcome, res.Refusals, e.out.String())
			}
			if n := e.lab.count("register_cname"); n != 0 {
				t.Fatal("an action ran outside the playbook's windows")
			}
		})
	}
}

// A resumed finding (its evidence changed since this plan's earlier run started) is still bound
// to where its actions go: an edited target refuses, even though the plan's other fields are
// then not compared.
func TestResumedFindingKeepsItsTarget(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	orig := e.plan.Findings[0].Actions[0]
	// An earlier run of this plan (same fingerprint) began register_cname.
	if _, err := e.j.BeginAction(journalEntry(e, orig)); err != nil {
		t.Fatal(err)
	}
	if err := e.lab.mutate("register DC2 cname"); err != nil { // evidence changes: resume path
		t.Fatal(err)
	}
	e.edit(func(p *plan.Plan) {
		for i, a := range p.Findings[0].Actions {
			if a.Name == "retry_replication" {
				p.Findings[0].Actions[i].TargetDNSHostName = "evil.example.net"
			}
		}
	})
	res := e.run(nil)
	if res.Outcome != apply.Refused || len(res.Refusals) == 0 ||
		!strings.Contains(res.Refusals[0].Reason, "target_dns_host_name") {
		t.Fatalf("outcome %s %+v\n%s\n%s", res.Outcome, res.Refusals, e.out.String(), e.dumpJournal())
	}
	if n := e.lab.count("retry_replication"); n != 0 {
		t.Fatalf("the retry ran toward an edited target (%d times)", n)
	}
}

// journalEntry is the begin record an apply of e's plan makes for a.
func journalEntry(e *env, a plan.Action) journal.Entry {
	return journal.Entry{Forest: apply.ForestOf(e.plan), Name: a.Name, Target: a.Target, Link: e.plan.Findings[0].ID,
		PlanFingerprint: e.plan.Fingerprint, Command: "earlier run", Reason: a.Title}
}

// A destination that cannot be read at apply time is not mistaken for links that are gone.
func TestUnreadDestinationIsNotGone(t *testing.T) {
	e := newEnv(t, defaultScenario, "")
	e.approve(e.now, time.Hour, nil)
	e.lab.mangle = func(_ int, s *facts.Snapshot) {
		var keep []facts.Link
		for _, l := range s.Links {
			if l.Destination != "DC1" {
				keep = append(keep, l)
			}
		}
		s.Links = keep
		for i := range s.DCs {
			if s.DCs[i].Name == "DC1" {
				s.DCs[i].Inbound = facts.Unknown[string]("the DC does not answer LDAP: i/o timeout")
			}
		}
	}
	res := e.run(nil)
	if res.Outcome != apply.Refused || len(res.Refusals) == 0 || !strings.Contains(res.Refusals[0].Reason, "could not be read now (the DC does not answer LDAP") {
		t.Fatalf("outcome %s %+v", res.Outcome, res.Refusals)
	}
}
