package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/engine/apply"
	"github.com/fix8524/fix8524/engine/journal"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/internal/termtext"
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
	for _, color := range []bool{false, true} {
		var out bytes.Buffer
		writePlanText(&out, p, painter{on: color})
		if why := terminalSafe(out.String(), color); why != "" {
			t.Errorf("plan view (color %v): %s\n%s", color, why, out.String())
		}
		if !strings.Contains(out.String(), termtext.Escape(forged)) {
			t.Errorf("the view does not show the name escaped:\n%s", out.String())
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

// FuzzPlanView renders plans of DCs with fuzzed names, host names, sites, reasons and problems:
// the human view never holds a raw control or format character, nor a forged line.
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
		if why := terminalSafe(out.String(), false); why != "" {
			t.Fatalf("approve, gather, apply and journal views of %q: %s\n%s", name, why, out.String())
		}
	})
}
