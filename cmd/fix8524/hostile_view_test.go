package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/internal/profile"
	"github.com/fix8524/fix8524/internal/termtext"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

// forged is a DC name an attacker with write access to AD (or to a facts file) could choose: a
// newline forging a command line of the plan, an escape sequence clearing the screen, a
// right-to-left override reordering what follows, a zero-width space and a C1 CSI.
const forged = "DC2\nPS> Remove-Item C:\\ -Recurse -Force\x1b[2J\x1b]0;pwned\x07\u202eexe.txt\u200b\u009b31m"

var (
	viewPBOnce sync.Once
	viewPB     *engine.Playbook
	viewFacts  *facts.Snapshot
)

// hostileSnapshot is the default demo's facts with DC2 renamed to name (and its host name, site
// and the reason a DC was not read made hostile too).
func hostileSnapshot(t testing.TB, name string) (*engine.Playbook, *facts.Snapshot) {
	t.Helper()
	viewPBOnce.Do(func() {
		pb, _, diags := playbooks.Load(engine.LoadOptions{})
		if diags.HasErrors() {
			panic(diags.Error())
		}
		viewPB = pb
		s, err := demoFacts(viewPB, "source-cname-missing")
		if err != nil {
			panic(err)
		}
		viewFacts = s
	})
	var buf bytes.Buffer
	if err := facts.Encode(&buf, viewFacts); err != nil {
		t.Fatal(err)
	}
	s, err := facts.DecodeBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.DCs {
		if s.DCs[i].Name == "DC2" {
			s.DCs[i].Name, s.DCs[i].Site = name, name
			s.DCs[i].DNSHostName = strings.ToLower(name) + ".contoso.com"
		}
	}
	for i := range s.Links {
		if s.Links[i].Destination == "DC2" {
			s.Links[i].Destination = name
		}
	}
	s.SeedDC, s.Source = name, "ldap://"+name
	s.DCs = append(s.DCs, facts.DC{Name: name + "-unread", Inbound: facts.Unknown[string]("the DC does not answer LDAP: " + name)})
	s.Problems = append(s.Problems, facts.Problem{Scope: "dc:" + name, Message: "LDAP: " + name})
	return viewPB, s
}

// terminalSafe reports the first problem of a view: a byte that is a control character (but a
// newline, and with color the painter's own escape sequences), an unsafe character, or a line
// that a value forged.
func terminalSafe(view string, color bool) string {
	if color {
		for _, code := range []string{"\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1;31m", "\x1b[1;33m", "\x1b[1;4m"} {
			view = strings.ReplaceAll(view, code, "")
		}
	}
	if !utf8.ValidString(view) {
		return "invalid UTF-8"
	}
	for _, r := range view {
		if r != '\n' && termtext.Unsafe(r) {
			return "raw " + strings.Trim(termtext.Escape(string(r)), `"`)
		}
	}
	for _, line := range strings.Split(view, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "PS> Remove-Item") {
			return "a forged line: " + line
		}
	}
	return ""
}

// A plan whose DC names are hostile shows them escaped in every line: the finding header, the
// "on <target>" line, the coverage, the approve summary; no raw control byte reaches the
// terminal, no line is forged.
func TestHostileNamePlanView(t *testing.T) {
	pb, s := hostileSnapshot(t, forged)
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range p.Findings {
		names = append(names, f.ID)
	}
	if !strings.Contains(strings.Join(names, " "), forged) {
		t.Fatalf("the hostile name is not in the plan's findings (%q): the test shows nothing", names)
	}
	// The renamed DC leaves the finding incomplete, without actions: a plan file may still hold
	// some, and their "on <target>" lines must be escaped too.
	withHostileAction(p, forged)
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		writePlanText(&out, p, painter{on: color})
		if why := terminalSafe(out.String(), color); why != "" {
			t.Errorf("plan view (color %v): %s\n%s", color, why, out.String())
		}
		if !strings.Contains(out.String(), termtext.Escape(forged)) || !strings.Contains(out.String(), "register_cname on "+termtext.Escape(forged)) {
			t.Errorf("the view does not show the name escaped, or no action's target:\n%s", out.String())
		}
	}
	var out bytes.Buffer
	writeApproved(&out, p)
	if why := terminalSafe(out.String(), false); why != "" {
		t.Errorf("approve summary: %s\n%s", why, out.String())
	}
	// The apply result and progress, and the journal, with the same name.
	res := apply.Result{RunID: "r", Outcome: apply.Refused, Refusals: []apply.Refusal{{Gate: "drift", Reason: "link.destination is " + forged, Do: forged, Changes: []string{forged}}},
		Findings: []apply.FindingResult{{ID: p.Findings[0].ID, Outcome: apply.Failed, Reason: forged,
			Steps: []apply.StepResult{{Name: "register_cname", Target: forged, Outcome: apply.Failed, Reason: forged}}}},
		Notes: []string{forged}}
	out.Reset()
	writeResult(&out, res, false, " --state "+termtext.ShellWord(forged))
	if why := terminalSafe(out.String(), false); why != "" {
		t.Errorf("apply result: %s\n%s", why, out.String())
	}
	out.Reset()
	if err := journal.WriteTable(&out, []journal.Entry{{Kind: journal.KindAction, Name: "register_cname", Target: forged, Reason: forged, Outcome: journal.Started}}); err != nil {
		t.Fatal(err)
	}
	if why := terminalSafe(out.String(), false); why != "" {
		t.Errorf("journal table: %s\n%s", why, out.String())
	}
}

