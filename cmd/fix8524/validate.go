package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/heal"
	"github.com/fix8524/fix8524/heal/policy"
	"github.com/fix8524/fix8524/internal/hclscan"
	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/playbooks"
)

func init() {
	register(&command{name: "validate", summary: "check a playbook: syntax, references, types (terraform-style diagnostics)", run: runValidate})
}

// playbookFlags are the flags every command that loads a playbook takes.
type playbookFlags struct {
	dir      string
	vars     multiFlag
	varFiles multiFlag
}

func (p *playbookFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&p.dir, "playbooks", "", "load the *.hcl files of `DIR` instead of the embedded playbook")
	fs.Var(&p.vars, "var", "set a playbook variable: `NAME=VALUE` (repeatable)")
	fs.Var(&p.varFiles, "var-file", "read playbook variables from an HCL `FILE` (repeatable)")
}

// load loads the playbook; the files are returned even on error, for rendering diagnostics.
func (p *playbookFlags) load() (*engine.Playbook, map[string]*hcl.File, hcl.Diagnostics) {
	opts := engine.LoadOptions{Vars: p.vars}
	for _, f := range p.varFiles {
		b, err := inputfile.ReadFile(f, "-var-file", engine.MaxPlaybookBytes)
		if err != nil {
			return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read a -var-file", Detail: err.Error()}}
		}
		opts.VarFiles = append(opts.VarFiles, engine.Source{Name: f, Src: b})
	}
	var pb *engine.Playbook
	var files map[string]*hcl.File
	var diags hcl.Diagnostics
	if p.dir == "" {
		pb, files, diags = playbooks.Load(opts)
	} else {
		pb, files, diags = engine.LoadDir(p.dir, opts)
	}
	engine.SortDiagnostics(diags)
	return pb, files, diags
}

// loadFor loads the playbook for a command, printing its diagnostics; ok is false when it has
// errors.
func (p *playbookFlags) loadFor(e *env) (pb *engine.Playbook, ok bool) {
	pb, files, diags := p.load()
	if len(diags) > 0 {
		_ = engine.WriteDiagnostics(e.stderr, files, diags, colorFor(e, e.stderr))
	}
	return pb, !diags.HasErrors()
}

func runValidate(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "validate",
		"Usage: fix8524 validate [--playbooks DIR] [--policy FILE]... [--json] [-var NAME=VALUE] [-var-file FILE]",
		"\nChecks the playbook (syntax, unknown blocks and attributes, types, references, cycles)",
		"and each heal policy given (schema, guardrail limits, actions the playbook does not define or",
		"that may never run unattended).",
		"Exit codes: 0 valid, 1 invalid.",
	)
	var pf playbookFlags
	pf.register(fs)
	asJSON := fs.Bool("json", false, "print the result as JSON (shaped like terraform validate -json)")
	var policies multiFlag
	fs.Var(&policies, "policy", "also validate the heal policy `FILE` (repeatable), and check it against the playbook's actions")
	if code, ok := parseFlags(e, fs, args); !ok {
		return code
	}
	pb, files, diags := pf.load()
	for _, path := range policies {
		diags = append(diags, validatePolicy(path, pb, files)...)
	}
	diags = hclscan.Cap(diags)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(engine.ValidateResult(files, diags)); err != nil {
			fmt.Fprintln(e.stderr, "fix8524 validate:", err)
			return exitError
		}
	} else {
		_ = engine.WriteDiagnostics(e.stderr, files, diags, colorFor(e, e.stderr))
		if !diags.HasErrors() {
			fmt.Fprintf(e.stdout, "Success! The playbook %q is valid: %d checks, %d decisions, %d warnings, %d actions, %d windows (%s).\n",
				pb.Name, len(pb.Checks), len(pb.Decisions), len(pb.Warnings), len(pb.Actions), len(pb.Windows), strings.Join(pb.Files, ", "))
			for _, path := range policies {
				fmt.Fprintf(e.stdout, "Success! The heal policy %s is valid.\n", path)
			}
		}
	}
	if diags.HasErrors() {
		return exitError
	}
	return exitOK
}

// validatePolicy loads a heal policy and lints it against the playbook's actions. The policy's
// source is added to files so its diagnostics render with snippets like the playbook's.
func validatePolicy(path string, pb *engine.Playbook, files map[string]*hcl.File) hcl.Diagnostics {
	p, diags := policy.Load(path)
	if src, err := inputfile.ReadFile(path, "policy", policy.MaxFileSize); err == nil && files != nil && !hclscan.Check(path, src).HasErrors() {
		if f, _ := hclparse.NewParser().ParseHCL(src, path); f != nil {
			files[path] = f
		}
	}
	if p != nil && pb != nil && !diags.HasErrors() {
		diags = append(diags, heal.Lint(p, pb)...)
	}
	return diags
}
