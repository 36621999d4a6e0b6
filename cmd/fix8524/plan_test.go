package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/scenario"
	"github.com/fix8524/fix8524/plan"
)

func TestPlanDemoDefault(t *testing.T) {
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--demo"}); code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"DC1<-DC2", "Diagnosis: source_cname_not_registered", "Evidence:", "Actions:", "Restart-Service -Name Netlogon", "Manual steps:", "nslookup -type=cname", "Plan: 1 partnership(s)", "Fingerprint sha256:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out.String(), "\x1b[") {
		t.Error("colour codes when stdout is not a terminal")
	}
}

// scenarioFactsFile writes a scenario's facts (built from its World) to a file: faster than
// serving the simulated forest, which makes an offline DC's probes wait for their timeouts.
func scenarioFactsFile(t *testing.T, name string) string {
	t.Helper()
	var pf playbookFlags
	pb, _, diags := pf.load()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s, err := demoFacts(pb, name)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), name+".json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := facts.Encode(f, s); err != nil {
		t.Fatal(err)
	}
	return file
}

func TestPlanDemoJSONAndFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plan.json")
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", scenarioFactsFile(t, "stale-metadata"), "--json", "-o", file}); code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var p plan.Plan
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatalf("stdout is not a plan: %v\n%s", err, out)
	}
	if p.FormatVersion != plan.FormatVersion || len(p.Findings) != 2 || p.Findings[0].Decision.Name != "stale_metadata" || !strings.HasPrefix(p.Fingerprint, "sha256:") {
		t.Errorf("%+v", p)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var q plan.Plan
	if err := json.Unmarshal(b, &q); err != nil || q.Fingerprint != p.Fingerprint {
		t.Errorf("-o file: %v %q", err, q.Fingerprint)
	}
	// The documented top-level fields are there.
	var raw map[string]any
	_ = json.Unmarshal(b, &raw)
	for _, k := range []string{"plan_format_version", "created_at", "playbook", "facts", "fingerprint", "findings", "summary"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("plan JSON lacks %q", k)
		}
	}
}

func TestPlanHealthyExitsZero(t *testing.T) {
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--demo", "healthy"}); code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	if !strings.Contains(out.String(), "Nothing to do") {
		t.Errorf("%s", out)
	}
}

// A failing link the playbook does not handle (1722, not 8524) is listed as not handled and
// still makes plan exit 2: replication fails there and a person has to look.
func TestPlanUnmatchedFailingLinkNeedsAHuman(t *testing.T) {
	var pf playbookFlags
	pb, _, diags := pf.load()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	s, err := demoFacts(pb, "healthy")
	if err != nil {
		t.Fatal(err)
	}
	s.Links[0].LastResult, s.Links[0].ConsecutiveFailures = 1722, 4
	file := filepath.Join(t.TempDir(), "unmatched.json")
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := facts.Encode(f, s); err != nil {
		t.Fatal(err)
	}
	f.Close()
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", file}); code != exitProposed {
		t.Fatalf("exit %d, want %d: %s%s", code, exitProposed, out, stderr)
	}
	if !strings.Contains(out.String(), "1722") {
		t.Errorf("the unmatched link is not listed:\n%s", out)
	}
}

func TestPlanFromFactsFile(t *testing.T) {
	file := scenarioFactsFile(t, "source-host-missing")
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", file}); code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out.String(), "source_host_not_registered") {
		t.Errorf("%s", out)
	}
	// The same facts on stdin.
	b, _ := os.ReadFile(file)
	e, out, _ = testEnv(nil)
	e.stdin = strings.NewReader(string(b))
	if code := run(context.Background(), e, []string{"plan", "--facts", "-", "--json"}); code != exitProposed || !strings.Contains(out.String(), `"source_host_not_registered"`) {
		t.Errorf("stdin: %d", code)
	}
}

