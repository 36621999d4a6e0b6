// The house: which part of fix8524 may import which (docs/house.md describes the parts, and
// docs/house.json draws them). The rules are checked on the imports of the program's code, as
// `go list` reports them for Linux and for Windows; tests may import what they need.
package fix8524_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// floors lists the parts (top-level folders) from the ground up: a part imports only parts
// below it, never one beside it or above it.
var floors = []string{
	"internal",  // what the parts share and nobody outside needs: helpers, the journal, approvals, notifications, metrics
	"remote",    // the remote command contract, WinRM and SSH
	"facts",     // what is observed: the Facts model and the gatherers, the read-only host probes
	"plan",      // the plan model
	"engine",    // the pure planner
	"actions",   // what changes a DC
	"report",    // the report of a plan
	"apply",     // the gated run of an approved plan
	"heal",      // unattended runs and the heal policy
	"playbooks", // the embedded playbook
	"lab",       // the simulated forest, the demo, the Samba lab
	"cmd",       // the CLI
	"e2e",       // the Samba end-to-end suite's harness
}

// never are the rules the issue that made the house named, over every import, direct or not.
var never = []struct {
	from, to []string // import path prefixes below the module
	why      string
}{
	{[]string{"facts"}, []string{"actions"}, "facts never imports actions: the read-only probes and the gatherers change nothing"},
	{[]string{"actions"}, []string{"engine"}, "actions never imports the planner core: it runs plan.Action, whoever made it"},
	{[]string{"engine"}, []string{"apply", "heal", "actions", "remote", "report", "internal/journal", "internal/approval", "internal/notify", "internal/metrics"},
		"the planner core imports no runtime: no transport, no action, no journal, no approval, no notification"},
	{[]string{"plan"}, []string{"engine"}, "the plan model does not know the planner that makes it"},
}

// labFile is the one file of the CLI that may import the lab: the demo behind one interface.
const labFile = "cmd/fix8524/demo.go"

type pkg struct {
	ImportPath string
	Dir        string
	GoFiles    []string
	Imports    []string
	Deps       []string
	Module     *struct{ Path, Dir string }
	Error      *struct{ Err string }
}

// listPackages runs go list on the module for goos.
func listPackages(t *testing.T, goos string) []pkg {
	t.Helper()
	goCmd, err := exec.LookPath("go")
	if err != nil {
		if goroot := os.Getenv("GOROOT"); goroot != "" {
			goCmd = filepath.Join(goroot, "bin", "go")
		} else {
			t.Fatal("the go command is needed to list the imports:", err)
		}
	}
	cmd := exec.Command(goCmd, "list", "-e", "-json", "./...")
	cmd.Env = append(os.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list (GOOS=%s): %v\n%s", goos, err, stderr.String())
	}
	var pkgs []pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list output: %v", err)
		}
		if p.Error != nil {
			t.Fatalf("%s: %s", p.ImportPath, p.Error.Err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) == 0 || pkgs[0].Module == nil {
		t.Fatal("go list found no package of this module")
	}
	return pkgs
}

// part returns the part (top-level folder) of an import path of module mod, or "" for a path
// outside it.
func part(mod, path string) string {
	rel, ok := strings.CutPrefix(path, mod+"/")
	if !ok {
		return ""
	}
	first, _, _ := strings.Cut(rel, "/")
	return first
}

// under reports whether the import path is one of the module's prefixes (a package or below).
func under(mod, path string, prefixes []string) bool {
	for _, p := range prefixes {
		if path == mod+"/"+p || strings.HasPrefix(path, mod+"/"+p+"/") {
			return true
		}
	}
	return false
}

