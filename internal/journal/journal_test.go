package journal

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 6, 7, 20, 0, 0, 0, time.UTC)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func openTest(t *testing.T) (*Store, *clock) {
	t.Helper()
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{t: t0}
	s.SetClock(c.now)
	s.SetRunID("run-1")
	s.SetActor("alice@admin01")
	return s, c
}

func TestOpenErrors(t *testing.T) {
	if _, err := Open(""); err == nil {
		t.Fatal("Open(\"\") succeeded")
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := Open(missing); !errors.Is(err, ErrStateDirMissing) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing dir: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o600)
	if _, err := Open(file); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("file as dir: %v", err)
	}
	if _, err := Open(t.TempDir() + "/a?b"); err == nil {
		t.Fatal("path with ? accepted")
	}
	created := filepath.Join(t.TempDir(), "state", "fix8524")
	s, err := Create(created)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(created)
	if err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o700) {
		t.Fatalf("created dir: %v %v", fi.Mode(), err)
	}
	if s.Path() != filepath.Join(created, FileName) {
		t.Fatalf("Path = %s", s.Path())
	}
	// A leftover probe file must not remain.
	ents, _ := os.ReadDir(created)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".fix8524-probe") {
			t.Fatalf("probe file left behind: %s", e.Name())
		}
	}
}