func TestPlanVariables(t *testing.T) {
	// DC2 is offline; declared decommissioned, it is stale metadata instead.
	offline := scenarioFactsFile(t, "source-offline")
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", offline}); code != exitProposed || !strings.Contains(out.String(), "Diagnosis: source_offline") {
		t.Fatalf("exit %d: %s%s", code, out, stderr)
	}
	e, out, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", offline, "-var", `decommissioned=["DC2"]`}); code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out.String(), "Diagnosis: stale_metadata") {
		t.Errorf("%s", out)
	}
	vf := filepath.Join(t.TempDir(), "vars.hcl")
	if err := os.WriteFile(vf, []byte(`decommissioned = ["DC2"]`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, out, _ = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", offline, "-var-file", vf}); code != exitProposed || !strings.Contains(out.String(), "stale_metadata") {
		t.Errorf("-var-file: %d %s", code, out)
	}
	e, _, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--demo", "-var", "nope=1"}); code != exitError || !strings.Contains(stderr.String(), "undeclared variable") {
		t.Errorf("undeclared -var: %d %s", code, stderr)
	}
}

func TestPlanErrors(t *testing.T) {
	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, "x.hcl"), []byte("playbook \"x\" {\n  title = \n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(t.TempDir(), "facts.json")
	_ = os.WriteFile(garbage, []byte(`{"format_version": 2, "dcs": [`), 0o600)
	for _, args := range [][]string{
		{"plan"},
		{"plan", "--demo", "--facts", "x.json"},
		{"plan", "--demo", "no-such-scenario"},
		{"plan", "--facts", "/nonexistent/facts.json"},
		{"plan", "--facts", garbage},
		{"plan", "--demo", "--playbooks", bad},
		{"plan", "--demo", "extra", "args"},
		{"plan", "--bogus-flag"},
	} {
		e, _, stderr := testEnv(nil)
		if code := run(context.Background(), e, args); code != exitError {
			t.Errorf("%v: exit %d, want 1 (%s)", args, code, stderr)
		}
		if stderr.Len() == 0 {
			t.Errorf("%v: no message", args)
		}
	}
}

func TestTakeOptionalArg(t *testing.T) {
	for _, tc := range []struct {
		in    []string
		rest  string
		set   bool
		value string
	}{
		{[]string{"--demo"}, "", true, ""},
		{[]string{"--demo", "x", "--json"}, "--json", true, "x"},
		{[]string{"--json", "-demo=y"}, "--json", true, "y"},
		{[]string{"--demo", "--json"}, "--json", true, ""},
		{[]string{"--facts", "f"}, "--facts f", false, ""},
		{[]string{"--", "--demo"}, "-- --demo", false, ""},
	} {
		rest, set, value := takeOptionalArg(tc.in, "demo")
		if strings.Join(rest, " ") != tc.rest || set != tc.set || value != tc.value {
			t.Errorf("%v: %v %v %q", tc.in, rest, set, value)
		}
	}
}

// TestPlanEvidenceReadings: evidence reads as the article does. A check that looks for a
// problem (ok_means = "problem") and does not find it is "no problem", not a failure; --full
// prints evidence uncut.
func TestPlanEvidenceReadings(t *testing.T) {
	f := scenarioFactsFile(t, "source-cname-missing")
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", f}); code != exitProposed {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if _, rest, ok := strings.Cut(l, "] "); ok && strings.HasPrefix(strings.TrimSpace(l), "[") {
			name, _, _ := strings.Cut(strings.TrimSpace(rest), ":")
			lines[name] = l
		}
	}
	for name, want := range map[string]string{
		"guid_mismatch":            "[no problem]",    // looks for a problem, finds none
		"scavenging_on_source_dns": "[no problem]",    // looks for a problem, finds none
		"destination_logged_2087":  "[problem found]", // looks for a problem, finds it
		"cname_on_source_dns":      "[problem found]", // looks for health, does not find it
		"source_answers":           "[no problem]",    // looks for health, finds it
	} {
		if !strings.Contains(lines[name], want) {
			t.Errorf("%s reads %q, want %s", name, strings.TrimSpace(lines[name]), want)
		}
	}
	if strings.Contains(out.String(), "[failed]") || strings.Contains(out.String(), "[ok]") {
		t.Errorf("evidence still reads ok/failed:\n%s", out)
	}
	if !strings.HasSuffix(lines["link_address_current"], "…") {
		t.Fatalf("the long evidence line is not clipped without --full: %q", lines["link_address_current"])
	}
	e, out, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", f, "--full"}); code != exitProposed {
		t.Fatalf("--full: exit %d: %s", code, stderr)
	}
	if strings.Contains(out.String(), "…") {
		t.Errorf("--full still clips:\n%s", out)
	}
	e, out, _ = testEnv(nil)
	run(context.Background(), e, []string{"plan", "--facts", f, "--json"})
	var p plan.Plan
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	for _, ev := range p.Findings[0].Evidence {
		if ev.Name == "guid_mismatch" && (ev.Status != plan.StatusFailed || ev.Reading != plan.ReadingNoProblem) {
			t.Errorf("guid_mismatch in JSON: status %s, reading %s", ev.Status, ev.Reading)
		}
	}
}

