package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/plan"
)

// A forest whose links all replicate, one of them through the GUID name of an earlier
// incarnation of its source: plan warns, proposes nothing, and exits 0.
func TestPlanWarningsAloneExitZero(t *testing.T) {
	file := scenarioFactsFile(t, "link-address-latent")
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", file}); code != exitOK {
		t.Fatalf("exit %d, want %d: %s%s", code, exitOK, out, stderr)
	}
	text := out.String()
	for _, want := range []string{
		"No replication link fails with an error this playbook handles.",
		"Warnings: 1 partnership warning(s)",
		"DC1<-DC2  (5 NC(s) replicating, source DSA 5b2e7c41-0d9a-4f63-8e15-2a7c9b3d6f80)",
		"Warning: link_address_latent",
		"by dialing 8a7baee5-cd81-4c8c-9c0f-b10030574016._msdcs.contoso.com",
		"Manual steps:",
		`C:\> repadmin /kcc dc1.contoso.com`,
		"0 manual step(s), 1 warning(s).",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	// The warnings come after the findings section and before the summary.
	if i, j := strings.Index(text, "Warnings:"), strings.Index(text, "Plan: "); i < 0 || j < i {
		t.Errorf("warnings not before the summary:\n%s", text)
	}

	e, out, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"plan", "--facts", file, "--json"}); code != exitOK {
		t.Fatalf("--json exit %d: %s", code, stderr)
	}
	var p plan.Plan
	if err := json.Unmarshal(out.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Warnings) != 1 || p.Warnings[0].ID != "DC1<-DC2" || p.Warnings[0].Name != "link_address_latent" || p.Summary.Warnings != 1 {
		t.Errorf("JSON warnings %+v, summary %+v", p.Warnings, p.Summary)
	}
}

// writePlanText prints a warning's flagged values and colours the section like the others;
// a plan without warnings prints no section and no count.
func TestWritePlanTextWarnings(t *testing.T) {
	p := &plan.Plan{
		Findings: []plan.Finding{},
		Warnings: []plan.Warning{{
			ID: "DC1<-DC2", Name: "w", Message: "msg", Link: plan.LinkInfo{SourceDSAGUID: "g", NCs: []plan.NCLink{{NC: "DC=x"}}},
			Manual: []plan.ManualStep{{Title: "step", Shell: "posix", On: "DC1", Commands: []string{"samba-tool drs kcc 'a b'"}, Flagged: true}},
			Flags:  []plan.Flag{{Fact: "link.source.name", Value: `"a b"`, Problem: "not a valid DC name"}},
		}},
		Summary: plan.Summary{Warnings: 1},
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	writePlanText(w, p, painter{on: true})
	w.Flush()
	text := buf.String()
	for _, want := range []string{"\x1b[33mWarnings:\x1b[0m", "\x1b[33mWarning:\x1b[0m", "$\x1b[0m samba-tool drs kcc 'a b'", "Read before running", "Flagged values:", `link.source.name = "a b": not a valid DC name`, "\x1b[33m1 warning(s)\x1b[0m"} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	p.Warnings, p.Summary.Warnings = nil, 0
	buf.Reset()
	writePlanText(&buf, p, painter{})
	if strings.Contains(buf.String(), "arning") {
		t.Errorf("a plan without warnings mentions them:\n%s", buf.String())
	}
}
