// Package playbooks embeds the playbooks fix8524 ships: 8524.hcl, the decision table of the
// Microsoft article on replication error 8524. `fix8524 validate` and `plan` use it unless
// --playbooks DIR points at another directory of *.hcl files.
package playbooks

import (
	"embed"
	"io/fs"

	"github.com/hashicorp/hcl/v2"

	"github.com/fix8524/fix8524/engine"
)

// FS holds every *.hcl playbook file.
//
//go:embed *.hcl
var FS embed.FS

// Dir is how embedded files are named in diagnostics.
const Dir = "playbooks"

// Load loads the embedded playbook.
func Load(opts engine.LoadOptions) (*engine.Playbook, map[string]*hcl.File, hcl.Diagnostics) {
	return engine.LoadFS(FS, Dir, opts)
}

// Files lists the embedded playbook files.
func Files() []string {
	names, _ := fs.Glob(FS, "*.hcl")
	return names
}
