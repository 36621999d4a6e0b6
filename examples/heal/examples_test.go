// Package heal_test checks the scheduling examples: the policy parses and validates against
// the shipped playbook, the systemd units, the cron line and the Task Scheduler XML are
// well-formed and agree on one set of heal flags.
package heal_test

import (
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/plan"
	"github.com/fix8524/fix8524/playbooks"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPolicyExample(t *testing.T) {
	p, diags := policy.Load("policy.hcl")
	if len(diags) != 0 {
		t.Fatalf("policy.hcl must parse without any diagnostic:\n%s", policy.FormatDiagnostics(diags))
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.MaxActionsPerRun != 3 || p.MaxDCsPer24h != 2 || p.Cooldown != time.Hour ||
		p.CooldownFor("retry_replication") != 2*time.Hour || p.Breaker.Failures != 3 ||
		len(p.Windows) != 1 || len(p.Notify) != 2 || len(p.Allow) != 1 || p.Allow[0].MaxRisk != plan.RiskLow {
		t.Errorf("policy.hcl decoded as %+v", p)
	}
	// Every notify target keeps its secrets in the environment.
	for _, n := range p.Notify {
		if n.URL != "" && (strings.Contains(n.URL, "hooks.slack.com") || strings.Contains(n.URL, "webhook.office.com")) {
			t.Errorf("%s: a chat webhook URL written in the file", n.Name)
		}
	}
	// Checked against the shipped playbook: no error, no warning.
	pb, _, pdiags := playbooks.Load(engine.LoadOptions{})
	if pdiags.HasErrors() {
		t.Fatal(pdiags.Error())
	}
	if lint := heal.Lint(p, pb); len(lint) != 0 {
		t.Errorf("policy.hcl against the playbook:\n%s", policy.FormatDiagnostics(lint))
	}
	// And it never lets metadata cleanup through.
	vs := policy.Decide(p, []policy.Candidate{{ID: "x", Action: "metadata_cleanup", Risk: "high", Kind: plan.KindLDAPDelete, Target: "DC1"}},
		emptyHistory{}, time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC))
	if vs[0].Approved || vs[0].Hold != policy.HoldNever {
		t.Errorf("metadata cleanup: %+v", vs[0])
	}
	// Every line of the file that sets something is explained by a comment above or beside it.
	lines := strings.Split(read(t, "policy.hcl"), "\n")
	for i, l := range lines {
		s := strings.TrimSpace(l)
		if s == "" || strings.HasPrefix(s, "#") || s == "}" || strings.HasSuffix(s, "{") || strings.Contains(s, "#") {
			continue
		}
		if i == 0 || !strings.HasPrefix(strings.TrimSpace(lines[i-1]), "#") && !strings.HasSuffix(strings.TrimSpace(lines[i-1]), "{") &&
			!strings.Contains(lines[i-1], "=") {
			t.Errorf("policy.hcl:%d: %q is not documented", i+1, s)
		}
	}
}

type emptyHistory struct{}

func (emptyHistory) LastApplied(string, string) (time.Time, bool, error) {
	return time.Time{}, false, nil
}
func (emptyHistory) DCsTouchedSince(time.Time) ([]string, error)     { return nil, nil }
func (emptyHistory) FailedVerificationsSince(time.Time) (int, error) { return 0, nil }
func (emptyHistory) BreakerState() (bool, time.Time, error)          { return false, time.Time{}, nil }

// unit parses a systemd unit file into section -> key -> values (continuation lines joined).
func unit(t *testing.T, name string) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	sec := ""
	var cont string
	for i, l := range strings.Split(read(t, name), "\n") {
		if cont != "" {
			l = cont + " " + strings.TrimSpace(l)
			cont = ""
		}
		if strings.HasSuffix(l, "\\") {
			cont = strings.TrimSuffix(l, "\\")
			continue
		}
		s := strings.TrimSpace(l)
		switch {
		case s == "" || strings.HasPrefix(s, "#") || strings.HasPrefix(s, ";"):
		case strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]"):
			sec = s[1 : len(s)-1]
			out[sec] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(s, "=")
			if !ok || sec == "" {
				t.Fatalf("%s:%d: not a key=value line in a section: %q", name, i+1, s)
			}
			out[sec][k] = append(out[sec][k], strings.Join(strings.Fields(v), " "))
		}
	}
	return out
}

func one(t *testing.T, u map[string]map[string][]string, sec, key string) string {
	t.Helper()
	v := u[sec][key]
	if len(v) == 0 {
		t.Errorf("[%s] %s= missing", sec, key)
		return ""
	}
	return v[len(v)-1]
}

