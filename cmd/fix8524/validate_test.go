package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/playbooks"
)

func TestValidateShipped(t *testing.T) {
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"validate"}); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out.String(), "Success!") || stderr.Len() != 0 {
		t.Errorf("stdout %q stderr %q", out, stderr)
	}
	e, out, _ = testEnv(nil)
	if code := run(context.Background(), e, []string{"validate", "--json"}); code != exitOK {
		t.Fatal(code)
	}
	var v engine.ValidateJSON
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || !v.Valid || v.ErrorCount != 0 || v.Diagnostics == nil {
		t.Errorf("%v %+v", err, v)
	}
}

// writeBroken copies the shipped playbook into a directory with one edit.
func writeBroken(t *testing.T, old, repl string) string {
	t.Helper()
	src, err := playbooks.FS.ReadFile("8524.hcl")
	if err != nil {
		t.Fatal(err)
	}
	s := string(src)
	if !strings.Contains(s, old) {
		t.Fatalf("the playbook has no %q", old)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "8524.hcl"), []byte(strings.Replace(s, old, repl, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestValidateBroken(t *testing.T) {
	dir := writeBroken(t, "when   = !check.cname_on_source_dns.ok", "when   = !check.cname_on_source_dnss.ok")
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"validate", "--playbooks", dir}); code != exitError {
		t.Fatalf("exit %d", code)
	}
	text := stderr.String()
	for _, want := range []string{"Error: Reference to undeclared check", "8524.hcl line ", `in decision "source_cname_not_registered"`, "^^^", `Did you mean "cname_on_source_dns"?`} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(out.String(), "Success") {
		t.Error("success printed")
	}
	e, out, _ = testEnv(nil)
	if code := run(context.Background(), e, []string{"validate", "--json", "--playbooks", dir}); code != exitError {
		t.Fatalf("exit %d", code)
	}
	var v engine.ValidateJSON
	if err := json.Unmarshal(out.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	if v.Valid || v.ErrorCount != 1 || len(v.Diagnostics) != 1 {
		t.Fatalf("%+v", v)
	}
	d := v.Diagnostics[0]
	if d.Severity != "error" || d.Range == nil || !strings.HasSuffix(d.Range.Filename, "8524.hcl") || d.Range.Start.Line == 0 || d.Snippet == nil ||
		d.Snippet.Code[d.Snippet.HighlightStartOffset:d.Snippet.HighlightEndOffset] != "check.cname_on_source_dnss.ok" {
		t.Errorf("%+v %+v %+v", d, d.Range, d.Snippet)
	}
}

func TestValidateBadInputs(t *testing.T) {
	for name, edit := range map[string][2]string{
		"syntax":           {"decision \"dns_unexplained\" {", "decision \"dns_unexplained\" {{"},
		"unknown block":    {"window \"weekend\" {", "windoww \"weekend\" {"},
		"unknown attr":     {"  risk  = \"high\"", "  risk  = \"high\"\n  rsik = 1"},
		"wrong type":       {"    ports = [389, 636, 135]", "    ports = \"389\""},
		"cycle":            {"condition = check.host_on_source_dns_a.ok || check.host_on_source_dns_aaaa.ok", "condition = check.records_differ_between_dns_servers.ok"},
		"undefined action": {"remedy = [action.register_host, action.retry_replication]", "remedy = [action.register_hots]"},
	} {
		t.Run(name, func(t *testing.T) {
			dir := writeBroken(t, edit[0], edit[1])
			e, _, stderr := testEnv(nil)
			if code := run(context.Background(), e, []string{"validate", "--playbooks", dir}); code != exitError {
				t.Fatalf("exit %d:\n%s", code, stderr)
			}
			if !strings.Contains(stderr.String(), "Error: ") || !strings.Contains(stderr.String(), "8524.hcl line ") {
				t.Errorf("not a located diagnostic:\n%s", stderr)
			}
		})
	}
}

// validate --policy checks heal policies too: the shipped example is valid; a broken one gets
// located diagnostics (text and JSON), including the hard rule that high risk never runs unattended.
func TestValidatePolicy(t *testing.T) {
	e, out, stderr := testEnv(nil)
	if code := run(context.Background(), e, []string{"validate", "--policy", "../../examples/heal/policy.hcl"}); code != exitOK {
		t.Fatalf("example policy: exit %d: %s", code, stderr)
	}
	if !strings.Contains(out.String(), "heal policy ../../examples/heal/policy.hcl is valid") {
		t.Errorf("stdout %q", out)
	}
	bad := filepath.Join(t.TempDir(), "bad.hcl")
	if err := os.WriteFile(bad, []byte("max_actions_per_run = 0\nallow \"x\" {\n  max_risk = \"high\"\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e, _, stderr = testEnv(nil)
	if code := run(context.Background(), e, []string{"validate", "--policy", bad}); code != exitError {
		t.Fatalf("bad policy: exit %d", code)
	}
	for _, want := range []string{"on " + bad + " line 1:", "on " + bad + " line 3", "can never run unattended"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("diagnostics lack %q:\n%s", want, stderr)
		}
	}
	e, out, _ = testEnv(nil)
	if code := run(context.Background(), e, []string{"validate", "--json", "--policy", bad}); code != exitError {
		t.Fatalf("bad policy --json: exit %d", code)
	}
	var v engine.ValidateJSON
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.Valid || v.ErrorCount != 2 {
		t.Errorf("%v %+v", err, v)
	}
}
