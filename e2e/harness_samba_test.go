//go:build samba

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fix8524/fix8524/apply"
	"github.com/fix8524/fix8524/facts"
	"github.com/fix8524/fix8524/lab/samba"
	labwinrm "github.com/fix8524/fix8524/lab/winrm"
	"github.com/fix8524/fix8524/plan"
)

// The suite's own lab: a namespace and directory of its own, so that it never touches a lab
// someone brought up by hand (lab.sh's defaults).
const (
	defaultNS  = "fix8524e2e"
	defaultDir = "/tmp/fix8524-e2e"
	adminUPN   = samba.AdminUser + "@" + samba.DNSDomain
	e2eReason  = "e2e suite: the lab has no change window"
	windowsOS  = "Windows Server 2022 Datacenter"
	windowsVer = "10.0 (20348)"
)

// suite is one run of the end-to-end tests against one lab.
type suite struct {
	lab  *samba.Lab
	bin  string // the fix8524 binary, built outside the namespace
	dir  string // plans, inventories, journals
	mu   sync.Mutex
	tims []timing
	mttr []MTTR

	offlineCleanup cleanupPlan // approved in source-offline, tried on an online DC in source-records
}

type timing struct {
	name string
	d    time.Duration
}

type testLog struct{ t *testing.T }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// measure runs f and records how long it took (logged, never asserted).
func (s *suite) measure(t *testing.T, name string, f func() error) (time.Duration, error) {
	t.Helper()
	t0 := time.Now()
	err := f()
	d := time.Since(t0)
	s.mu.Lock()
	s.tims = append(s.tims, timing{name, d})
	s.mu.Unlock()
	t.Logf("TIMING %-40s %6.1f s", name, d.Seconds())
	return d, err
}

func (s *suite) logMTTR(t *testing.T, m MTTR) {
	t.Helper()
	s.mu.Lock()
	s.mttr = append(s.mttr, m)
	s.mu.Unlock()
	t.Log(m.String())
}

// ---- running fix8524 inside the namespace ---------------------------------------------------

type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s\n--- stderr\n%s", r.code, clip(r.stdout, 6000), clip(r.stderr, 4000))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "\n…(clipped)"
	}
	return s
}

// fix runs the fix8524 binary inside the lab's namespace with the admin password in
// FIX8524_PASSWORD, and fails the test if the password shows up in its output.
func (s *suite) fix(ctx context.Context, t *testing.T, args ...string) result {
	t.Helper()
	cmd := s.lab.Command(ctx, append([]string{s.bin}, args...)...)
	cmd.Env = append(cmd.Env, "FIX8524_PASSWORD="+samba.AdminPassword)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("fix8524 %s: %v", args[0], err)
	}
	if strings.Contains(r.stdout+r.stderr, samba.AdminPassword) {
		t.Errorf("fix8524 %s printed the password", args[0])
	}
	return r
}

// conn are the connection flags of every command that reads the forest.
func (s *suite) conn(inv string) []string {
	return []string{"--dc", samba.IP(samba.Dest), "--tls", "ldaps", "--ca-file", s.lab.CAFile(),
		"--user", adminUPN, "--inventory", inv, "--timeout", "3m", "--dc-timeout", "60s"}
}

// inventory writes the operator's inventory for the lab as it is now: every existing DC's
// address (DNS may be what is broken) and how to reach it: SSH with the lab's key and
// known_hosts for Samba DCs, WinRM on port 5985 for those presented as Windows. DNS client
// servers are not listed: fix8524 reads them from each DC (resolv.conf over SSH,
// Get-DnsClientServerAddress over WinRM).
func (s *suite) inventory(ctx context.Context, t *testing.T, name string, windows ...string) string {
	t.Helper()
	return s.inventoryOf(ctx, t, name, invOpts{windows: windows})
}

// invOpts vary the inventory: DCs presented as Windows, DCs whose address it does not give (the
// operator does not know it: fix8524 must find it), extra HCL appended.
type invOpts struct {
	windows, noIPs []string
	extra          string
}