func TestSystemdUnits(t *testing.T) {
	for _, name := range []string{"fix8524-heal.service", "fix8524-heal-loop.service"} {
		u := unit(t, name)
		for k, want := range map[string]string{
			"ProtectSystem":         "strict",
			"NoNewPrivileges":       "yes",
			"StateDirectory":        "fix8524",
			"ProtectHome":           "yes",
			"PrivateTmp":            "yes",
			"CapabilityBoundingSet": "",
			"LoadCredential":        "ad-password:/etc/fix8524/ad-password",
			"User":                  "fix8524",
		} {
			if got := one(t, u, "Service", k); got != want {
				t.Errorf("%s: %s=%q, want %q", name, k, got, want)
			}
		}
		if _, ok := u["Service"]["DynamicUser"]; ok {
			t.Errorf("%s: DynamicUser is not wanted (the journal must keep one owner)", name)
		}
		exe := one(t, u, "Service", "ExecStart")
		for _, w := range []string{"/usr/local/bin/fix8524 heal ", "--policy /etc/fix8524/policy.hcl", "--password-file %d/ad-password", "--state %S/fix8524"} {
			if !strings.Contains(exe, w) {
				t.Errorf("%s: ExecStart lacks %q: %s", name, w, exe)
			}
		}
		checkFlags(t, name, exe)
	}
	svc := unit(t, "fix8524-heal.service")
	if one(t, svc, "Service", "Type") != "oneshot" || one(t, svc, "Service", "SuccessExitStatus") != "3" {
		t.Error("fix8524-heal.service: want Type=oneshot and SuccessExitStatus=3")
	}
	if !strings.Contains(one(t, svc, "Service", "ExecStart"), "--metrics-textfile /var/lib/prometheus/node-exporter/fix8524.prom") ||
		!strings.Contains(one(t, svc, "Service", "ReadWritePaths"), "/var/lib/prometheus/node-exporter") {
		t.Error("fix8524-heal.service: the textfile directory must be in ExecStart and ReadWritePaths")
	}
	loop := unit(t, "fix8524-heal-loop.service")
	if exe := one(t, loop, "Service", "ExecStart"); !strings.Contains(exe, "--every 15m") || !strings.Contains(exe, "--metrics-listen 127.0.0.1:9524") ||
		strings.Contains(exe, "--metrics-allow-remote") {
		t.Errorf("loop ExecStart: %s", exe)
	}
	tm := unit(t, "fix8524-heal.timer")
	if one(t, tm, "Timer", "OnCalendar") != "*:0/15" || one(t, tm, "Timer", "Unit") != "fix8524-heal.service" ||
		one(t, tm, "Install", "WantedBy") != "timers.target" {
		t.Errorf("timer: %v", tm)
	}

	// systemd's own checker, where it is installed: no warning at all about our files.
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze not installed: skipping systemd-analyze verify")
		return
	}
	dir := t.TempDir()
	var args []string
	for _, name := range []string{"fix8524-heal.service", "fix8524-heal.timer", "fix8524-heal-loop.service"} {
		// verify insists that ExecStart's binary exists: point it at one that does.
		b := strings.ReplaceAll(read(t, name), "/usr/local/bin/fix8524", "/bin/true")
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b), 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, filepath.Join(dir, name))
	}
	out, err := exec.Command(sa, append([]string{"verify", "--man=no"}, args...)...).CombinedOutput()
	if err != nil || strings.Contains(string(out), dir) {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestCronLine(t *testing.T) {
	var lines []string
	for _, l := range strings.Split(read(t, "fix8524-heal.cron"), "\n") {
		s := strings.TrimSpace(l)
		if s == "" || strings.HasPrefix(s, "#") || regexp.MustCompile(`^[A-Z_]+=`).MatchString(s) {
			continue
		}
		lines = append(lines, s)
	}
	if len(lines) != 1 {
		t.Fatalf("want exactly one job line, got %q", lines)
	}
	f := strings.Fields(lines[0])
	if len(f) < 7 {
		t.Fatalf("job line %q", lines[0])
	}
	if _, err := cron.ParseStandard(strings.Join(f[:5], " ")); err != nil {
		t.Errorf("schedule %q: %v", strings.Join(f[:5], " "), err)
	}
	if f[5] != "fix8524" {
		t.Errorf("user field %q", f[5])
	}
	cmd := strings.Join(f[6:], " ")
	if strings.Contains(cmd, "%") {
		t.Error("a % in a cron command becomes a newline")
	}
	if !strings.Contains(cmd, "/usr/local/bin/fix8524 heal --dc ") || !strings.Contains(cmd, "--policy /etc/fix8524/policy.hcl") {
		t.Errorf("command %q", cmd)
	}
	checkFlags(t, "fix8524-heal.cron", cmd)
}

// task mirrors the parts of the Task Scheduler schema the example uses.
type task struct {
	XMLName  xml.Name `xml:"http://schemas.microsoft.com/windows/2004/02/mit/task Task"`
	Version  string   `xml:"version,attr"`
	Interval string   `xml:"Triggers>TimeTrigger>Repetition>Interval"`
	Start    string   `xml:"Triggers>TimeTrigger>StartBoundary"`
	Logon    string   `xml:"Principals>Principal>LogonType"`
	RunLevel string   `xml:"Principals>Principal>RunLevel"`
	Multi    string   `xml:"Settings>MultipleInstancesPolicy"`
	Limit    string   `xml:"Settings>ExecutionTimeLimit"`
	Command  string   `xml:"Actions>Exec>Command"`
	Args     string   `xml:"Actions>Exec>Arguments"`
}

func TestTaskSchedulerXML(t *testing.T) {
	raw := read(t, "fix8524-heal.xml")
	for i, r := range raw {
		if r > 0x7e || (r < 0x20 && r != '\n' && r != '\r' && r != '\t') {
			t.Fatalf("byte %d: %q is not plain ASCII (schtasks reads files in the ANSI code page unless they carry a BOM)", i, r)
		}
	}
	for _, c := range regexp.MustCompile(`(?s)<!--(.*?)-->`).FindAllStringSubmatch(raw, -1) {
		if strings.Contains(c[1], "--") {
			t.Error("an XML comment contains \"--\", which XML forbids")
		}
	}
	var tk task
	if err := xml.Unmarshal([]byte(raw), &tk); err != nil {
		t.Fatal(err)
	}
	if tk.Interval != "PT15M" || tk.Multi != "IgnoreNew" || tk.RunLevel != "LeastPrivilege" || tk.Logon != "Password" || tk.Limit == "" || tk.Start == "" {
		t.Errorf("task %+v", tk)
	}
	if !strings.HasSuffix(strings.Trim(tk.Command, `"`), `\fix8524.exe`) {
		t.Errorf("command %q", tk.Command)
	}
	if !strings.HasPrefix(tk.Args, "heal --dc ") || !strings.Contains(tk.Args, "--policy ") {
		t.Errorf("arguments %q", tk.Args)
	}
	checkFlags(t, "fix8524-heal.xml", tk.Args)
}

func TestContainerExample(t *testing.T) {
	c := read(t, "compose.yaml")
	for _, w := range []string{`"127.0.0.1:9524:9524"`, "- --metrics-allow-remote", "- --every", "- 15m", "read_only: true", "cap_drop: [ALL]", "/run/secrets/ad-password"} {
		if !strings.Contains(c, w) {
			t.Errorf("compose.yaml lacks %q", w)
		}
	}
	var args []string
	for _, l := range strings.Split(c, "\n") {
		if s := strings.TrimSpace(l); strings.HasPrefix(s, "- --") {
			args = append(args, strings.TrimPrefix(s, "- "))
		}
	}
	checkFlags(t, "compose.yaml", strings.Join(args, " "))
	if cf := read(t, "Containerfile"); !strings.Contains(cf, "USER 65532") {
		t.Error("Containerfile must not run as root")
	}
}

// knownFlags is the heal command line the examples rely on (README.md lists it for the CLI).
var knownFlags = map[string]bool{
	"dc": true, "user": true, "password-file": true, "kerberos": true, "keytab": true, "policy": true, "state": true,
	"every": true, "metrics-listen": true, "metrics-allow-remote": true, "metrics-textfile": true,
}

func checkFlags(t *testing.T, file, cmdline string) {
	t.Helper()
	var unknown []string
	for _, m := range regexp.MustCompile(`(?:^|\s)--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(cmdline, -1) {
		if !knownFlags[m[1]] {
			unknown = append(unknown, m[1])
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("%s uses flags not in the documented set: %v", file, unknown)
	}
	readme := read(t, "README.md")
	for _, m := range regexp.MustCompile(`(?:^|\s)--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(cmdline, -1) {
		if !strings.Contains(readme, "--"+m[1]) {
			t.Errorf("%s: --%s is not in README.md", file, m[1])
		}
	}
}