// TestReadOnlyDirUnprivileged covers the permission-bit case; root ignores permission bits,
// so root gets the read-only mount test in fs_linux_test.go instead.
func TestReadOnlyDirUnprivileged(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() == 0 {
		t.Skip("needs a non-root Unix user (root: see TestReadOnlyMount)")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if _, err := Open(dir); !errors.Is(err, ErrStateDirReadOnly) {
		t.Fatalf("read-only dir: %v", err)
	}
}

func TestCorruptDatabase(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, FileName), bytes.Repeat([]byte("not a database "), 400), 0o600)
	if _, err := Open(dir); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("garbage file: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	home := func() (string, error) { return "/home/alice", nil }
	noHome := func() (string, error) { return "", errors.New("no home") }
	cases := []struct {
		goos string
		env  map[string]string
		home func() (string, error)
		want string // "" means an error
	}{
		{"linux", map[string]string{"XDG_STATE_HOME": "/xdg/state"}, home, filepath.Join("/xdg/state", "fix8524")},
		{"linux", map[string]string{"XDG_STATE_HOME": "relative/ignored"}, home, filepath.Join("/home/alice", ".local", "state", "fix8524")},
		{"linux", nil, home, filepath.Join("/home/alice", ".local", "state", "fix8524")},
		{"freebsd", nil, home, filepath.Join("/home/alice", ".local", "state", "fix8524")},
		{"linux", nil, noHome, ""},
		{"darwin", nil, home, filepath.Join("/home/alice", "Library", "Application Support", "fix8524")},
		{"windows", map[string]string{"LOCALAPPDATA": `C:\Users\alice\AppData\Local`}, noHome, filepath.Join(`C:\Users\alice\AppData\Local`, "fix8524")},
		{"windows", nil, home, ""},
	}
	for _, c := range cases {
		got, err := defaultDir(c.goos, env(c.env), c.home)
		if c.want == "" {
			if err == nil {
				t.Errorf("%s %v: got %q, want an error", c.goos, c.env, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %v: %q, %v; want %q", c.goos, c.env, got, err, c.want)
		}
	}
	if d, err := DefaultDir(); err != nil || !strings.HasSuffix(d, "fix8524") {
		t.Errorf("DefaultDir() = %q, %v", d, err)
	}
}

func TestRecordValidation(t *testing.T) {
	s, _ := openTest(t)
	bad := []Entry{
		{Kind: "gates", Name: "x", Outcome: Allowed},
		{Kind: KindGate, Name: "x", Outcome: "ok"},
		{Kind: KindGate, Name: "x"},
		{Kind: KindGate, Name: " ", Outcome: Allowed},
	}
	for _, e := range bad {
		if _, err := s.Record(e); !errors.Is(err, ErrInvalid) {
			t.Errorf("Record(%+v) = %v; want ErrInvalid", e, err)
		}
	}
	if _, err := s.Record(Entry{Kind: KindNote, Name: "emergency", Reason: "outage"}); err != nil {
		t.Fatalf("note without outcome: %v", err)
	}
	if _, err := s.BeginAction(Entry{Name: "restart-netlogon"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("action without target: %v", err)
	}
	all, _ := s.List(Filter{})
	if len(all) != 1 {
		t.Fatalf("%d entries after refused records, want 1", len(all))
	}
}

func TestRecordListAndRender(t *testing.T) {
	s, c := openTest(t)
	rec := func(e Entry) int64 {
		t.Helper()
		id, err := s.Record(e)
		if err != nil {
			t.Fatal(err)
		}
		c.add(time.Minute)
		return id
	}
	rec(Entry{Kind: KindGate, Forest: "corp", Name: "approval", Outcome: Allowed, Reason: "approved by alice", PlanFingerprint: "fp1"})
	rec(Entry{Kind: KindGate, Forest: "corp", Name: "window", Outcome: Refused, Reason: "outside every change window"})
	s.SetRunID("run-2")
	rec(Entry{Kind: KindVerify, Forest: "corp", Name: "dns-srv", Target: "dc2", Outcome: Failed, Verification: "no SRV"})
	rec(Entry{Kind: KindGate, Forest: "other", Name: "approval", Outcome: Allowed, Target: "dc9\x1b[31mevil\n"})

	all, err := s.List(Filter{})
	if err != nil || len(all) != 4 {
		t.Fatalf("List all: %d %v", len(all), err)
	}
	for i := 1; i < len(all); i++ {
		if !all[i].Time.After(all[i-1].Time) {
			t.Fatal("not ordered by time")
		}
	}
	if all[0].RunID != "run-1" || all[2].RunID != "run-2" || all[0].Actor != "alice@admin01" || !all[0].Time.Equal(t0) {
		t.Fatalf("defaults: %+v", all[0])
	}
	check := func(f Filter, want int) {
		t.Helper()
		got, err := s.List(f)
		if err != nil || len(got) != want {
			t.Fatalf("List(%+v) = %d, %v; want %d", f, len(got), err, want)
		}
	}
	check(Filter{RunID: "run-1"}, 2)
	check(Filter{Since: t0.Add(time.Minute)}, 3)
	check(Filter{Since: t0.Add(time.Minute), Until: t0.Add(3 * time.Minute)}, 2)
	check(Filter{Kinds: []Kind{KindVerify}}, 1)
	check(Filter{Kinds: []Kind{KindVerify, KindGate}}, 4)
	check(Filter{Forest: "other"}, 1)
	check(Filter{Target: "dc2"}, 1)
	if got, _ := s.List(Filter{Limit: 2}); len(got) != 2 || got[0].Name != "dns-srv" {
		t.Fatalf("Limit keeps the newest, oldest first: %+v", got)
	}
	if _, err := s.List(Filter{Kinds: []Kind{"bogus"}}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad kind: %v", err)
	}
	if e, err := s.Get(all[2].ID); err != nil || e.Verification != "no SRV" {
		t.Fatalf("Get: %+v %v", e, err)
	}
	if _, err := s.Get(9999); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}

	var buf bytes.Buffer
	if err := WriteJSON(&buf, all); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Schema  string           `json:"schema"`
		Entries []map[string]any `json:"entries"`
	}
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Schema != JSONSchema || len(doc.Entries) != 4 {
		t.Fatalf("JSON doc: %s", buf.String())
	}
	keys := []string{"id", "run_id", "time", "actor", "kind", "forest", "name", "target", "link", "plan_fingerprint",
		"outcome", "reason", "command", "exit_code", "output_sha256", "output_excerpt", "verification", "error", "step_key", "ref"}
	for _, k := range keys {
		if _, ok := doc.Entries[0][k]; !ok {
			t.Errorf("JSON entry lacks %q", k)
		}
	}
	if len(doc.Entries[0]) != len(keys) {
		t.Errorf("JSON entry has %d keys, documented %d", len(doc.Entries[0]), len(keys))
	}
	buf.Reset()
	if err := WriteJSON(&buf, nil); err != nil || !strings.Contains(buf.String(), `"entries": []`) {
		t.Fatalf("empty JSON: %s", buf.String())
	}

	buf.Reset()
	if err := WriteTable(&buf, all); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 5 || !strings.Contains(out, "outside every change window") || !strings.Contains(out, "verify: no SRV") {
		t.Fatalf("table:\n%s", out)
	}
	if strings.ContainsRune(out, 0x1b) || !strings.Contains(out, `dc9\x1b[31mevil`) {
		t.Fatalf("control characters not escaped:\n%q", out)
	}
}

func TestAppendOnly(t *testing.T) {
	s, _ := openTest(t)
	if _, err := s.Record(Entry{Kind: KindGate, Name: "approval", Outcome: Refused}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.Exec(`UPDATE entries SET outcome = 'allowed'`); err == nil || !strings.Contains(err.Error(), "append-only") {
		t.Fatalf("UPDATE: %v", err)
	}
	if _, err := s.db.Exec(`DELETE FROM entries`); err == nil {
		t.Fatal("DELETE succeeded")
	}
}

func TestTwoPhaseAction(t *testing.T) {
	s, c := openTest(t)
	begin := Entry{Forest: "corp", Name: "restart-netlogon", Target: "dc2", Link: "dc1<-dc2", PlanFingerprint: "fp1",
		Command: "Restart-Service -Name Netlogon -Force"}
	if st, _ := s.Step("fp1", "dc1<-dc2", "restart-netlogon"); st.State != StepNotStarted || st.Done() || st.NeedsRecheck() {
		t.Fatalf("fresh step: %+v", st)
	}
	id, err := s.BeginAction(begin)
	if err != nil {
		t.Fatal(err)
	}
	un, err := s.Unfinished("corp")
	if err != nil || len(un) != 1 || un[0].ID != id || un[0].Outcome != Started || un[0].StepKey != StepKey("fp1", "dc1<-dc2", "restart-netlogon") {
		t.Fatalf("Unfinished: %+v %v", un, err)
	}
	if un, _ := s.Unfinished("other"); len(un) != 0 {
		t.Fatal("Unfinished leaks across forests")
	}
	if st, _ := s.Step("fp1", "dc1<-dc2", "restart-netlogon"); !st.NeedsRecheck() || st.BeginID != id {
		t.Fatalf("begun step: %+v", st)
	}
	c.add(5 * time.Second)
	stdout, stderr := []byte("Restarted.\n"), []byte("warning: slow\n")
	fid, err := s.FinishAction(id, Result{Outcome: Succeeded, ExitCode: Exit(0), Stdout: stdout, Stderr: stderr, Verification: "SRV records present"})
	if err != nil {
		t.Fatal(err)
	}
	f, _ := s.Get(fid)
	if f.Ref != id || f.Kind != KindAction || f.Outcome != Succeeded || f.ExitCode == nil || *f.ExitCode != 0 ||
		f.OutputSHA256 != OutputDigest(stdout, stderr) || !strings.Contains(f.OutputExcerpt, "--- stderr ---\nwarning: slow") ||
		f.Target != "dc2" || f.Command != begin.Command || f.Actor != "alice@admin01" || !f.Time.Equal(t0.Add(5*time.Second)) {
		t.Fatalf("finish entry: %+v", f)
	}
	if un, _ := s.Unfinished("corp"); len(un) != 0 {
		t.Fatalf("still unfinished: %+v", un)
	}
	if _, err := s.FinishAction(id, Result{Outcome: Failed}); !errors.Is(err, ErrAlreadyFinished) {
		t.Fatalf("second finish: %v", err)
	}
	if _, err := s.FinishAction(id, Result{Outcome: Started}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("finish as started: %v", err)
	}
	if _, err := s.FinishAction(fid, Result{Outcome: Failed}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("finish a finish record: %v", err)
	}
	if _, err := s.FinishAction(12345, Result{Outcome: Failed}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("finish unknown id: %v", err)
	}
	st, _ := s.Step("fp1", "dc1<-dc2", "restart-netlogon")
	if !st.Done() || st.State != StepFinished || st.ResolvedBy != fid || st.Attempts != 1 {
		t.Fatalf("finished step: %+v", st)
	}

	// A second step that fails, then is retried and interrupted, then re-checked.
	b2 := Entry{Forest: "corp", Name: "replicate", Target: "dc1", Link: "dc1<-dc2", PlanFingerprint: "fp1"}
	id2, _ := s.BeginAction(b2)
	long := bytes.Repeat([]byte("x"), 10_000)
	if _, err := s.FinishAction(id2, Result{Outcome: Failed, Stdout: long, Err: errors.New("exit status 1")}); err != nil {
		t.Fatal(err)
	}
	f2, _ := s.List(Filter{Kinds: []Kind{KindAction}})
	last := f2[len(f2)-1]
	if len(last.OutputExcerpt) > excerptMax || !strings.Contains(last.OutputExcerpt, "bytes omitted") || last.Error != "exit status 1" || last.ExitCode != nil {
		t.Fatalf("failed finish: excerpt %d bytes, %+v", len(last.OutputExcerpt), last.Error)
	}
	if st, _ := s.Step("fp1", "dc1<-dc2", "replicate"); st.State != StepFinished || st.Outcome != Failed || st.Done() {
		t.Fatalf("failed step: %+v", st)
	}
	id3, _ := s.BeginAction(b2) // the retry, interrupted
	if st, _ := s.Step("fp1", "dc1<-dc2", "replicate"); !st.NeedsRecheck() || st.Attempts != 2 || st.BeginID != id3 {
		t.Fatalf("retried step: %+v", st)
	}
	if _, err := s.MarkRechecked(id3, Recheck{Outcome: Pending}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("recheck pending: %v", err)
	}
	rid, err := s.MarkRechecked(id3, Recheck{Outcome: Succeeded, Verification: "replication result 0", RunID: "run-9"})
	if err != nil {
		t.Fatal(err)
	}
	r, _ := s.Get(rid)
	if r.Kind != KindVerify || r.Name != "recheck:replicate" || r.Ref != id3 || r.RunID != "run-9" {
		t.Fatalf("recheck entry: %+v", r)
	}
	if un, _ := s.Unfinished("corp"); len(un) != 0 {
		t.Fatalf("rechecked action still unfinished: %+v", un)
	}
	if st, _ := s.Step("fp1", "dc1<-dc2", "replicate"); st.State != StepRechecked || !st.Done() {
		t.Fatalf("rechecked step: %+v", st)
	}
	steps, err := s.Steps("fp1")
	if err != nil || len(steps) != 2 || steps[0].Action != "restart-netlogon" || steps[1].Action != "replicate" {
		t.Fatalf("Steps: %+v %v", steps, err)
	}
	if n, _ := s.FailedVerificationsSince("corp", t0); n != 0 {
		t.Fatalf("rechecks counted as failed verifications: %d", n)
	}
}

func TestSecretsNeverStored(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	const secret = "Sup3r-S3cret'pw/+"
	s.RegisterSecret(secret)
	s.RegisterSecret("")
	leaky := "user=admin pass " + secret
	id, err := s.BeginAction(Entry{Forest: "corp", Name: "demote " + secret, Target: "dc2", Link: secret,
		Command: "samba-tool domain demote -U admin%" + secret + " --password=" + secret, Reason: leaky})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.FinishAction(id, Result{Outcome: Failed, Stdout: []byte("echo " + secret), Stderr: []byte(base64.StdEncoding.EncodeToString([]byte(secret))),
		Verification: leaky, Err: fmt.Errorf("dial: password %s rejected", secret)})
	if err != nil {
		t.Fatal(err)
	}
	patterns := map[string]string{
		"New-ADUser -AccountPassword (ConvertTo-SecureString 'Tr0ub4dor&3' -AsPlainText -Force)": "Tr0ub4dor",
		"Authorization: Basic YWRtaW46aHVudGVyMg==":                                              "YWRtaW46aHVudGVyMg",
		`{"user":"admin","password":"correct horse battery"}`:                                    "correct horse",
		"net ads join -U administrator%Pa55w0rd!":                                                "Pa55w0rd",
		"winrm https://admin:Hunter2Hunter@dc1:5986/wsman":                                       "Hunter2Hunter",
		"netdom resetpwd /s:dc1 /ud:corp\\admin /pd:Zebra9zebra":                                 "Zebra9zebra",
		"$cred = Get-Credential; Set-Thing -Password p@ssW0rd123 -Force":                         "p@ssW0rd123",
		"ldap bind pwd=Qwerty!2345;host=dc1":                                                     "Qwerty!2345",
		"Negotiate TlRMTVNTUAADAAAAGAAYAHgAAAA=":                                                 "TlRMTVNTUAADAAAAGAAYAHgAAAA",
	}
	for text := range patterns {
		if _, err := s.Record(Entry{Kind: KindNote, Name: "cmd", Command: text, Reason: text}); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var rendered bytes.Buffer
	WriteJSON(&rendered, entries)
	WriteTable(&rendered, entries)
	if !strings.Contains(rendered.String(), Redacted) {
		t.Fatal("nothing was redacted")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var raw []byte
	files, _ := filepath.Glob(filepath.Join(dir, FileName+"*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		raw = append(raw, b...)
	}
	forbidden := []string{secret, base64.StdEncoding.EncodeToString([]byte(secret)), "Sup3r-S3cret"}
	for _, leaked := range patterns {
		forbidden = append(forbidden, leaked)
	}
	for _, f := range forbidden {
		if bytes.Contains(raw, []byte(f)) {
			t.Errorf("database files contain %q", f)
		}
		if strings.Contains(rendered.String(), f) {
			t.Errorf("rendered journal contains %q", f)
		}
	}
}

func TestRedactPatternsKeepsContext(t *testing.T) {
	cases := map[string]string{
		"Restart-Service -Name Netlogon -Force":                              "Restart-Service -Name Netlogon -Force",
		"repadmin /replicate dc1 dc2 DC=corp,DC=example":                     "repadmin /replicate dc1 dc2 DC=corp,DC=example",
		"samba-tool drs replicate dc1 dc2 DC=corp --password=abc12345 -k no": "samba-tool drs replicate dc1 dc2 DC=corp --password=" + Redacted + " -k no",
		"-Password 'x y z' -Force":                                           "-Password " + Redacted + " -Force",
		"tokenGroups: S-1-5-32-544":                                          "tokenGroups: S-1-5-32-544",
		"Authorization: Bearer abc.def":                                      "Authorization: " + Redacted,
		"ldap://dc1:389/":                                                    "ldap://dc1:389/",
	}
	for in, want := range cases {
		if got := RedactPatterns(in); got != want {
			t.Errorf("RedactPatterns(%q) = %q; want %q", in, got, want)
		}
	}
}

func TestLockLifecycle(t *testing.T) {
	s, c := openTest(t)
	me := CurrentHolder()
	other := Holder{User: "bob", Host: me.Host, PID: os.Getpid()} // same process: never "gone"
	l, err := s.AcquireLock("corp", me, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Check(); err != nil {
		t.Fatalf("Check: %v", err)
	}
	_, err = s.AcquireLock("corp", other, time.Hour)
	var le *LockError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || errors.Is(err, ErrStaleLock) || !strings.Contains(err.Error(), me.String()) {
		t.Fatalf("second acquire: %v", err)
	}
	if _, err := s.AcquireLock("other-forest", other, time.Hour); err != nil {
		t.Fatalf("locks are per forest: %v", err)
	}
	if _, err := s.BreakLock("corp", "bob", "impatient"); !errors.Is(err, ErrLockLive) {
		t.Fatalf("break a live lock: %v", err)
	}
	if _, err := s.BreakLock("corp", "bob", ""); !errors.Is(err, ErrInvalid) {
		t.Fatalf("break without reason: %v", err)
	}
	if err := l.Renew(2 * time.Hour); err != nil {
		t.Fatal(err)
	}
	c.add(90 * time.Minute)
	if err := l.Check(); err != nil {
		t.Fatalf("renewed lock expired early: %v", err)
	}
	c.add(time.Hour) // past the renewed expiry
	if err := l.Check(); !errors.Is(err, ErrStaleLock) {
		t.Fatalf("Check after expiry: %v", err)
	}
	_, err = s.AcquireLock("corp", other, time.Hour)
	if !errors.Is(err, ErrStaleLock) || !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "not taken over") {
		t.Fatalf("acquire over a stale lock: %v", err)
	}
	info, err := s.LockStatus("corp")
	if err != nil || info == nil || !info.Stale || info.Holder.User != me.User || info.Holder.PID != me.PID {
		t.Fatalf("LockStatus: %+v %v", info, err)
	}
	broken, err := s.BreakLock("corp", "bob@admin02", "holder crashed, checked no run is active")
	if err != nil || broken.Holder.PID != me.PID {
		t.Fatalf("BreakLock: %+v %v", broken, err)
	}
	if _, err := s.BreakLock("corp", "bob", "again"); !errors.Is(err, ErrNoLock) {
		t.Fatalf("break with no lock: %v", err)
	}
	if err := l.Release(); !errors.Is(err, ErrLockLost) {
		t.Fatalf("release of a broken lock: %v", err)
	}
	if err := l.Renew(time.Hour); !errors.Is(err, ErrLockLost) {
		t.Fatalf("renew of a broken lock: %v", err)
	}
	l2, err := s.AcquireLock("corp", other, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Release(); err != nil {
		t.Fatal(err)
	}
	if info, _ := s.LockStatus("corp"); info != nil {
		t.Fatalf("lock after release: %+v", info)
	}
	if _, err := s.AcquireLock("corp", me, 0); !errors.Is(err, ErrInvalid) {
		t.Fatalf("zero ttl: %v", err)
	}

	var ops []string
	locks, _ := s.List(Filter{Kinds: []Kind{KindLock}, Forest: "corp"})
	for _, e := range locks {
		ops = append(ops, e.Name+":"+string(e.Outcome))
	}
	want := "acquire:allowed acquire:refused break:refused renew:succeeded acquire:refused break:succeeded renew:failed acquire:allowed release:succeeded"
	if strings.Join(ops, " ") != want {
		t.Fatalf("lock entries:\n got %s\nwant %s", strings.Join(ops, " "), want)
	}
}

// TestBreakLockOfDeadHolder: a lock whose holder ran on this host and is gone may be broken
// before its TTL passes (explicitly, with a reason); it is still not taken over by AcquireLock.
func TestBreakLockOfDeadHolder(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("needs a Unix shell to make a dead pid")
	}
	cmd := exec.Command("sh", "-c", "exit 0")
	if err := cmd.Run(); err != nil {
		t.Skip("no sh:", err)
	}
	dead := cmd.ProcessState.Pid()
	s, _ := openTest(t)
	h := CurrentHolder()
	h.PID = dead
	if _, err := s.AcquireLock("corp", h, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, err := s.AcquireLock("corp", CurrentHolder(), time.Hour)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "no longer running") {
		t.Fatalf("acquire over a dead holder: %v", err)
	}
	if _, err := s.BreakLock("corp", "alice", "holder died"); err != nil {
		t.Fatalf("break lock of dead holder: %v", err)
	}
}

// TestLockRaceInProcess: many goroutines on separate connections race for one lock.
func TestLockRaceInProcess(t *testing.T) {
	dir := t.TempDir()
	const n = 6
	stores := make([]*Store, n)
	for i := range stores {
		s, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores[i] = s
	}
	var wg sync.WaitGroup
	results := make([]error, n)
	start := make(chan struct{})
	for i := range stores {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			_, results[i] = stores[i].AcquireLock("corp", Holder{User: fmt.Sprint("u", i), Host: "h", PID: i + 1}, time.Hour)
		}(i)
	}
	close(start)
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrLocked):
			t.Errorf("unexpected error: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d goroutines acquired the lock", won)
	}
}

func TestHealBookkeeping(t *testing.T) {
	s, c := openTest(t)
	act := func(target, name string, out Outcome) {
		t.Helper()
		id, err := s.BeginAction(Entry{Forest: "corp", Name: name, Target: target, PlanFingerprint: "fp"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishAction(id, Result{Outcome: out}); err != nil {
			t.Fatal(err)
		}
		c.add(time.Hour)
	}
	verify := func(out Outcome) {
		t.Helper()
		if _, err := s.Record(Entry{Kind: KindVerify, Forest: "corp", Name: "dns-srv", Target: "dc1", Outcome: out}); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok, err := s.LastAction("corp", "dc1", "register-dns"); ok || err != nil {
		t.Fatalf("LastAction before any: %v %v", ok, err)
	}
	act("dc1", "register-dns", Succeeded) // t0
	act("dc2", "register-dns", Failed)    // t0+1h
	act("dc1", "register-dns", Failed)    // t0+2h
	s.SetRunID("run-2")
	act("dc3", "restart-netlogon", Succeeded) // t0+3h
	verify(Failed)                            // t0+4h
	verify(Succeeded)
	c.add(time.Minute)
	verify(Failed)

	if at, ok, _ := s.LastAction("corp", "dc1", "register-dns"); !ok || !at.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("LastAction = %s %v", at, ok)
	}
	if _, ok, _ := s.LastAction("other", "dc1", "register-dns"); ok {
		t.Fatal("LastAction crosses forests")
	}
	if got, _ := s.TargetsTouchedSince("corp", t0.Add(time.Hour)); strings.Join(got, ",") != "dc1,dc2,dc3" {
		t.Fatalf("TargetsTouchedSince = %v", got)
	}
	if got, _ := s.TargetsTouchedSince("corp", t0.Add(150*time.Minute)); strings.Join(got, ",") != "dc3" {
		t.Fatalf("TargetsTouchedSince later = %v", got)
	}
	if n, _ := s.ActionsInRun("run-1"); n != 3 {
		t.Fatalf("ActionsInRun = %d", n)
	}
	if n, _ := s.FailedVerificationsSince("corp", t0); n != 2 {
		t.Fatalf("FailedVerificationsSince = %d", n)
	}
	if n, _ := s.FailedVerificationsSince("corp", t0.Add(4*time.Hour+time.Second)); n != 1 {
		t.Fatalf("FailedVerificationsSince later = %d", n)
	}

	b, err := s.Breaker("corp")
	if err != nil || b.Open {
		t.Fatalf("initial breaker: %+v %v", b, err)
	}
	if _, err := s.OpenBreaker("corp", "", "heal"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("open without reason: %v", err)
	}
	b, err = s.OpenBreaker("corp", "3 failed verifications in 1h", "heal")
	if err != nil || !b.Open || b.By != "heal" {
		t.Fatalf("OpenBreaker: %+v %v", b, err)
	}
	opened := b.Since
	c.add(time.Minute)
	if b, _ := s.OpenBreaker("corp", "again", "heal"); !b.Open || !b.Since.Equal(opened) || b.Reason != "3 failed verifications in 1h" {
		t.Fatalf("re-open changed state: %+v", b)
	}
	if b, _ := s.Breaker("corp"); !b.Open {
		t.Fatal("breaker did not stay open")
	}
	if _, err := s.ResetBreaker("corp", " ", "alice"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("reset without reason: %v", err)
	}
	b, err = s.ResetBreaker("corp", "DNS fixed by hand, INC-42", "alice")
	if err != nil || b.Open || b.By != "alice" {
		t.Fatalf("ResetBreaker: %+v %v", b, err)
	}
	notes, _ := s.List(Filter{Kinds: []Kind{KindNote}})
	if len(notes) != 2 || notes[0].Name != "breaker-opened" || notes[1].Name != "breaker-reset" || notes[1].Actor != "alice" {
		t.Fatalf("breaker notes: %+v", notes)
	}
	if b, _ := s.Breaker("other"); b.Open {
		t.Fatal("breakers are per forest")
	}
}

// TestDiskFull makes SQLite itself report SQLITE_FULL (max_page_count) and checks the error
// and that the journal stays intact.
func TestDiskFull(t *testing.T) {
	s, _ := openTest(t)
	if _, err := s.db.Exec("PRAGMA max_page_count = 40"); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("r", 3000)
	var recorded int
	var err error
	for i := 0; i < 1000; i++ {
		if _, err = s.Record(Entry{Kind: KindNote, Name: fmt.Sprint("n", i), Reason: big}); err != nil {
			break
		}
		recorded++
	}
	if !errors.Is(err, ErrDiskFull) || !strings.Contains(err.Error(), "nothing was recorded") {
		t.Fatalf("after %d entries: %v", recorded, err)
	}
	if _, err := s.BeginAction(Entry{Name: "restart-netlogon", Target: "dc1", Reason: big}); !errors.Is(err, ErrDiskFull) {
		t.Fatalf("BeginAction on a full disk: %v", err)
	}
	all, lerr := s.List(Filter{})
	if lerr != nil || len(all) != recorded {
		t.Fatalf("after disk full: %d entries (%v), want %d", len(all), lerr, recorded)
	}
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q %v", check, err)
	}
}

func TestSchemaSharedAcrossOpens(t *testing.T) {
	dir := t.TempDir()
	a, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := a.Record(Entry{Kind: KindGate, Name: "x", Outcome: Allowed}); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.List(Filter{}); len(got) != 1 {
		t.Fatalf("second store sees %d entries", len(got))
	}
	var mode string
	a.db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	var sync int
	a.db.QueryRow("PRAGMA synchronous").Scan(&sync)
	if mode != "wal" || sync != 2 {
		t.Fatalf("journal_mode %q synchronous %d; want wal, 2 (FULL)", mode, sync)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2025, 6, 7, 20, 0, 0, 0, time.UTC)
	good := map[string]time.Time{
		"24h":                       now.Add(-24 * time.Hour),
		"7d":                        now.Add(-7 * 24 * time.Hour),
		"1d12h":                     now.Add(-36 * time.Hour),
		"90m":                       now.Add(-90 * time.Minute),
		"2025-06-01":                time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC),
		"2025-06-01 14:30":          time.Date(2025, 6, 1, 14, 30, 0, 0, time.UTC),
		"2025-06-01T14:30:05":       time.Date(2025, 6, 1, 14, 30, 5, 0, time.UTC),
		"2025-06-01T14:30:00Z":      time.Date(2025, 6, 1, 14, 30, 0, 0, time.UTC),
		"2025-06-01T14:30:00+02:00": time.Date(2025, 6, 1, 12, 30, 0, 0, time.UTC),
	}
	for in, want := range good {
		got, err := ParseSince(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("ParseSince(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "yesterday", "-1h", "+1h", "-1d", "1d-1h", "2025-13-01", "7", "d"} {
		if got, err := ParseSince(bad, now); err == nil {
			t.Errorf("ParseSince(%q) = %s; want an error", bad, got)
		}
	}
}

func FuzzParseSince(f *testing.F) {
	for _, s := range []string{"24h", "7d", "1d12h", "2025-06-01", "2025-06-01T14:30:00Z", "99999999d", "1d1d"} {
		f.Add(s)
	}
	now := time.Date(2025, 6, 7, 20, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseSince(s, now)
		if err != nil {
			return
		}
		if d, derr := parseAgo(strings.TrimSpace(s)); derr == nil && (d < 0 || got.After(now)) {
			t.Fatalf("ParseSince(%q) = %s: a duration went forward", s, got)
		}
	})
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{"--password=abc", "-Password 'x'", "Authorization: Basic abc", "-U a%b", "pwd=1;", "https://u:p@h/"} {
		f.Add(s, "s3cret")
	}
	f.Fuzz(func(t *testing.T, text, secret string) {
		s := &Store{}
		s.RegisterSecret(secret)
		out := s.Redact(text)
		if secret != "" && len(secret) >= 4 && strings.Contains(out, secret) && !strings.Contains(Redacted, secret) {
			t.Fatalf("secret %q survives in %q", secret, out)
		}
	})
}

// TestConcurrentFirstOpen: several openers of a fresh directory race to create the schema.
func TestConcurrentFirstOpen(t *testing.T) {
	dir := t.TempDir()
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := Open(dir)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			_, errs[i] = s.Record(Entry{Kind: KindNote, Name: fmt.Sprint("opener", i)})
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if all, _ := s.List(Filter{}); len(all) != n {
		t.Fatalf("%d entries, want %d", len(all), n)
	}
}

// The journal (and SQLite's -wal/-shm companions) is readable by its owner only, whatever the
// umask: it names DCs, plans and the reasons admins gave.
func TestJournalFilesAreOwnerOnly(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes")
	}
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Record(Entry{Kind: KindNote, Name: "mode", Outcome: Allowed}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{FileName, FileName + "-wal", FileName + "-shm"} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			if name != FileName && errors.Is(err, os.ErrNotExist) {
				continue
			}
			t.Fatal(err)
		}
		if m := fi.Mode().Perm(); m&0o077 != 0 {
			t.Errorf("%s has mode %v, want no group/other access", name, m)
		}
	}
}