func (s *suite) inventoryOf(ctx context.Context, t *testing.T, name string, o invOpts) string {
	t.Helper()
	windows := o.windows
	st, err := s.lab.Status(ctx)
	if err != nil {
		t.Fatalf("lab status: %v", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "defaults {\n  ssh {\n    user        = \"root\"\n    key_file    = %q\n    known_hosts = %q\n  }\n}\n", s.lab.SSHKey(), s.lab.KnownHosts())
	for _, d := range st.DCs {
		if !d.Exists {
			continue
		}
		if contains(o.noIPs, d.Name) {
			fmt.Fprintf(&b, "dc %q {\n", strings.ToUpper(d.Name))
		} else {
			fmt.Fprintf(&b, "dc %q {\n  ips = [%q]\n", strings.ToUpper(d.Name), d.IP)
		}
		if contains(windows, d.Name) {
			fmt.Fprintf(&b, "  winrm {\n    port  = 5985\n    https = false\n    auth  = \"ntlm\"\n    user  = %q\n  }\n", samba.Domain+`\`+samba.AdminUser)
		} else {
			b.WriteString("  ssh {\n    user = \"root\"\n  }\n")
		}
		b.WriteString("}\n")
	}
	b.WriteString(o.extra)
	p := filepath.Join(s.dir, name+".inventory.hcl")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// stateDir is a fresh journal directory for one case.
func (s *suite) stateDir(t *testing.T, name string) string {
	t.Helper()
	d := filepath.Join(s.dir, name+".state")
	if err := os.MkdirAll(d, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.checkJournal(t, d) })
	return d
}

// checkJournal: the journal never holds the password, in any of its files.
func (s *suite) checkJournal(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil && bytes.Contains(b, []byte(samba.AdminPassword)) {
			t.Errorf("the password is in the journal file %s", f)
		}
	}
}

// plan runs `fix8524 plan --json -o FILE` and decodes the plan.
func (s *suite) plan(ctx context.Context, t *testing.T, name, inv string, extra ...string) (*plan.Plan, string, result) {
	t.Helper()
	path := filepath.Join(s.dir, name+".plan.json")
	args := append(append([]string{"plan"}, s.conn(inv)...), append([]string{"--json", "-o", path}, extra...)...)
	r := s.fix(ctx, t, args...)
	if r.code != 0 && r.code != 2 {
		t.Fatalf("plan %s: %s", name, r)
	}
	var p plan.Plan
	if err := json.Unmarshal([]byte(r.stdout), &p); err != nil {
		t.Fatalf("plan %s: decoding the JSON: %v\n%s", name, err, r)
	}
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(bytes.TrimSpace(b), bytes.TrimSpace([]byte(r.stdout))) {
		t.Errorf("plan %s: -o %s differs from --json (%v)", name, path, err)
	}
	if bytes.Contains(b, []byte(samba.AdminPassword)) {
		t.Errorf("the password is in the plan file")
	}
	return &p, path, r
}

// settledPlan plans until two plans in a row have the same fingerprint (at most five
// plans, 3 s apart): right after a break, a third DC's own pulls are still changing what it
// records (64, then 1225 or 2), and apply rightly refuses a plan made from facts that moved
// since (drift). An operator would plan again; so does the suite, and says so.
func (s *suite) settledPlan(ctx context.Context, t *testing.T, name, inv string, extra ...string) (*plan.Plan, string, result) {
	t.Helper()
	p, path, r := s.plan(ctx, t, name, inv, extra...)
	for try := 2; try <= 5; try++ {
		time.Sleep(3 * time.Second)
		p2, path2, r2 := s.plan(ctx, t, name, inv, extra...)
		if p2.Fingerprint == p.Fingerprint {
			return p2, path2, r2
		}
		t.Logf("plan %s: the facts still move (fingerprint %s -> %s); planning again", name, short(p.Fingerprint), short(p2.Fingerprint))
		p, path, r = p2, path2, r2
	}
	return p, path, r
}

// breakLab breaks the lab the way kind describes. A breaker is the case's setup, not
// fix8524: one that fails (Samba timing: a DC that has just restarted refused a logon, seen in
// CI) is logged, the lab is reset to its baseline, and the breaker runs once more.
func (s *suite) breakLab(ctx context.Context, t *testing.T, kind samba.Kind) error {
	t.Helper()
	_, err := s.lab.Break(ctx, kind)
	if err == nil {
		return nil
	}
	t.Logf("break %s failed; resetting the lab and breaking once more: %v", kind, err)
	if rerr := s.lab.Reset(ctx); rerr != nil {
		return errors.Join(err, fmt.Errorf("reset after a failed break: %w", rerr))
	}
	if _, err := s.lab.Break(ctx, kind); err != nil {
		return fmt.Errorf("break %s (second try): %w", kind, err)
	}
	return nil
}

// withoutStrayFailures returns a settled plan in which no failing link is left that the
// playbook does not handle. Right after a break, a partner's own pull may have hit a DC while
// samba restarted (64, 1225, 1722): a real failure, of another kind, which an unattended heal
// rightly counts as needing a human (exit 2). The case is about one cause, so the suite pulls
// those links once (what their next scheduled pull would do) and plans again; it says so.
func (s *suite) withoutStrayFailures(ctx context.Context, t *testing.T, name, inv string) *plan.Plan {
	t.Helper()
	p, _, _ := s.settledPlan(ctx, t, name, inv)
	for try := 1; try <= 3 && len(p.Unmatched) > 0; try++ {
		for _, u := range plan.GroupUnmatched(p.Unmatched) {
			t.Logf("plan %s: %s: another error than the case's; pulling it again", name, u)
			for _, nc := range u.NCs {
				dest, src := strings.ToLower(u.Destination), strings.ToLower(u.Source)
				if _, err := s.lab.Replicate(ctx, dest, src, nc); err != nil {
					t.Logf("replicate %s <- %s %s: %v", dest, src, nc, err)
				}
			}
		}
		p, _, _ = s.settledPlan(ctx, t, name, inv)
	}
	if len(p.Unmatched) > 0 {
		var l []string
		for _, u := range plan.GroupUnmatched(p.Unmatched) {
			l = append(l, u.String())
		}
		t.Fatalf("plan %s: failing links of another kind remain: %s", name, strings.Join(l, "; "))
	}
	return p
}

func short(fp string) string {
	if len(fp) > 19 {
		return fp[:19] + "…"
	}
	return fp
}

func (s *suite) approve(ctx context.Context, t *testing.T, planPath, state string, each ...string) {
	t.Helper()
	args := []string{"approve", planPath, "--by", "e2e", "--expires", "1h", "--reason", "e2e suite", "--state", state}
	for _, id := range each {
		args = append(args, "--allow-each", id)
	}
	if r := s.fix(ctx, t, args...); r.code != 0 {
		t.Fatalf("approve: %s", r)
	}
}

// apply runs `fix8524 apply PLAN --json` (SSH to Samba DCs with the lab's key and known_hosts,
// WinRM to those presented as Windows) and decodes the result.
func (s *suite) apply(ctx context.Context, t *testing.T, planPath, inv, state string, extra ...string) (apply.Result, result) {
	t.Helper()
	args := append([]string{"apply", planPath}, s.conn(inv)...)
	args = append(args, "--state", state, "--emergency", "--reason", e2eReason, "--verify-timeout", "2m", "--json")
	r := s.fix(ctx, t, append(args, extra...)...)
	var res apply.Result
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("apply: decoding the JSON result: %v\n%s", err, r)
	}
	t.Logf("apply: exit %d, outcome %s\n%s", r.code, res.Outcome, clip(r.stderr, 3000))
	return res, r
}

// gather reads the forest with `fix8524 gather --dc` into a snapshot.
func (s *suite) gather(ctx context.Context, t *testing.T, inv string) *facts.Snapshot {
	t.Helper()
	r := s.fix(ctx, t, append([]string{"gather"}, s.conn(inv)...)...)
	if r.code != 0 {
		t.Fatalf("gather: %s", r)
	}
	snap, err := facts.Decode(strings.NewReader(r.stdout))
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	return snap
}

// ---- what the plan says -------------------------------------------------------------------

func finding(t *testing.T, p *plan.Plan, id string) *plan.Finding {
	t.Helper()
	var ids []string
	for i := range p.Findings {
		if p.Findings[i].ID == id {
			return &p.Findings[i]
		}
		ids = append(ids, p.Findings[i].ID)
	}
	t.Fatalf("the plan has no finding %s (findings: %v, unmatched: %+v)", id, ids, p.Unmatched)
	return nil
}

func decisionOf(f *plan.Finding) string {
	if f.Decision == nil {
		return "(" + string(f.Status) + ": " + f.Incomplete + ")"
	}
	return f.Decision.Name
}

func requireDecision(t *testing.T, f *plan.Finding, want string) {
	t.Helper()
	if f.Status != plan.FindingDiagnosed || f.Decision == nil || f.Decision.Name != want {
		t.Fatalf("%s: decision %s, want %s (walk %+v)", f.ID, decisionOf(f), want, f.Walk)
	}
}

func evidence(t *testing.T, f *plan.Finding, check string) plan.CheckResult {
	t.Helper()
	for _, c := range f.Evidence {
		if c.Name == check {
			return c
		}
	}
	t.Fatalf("%s: no evidence %s", f.ID, check)
	return plan.CheckResult{}
}

// requireObservation: the check's evidence holds an observation at target with rcode (and,
// when answer is not empty, that answer).
func requireObservation(t *testing.T, c plan.CheckResult, status plan.Status, target, rcode, answer string) {
	t.Helper()
	if c.Status != status {
		t.Errorf("check %s: %s, want %s (%s)", c.Name, c.Status, status, c.Summary)
	}
	for _, o := range c.Observations {
		if o.Target != target {
			continue
		}
		if o.Rcode != rcode || (answer != "" && !contains(o.Answers, answer)) {
			t.Errorf("check %s at %s: %s %v, want %s %q", c.Name, target, o.Rcode, o.Answers, rcode, answer)
		}
		return
	}
	t.Errorf("check %s: no observation at %s: %+v", c.Name, target, c.Observations)
}

func action(t *testing.T, f *plan.Finding, name string) plan.Action {
	t.Helper()
	for _, a := range f.Actions {
		if a.Name == name {
			return a
		}
	}
	t.Fatalf("%s: no action %s (actions %v)", f.ID, name, actionNames(f))
	return plan.Action{}
}

func actionNames(f *plan.Finding) []string {
	var n []string
	for _, a := range f.Actions {
		n = append(n, a.Name)
	}
	return n
}

// noCleanup: the plan offers no delete anywhere.
func noCleanup(t *testing.T, p *plan.Plan) {
	t.Helper()
	for _, f := range p.Findings {
		for _, a := range f.Actions {
			if a.Kind == plan.KindLDAPDelete || a.Name == "metadata_cleanup" {
				t.Errorf("%s offers %s", f.ID, a.ID)
			}
		}
	}
}

func requireApplied(t *testing.T, res apply.Result, r result, id string) *apply.FindingResult {
	t.Helper()
	if r.code != 0 || res.Outcome != apply.Succeeded {
		t.Fatalf("apply: outcome %s, exit %d, refusals %+v, findings %+v\n%s", res.Outcome, r.code, res.Refusals, res.Findings, r)
	}
	for i := range res.Findings {
		if res.Findings[i].ID == id {
			if res.Findings[i].Outcome != apply.Succeeded {
				t.Fatalf("apply %s: %s (%s)", id, res.Findings[i].Outcome, res.Findings[i].Reason)
			}
			return &res.Findings[i]
		}
	}
	t.Fatalf("apply: no result for %s: %+v", id, res.Findings)
	return nil
}

// ---- replication really works ---------------------------------------------------------------

// requireGreen asserts that dest replicates from every source in srcs: fix8524 gather reads
// result 0 for every naming context of each link (over LDAP), and the harness's
// `samba-tool drs showrepl` on dest agrees. Links into dest whose source DSA was deleted
// (allowDeleted, after a metadata cleanup) are allowed until the KCC removes them.
func (s *suite) requireGreen(ctx context.Context, t *testing.T, inv, dest string, srcs []string, allowDeleted string) {
	t.Helper()
	guids := map[string]string{} // guid -> dc
	for _, src := range srcs {
		g, err := s.lab.GUIDOn(ctx, src, dest)
		if err != nil || g == "" {
			t.Fatalf("%s's GUID in %s's copy: %q %v", src, dest, g, err)
		}
		guids[g] = src
	}
	snap := s.gather(ctx, t, inv)
	seen := map[string]int{}
	for _, l := range snap.Links {
		if !strings.EqualFold(l.Destination, dest) {
			continue
		}
		g := strings.ToLower(l.SourceDSAGUID)
		if allowDeleted != "" && g == allowDeleted {
			continue
		}
		if l.LastResult != 0 {
			t.Errorf("gather: %s <- %s %s: result %d", dest, g, l.NC, l.LastResult)
		}
		if src, ok := guids[g]; ok {
			seen[src]++
		}
	}
	for _, src := range srcs {
		if seen[src] != len(samba.NCs) {
			t.Errorf("gather: %s <- %s: %d naming contexts read, want %d", dest, src, seen[src], len(samba.NCs))
		}
	}
	reps, err := s.lab.RepsFrom(ctx, dest)
	if err != nil {
		t.Fatalf("showrepl %s: %v", dest, err)
	}
	got := map[string]int{}
	for _, r := range reps {
		if allowDeleted != "" && r.SourceGUID == allowDeleted {
			continue
		}
		if r.Result != 0 {
			t.Errorf("showrepl: %s <- %s %s: %s", dest, r.SourceGUID, r.NC, r.Message)
		}
		if src, ok := guids[r.SourceGUID]; ok {
			got[src]++
		}
	}
	for _, src := range srcs {
		if got[src] != len(samba.NCs) {
			t.Errorf("showrepl: %s <- %s: %d naming contexts, want %d", dest, src, got[src], len(samba.NCs))
		}
	}
}

// waitGreen polls requireGreen's LDAP half (cheap) until dest's links from srcs all report 0,
// for the time between a fix and the next scheduled pull; then runs requireGreen.
func (s *suite) waitGreen(ctx context.Context, t *testing.T, inv, dest string, srcs []string, allowDeleted string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		reps, err := s.lab.RepsFrom(ctx, dest)
		if err == nil && allZero(reps, allowDeleted) {
			break
		}
		if time.Now().After(deadline) {
			break // requireGreen reports what is wrong
		}
		time.Sleep(2 * time.Second)
	}
	s.requireGreen(ctx, t, inv, dest, srcs, allowDeleted)
}

func allZero(reps []samba.RepsFrom, skip string) bool {
	for _, r := range reps {
		if r.Result != 0 && r.SourceGUID != skip {
			return false
		}
	}
	return len(reps) > 0
}

// waitGone waits until server's copy no longer holds dc's NTDS Settings (a deletion made on
// another DC replicating there), polling every 2 s for at most within; then fails the test,
// saying so.
func (s *suite) waitGone(ctx context.Context, t *testing.T, dc, server string, within time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		on, err := s.lab.GUIDOn(ctx, dc, server)
		if err == nil && on == "" {
			t.Logf("%s's copy lost %s's NTDS Settings %.1f s after the cleanup (replication)", server, dc, time.Since(start).Seconds())
			return
		}
		if time.Since(start) > within {
			t.Errorf("%s still holds %s's NTDS Settings (%q, %v) %s after the cleanup: the deletion did not replicate there", server, dc, on, err, within)
			return
		}
		time.Sleep(2 * time.Second)
	}
}

// recordFailure makes dest pull every naming context from src once, as its next scheduled pull
// would, so that its repsFrom holds the real result. A first pull after src went away can fail
// with 64 (a dead cached connection): pulled again, at most three times, as the lab's
// breakers do.
func (s *suite) recordFailure(ctx context.Context, t *testing.T, dest, src string) {
	t.Helper()
	for try := 1; try <= 3; try++ {
		res, err := s.lab.Replicate(ctx, dest, src, "")
		if err != nil {
			t.Logf("replicate %s <- %s: %v", dest, src, err)
			continue
		}
		again := false
		for _, r := range res {
			again = again || r.Result == 64
		}
		if !again {
			return
		}
		t.Logf("replicate %s <- %s (try %d): a dead cached connection (64); pulling again", dest, src, try)
	}
}

// decisionOrUnmatched says what the plan holds for the link id: its finding's decision, or its
// unmatched failures.
func decisionOrUnmatched(p *plan.Plan, id string) string {
	for i := range p.Findings {
		if p.Findings[i].ID == id {
			return decisionOf(&p.Findings[i])
		}
	}
	var l []string
	for _, u := range plan.GroupUnmatched(p.Unmatched) {
		l = append(l, u.String())
	}
	return "no finding; unmatched: " + strings.Join(l, "; ")
}

// ---- the lab's DCs as "Windows" -------------------------------------------------------------

// presentAsWindows sets the operatingSystem of dc's computer object (on dc1, the seed) to a
// Windows Server's, so that fix8524 sees a Windows DC: it reads the platform from that
// attribute and picks WinRM and the playbook's PowerShell bodies for it. It returns a restore
// function (idempotent), also registered with t.Cleanup.
func (s *suite) presentAsWindows(ctx context.Context, t *testing.T, dc string) func() {
	t.Helper()
	dn := "CN=" + strings.ToUpper(dc) + ",OU=Domain Controllers," + samba.BaseDN
	out, err := s.ldb(ctx, "ldbsearch", "", "-b", dn, "-s", "base", "operatingSystem", "operatingSystemVersion")
	if err != nil {
		t.Fatalf("read %s: %v", dn, err)
	}
	var osName, osVer string
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "operatingSystem: "); ok {
			osName = v
		}
		if v, ok := strings.CutPrefix(line, "operatingSystemVersion: "); ok {
			osVer = v
		}
	}
	set := func(name, ver string) error {
		var b strings.Builder
		fmt.Fprintf(&b, "dn: %s\nchangetype: modify\n", dn)
		for _, kv := range [][2]string{{"operatingSystem", name}, {"operatingSystemVersion", ver}} {
			if kv[1] == "" {
				fmt.Fprintf(&b, "delete: %s\n-\n", kv[0])
			} else {
				fmt.Fprintf(&b, "replace: %s\n%s: %s\n-\n", kv[0], kv[0], kv[1])
			}
		}
		_, err := s.ldb(ctx, "ldbmodify", b.String())
		return err
	}
	if err := set(windowsOS, windowsVer); err != nil {
		t.Fatalf("present %s as Windows: %v", dc, err)
	}
	var once sync.Once
	restore := func() {
		once.Do(func() {
			// "delete" of an attribute that was never there fails: only delete what we set
			if osName == "" && osVer == "" {
				var b strings.Builder
				fmt.Fprintf(&b, "dn: %s\nchangetype: modify\ndelete: operatingSystem\n-\ndelete: operatingSystemVersion\n-\n", dn)
				if _, err := s.ldb(context.Background(), "ldbmodify", b.String()); err != nil {
					t.Errorf("restore %s: %v", dn, err)
				}
				return
			}
			if err := set(osName, osVer); err != nil {
				t.Errorf("restore %s: %v", dn, err)
			}
		})
	}
	t.Cleanup(restore)
	return restore
}

// ldb runs an ldb tool against dc1 inside the namespace; the password reaches it through
// Samba's PASSWD variable, never the command line. For ldbmodify, arg is the LDIF (stdin);
// for ldbsearch, it is ignored.
func (s *suite) ldb(ctx context.Context, tool, ldif string, args ...string) ([]byte, error) {
	argv := append([]string{tool, "-H", "ldap://" + samba.IP(samba.Dest), "-U", samba.AdminUser, "--use-kerberos=off"}, args...)
	cmd := s.lab.Command(ctx, argv...)
	cmd.Env = append(cmd.Env, "PASSWD="+samba.AdminPassword)
	cmd.Stdin = strings.NewReader(ldif)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %v: %s", tool, err, samba.Redact(clip(stderr.String(), 400)))
	}
	return stdout.Bytes(), nil
}

// standIn starts a WS-Management server inside the lab's namespace on dc's address, port
// 5985 (HTTP with NTLM sealing, as a default Windows listener), that runs the Samba
// equivalent of each script on dc. Closed with t.Cleanup.
func (s *suite) standIn(t *testing.T, dc string) (*WindowsStandIn, *labwinrm.Server) {
	t.Helper()
	h := &WindowsStandIn{DC: dc, Shell: s.lab, Logf: t.Logf}
	var srv *labwinrm.Server
	err := InNetNS(s.lab.NS, func() error {
		var err error
		srv, err = labwinrm.Listen(samba.IP(dc)+":5985", labwinrm.Config{
			Users:  map[string]string{samba.Domain + `\` + samba.AdminUser: samba.AdminPassword},
			Domain: samba.Domain, DNSDomain: samba.DNSDomain, Computer: strings.ToUpper(dc),
			NTLM: true, Handler: h, // one log line per script (the stand-in's), not per request
		})
		return err
	})
	if err != nil {
		t.Fatalf("WS-Management server for %s in %s: %v", dc, s.lab.NS, err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	t.Logf("WS-Management stand-in for %s listening on %s inside %s", dc, srv.URL(), s.lab.NS)
	return h, srv
}

func calledNames(h *WindowsStandIn) []string {
	var n []string
	for _, c := range h.Calls() {
		n = append(n, fmt.Sprintf("%s=%d", c.Name, c.Exit))
	}
	sort.Strings(n)
	return n
}

// setResolver points dc's DNS client at ip, on the DC itself (its /etc/resolv.conf over the
// DC's own sshd), as an admin would. Only lab constants reach the command line.
func (s *suite) setResolver(ctx context.Context, t *testing.T, dc, ip string) {
	t.Helper()
	if samba.IP(dc) == "" || (ip != samba.IP("dc1") && ip != samba.IP("dc2") && ip != samba.IP("dc3")) {
		t.Fatalf("setResolver %q %q: not a lab DC", dc, ip)
	}
	line := fmt.Sprintf("printf 'nameserver %s\\nsearch %s\\n' > /etc/resolv.conf", ip, samba.DNSDomain)
	if out, err := s.lab.SSH(ctx, dc, line); err != nil {
		t.Fatalf("set %s's resolver: %v %s", dc, err, out)
	}
}
