package policy

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/fix8524/fix8524/plan"
)

const fullPolicy = `
max_actions_per_run = 5
max_dcs_per_24h     = 4
cooldown            = "2h"
deny                = ["restart_netlogon"]

allow "low" {
  max_risk = "low"
}

allow "retries" {
  max_risk = "medium"
  actions  = ["retry_replication", "register_dns"]
}

action "retry_replication" {
  cooldown = "30m"
}

breaker {
  failures = 4
  within   = "1d"
}

window "weeknights" {
  cron      = "0 22 * * MON-FRI"
  duration  = "8h"
  time_zone = "Europe/Berlin"
}

notify "ops" {
  url_env        = "FIX8524_WEBHOOK_URL"
  headers        = { "X-Team" = "ad-ops" }
  secret_headers = { Authorization = "FIX8524_WEBHOOK_TOKEN" }
  timeout        = "5s"
  attempts       = 4
  events         = ["held", "breaker_open"]
}
`

func TestParseFull(t *testing.T) {
	p, diags := Parse("full.hcl", []byte(fullPolicy))
	if diags.HasErrors() || len(diags) != 0 {
		t.Fatalf("diagnostics:\n%s", FormatDiagnostics(diags))
	}
	if err := p.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	if p.Builtin || p.Source != "full.hcl" {
		t.Errorf("source %q builtin %v", p.Source, p.Builtin)
	}
	if p.MaxActionsPerRun != 5 || p.MaxDCsPer24h != 4 || p.Cooldown != 2*time.Hour {
		t.Errorf("numbers: %+v", p)
	}
	if len(p.Deny) != 1 || p.Deny[0] != "restart_netlogon" {
		t.Errorf("deny %v", p.Deny)
	}
	if len(p.Allow) != 2 || p.Allow[1].MaxRisk != plan.RiskMedium || strings.Join(p.Allow[1].Actions, ",") != "retry_replication,register_dns" {
		t.Errorf("allow %+v", p.Allow)
	}
	if p.CooldownFor("retry_replication") != 30*time.Minute || p.CooldownFor("other") != 2*time.Hour {
		t.Errorf("cooldowns %v", p.ActionCooldowns)
	}
	if p.Breaker != (BreakerRule{Failures: 4, Within: 24 * time.Hour}) {
		t.Errorf("breaker %+v", p.Breaker)
	}
	if len(p.Windows) != 1 || p.Windows[0].Name != "weeknights" || p.Windows[0].Duration != 8*time.Hour || p.Windows[0].TimeZone != "Europe/Berlin" {
		t.Errorf("windows %+v", p.Windows)
	}
	if len(p.Notify) != 1 {
		t.Fatalf("notify %+v", p.Notify)
	}
	n := p.Notify[0]
	if n.Name != "ops" || n.URLEnv != "FIX8524_WEBHOOK_URL" || n.Headers["X-Team"] != "ad-ops" ||
		n.SecretHeaders["Authorization"] != "FIX8524_WEBHOOK_TOKEN" || n.Timeout != 5*time.Second || n.Attempts != 4 ||
		strings.Join(n.Events, ",") != "held,breaker_open" {
		t.Errorf("notify %+v", n)
	}
	desc := p.Describe()
	for _, want := range []string{"full.hcl", `allow "retries": retry_replication, register_dns up to medium risk`, "never unattended", "weeknights", "ops (url from $FIX8524_WEBHOOK_URL)"} {
		if !strings.Contains(desc, want) {
			t.Errorf("Describe lacks %q:\n%s", want, desc)
		}
	}
}

func TestParseEmptyIsDefaultSettings(t *testing.T) {
	p, diags := Parse("empty.hcl", []byte("# nothing\n"))
	if len(diags) != 0 {
		t.Fatalf("diagnostics:\n%s", FormatDiagnostics(diags))
	}
	d := Default()
	if p.MaxActionsPerRun != d.MaxActionsPerRun || p.MaxDCsPer24h != d.MaxDCsPer24h || p.Cooldown != d.Cooldown || p.Breaker != d.Breaker {
		t.Errorf("empty policy %+v, want the default settings %+v", p, d)
	}
	// No allow block: the default rule (low risk only) is added by Parse.
	if len(p.Allow) != 1 || p.Allow[0].MaxRisk != plan.RiskLow || len(p.Allow[0].Actions) != 0 {
		t.Errorf("allow %+v", p.Allow)
	}
	if p.Builtin {
		t.Error("a parsed file is not the built-in default")
	}
}

