package inventory

import (
	"go/parser"
	"go/token"
	"strings"
	"testing"
)

// The example in the package documentation must parse: admins copy it.
func TestPackageDocExampleParses(t *testing.T) {
	f, err := parser.ParseFile(token.NewFileSet(), "inventory.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	var example []string
	for _, line := range strings.Split(f.Doc.Text(), "\n") {
		if strings.HasPrefix(line, "\t") {
			example = append(example, strings.TrimPrefix(line, "\t"))
		}
	}
	if len(example) == 0 {
		t.Fatal("no indented example in the package documentation")
	}
	inv, diags := Parse("doc-example.hcl", []byte(strings.Join(example, "\n")))
	if diags.HasErrors() {
		t.Fatalf("the documented example does not parse: %s", diags.Error())
	}
	if inv == nil {
		t.Fatal("nil inventory")
	}
}
