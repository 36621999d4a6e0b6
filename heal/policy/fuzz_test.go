package policy

import (
	"testing"
	"time"

	"github.com/fix8524/fix8524/plan"
)

// FuzzParse: Parse never panics; a policy it accepts validates, never admits a high-risk
// action or an LDAP delete, and keeps every guardrail switched on.
func FuzzParse(f *testing.F) {
	f.Add([]byte(fullPolicy))
	f.Add([]byte(""))
	f.Add([]byte("allow \"x\" { max_risk = \"high\" }"))
	f.Add([]byte("allow \"x\" { max_risk = \"medium\"\n actions = [\"*\"] }\ndeny = [\"a\"]"))
	f.Add([]byte("window \"w\" { cron = \"0 22 * * SAT\"\n duration = \"6h\"\n time_zone = \"America/New_York\" }"))
	f.Add([]byte("notify \"n\" { url = \"https://x.example/y\"\n headers = { a = \"b\" }\n events = [\"held\"] }"))
	f.Add([]byte("breaker { failures = 1e9\n within = \"1d12h\" }\ncooldown = \"${1}h\""))
	f.Add([]byte("action \"a\" { cooldown = \"1m\" }\nmax_actions_per_run = 100\nmax_dcs_per_24h = -1"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, diags := Parse("fuzz.hcl", src)
		_ = FormatDiagnostics(diags)
		if p == nil {
			if !diags.HasErrors() {
				t.Fatal("nil policy without an error diagnostic")
			}
			return
		}
		if diags.HasErrors() {
			t.Fatal("a policy came back with errors")
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted policy does not validate: %v", err)
		}
		_ = p.Describe()
		_ = p.Lint([]ActionInfo{{Name: "a", Risk: plan.RiskHigh, Kind: plan.KindLDAPDelete}})
		h := &fakeHistory{}
		at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		vs := Decide(p, []Candidate{
			{ID: "1", Action: "a", Risk: plan.RiskHigh, Kind: "powershell", Target: "DC1"},
			{ID: "2", Action: "a", Risk: plan.RiskLow, Kind: plan.KindLDAPDelete, Target: "DC1"},
			{ID: "3", Action: "a", Risk: "", Kind: "argv", Target: "DC1"},
		}, h, at)
		for _, v := range vs {
			if v.Approved {
				t.Fatalf("approved %+v under\n%s", v.Candidate, src)
			}
		}
	})
}