// TestPlanVariableErrors: -var and -var-file errors speak the playbook's language: which
// variable, its type, the value given, the declared names; never HCL internals.
func TestPlanVariableErrors(t *testing.T) {
	vf := filepath.Join(t.TempDir(), "vars.hcl")
	if err := os.WriteFile(vf, []byte("gone_after_days = \"soon\"\nmax_failures = 5\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const declared = "Its variables: decommissioned (list(string)), event_lookback (string), gone_after_days (number)."
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"-var", "gone_after_days=abc"}, []string{`-var gone_after_days=abc: the variable "gone_after_days" is a number, and "abc" is not one`, "-var 'gone_after_days=30'"}},
		{[]string{"-var", "decommissioned=DC3"}, []string{`-var decommissioned=DC3: the variable "decommissioned" is of type list(string), and "DC3" is not one`, `-var 'decommissioned=["text"]'`}},
		{[]string{"-var", "nosuch=1"}, []string{`-var nosuch=1: the playbook declares no variable "nosuch". ` + declared}},
		{[]string{"-var", "gone_after_day=3"}, []string{`no variable "gone_after_day". Did you mean "gone_after_days"? Its variables:`}},
		{[]string{"-var", "max_failures=5"}, []string{`no variable "max_failures"`, declared}},
		{[]string{"-var-file", vf}, []string{"vars.hcl line 1", `The variable "gone_after_days" is a number`, "vars.hcl line 2", `no variable "max_failures"`}},
	} {
		e, _, stderr := testEnv(nil)
		if code := run(context.Background(), e, append([]string{"validate"}, c.args...)); code != exitError {
			t.Errorf("%q: exit %d", c.args, code)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr.String(), w) {
				t.Errorf("%q: stderr lacks %q:\n%s", c.args, w, stderr)
			}
		}
		for _, internal := range []string{"Variables not allowed", "source code not available", "declares none"} {
			if strings.Contains(stderr.String(), internal) {
				t.Errorf("%q: %q in:\n%s", c.args, internal, stderr)
			}
		}
	}
}

// TestREADMEVariablesAreDeclared: every -var NAME=... the README shows names a variable of the
// shipped playbook (its example once used max_failures, which the playbook never declared).
func TestREADMEVariablesAreDeclared(t *testing.T) {
	var pf playbookFlags
	pb, _, diags := pf.load()
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	declared := map[string]bool{}
	for _, v := range pb.Variables {
		declared[v.Name] = true
	}
	seen := 0
	for _, readme := range []string{"../../README.md", "../../playbooks/README.md"} {
		words := strings.Fields(strings.NewReplacer("'", " ", "`", " ", "\"", " ").Replace(mustRead(t, readme)))
		for i, w := range words {
			if w != "-var" || i+1 == len(words) {
				continue
			}
			name, _, ok := strings.Cut(words[i+1], "=")
			if !ok || name == strings.ToUpper(name) { // NAME=VALUE is a placeholder
				continue
			}
			seen++
			if !declared[name] {
				t.Errorf("%s shows -var %s, which the shipped playbook does not declare", readme, words[i+1])
			}
		}
	}
	if seen == 0 {
		t.Error("no -var example found in the READMEs")
	}
}

// demoFacts builds the facts of an embedded scenario straight from its World: the topology and
// links, plus the DNS and TCP observations the playbook asks for (asked until nothing new is
// needed). `plan --demo` gathers from the simulated forest instead (connFlags.demoGather); tests
// compare the two.
func demoFacts(pb *engine.Playbook, name string) (*facts.Snapshot, error) {
	sc, err := scenario.Load(name)
	if err != nil {
		return nil, err
	}
	w := sc.NewWorld()
	s := w.Base()
	w.ObserveNeeds(s, 8, pb.Needs)
	return s, nil
}
