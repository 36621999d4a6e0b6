package main

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/playbooks"
)

func TestVersion(t *testing.T) {
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	defer func(f func() (*debug.BuildInfo, bool)) { buildInfo = f }(buildInfo)
	buildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/fix8524/fix8524", Version: "v1.2.3"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, stderr := newCLI(t).run("", args...)
		if code != exitOK {
			t.Fatalf("%q: exit %d: %s", args, code, stderr)
		}
		for _, want := range []string{"fix8524 v1.2.3\n", "revision  0123456789abcdef (2026-12-01T10:00:00Z, with local changes)", "go        " + runtime.Version(),
			"playbook  ad-replication-8524 " + pb.Digest + " (embedded playbooks/8524.hcl)"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q lacks %q:\n%s", args, want, out)
			}
		}
	}
	buildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	if _, out, _ := newCLI(t).run("", "version"); !strings.Contains(out, "revision  unknown (built without VCS information") {
		t.Errorf("without build info:\n%s", out)
	}
}

// TestVerboseAndQuiet: -v adds debug lines on stderr; -q keeps progress, notes and hints quiet
// and the results.
func TestVerboseAndQuiet(t *testing.T) {
	c := newCLI(t)
	facts := scenarioFactsFile(t, "source-cname-missing")
	_, out, stderr := c.run("", "plan", "--facts", facts)
	if strings.Contains(stderr, "debug:") {
		t.Errorf("debug lines without -v:\n%s", stderr)
	}
	if !strings.Contains(out, "Next: ") {
		t.Errorf("no hint without -q:\n%s", out)
	}
	_, out, stderr = c.run("", "-v", "plan", "--facts", facts)
	for _, want := range []string{"debug: playbook ad-replication-8524 sha256:", "debug: facts from scenario:source-cname-missing"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("-v: stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(out, "debug:") {
		t.Error("debug lines on stdout")
	}
	p := c.path("p.json")
	code, out, _ := c.run("", "plan", "--facts", facts, "-o", p, "-q")
	if code != exitProposed || !strings.Contains(out, "Diagnosis: source_cname_not_registered") || strings.Contains(out, "Next:") || strings.Contains(out, "Saved the plan") {
		t.Errorf("plan -q: exit %d\n%s", code, out)
	}
	if code, _, stderr := c.run("", "approve", p, "--by", "me", "--state", c.state); code != exitOK {
		t.Fatal(stderr)
	}
	code, out, stderr = c.run("", "-q", "apply", p, "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitOK || !strings.Contains(out, "Apply succeeded") || strings.Contains(out, "gate approval:") || strings.Contains(out, "Demo forest") {
		t.Errorf("apply -q: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, _, stderr := c.run("", "-v", "-q", "validate"); code != exitError || !strings.Contains(stderr, "-v and -q exclude each other") {
		t.Errorf("-v -q: exit %d: %s", code, stderr)
	}
}
