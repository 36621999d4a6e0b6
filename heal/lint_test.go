package heal_test

import (
	"strings"
	"testing"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/playbooks"
)

func TestLintAgainstShippedPlaybook(t *testing.T) {
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	p, diags := policy.Parse("p.hcl", []byte(`allow "x" { actions = ["register_cname", "metadata_cleanup"] }`))
	if diags.HasErrors() {
		t.Fatal(policy.FormatDiagnostics(diags))
	}
	got := policy.FormatDiagnostics(heal.Lint(p, pb))
	if !strings.Contains(got, `p.hcl:1:42: error: Metadata cleanup can never run unattended`) || strings.Contains(got, "register_cname") {
		t.Errorf("lint:\n%s", got)
	}
}
