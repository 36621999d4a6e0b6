package engine

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// minimal is a small valid playbook the tests start from.
const minimal = `
playbook "t" {
  title   = "test"
  matches = link.last_result == 8524
}

variable "n" {
  type    = number
  default = 3
}

check "answers" {
  tcp {
    host = link.source.dns_host_name
    port = 389
  }
}

check "cname" {
  dns {
    name    = link.cname
    type    = "CNAME"
    servers = link.destination.dns_servers
  }
}

check "both" {
  condition = check.answers.ok && check.cname.ok
}

decision "offline" {
  when   = !check.answers.ok
  cause  = "${link.source.name} is down"
  see    = "section"
  remedy = [action.fix]
}

decision "rest" {
  when  = check.both.ok || true
  cause = "other"
  see   = "section"
}

action "fix" {
  title = "fix ${link.source.name}"
  on    = link.source
  risk  = "low"
  windows { powershell = "Restart-Service Netlogon" }
}
`

func load(t *testing.T, src string, opts ...LoadOptions) (*Playbook, map[string]*hcl.File, hcl.Diagnostics) {
	t.Helper()
	var o LoadOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	return Load([]Source{{Name: "test.hcl", Src: []byte(src)}}, o)
}

func TestLoadMinimal(t *testing.T) {
	pb, _, diags := load(t, minimal)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(pb.Checks) != 3 || len(pb.Decisions) != 2 || len(pb.Actions) != 1 {
		t.Fatalf("got %d checks, %d decisions, %d actions", len(pb.Checks), len(pb.Decisions), len(pb.Actions))
	}
	if pb.Digest == "" || !strings.HasPrefix(pb.Digest, "sha256:") {
		t.Errorf("digest %q", pb.Digest)
	}
}