func TestDefault(t *testing.T) {
	p := Default()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if !p.Builtin || p.Source != BuiltinSource || len(p.Allow) != 1 || p.Allow[0].MaxRisk != plan.RiskLow ||
		p.Cooldown != time.Hour || p.MaxActionsPerRun != 3 || p.MaxDCsPer24h != 2 ||
		p.Breaker != (BreakerRule{3, 6 * time.Hour}) || len(p.Windows) != 0 || len(p.Notify) != 0 {
		t.Errorf("Default() = %+v", p)
	}
	q, notice, diags := LoadOrDefault("")
	if len(diags) != 0 || notice != DefaultNotice || !q.Builtin {
		t.Errorf("LoadOrDefault(\"\") = %v, %q, %v", q, notice, diags)
	}
	if !strings.Contains(notice, "no --policy given") || !strings.Contains(notice, "built-in default") {
		t.Errorf("notice %q", notice)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "p.hcl")
	if err := os.WriteFile(path, []byte("cooldown = \"3h\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p, notice, diags := LoadOrDefault(path)
	if len(diags) != 0 || notice != "" || p.Cooldown != 3*time.Hour || p.Source != path {
		t.Fatalf("LoadOrDefault = %+v, %q, %s", p, notice, FormatDiagnostics(diags))
	}
	_, diags = Load(filepath.Join(dir, "missing.hcl"))
	if !diags.HasErrors() || !strings.Contains(FormatDiagnostics(diags), "Cannot read the policy file") {
		t.Errorf("missing file: %s", FormatDiagnostics(diags))
	}
	big := filepath.Join(dir, "big.hcl")
	if err := os.WriteFile(big, []byte(strings.Repeat("#", MaxFileSize+10)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, diags := Load(big); !diags.HasErrors() {
		t.Error("an oversized file was accepted")
	}
}

// TestParseDiagnostics checks that each mistake is an error located at file:line:col.
func TestParseDiagnostics(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string // substrings of the formatted diagnostics, positions included
	}{
		{"high risk", "allow \"x\" {\n  max_risk = \"high\"\n}\n",
			[]string{"p.hcl:2:14: error: High risk can never run unattended", "hard-coded, not a policy option"}},
		{"cleanup option", "allow_metadata_cleanup = true\n",
			[]string{"p.hcl:1:1: error: Metadata cleanup can never run unattended", "not a policy option"}},
		{"cleanup option in allow", "allow \"x\" {\n  include_cleanup = true\n}\n",
			[]string{"p.hcl:2:3: error: Metadata cleanup can never run unattended"}},
		{"cleanup block", "cleanup {\n}\n", []string{"p.hcl:1:1: error: Metadata cleanup can never run unattended"}},
		{"unknown argument", "foo = 1\n", []string{"p.hcl:1:1: error: Unsupported argument"}},
		{"unknown risk", "allow \"x\" { max_risk = \"extreme\" }\n", []string{"p.hcl:1:24: error: Invalid risk"}},
		{"cooldown too short", "cooldown = \"10s\"\n", []string{"p.hcl:1:12: error: Value out of range", "between 1m0s and 720h0m0s"}},
		{"cooldown not a duration", "cooldown = \"soon\"\n", []string{"p.hcl:1:12: error: Invalid duration"}},
		{"cooldown number", "cooldown = 5\n", []string{"p.hcl:1:12: error: Incorrect attribute value type", "must be a string"}},
		{"zero per run", "max_actions_per_run = 0\n", []string{"p.hcl:1:23: error: Value out of range"}},
		{"fraction", "max_dcs_per_24h = 1.5\n", []string{"p.hcl:1:19: error: Invalid value", "whole number"}},
		{"huge", "max_dcs_per_24h = 1e100\n", []string{"error: Value out of range"}},
		{"string number", "max_dcs_per_24h = \"2\"\n", []string{"error: Incorrect attribute value type"}},
		{"null", "cooldown = null\n", []string{"p.hcl:1:12: error: Invalid value", "must not be null"}},
		{"variable", "cooldown = var.x\n", []string{"p.hcl:1:12: error: Variables not allowed"}},
		{"function", "cooldown = lower(\"1H\")\n", []string{"p.hcl:1:12: error: Function calls not allowed"}},
		{"bad deny name", "deny = [\"ok\", \"no way\"]\n", []string{"p.hcl:1:15: error: Invalid action name"}},
		{"deny not list", "deny = \"x\"\n", []string{"error: Incorrect attribute value type"}},
		{"deny null elem", "deny = [\"a\", null]\n", []string{"p.hcl:1:14: error: Invalid value"}},
		{"dup allow", "allow \"a\" {}\nallow \"a\" {}\n", []string{"p.hcl:2:7: error: Duplicate allow block", "already defined at p.hcl:1:7"}},
		{"two breakers", "breaker {}\nbreaker {}\n", []string{"p.hcl:2:1: error: Duplicate breaker block"}},
		{"breaker zero", "breaker { failures = 0 }\n", []string{"p.hcl:1:22: error: Value out of range"}},
		{"breaker label", "breaker \"x\" {}\n", []string{"error: Extraneous label"}},
		{"window bad cron", "window \"w\" {\n  cron = \"61 * * * *\"\n  duration = \"1h\"\n}\n", []string{"p.hcl:2:10: error: Invalid change window"}},
		{"window bad zone", "window \"w\" {\n  cron = \"0 1 * * *\"\n  duration = \"1h\"\n  time_zone = \"Mars/Olympus\"\n}\n", []string{"p.hcl:4:15: error: Invalid change window", "Mars/Olympus"}},
		{"window bad duration", "window \"w\" {\n  cron = \"0 1 * * *\"\n  duration = \"-1h\"\n}\n", []string{"p.hcl:3:14: error: Invalid change window"}},
		{"window missing cron", "window \"w\" {\n  duration = \"1h\"\n}\n", []string{"error: Missing required argument", "cron"}},
		{"dup window", "window \"w\" {\n cron = \"@daily\"\n duration = \"1h\"\n}\nwindow \"w\" {\n cron = \"@daily\"\n duration = \"1h\"\n}\n", []string{"p.hcl:5:8: error: Duplicate window block"}},
		{"action bad label", "action \"a b\" { cooldown = \"1h\" }\n", []string{"p.hcl:1:8: error: Invalid action name"}},
		{"action no cooldown", "action \"a\" {}\n", []string{"error: Missing required argument"}},
		{"notify secret header in headers", "notify \"n\" {\n  url = \"https://hooks.example.net/x\"\n  headers = { Authorization = \"Bearer abc\" }\n}\n",
			[]string{"p.hcl:3:13: error: Secret header value in the policy file", "secret_headers"}},
		{"notify both urls", "notify \"n\" {\n  url = \"https://x.example/y\"\n  url_env = \"U\"\n}\n", []string{"p.hcl:1:1: error: Invalid notify target", "not both"}},
		{"notify no url", "notify \"n\" {\n}\n", []string{"error: Invalid notify target", "set url or url_env"}},
		{"notify bad event", "notify \"n\" {\n  url_env = \"U\"\n  events = [\"all\"]\n}\n", []string{"error: Invalid notify target", "unknown event"}},
		{"notify attempts", "notify \"n\" {\n  url_env = \"U\"\n  attempts = 50\n}\n", []string{"p.hcl:3:14: error: Value out of range"}},
		{"notify http secret", "notify \"n\" {\n  url = \"http://hooks.example.net/x\"\n  secret_headers = { Authorization = \"T\" }\n}\n", []string{"plain http"}},
		{"syntax", "allow \"x\" {\n", []string{"p.hcl:1:11: error: Unclosed configuration block"}},
		{"not hcl", "\x00\xff{{{", []string{"error:"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, diags := Parse("p.hcl", []byte(c.src))
			if !diags.HasErrors() {
				t.Fatalf("no error for:\n%s", c.src)
			}
			if p != nil {
				t.Errorf("a policy came back with errors")
			}
			got := FormatDiagnostics(diags)
			for _, w := range c.want {
				if !strings.Contains(got, w) {
					t.Errorf("diagnostics lack %q:\n%s", w, got)
				}
			}
			if err := DiagnosticsError(diags); err == nil || !strings.Contains(err.Error(), "p.hcl") {
				t.Errorf("DiagnosticsError = %v", err)
			}
		})
	}
}

func TestParseWarnings(t *testing.T) {
	src := `
deny = ["retry_replication"]
allow "x" {
  actions = ["metadata_cleanup", "retry_replication"]
}
allow "y" {
  actions = []
}
notify "slack" {
  url = "https://hooks.slack.com/services/T0/B0/XYZ"
}
`
	p, diags := Parse("w.hcl", []byte(src))
	if diags.HasErrors() || p == nil {
		t.Fatalf("errors:\n%s", FormatDiagnostics(diags))
	}
	got := FormatDiagnostics(diags)
	for _, want := range []string{
		"w.hcl:4:14: warning: Cleanup actions never run unattended",
		"w.hcl:4:34: warning: Action both allowed and denied",
		"w.hcl:7:13: warning: Empty actions list",
		"w.hcl:10:9: warning: Webhook URL holds a secret",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("warnings lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "XYZ") || strings.Contains(got, "services/T0") {
		t.Errorf("a diagnostic prints the secret URL:\n%s", got)
	}
	if DiagnosticsError(diags) != nil {
		t.Error("warnings are not errors")
	}
}

func TestLint(t *testing.T) {
	src := `
allow "x" {
  max_risk = "low"
  actions  = ["metadata_cleanup", "restart_netlogon", "retry_replication", "nonexistent", "*"]
}
action "ghost" { cooldown = "1h" }
`
	p, diags := Parse("l.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(FormatDiagnostics(diags))
	}
	lint := p.Lint([]ActionInfo{
		{Name: "metadata_cleanup", Risk: plan.RiskHigh, Kind: plan.KindLDAPDelete},
		{Name: "restart_netlogon", Risk: plan.RiskLow, Kind: "powershell"},
		{Name: "retry_replication", Risk: plan.RiskMedium, Kind: "powershell"},
	})
	got := FormatDiagnostics(lint)
	for _, want := range []string{
		"l.hcl:4:15: error: Metadata cleanup can never run unattended",
		"l.hcl:4:55: warning: Action above the rule's max_risk",
		"l.hcl:4:76: warning: Unknown action",
		`l.hcl:6:8: warning: Unknown action: action "ghost" sets a cooldown`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("lint lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "restart_netlogon") {
		t.Errorf("a fine action was reported:\n%s", got)
	}
	if !lint.HasErrors() {
		t.Error("allow-listing an LDAP delete must be an error")
	}
	// An LDAP delete marked low risk by mistake is still refused.
	lint = p.Lint([]ActionInfo{{Name: "metadata_cleanup", Risk: plan.RiskLow, Kind: plan.KindLDAPDelete}})
	if !lint.HasErrors() {
		t.Error("a low-risk LDAP delete must still be an error")
	}
}

func TestValidateCatchesHandBuiltPolicies(t *testing.T) {
	for name, mod := range map[string]func(*Policy){
		"high allow":   func(p *Policy) { p.Allow = []AllowRule{{Name: "x", MaxRisk: plan.RiskHigh}} },
		"no cooldown":  func(p *Policy) { p.Cooldown = 0 },
		"zero cap":     func(p *Policy) { p.MaxDCsPer24h = 0 },
		"zero per run": func(p *Policy) { p.MaxActionsPerRun = 0 },
		"breaker":      func(p *Policy) { p.Breaker.Failures = 0 },
	} {
		p := Default()
		mod(p)
		if p.Validate() == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
	var nilPolicy *Policy
	if nilPolicy.Validate() == nil {
		t.Error("nil policy validated")
	}
}

func TestFormatDiagnosticsWithoutSubject(t *testing.T) {
	got := FormatDiagnostics(hcl.Diagnostics{{Severity: hcl.DiagWarning, Summary: "S", Detail: "D."}})
	if got != "warning: S: D\n" {
		t.Errorf("got %q", got)
	}
}