// FuzzPlanView renders plans of DCs with fuzzed names, host names, sites, reasons and problems,
// and the other human views with the fuzzed name as every value (approve, gather, apply,
// journal, show's history, profile show, heal's escalation): no view ever holds a raw control
// or format character, nor a forged line.
func FuzzPlanView(f *testing.F) {
	f.Add(forged)
	f.Add("DC\r\x1b[1AOK")
	f.Add("\u2066DC2\u2069\u2028")
	f.Add("DC2\xff\xfe")
	f.Fuzz(func(t *testing.T, name string) {
		if name == "" || name == "DC1" {
			return
		}
		pb, s := hostileSnapshot(t, name)
		p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: time.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Findings) > 0 {
			withHostileAction(p, name)
		}
		for _, color := range []bool{false, true} {
			var out bytes.Buffer
			writePlanText(&out, p, painter{on: color})
			if why := terminalSafe(out.String(), color); why != "" {
				t.Fatalf("plan view of %q (color %v): %s\n%s", name, color, why, out.String())
			}
		}
		var out bytes.Buffer
		writeApproved(&out, p)
		summarize(&out, s)
		writeResult(&out, apply.Result{Outcome: apply.Failed, Refusals: []apply.Refusal{{Gate: name, Reason: name, Do: name, Changes: []string{name}}},
			Findings: []apply.FindingResult{{ID: name, Outcome: apply.Failed, Reason: name, Steps: []apply.StepResult{{Name: name, Target: name, Verification: name}}}}}, false, " --state "+termtext.ShellWord(name))
		_ = journal.WriteTable(&out, []journal.Entry{{Kind: journal.KindNote, Name: name, Target: name, Reason: name, Link: name}})
		// show's journal lines, profile show, heal's escalation.
		fmt.Fprintln(&out, runSummary([]journal.Entry{{Kind: journal.KindNote, Name: "approve", Reason: name}, {Kind: journal.KindGate, Name: name, Outcome: journal.Refused, Reason: name}}))
		writeProfile(&out, &env{getenv: func(string) string { return "" }}, &profile.Profile{Filename: name, Settings: []profile.Setting{{Field: profile.Fields[0], Value: name}}})
		if len(p.Findings) > 0 {
			r := &heal.Report{Plan: p, RunID: name, Forest: name, Locked: name, Breaker: policy.BreakerStatus{Open: true, Reason: name}, EscalationPath: name}
			r.Verdicts = []policy.Verdict{{Candidate: policy.Candidate{ID: name, Finding: p.Findings[0].ID, Action: name, Target: name}, Hold: name, Reason: name}}
			writeHealReport(&out, painter{}, r, &healFlags{}, true, name)
		}
		if why := terminalSafe(out.String(), false); why != "" {
			t.Fatalf("approve, gather, apply, journal, show, profile and heal views of %q: %s\n%s", name, why, out.String())
		}
	})
}

// hostileApprover is what an approval file may hold for "by" and "reason": approval files are
// untrusted input, and their checks refuse control characters but not format characters or
// separators, which reorder or break a terminal's lines just as well.
const hostileApprover = "alice\u202eexe.txt\u2028PS> Remove-Item C:\\ -Recurse\u200b"

