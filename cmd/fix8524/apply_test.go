package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/internal/approval"
	"github.com/fix8524/fix8524/internal/journal"
	"github.com/fix8524/fix8524/plan"
)

// inWindow is a --clock inside the playbook's weekend change window (a Saturday morning): the
// demo enforces the windows.
const inWindow = "2026-11-21T10:00:00Z"

// cli runs the CLI in-process with stdin.
type cli struct {
	t     *testing.T
	dir   string
	state string
	vars  map[string]string
}

func newCLI(t *testing.T) *cli {
	dir := t.TempDir()
	// The CLI reads HOME, XDG_* and TMPDIR through its env: they point into the test's
	// directory, so that nothing a test runs writes the real home or temporary directory.
	c := &cli{t: t, dir: dir, state: filepath.Join(dir, "state"), vars: map[string]string{
		"HOME": filepath.Join(dir, "home"), "TMPDIR": filepath.Join(dir, "tmp"),
	}}
	for _, d := range []string{c.state, c.vars["HOME"], c.vars["TMPDIR"]} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

func (c *cli) run(stdin string, args ...string) (int, string, string) {
	c.t.Helper()
	var out, errb bytes.Buffer
	e := &env{stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb, getenv: func(k string) string { return c.vars[k] }}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func (c *cli) path(name string) string { return filepath.Join(c.dir, name) }

// demoPlan makes p.json from the default demo scenario.
func (c *cli) demoPlan() string {
	c.t.Helper()
	p := c.path("p.json")
	if code, _, stderr := c.run("", "plan", "--demo", "-o", p); code != exitProposed {
		c.t.Fatalf("plan --demo: exit %d: %s", code, stderr)
	}
	return p
}

func (c *cli) journalEntries() []journal.Entry {
	c.t.Helper()
	code, out, stderr := c.run("", "journal", "--state", c.state, "--json", "--limit", "0")
	if code != exitOK {
		c.t.Fatalf("journal: exit %d: %s", code, stderr)
	}
	var doc struct {
		Schema  string          `json:"schema"`
		Entries []journal.Entry `json:"entries"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Schema != journal.JSONSchema {
		c.t.Fatalf("journal --json: %v (schema %q)", err, doc.Schema)
	}
	return doc.Entries
}

// TestDemoEndToEnd is the README's demo: plan, approve, apply over WS-Management, journal.
func TestDemoEndToEnd(t *testing.T) {
	c := newCLI(t)
	p := c.demoPlan()
	code, out, stderr := c.run("", "approve", p, "--by", "me", "--state", c.state)
	if code != exitOK || !strings.Contains(out, "Approved plan") {
		t.Fatalf("approve: exit %d\n%s\n%s", code, out, stderr)
	}
	// approve shows where each action goes (what apply binds).
	if !strings.Contains(out, "DC1<-DC2/register_cname [low] on DC2 = dc2.contoso.com [192.0.2.12] (windows over winrm)") {
		t.Errorf("approve does not show the actions' hosts and addresses:\n%s", out)
	}
	code, out, stderr = c.run("", "apply", p, "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitOK {
		t.Fatalf("apply --demo: exit %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{"register_cname", "cname_on_source_dns ok", "result 0", "Apply succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("apply output lacks %q:\n%s", want, out)
		}
	}
	names := map[string]bool{}
	for _, en := range c.journalEntries() {
		names[string(en.Kind)+" "+en.Name+" "+string(en.Outcome)] = true
	}
	for _, want := range []string{
		"note approve allowed", "gate approval started", "gate approval allowed", "gate window allowed", "gate drift allowed",
		"action register_cname started", "action register_cname succeeded", "verify verify:register_cname succeeded",
		"action retry_replication succeeded", "verify confirm_replication succeeded", "lock release succeeded",
	} {
		if !names[want] {
			t.Errorf("journal lacks %q", want)
		}
	}
	// show tells what happened to the plan.
	code, out, _ = c.run("", "show", p, "--state", c.state)
	if code != exitOK || !strings.Contains(out, "actions: 2 succeeded; replication confirmed") {
		t.Errorf("show after apply: exit %d\n%s", code, out)
	}
	code, out, _ = c.run("", "journal", "--state", c.state, "--run", "last")
	if code != exitOK || !strings.Contains(out, "register_cname") {
		t.Errorf("journal --run last: exit %d\n%s", code, out)
	}
	// The demo forest starts broken again, but the approval was used: a replay is refused.
	code, out, stderr = c.run("", "apply", p, "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitRefused || !strings.Contains(out+stderr, "approval already used") {
		t.Fatalf("replayed approval: exit %d\n%s\n%s", code, out, stderr)
	}
	// Approved again (a new approval, even within the same second), the same plan applies again.
	if code, out, stderr = c.run("", "approve", p, "--by", "me", "--state", c.state); code != exitOK {
		t.Fatalf("approve again: exit %d\n%s\n%s", code, out, stderr)
	}
	if code, out, stderr = c.run("", "apply", p, "--demo", "--clock", inWindow, "--state", c.state); code != exitOK {
		t.Fatalf("second apply --demo: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestApplyRefusals(t *testing.T) {
	type setup func(c *cli, p string) []string // returns extra apply args
	approveAt := func(c *cli, p string, at time.Time, ttl time.Duration, fp string) {
		pl, b, err := plan.Read(p)
		if err != nil {
			c.t.Fatal(err)
		}
		if fp == "" {
			fp = pl.Fingerprint
		}
		a, err := approval.ApproveAt(at, b, fp, "alice", ttl, "", nil)
		if err != nil {
			c.t.Fatal(err)
		}
		if _, err := approval.Save(p, a); err != nil {
			c.t.Fatal(err)
		}
	}
	cases := []struct {
		name  string
		setup setup
		want  string
	}{
		{"no approval, no terminal", func(c *cli, p string) []string { return nil }, "no approval"},
		{"expired", func(c *cli, p string) []string {
			approveAt(c, p, time.Now().Add(-5*time.Hour), time.Hour, "")
			return nil
		}, "expired"},
		{"approval for another plan", func(c *cli, p string) []string {
			approveAt(c, p, time.Now(), time.Hour, "sha256:"+strings.Repeat("ab", 32))
			return nil
		}, "approval is for another plan"},
		{"tampered plan", func(c *cli, p string) []string {
			c.run("", "approve", p, "--by", "me", "--state", c.state)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte("Restart-Service"), []byte("Stop-Computer  "), 1), 0o644)
			return nil
		}, "plan changed after approval"},
		{"approval of another plan file", func(c *cli, p string) []string {
			c.run("", "approve", p, "--by", "me", "--state", c.state)
			if code, _, stderr := c.run("", "plan", "--demo", "stale-metadata", "-o", p); code != exitProposed {
				c.t.Fatalf("plan: %d %s", code, stderr)
			}
			return nil
		}, "approval is for another plan"},
		{"tampered into garbage", func(c *cli, p string) []string {
			c.run("", "approve", p, "--by", "me", "--state", c.state)
			os.WriteFile(p, []byte("{not json"), 0o644)
			return nil
		}, "plan changed after approval"},
		{"clock skew", func(c *cli, p string) []string {
			approveAt(c, p, time.Now().Add(2*time.Hour), 4*time.Hour, "")
			return nil
		}, "clock skew"},
		{"unsigned with trust keys", func(c *cli, p string) []string {
			c.run("", "keygen", c.path("k"))
			c.run("", "approve", p, "--by", "me", "--state", c.state)
			return []string{"--trust-keys", c.path("k.pub")}
		}, "not signed"},
		{"signed by an unknown key", func(c *cli, p string) []string {
			c.run("", "keygen", c.path("k"))
			c.run("", "keygen", c.path("other"))
			c.run("", "approve", p, "--by", "me", "--sign-key", c.path("other"), "--state", c.state)
			return []string{"--trust-keys", c.path("k.pub")}
		}, "untrusted key"},
		{"lock held", func(c *cli, p string) []string {
			c.run("", "approve", p, "--by", "me", "--state", c.state)
			j, err := journal.Open(c.state)
			if err != nil {
				c.t.Fatal(err)
			}
			defer j.Close()
			if _, err := j.AcquireLock("contoso.com", journal.Holder{User: "bob", Host: "elsewhere", PID: 77}, time.Hour); err != nil {
				c.t.Fatal(err)
			}
			return nil
		}, "bob@elsewhere pid 77"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			p := c.demoPlan()
			extra := tc.setup(c, p)
			args := append([]string{"apply", p, "--demo", "--clock", inWindow, "--state", c.state}, extra...)
			code, out, stderr := c.run("", args...)
			if code != exitRefused {
				t.Fatalf("exit %d, want 3\n%s\n%s", code, out, stderr)
			}
			if !strings.Contains(out+stderr, tc.want) {
				t.Fatalf("output lacks %q:\n%s\n%s", tc.want, out, stderr)
			}
			// Every refusal says what to do; an approval of other bytes gets one advice,
			// whether apply's gate or the check made before the plan is parsed refused it.
			do := "What to do: "
			if tc.want == "approval is for another plan" || tc.want == "plan changed after approval" {
				do += "read the plan (fix8524 show " + p + "), then approve this file as it is now: fix8524 approve " + p + " --by NAME"
			}
			if !strings.Contains(out+stderr, do) {
				t.Errorf("output lacks %q:\n%s\n%s", do, out, stderr)
			}
			for _, en := range c.journalEntries() {
				if en.Kind == journal.KindAction {
					t.Fatalf("an action was journaled despite the refusal: %+v", en)
				}
			}
			var refused bool
			for _, en := range c.journalEntries() {
				refused = refused || (en.Kind == journal.KindGate && en.Outcome == journal.Refused)
			}
			if !refused {
				t.Fatal("the refusal is not in the journal")
			}
		})
	}
}

func TestApplySignedWithTrustedKey(t *testing.T) {
	c := newCLI(t)
	p := c.demoPlan()
	if code, _, stderr := c.run("", "keygen", c.path("k"), "--comment", "alice@corp"); code != exitOK {
		t.Fatalf("keygen: %s", stderr)
	}
	if code, _, stderr := c.run("", "keygen", c.path("k")); code != exitError || !strings.Contains(stderr, "not overwriting") {
		t.Fatalf("keygen over an existing key: exit %d %s", code, stderr)
	}
	if code, _, stderr := c.run("", "approve", p, "--by", "alice", "--sign-key", c.path("k"), "--state", c.state); code != exitOK {
		t.Fatalf("approve: %s", stderr)
	}
	if code, out, stderr := c.run("", "apply", p, "--demo", "--clock", inWindow, "--trust-keys", c.path("k.pub"), "--state", c.state); code != exitOK {
		t.Fatalf("apply: exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestApplyTypedYes(t *testing.T) {
	old := stdinIsTerminal
	stdinIsTerminal = func(*env) bool { return true }
	t.Cleanup(func() { stdinIsTerminal = old })
	c := newCLI(t)
	p := c.demoPlan()
	code, out, stderr := c.run("no\n", "apply", p, "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitRefused || !strings.Contains(out+stderr, "not 'yes'") {
		t.Fatalf("answer no: exit %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = c.run("yes\n", "apply", p, "--demo", "--clock", inWindow, "--state", c.state)
	if code != exitOK || !strings.Contains(stderr, "Only 'yes' will be accepted") || !strings.Contains(stderr, "source_cname_not_registered") {
		t.Fatalf("answer yes: exit %d\n%s\n%s", code, out, stderr)
	}
	var how string
	for _, en := range c.journalEntries() {
		if en.Kind == journal.KindGate && en.Name == "approval" && en.Outcome == journal.Allowed {
			how = en.Reason
		}
	}
	if !strings.Contains(how, "typing 'yes' at a terminal") {
		t.Fatalf("the typed approval is not journaled as such: %q", how)
	}
	// With --trust-keys, typing yes is not enough: nothing is asked.
	c.run("", "keygen", c.path("k"))
	code, _, stderr = c.run("yes\n", "apply", p, "--demo", "--clock", inWindow, "--trust-keys", c.path("k.pub"), "--state", c.state)
	if code != exitRefused || strings.Contains(stderr, "Enter a value") {
		t.Fatalf("trust keys + terminal: exit %d, asked: %v", code, strings.Contains(stderr, "Enter a value"))
	}
}

func TestApproveErrors(t *testing.T) {
	c := newCLI(t)
	p := c.demoPlan()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"approve", p}, "--by NAME is required"},
		{[]string{"approve", p, "--by", "me", "--expires", "90d"}, "--expires"},
		{[]string{"approve", p, "--by", "me", "--allow-each", "DC9<-DC8/nothing"}, "no such action"},
		{[]string{"approve", c.path("missing.json"), "--by", "me"}, "no such file"},
		{[]string{"approve", p, "--by", "me", "--sign-key", c.path("missing-key")}, "missing-key"},
		{[]string{"approve", p, "--by", "me\nforged line"}, "control"},
		{[]string{"approve", p, "--by", "me", "--state", c.path("no-such-dir")}, "does not exist"},
	}
	for _, tc := range cases {
		code, _, stderr := c.run("", tc.args...)
		if code != exitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(p + approval.SidecarSuffix); err == nil {
		t.Fatal("a failed approve wrote an approval")
	}
}

func TestApplyErrors(t *testing.T) {
	c := newCLI(t)
	p := c.demoPlan()
	garbage := c.path("garbage.json")
	os.WriteFile(garbage, []byte(`{"plan_format_version":1,"fingerprint":"x","findings":[],"extra":1}`), 0o644)
	notDir := c.path("file")
	os.WriteFile(notDir, nil, 0o600)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"apply"}, "give a plan file"},
		{[]string{"apply", p}, "apply it with --demo"},
		{[]string{"apply", garbage, "--demo"}, "not a fix8524 plan"},
		{[]string{"apply", p, "--demo", "--emergency"}, "--emergency needs --reason"},
		{[]string{"apply", p, "--demo", "--state", c.path("no-such-dir")}, "does not exist"},
		{[]string{"apply", p, "--demo", "--state", notDir}, "not a directory"},
		{[]string{"apply", p, "--demo", "--trust-keys", c.path("missing.pub")}, "--trust-keys"},
		{[]string{"apply", p, "--demo", "--state", c.state, "--bogus"}, "flag provided but not defined"},
	}
	for _, tc := range cases {
		code, out, stderr := c.run("", tc.args...)
		if code != exitError || !strings.Contains(stderr, tc.want) {
			t.Errorf("%q: exit %d, stderr %q, want %q\n%s", tc.args, code, stderr, tc.want, out)
		}
	}
}

func TestApplyDCWithoutTerminalRefuses(t *testing.T) {
	// apply --dc plans, shows and asks; without a terminal nobody can answer: refused before
	// anything changes. The DC does not exist: the gather fails first with a clear error.
	c := newCLI(t)
	c.vars["FIX8524_PASSWORD"] = "secret-pw-123"
	code, out, stderr := c.run("", "apply", "--dc", "127.0.0.1", "--ldap-port", "1", "--user", "u@example.invalid",
		"--state", c.state, "--timeout", "5s")
	if code != exitError || strings.Contains(out+stderr, "secret-pw-123") {
		t.Fatalf("exit %d\n%s\n%s", code, out, stderr)
	}
}

func TestJournalLockCommands(t *testing.T) {
	c := newCLI(t)
	j, err := journal.Open(c.state)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := j.AcquireLock("contoso.com", journal.Holder{User: "bob", Host: "elsewhere", PID: 77}, time.Hour); err != nil {
		t.Fatal(err)
	}
	j.Close()
	code, out, _ := c.run("", "journal", "--state", c.state, "--lock-status", "contoso.com")
	if code != exitOK || !strings.Contains(out, "bob@elsewhere pid 77") {
		t.Fatalf("lock-status: %d %s", code, out)
	}
	if code, _, stderr := c.run("", "journal", "--state", c.state, "--break-lock", "contoso.com"); code != exitError || !strings.Contains(stderr, "--reason") {
		t.Fatalf("break-lock without reason: %d %s", code, stderr)
	}
	// A live lock of a process on another host is not broken.
	if code, _, stderr := c.run("", "journal", "--state", c.state, "--break-lock", "contoso.com", "--reason", "x"); code != exitRefused || !strings.Contains(stderr, "live") {
		t.Fatalf("break a live lock: %d %s", code, stderr)
	}
	if code, out, _ := c.run("", "journal", "--state", c.state, "--lock-status", "nothing.example"); code != exitOK || !strings.Contains(out, "not locked") {
		t.Fatalf("lock-status of an unlocked forest: %d %s", code, out)
	}
	code, out, _ = c.run("", "journal", "--state", c.state, "--kind", "lock")
	if code != exitOK || !strings.Contains(out, "acquire") || !strings.Contains(out, "break") {
		t.Fatalf("journal --kind lock: %d\n%s", code, out)
	}
}

func TestDefaultStateDir(t *testing.T) {
	c := newCLI(t)
	c.vars["XDG_STATE_HOME"] = c.path("xdg")
	// The default is $XDG_STATE_HOME/fix8524; reading it does not create it.
	def := filepath.Join(c.path("xdg"), "fix8524")
	if code, out, stderr := c.run("", "journal"); code != exitOK || !strings.Contains(out, "no journal in "+def+" yet") {
		t.Fatalf("journal with the default state dir: %d %s %s", code, out, stderr)
	}
	if _, err := os.Stat(def); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("reading the journal created the default state dir: %v", err)
	}
	// A demo plan's approval goes to the demo's temporary state directory, and says so.
	p := c.demoPlan()
	code, out, stderr := c.run("", "approve", p, "--by", "me")
	demoDir := filepath.Join(c.vars["TMPDIR"], "fix8524-demo-"+strconv.Itoa(os.Getuid()))
	if code != exitOK || !strings.Contains(out, "Demo state (journal, lock): "+demoDir+", a temporary directory") {
		t.Fatalf("approve of a demo plan: exit %d\n%s\n%s", code, out, stderr)
	}
	if _, err := os.Stat(filepath.Join(demoDir, journal.FileName)); err != nil {
		t.Fatalf("the demo's state dir was not used: %v", err)
	}
	if code, out, _ := c.run("", "journal", "--demo"); code != exitOK || !strings.Contains(out, "note") || !strings.Contains(out, "approve") {
		t.Errorf("journal --demo: exit %d\n%s", code, out)
	}
}

func TestReadOnlyStateDir(t *testing.T) {
	c := newCLI(t)
	ro := c.path("ro")
	os.Mkdir(ro, 0o500)
	if os.Geteuid() == 0 {
		// root writes into a 0500 directory; sysfs refuses file creation even to root.
		if _, err := os.Stat("/sys/kernel"); err != nil {
			t.Skip("running as root without /sys/kernel: no read-only directory to test with")
		}
		ro = "/sys/kernel"
	}
	p := c.demoPlan()
	for _, args := range [][]string{
		{"approve", p, "--by", "me", "--state", ro},
		{"apply", p, "--demo", "--state", ro},
		{"journal", "--state", ro},
	} {
		code, _, stderr := c.run("", args...)
		if code != exitError || !strings.Contains(stderr, "not writable") {
			t.Errorf("%q: exit %d, stderr %q", args, code, stderr)
		}
	}
	if _, err := os.Stat(p + approval.SidecarSuffix); err == nil {
		t.Fatal("approve wrote an approval it could not journal")
	}
}