// TestBadPlaybooks: every kind of broken playbook gives an error diagnostic that names the
// problem and points at the right line; none panics.
func TestBadPlaybooks(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(string) string
		summary string // substring of the summary
		line    int    // the diagnostic's subject line (0: no subject expected)
	}{
		{"malformed HCL", func(s string) string { return s + "\ncheck \"x\" {\n" }, "Unclosed configuration block", 51},
		{"unknown block", func(s string) string { return s + "\nresource \"x\" \"y\" {}\n" }, "Unsupported block type", 51},
		{"unknown attribute", func(s string) string {
			return strings.Replace(s, `risk  = "low"`, "risk  = \"low\"\n  colour = \"red\"", 1)
		}, "Unsupported argument", 48},
		{"missing required attribute", func(s string) string {
			return strings.Replace(s, `  see   = "section"
}

action`, `}

action`, 1)
		}, "Missing required argument", 0},
		{"wrong type", func(s string) string {
			return strings.Replace(s, `when  = check.both.ok || true`, `when  = link.source.name`, 1)
		}, "Incorrect value type", 39},
		{"wrong operand type", func(s string) string {
			return strings.Replace(s, `when  = check.both.ok || true`, `when  = link.ncs + 1`, 1)
		}, "Invalid operand", 39},
		{"unknown fact attribute", func(s string) string {
			return strings.Replace(s, `host = link.source.dns_host_name`, `host = link.source.hostname`, 1)
		}, "Unsupported attribute", 14},
		{"undefined check", func(s string) string {
			return strings.Replace(s, `when   = !check.answers.ok`, `when   = !check.answer.ok`, 1)
		}, "Reference to undeclared check", 32},
		{"undefined action", func(s string) string { return strings.Replace(s, `[action.fix]`, `[action.fixx]`, 1) }, "Reference to undeclared action", 35},
		{"unknown check attribute", func(s string) string {
			return strings.Replace(s, `when  = check.both.ok || true`, `when  = check.cname.open_ports == []`, 1)
		}, "Unsupported attribute", 39},
		{"unknown variable", func(s string) string {
			return strings.Replace(s, `when  = check.both.ok || true`, `when  = facts.x`, 1)
		}, "Unknown variable", 39},
		{"undeclared var", func(s string) string {
			return strings.Replace(s, `when  = check.both.ok || true`, `when  = var.m > 1`, 1)
		}, "Reference to undeclared variable", 39},
		{"cycle", func(s string) string {
			return strings.Replace(s, `condition = check.answers.ok && check.cname.ok`, `condition = check.answers.ok && check.loop.ok`, 1) +
				"\ncheck \"loop\" {\n  condition = check.both.ok\n}\n"
		}, "Cycle in check references", 52},
		{"self cycle", func(s string) string {
			return strings.Replace(s, `condition = check.answers.ok && check.cname.ok`, `condition = check.both.ok`, 1)
		}, "Cycle in check references", 28},
		{"duplicate check", func(s string) string { return s + "\ncheck \"both\" {\n  condition = true\n}\n" }, "Duplicate check", 51},
		{"powershell interpolation", func(s string) string {
			return strings.Replace(s, `powershell = "Restart-Service Netlogon"`, `powershell = "Restart-Service ${link.source.name}"`, 1)
		}, "PowerShell must not interpolate values", 48},
		{"bad risk", func(s string) string { return strings.Replace(s, `risk  = "low"`, `risk  = "tiny"`, 1) }, "Invalid value for risk", 47},
		{"bad ok_means", func(s string) string {
			return strings.Replace(s, `condition = check.answers.ok && check.cname.ok`, "ok_means  = \"bad\"\n  condition = check.answers.ok && check.cname.ok", 1)
		}, "Invalid value for ok_means", 28},
		{"bad dns type", func(s string) string { return strings.Replace(s, `type    = "CNAME"`, `type    = "MX"`, 1) }, "Invalid DNS type", 22},
		{"two kinds", func(s string) string {
			return strings.Replace(s, `condition = check.answers.ok && check.cname.ok`, "condition = true\n  tcp {\n    host = \"x\"\n    port = 1\n  }", 1)
		}, "Invalid check", 27},
		{"action in expression", func(s string) string {
			return strings.Replace(s, `when  = check.both.ok || true`, `when  = action.fix`, 1)
		}, "Action references are not values", 39},
		{"facts in constant", func(s string) string {
			return strings.Replace(s, `see   = "section"
}

action`, `see   = link.nc
}

action`, 1)
		}, "Facts are not available here", 41},
		{"check in matches", func(s string) string {
			return strings.Replace(s, `matches = link.last_result == 8524`, `matches = check.both.ok`, 1)
		}, "Checks are not available here", 4},
		{"reply outside expect", func(s string) string {
			return strings.Replace(s, `when  = check.both.ok || true`, `when  = reply.aa`, 1)
		}, "reply is not available here", 39},
		{"bad window cron", func(s string) string {
			return s + "\nwindow \"w\" {\n  cron = \"61 * * * *\"\n  duration = \"1h\"\n}\n"
		}, "Invalid change window", 52},
		{"bad window zone", func(s string) string {
			return s + "\nwindow \"w\" {\n  cron = \"0 1 * * *\"\n  duration = \"1h\"\n  time_zone = \"Mars/Olympus\"\n}\n"
		}, "Invalid change window", 54},
		{"no playbook block", func(s string) string { return strings.Replace(s, `playbook "t"`, `variable "t"`, 1) }, "Missing playbook block", 0},
		{"bad ldap risk", func(s string) string {
			return strings.Replace(s, `windows { powershell = "Restart-Service Netlogon" }`, `ldap_delete { dn = link.source_dsa_dn }`, 1)
		}, "LDAP deletes are high risk", 47},
		{"invalid name", func(s string) string { return strings.Replace(s, `check "both"`, `check "2both"`, 1) }, "Invalid name", 27},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.edit(minimal)
			if src == minimal {
				t.Fatal("the edit did not change the playbook")
			}
			pb, files, diags := load(t, src)
			if !diags.HasErrors() || pb != nil {
				t.Fatalf("no error; diags: %v", diags)
			}
			var found *hcl.Diagnostic
			for _, d := range diags {
				if d.Severity == hcl.DiagError && strings.Contains(d.Summary, tc.summary) {
					found = d
					break
				}
			}
			if found == nil {
				t.Fatalf("no error %q among: %v", tc.summary, diags.Error())
			}
			if tc.line > 0 {
				if found.Subject == nil {
					t.Fatalf("error %q has no source range", found.Summary)
				}
				if found.Subject.Filename != "test.hcl" || found.Subject.Start.Line != tc.line {
					t.Errorf("error %q at %s, want test.hcl line %d", found.Summary, found.Subject, tc.line)
				}
			}
			// Rendering never fails and shows the location.
			var buf bytes.Buffer
			if err := WriteDiagnostics(&buf, files, diags, false); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), "Error: ") {
				t.Errorf("rendered:\n%s", buf.String())
			}
			if tc.line > 0 && !strings.Contains(buf.String(), "on test.hcl line ") {
				t.Errorf("rendered without location:\n%s", buf.String())
			}
		})
	}
}

