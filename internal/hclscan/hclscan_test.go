package hclscan

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

func TestCheck(t *testing.T) {
	deep := 100000
	bad := map[string]string{
		"nul":        "a = 1\n\x00",
		"not utf-8":  "a = \"\xff\"",
		"brackets":   "a = " + strings.Repeat("[", deep) + strings.Repeat("]", deep),
		"objects":    "a = " + strings.Repeat("{b = ", deep) + "1" + strings.Repeat("}", deep),
		"parens":     "a = " + strings.Repeat("(", deep) + "1" + strings.Repeat(")", deep),
		"templates":  "a = " + strings.Repeat(`"${`, deep) + "1" + strings.Repeat(`}"`, deep),
		"blocks":     strings.Repeat("b {\n", deep) + strings.Repeat("}\n", deep),
		"bang":       "a = " + strings.Repeat("!", deep) + "true",
		"minus":      "a = " + strings.Repeat("- ", deep) + "1",
		"cond":       "a = " + strings.Repeat("true ? [1, 2] : ", deep) + "2",
		"cond lines": "a = (" + strings.Repeat("true ? 1 :\n", deep) + "2)",
	}
	for name, src := range bad {
		d := Check("x.hcl", []byte(src))
		if !d.HasErrors() || len(d) != 1 {
			t.Errorf("%s: %v", name, d)
		}
	}
	good := map[string]string{
		"flat":       "a = [1, 2, 3]\nb = { c = [[1]] }\n",
		"list conds": "a = [" + strings.Repeat("x ? 1 : 2,\n", 1000) + "]",
		"obj conds":  "a = {\n" + strings.Repeat("k = x ? 1 : 2\n", 1000) + "}",
		"lines":      "x {\n" + strings.Repeat("a = b ? 1 : 2\n", 1000) + "}\n",
		"negatives":  "x {\n" + strings.Repeat("a = -1 - -2\n", 1000) + "}\n",
		"unicode":    "title = \"Schrödinger’s DC — 日本\"\n",
		"heredoc":    "ps = <<EOT\nif ($x) { foreach ($y in $z) { Write-Host \"-- $y --\" } }\nEOT\n",
	}
	for name, src := range good {
		if d := Check("x.hcl", []byte(src)); d.HasErrors() {
			t.Errorf("%s: %v", name, d)
		}
		if _, d := hclparse.NewParser().ParseHCL([]byte(src), "x.hcl"); d.HasErrors() && name != "lines" && name != "negatives" {
			t.Errorf("%s does not parse: %v", name, d)
		}
	}
}

func TestCap(t *testing.T) {
	var d hcl.Diagnostics
	for i := 0; i < 1000; i++ {
		d = append(d, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "x"})
	}
	c := Cap(d)
	if len(c) != MaxDiagnostics+1 || !strings.Contains(c[MaxDiagnostics].Detail, "950 more") || !c.HasErrors() {
		t.Fatalf("Cap: %d diagnostics, last %+v", len(c), c[len(c)-1])
	}
	if len(Cap(d[:3])) != 3 {
		t.Fatal("Cap changed a short list")
	}
}

func FuzzCheck(f *testing.F) {
	f.Add([]byte("a = [1, {b = (2)}]\n"))
	f.Add([]byte("a = !!-1 ? 2 : 3"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if Check("f.hcl", src) != nil {
			return
		}
		// Whatever passes the check parses without exhausting the stack.
		hclparse.NewParser().ParseHCL(src, "f.hcl")
	})
}