// houseProblems returns every broken rule of the house in pkgs.
func houseProblems(pkgs []pkg, read func(file string) ([]string, error)) []string {
	mod := pkgs[0].Module.Path
	var problems []string
	for _, p := range pkgs {
		from := part(mod, p.ImportPath)
		if p.ImportPath == mod || from == "examples" {
			continue // this test, and the examples' tests
		}
		floor := slices.Index(floors, from)
		if floor < 0 {
			problems = append(problems, fmt.Sprintf("%s: the part %q has no floor in the house", p.ImportPath, from))
			continue
		}
		for _, imp := range p.Imports {
			to := part(mod, imp)
			if to == "" || to == from {
				continue
			}
			if slices.Index(floors, to) >= floor {
				problems = append(problems, fmt.Sprintf("%s imports %s: %s stands on %s, not the other way round", p.ImportPath, imp, to, from))
			}
		}
		for _, n := range never {
			if !under(mod, p.ImportPath, n.from) {
				continue
			}
			for _, dep := range p.Deps {
				if under(mod, dep, n.to) {
					problems = append(problems, fmt.Sprintf("%s imports %s: %s", p.ImportPath, dep, n.why))
				}
			}
		}
		if from == "cmd" {
			for _, f := range p.GoFiles {
				imps, err := read(filepath.Join(p.Dir, f))
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				rel := strings.TrimPrefix(p.ImportPath, mod+"/") + "/" + f
				for _, imp := range imps {
					if part(mod, imp) == "lab" && rel != labFile {
						problems = append(problems, fmt.Sprintf("%s imports %s: the CLI imports the lab in %s only", rel, imp, labFile))
					}
				}
			}
		}
	}
	return problems
}

// fileImports lists the imports of one Go file.
func fileImports(file string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, is := range f.Imports {
		p, err := strconv.Unquote(is.Path.Value)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func TestHouse(t *testing.T) {
	for _, goos := range []string{"linux", "windows"} {
		pkgs := listPackages(t, goos)
		for _, p := range houseProblems(pkgs, fileImports) {
			t.Errorf("GOOS=%s: %s", goos, p)
		}
	}
}

// TestHouseRulesCanFail feeds the checker imports that break each kind of rule.
func TestHouseRulesCanFail(t *testing.T) {
	const mod = "example.com/m"
	m := &struct{ Path, Dir string }{Path: mod}
	pkgs := []pkg{
		{ImportPath: mod + "/facts/gather", Module: m, Imports: []string{mod + "/internal/relay"}, Deps: []string{mod + "/internal/relay"}},
		{ImportPath: mod + "/facts/hostprobe", Module: m, Imports: []string{mod + "/actions/connect"}, Deps: []string{mod + "/actions/connect", mod + "/remote"}},
		{ImportPath: mod + "/actions", Module: m, Imports: []string{mod + "/plan"}, Deps: []string{mod + "/plan", mod + "/engine"}},
		{ImportPath: mod + "/engine", Module: m, Imports: []string{mod + "/internal/journal"}, Deps: []string{mod + "/internal/journal"}},
		{ImportPath: mod + "/cmd/fix8524", Module: m, Dir: "cmd/fix8524", GoFiles: []string{"demo.go", "apply.go"}},
		{ImportPath: mod + "/attic", Module: m},
	}
	files := map[string][]string{
		filepath.Join("cmd/fix8524", "demo.go"):  {mod + "/lab/demo"},
		filepath.Join("cmd/fix8524", "apply.go"): {mod + "/lab/demo", "fmt"},
	}
	got := houseProblems(pkgs, func(f string) ([]string, error) { return files[f], nil })
	for _, want := range []string{
		"facts/hostprobe imports " + mod + "/actions/connect: actions stands on facts",
		"facts/hostprobe imports " + mod + "/actions/connect: facts never imports actions",
		"actions imports " + mod + "/engine: actions never imports the planner core",
		"engine imports " + mod + "/internal/journal: the planner core imports no runtime",
		"cmd/fix8524/apply.go imports " + mod + "/lab/demo: the CLI imports the lab in cmd/fix8524/demo.go only",
		`attic: the part "attic" has no floor`,
	} {
		found := false
		for _, g := range got {
			found = found || strings.Contains(g, want)
		}
		if !found {
			t.Errorf("no problem says %q; got:\n%s", want, strings.Join(got, "\n"))
		}
	}
	if len(got) != 6 {
		t.Errorf("%d problems, want 6:\n%s", len(got), strings.Join(got, "\n"))
	}
}