func TestDiagnosticRendering(t *testing.T) {
	src := strings.Replace(minimal, `when   = !check.answers.ok`, `when   = !check.answer.ok`, 1)
	_, files, diags := load(t, src)
	var buf bytes.Buffer
	if err := WriteDiagnostics(&buf, files, diags, false); err != nil {
		t.Fatal(err)
	}
	want := `Error: Reference to undeclared check

  on test.hcl line 32, in decision "offline":
  32:   when   = !check.answer.ok
                  ^^^^^^^^^^^^^^^

There is no check named "answer". Did you mean "answers"?
`
	if !strings.HasPrefix(buf.String(), want) {
		t.Errorf("got:\n%s\nwant:\n%s", buf.String(), want)
	}
	res := ValidateResult(files, diags)
	if res.Valid || res.ErrorCount == 0 || len(res.Diagnostics) == 0 {
		t.Fatalf("%+v", res)
	}
	d := res.Diagnostics[0]
	if d.Severity != "error" || d.Range == nil || d.Range.Start.Line != 32 || d.Range.Start.Column != 13 || d.Snippet == nil ||
		d.Snippet.Context != `decision "offline"` || d.Snippet.Code[d.Snippet.HighlightStartOffset:d.Snippet.HighlightEndOffset] != "check.answer.ok" {
		t.Errorf("%+v %+v %+v", d, d.Range, d.Snippet)
	}
}

func TestVariables(t *testing.T) {
	src := minimal + `
variable "names" {
  type    = list(string)
  default = []
}
variable "required" {
  type = string
}
`
	_, _, diags := load(t, src)
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "No value for required variable") {
		t.Fatalf("want a missing-variable error, got %v", diags)
	}
	pb, _, diags := load(t, src, LoadOptions{Vars: []string{"required=x y", `names=["DC2","DC3"]`, "n=7"}})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if v := pb.varValues["required"].AsString(); v != "x y" {
		t.Errorf("required = %q", v)
	}
	if n := pb.varValues["names"].LengthInt(); n != 2 {
		t.Errorf("names has %d elements", n)
	}
	if bf := pb.varValues["n"].AsBigFloat(); bf.String() != "7" {
		t.Errorf("n = %s", bf)
	}
	_, _, diags = load(t, src, LoadOptions{Vars: []string{"required=x", "n=seven"}})
	if !diags.HasErrors() {
		t.Error("n=seven accepted")
	}
	_, _, diags = load(t, src, LoadOptions{Vars: []string{"required=x", "nope=1"}})
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "undeclared variable") {
		t.Errorf("undeclared -var accepted: %v", diags)
	}
	pb, _, diags = load(t, src, LoadOptions{VarFiles: []Source{{Name: "vars.hcl", Src: []byte("required = \"z\"\nnames = [\"A\"]\n")}}})
	if diags.HasErrors() || pb.varValues["required"].AsString() != "z" {
		t.Errorf("var file: %v", diags)
	}
	_, _, diags = load(t, src, LoadOptions{VarFiles: []Source{{Name: "vars.hcl", Src: []byte("required = \n")}}})
	if !diags.HasErrors() {
		t.Error("malformed var file accepted")
	}
}

func TestUnusedWarnings(t *testing.T) {
	pb, _, diags := load(t, minimal+"\ncheck \"lonely\" {\n  condition = true\n}\n")
	if diags.HasErrors() || pb == nil {
		t.Fatal(diags)
	}
	if len(diags) != 1 || diags[0].Severity != hcl.DiagWarning || !strings.Contains(diags[0].Summary, "Unused check") {
		t.Errorf("%v", diags)
	}
}

func TestLoadDir(t *testing.T) {
	if _, _, diags := LoadDir(t.TempDir(), LoadOptions{}); !diags.HasErrors() {
		t.Error("empty dir accepted")
	}
	if _, _, diags := LoadDir("/nonexistent/dir", LoadOptions{}); !diags.HasErrors() {
		t.Error("missing dir accepted")
	}
}

// FuzzLoad: no input makes the loader panic, and a playbook it accepts can be planned.
func FuzzLoad(f *testing.F) {
	f.Add([]byte(minimal))
	f.Add([]byte(testPlaybook))
	if b, err := os.ReadFile("../playbooks/8524.hcl"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`playbook "x" { title = "t" matches = true }` + "\n" + `decision "d" { when = true cause = "c" see = "s" }`))
	f.Add([]byte(`check "a" { condition = check.a.ok }`))
	f.Add([]byte("playbook \"x\" {\n title = \"${\"\n}"))
	f.Add([]byte(`decision "d" { when = [for x in link.ncs : x if x] cause = "" see = "" }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		pb, files, diags := Load([]Source{{Name: "f.hcl", Src: src}}, LoadOptions{})
		var buf bytes.Buffer
		_ = WriteDiagnostics(&buf, files, diags, false)
		_ = ValidateResult(files, diags)
		if pb != nil {
			if _, err := MakePlan(pb, sampleFacts(), PlanOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	})
}
