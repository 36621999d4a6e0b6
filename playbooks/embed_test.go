package playbooks

import (
	"os"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/fix8524/fix8524/engine"
)

func TestEmbeddedPlaybookIsValid(t *testing.T) {
	pb, files, diags := Load(engine.LoadOptions{})
	if len(diags) > 0 {
		wr := hcl.NewDiagnosticTextWriter(os.Stderr, files, 100, false)
		_ = wr.WriteDiagnostics(diags)
	}
	if diags.HasErrors() || pb == nil {
		t.Fatalf("embedded playbook has errors")
	}
	for _, d := range diags {
		t.Errorf("warning: %s", d.Error())
	}
	if len(pb.Decisions) < 10 {
		t.Errorf("only %d decisions", len(pb.Decisions))
	}
}