func writeFile(t *testing.T, path string, b []byte) string {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// withHostileAction edits p as a plan file may be edited: its first finding gets two actions
// that ask for an approval of their own, with name as every value, and a manual step. It returns
// the second action, whose id holds format characters and a line separator but no control
// character, so that an approval file may name it.
func withHostileAction(p *plan.Plan, name string) plan.Action {
	f := &p.Findings[0]
	a := plan.Action{ID: f.ID + "/register_cname", Key: name, Name: "register_cname", Title: name, Kind: plan.KindPowerShell,
		Risk: plan.RiskLow, Target: name, TargetDNSHostName: name, TargetIPs: []string{name}, Platform: "windows", Transport: "winrm",
		PowerShell: "Restart-Service Netlogon\n" + name, RequiresApprovalEach: true}
	b := a
	b.ID, b.Name = "DC1<-\u202eDC2\u2028PS> Remove-Item/restart_netlogon", "restart_netlogon"
	f.Actions = append(f.Actions, a, b)
	f.Manual = append(f.Manual, plan.ManualStep{Title: name, Text: name, On: name, Shell: "powershell", Commands: []string{"nltest /dsregdns", name}})
	p.Summary.Actions += 2
	p.Summary.ManualSteps++
	return b
}

// viewSafe fails the test when out is not safe for a terminal.
func viewSafe(t *testing.T, what, out string, color bool) {
	t.Helper()
	if why := terminalSafe(out, color); why != "" {
		t.Errorf("%s: %s\n%s", what, why, out)
	}
}

// show of a hostile plan (DC names), next to a hostile approval file and per-action
// approvals, with hostile journal entries for it, in a directory with a hostile name: every
// line escaped.
func TestHostileShow(t *testing.T) {
	pb, s := hostileSnapshot(t, forged)
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	act := withHostileAction(p, forged)
	c := newCLI(t)
	dir := c.path("plans\x1b[2J\nPS> Remove-Item")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p.json")
	if err := plan.Write(path, p); err != nil {
		t.Fatal(err)
	}
	raw := mustRead(t, path)
	a, err := approval.ApproveAt(time.Now(), []byte(raw), p.Fingerprint, hostileApprover, 4*time.Hour, hostileApprover, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := approval.Save(path, a); err != nil {
		t.Fatal(err)
	}
	each, err := approval.ApproveAt(time.Now(), []byte(raw), apply.EachFingerprint(p.Fingerprint, act.ID), hostileApprover, 4*time.Hour, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := apply.SaveEach(path, []*approval.Approval{each}); err != nil {
		t.Fatal(err)
	}
	j, err := journal.Open(c.state)
	if err != nil {
		t.Fatal(err)
	}
	j.SetRunID(forged)
	j.SetActor(forged)
	for _, en := range []journal.Entry{
		{Kind: journal.KindNote, Name: "approve", Reason: "approved by " + forged},
		{Kind: journal.KindGate, Name: "window", Outcome: journal.Refused, Reason: forged},
		{Kind: journal.KindAction, Name: forged, Target: forged, Outcome: journal.Failed, Reason: forged},
	} {
		en.PlanFingerprint = p.Fingerprint
		if _, err := j.Record(en); err != nil {
			t.Fatal(err)
		}
	}
	j.Close()

	// approve of the same plan, its actions asking for approvals of their own (and --allow-each
	// naming one that is not there): what it prints is escaped too.
	other := filepath.Join(dir, "q.json")
	if err := plan.Write(other, p); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := c.run("", "approve", other, "--by", "bob", "--state", c.state)
	if code != exitOK || !strings.Contains(out, "need(s) an approval of its own") {
		t.Errorf("approve: exit %d\n%s\n%s", code, out, stderr)
	}
	viewSafe(t, "approve", out+stderr, false)
	_, out, stderr = c.run("", "approve", other, "--by", "bob", "--state", c.state, "--allow-each", "nosuch")
	viewSafe(t, "approve --allow-each nosuch", out+stderr, false)

	code, out, stderr = c.run("", "show", path, "--state", c.state)
	if code != exitOK {
		t.Fatalf("show: exit %d\n%s\n%s", code, out, stderr)
	}
	viewSafe(t, "show", out+stderr, false)
	for _, want := range []string{"Approval: approved by " + termtext.Escape(hostileApprover), "approved on its own by " + termtext.Escape(hostileApprover),
		"2 run(s) recorded", termtext.Escape(forged) + ": approved: approved by " + termtext.Escape(forged), "refused by the window gate: " + termtext.Escape(forged)} {
		if !strings.Contains(out, want) {
			t.Errorf("show lacks %q:\n%s", want, out)
		}
	}
	// An approval of another plan whose fingerprint is hostile: the refusal quotes it.
	a.PlanFingerprint = "sha256:" + hostileApprover
	if _, err := approval.Save(path, a); err != nil {
		t.Fatal(err)
	}
	_, out, stderr = c.run("", "show", path, "--state", c.state)
	viewSafe(t, "show with another plan's approval", out+stderr, false)
	if !strings.Contains(out, "approval is for another plan") {
		t.Errorf("show does not say the approval is another plan's:\n%s", out)
	}
	// A plan file that does not parse, with a hostile finding id in the error.
	broken := writeFile(t, c.path("broken.json"), []byte(`{"plan_format_version": 1, "fingerprint": "x", "findings": [{"id": "DC1\u001b[2J\nPS> Remove-Item", "actions": [{}]}]}`))
	for _, args := range [][]string{{"show"}, {"report"}, {"apply"}, {"approve", "--by", "x"}} {
		cmd := args[0]
		code, out, stderr := c.run("", append(append(args[:1:1], broken, "--state", c.state), args[1:]...)...)
		if code != exitError || !strings.Contains(stderr, "has no id or name") {
			t.Errorf("%s of a broken plan: exit %d: %s", cmd, code, stderr)
		}
		viewSafe(t, cmd+" of a broken plan", out+stderr, false)
	}
}

// profile show of a profile whose values (and path) are hostile, and a profile error naming
// a hostile path: escaped.
func TestHostileProfileShow(t *testing.T) {
	c := newCLI(t)
	dir := c.path("conf\x1b[2J\nPS> Remove-Item")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := writeFile(t, filepath.Join(dir, "profile.hcl"), []byte(`dc = "dc1\u001b[2J\u202eexe\u2028PS> Remove-Item C:\\"`+"\n"+
		`ca_file = "ca\u001b]0;pwned\u0007.pem"`+"\n"+`winrm {`+"\n"+`  user = "CONTOSO\\\u009b31madmin"`+"\n}\n"))
	code, out, stderr := c.run("", "profile", "show", "--profile", path)
	if code != exitOK {
		t.Fatalf("profile show: exit %d\n%s\n%s", code, out, stderr)
	}
	viewSafe(t, "profile show", out+stderr, false)
	if !strings.Contains(out, `dc1\x1b[2J\u202eexe\u2028PS> Remove-Item C:\`) {
		t.Errorf("profile show does not show the value escaped:\n%s", out)
	}
	// A setting the flag refuses, and a profile that does not parse: the errors name the file.
	writeFile(t, path, []byte("dc_timeout = \"soon\"\n"))
	code, out, stderr = c.run("", "gather", "--profile", path, "-o", c.path("f.json"))
	if code != exitError || !strings.Contains(stderr, "not a duration") {
		t.Errorf("gather with a bad profile value: exit %d\n%s", code, stderr)
	}
	viewSafe(t, "a bad profile value", out+stderr, false)
	writeFile(t, path, []byte("nosuch = 1\n"))
	code, out, stderr = c.run("", "profile", "show", "--profile", path)
	if code != exitError || !strings.Contains(stderr, "nosuch") {
		t.Errorf("profile show of a bad profile: exit %d\n%s", code, stderr)
	}
	viewSafe(t, "a profile that does not parse", out+stderr, false)
}

// heal's escalation of a plan with a hostile DC name: the held finding, why it was held (its
// verdicts are matched to it although its id is shown escaped), the manual steps, the
// commands, the lock and breaker lines: escaped.
func TestHostileHealEscalation(t *testing.T) {
	pb, s := hostileSnapshot(t, forged)
	p, err := engine.MakePlan(pb, s, engine.PlanOptions{Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	withHostileAction(p, forged)
	r := &heal.Report{Plan: p, RunID: forged, Forest: forged, Locked: forged,
		Breaker:        policy.BreakerStatus{Open: true, Reason: forged},
		EscalationPath: "/var/lib/fix8524/escalations/" + forged + ".json", EscalationReport: "/var/lib/fix8524/escalations/" + forged + ".html"}
	for _, f := range p.Findings {
		for _, a := range f.Actions {
			r.Verdicts = append(r.Verdicts, policy.Verdict{Candidate: policy.Candidate{ID: a.ID, Finding: f.ID, Action: a.Name, Target: a.Target},
				Class: policy.ClassHuman, Hold: policy.HoldNotAllowed, Reason: "no allow rule admits " + forged})
		}
	}
	if len(r.Verdicts) == 0 {
		t.Fatal("the hostile plan has no action: the test shows nothing")
	}
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		writeHealReport(&out, painter{on: color}, r, &healFlags{}, true, "/state/"+forged)
		viewSafe(t, "heal's escalation", out.String(), color)
		if !color && !strings.Contains(out.String(), "held (not_allowed): no allow rule admits "+termtext.Escape(forged)) {
			t.Errorf("the escalation does not say why the hostile finding was held:\n%s", out.String())
		}
	}
}

// -v debug lines print values from files (the facts' source, the profile's path): escaped.
func TestHostileDebugLines(t *testing.T) {
	_, s := hostileSnapshot(t, forged)
	c := newCLI(t)
	var buf bytes.Buffer
	if err := facts.Encode(&buf, s); err != nil {
		t.Fatal(err)
	}
	f := writeFile(t, c.path("f.json"), buf.Bytes())
	_, out, stderr := c.run("", "-v", "plan", "--facts", f)
	if !strings.Contains(stderr, "debug: facts from ldap://"+termtext.Escape(forged)) {
		t.Errorf("no debug line for the facts:\n%s", stderr)
	}
	viewSafe(t, "plan -v", out+stderr, false)
}
