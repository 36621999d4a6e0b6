package profile

import (
	"strings"
	"testing"

	"github.com/fix8524/fix8524/heal/policy"
)

func TestParse(t *testing.T) {
	src := `
dc        = "dc1.contoso.com"
user      = "fix8524-reader@contoso.com"
ldap_port = 636
tls_legacy_cn = true
ca_file   = "ca.pem"

winrm {
  user  = "CONTOSO\\admin"
  https = true
}

ssh {
  port = 2222
}
`
	p, diags := Parse("p.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := map[string]string{"dc": "dc1.contoso.com", "user": "fix8524-reader@contoso.com", "ldap_port": "636", "tls_legacy_cn": "true",
		"ca_file": "ca.pem", "winrm.user": `CONTOSO\admin`, "winrm.https": "true", "ssh.port": "2222"}
	if len(p.Settings) != len(want) {
		t.Errorf("%d settings, want %d: %+v", len(p.Settings), len(want), p.Settings)
	}
	for name, v := range want {
		if s, ok := p.Get(name); !ok || s.Value != v {
			t.Errorf("%s = %q (%v), want %q", name, s.Value, ok, v)
		}
	}
	if s, _ := p.Get("winrm.https"); s.Flag != "winrm-https" || s.Range.Start.Line != 10 {
		t.Errorf("winrm.https: flag %s at line %d", s.Flag, s.Range.Start.Line)
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{`password = "hunter2"`, `p.hcl:1:1: error: A profile holds no secrets: Remove "password"`},
		{"winrm {\n  password = \"x\"\n}", `p.hcl:2:3: error: A profile holds no secrets: Remove "winrm.password"`},
		{"ssh {\n  key_passphrase = \"x\"\n}", `p.hcl:2:3: error: A profile holds no secrets`},
		{`dcc = "x"`, `p.hcl:1:1: error: Unsupported argument: An argument named "dcc" is not expected here. Did you mean "dc"?`},
		{`ldap_port = "x"`, `p.hcl:1:13: error: Invalid value for ldap_port: ldap_port must be a whole number`},
		{`ldap_port = 3.5`, `must be a whole number`},
		{`dc = var.x`, `p.hcl:1:6: error: Invalid value for dc: dc must be a constant`},
		{`dc = 3`, `dc must be a quoted string`},
		{`dc = ""`, `non-empty`},
		{`bind = "magic"`, `"simple", "kerberos" or "ntlm"`},
		{"winrm {}\nwinrm {}", `p.hcl:2:1: error: Duplicate winrm block: The profile already has a winrm block at p.hcl:1:1`},
		{`winrm "x" {}`, `p.hcl:1:`},
		{`dc = "a`, `p.hcl:1:`},
		{"ssh { https = true }", `Unsupported argument`},
		{"dc = \"dc1\"\x00\n", `p.hcl:1:1: error: Not a text file: p.hcl contains a NUL byte`},
		{"dc = \"\xff\"", `Not a text file`},
		{"x = " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000), `Nested too deeply`},
		{strings.Repeat("nosuch = 1\n", 200), `error: Too many diagnostics: 149 more diagnostics were not shown`},
	} {
		_, diags := Parse("p.hcl", []byte(c.src))
		got := policy.FormatDiagnostics(diags)
		if !diags.HasErrors() || !strings.Contains(got, c.want) {
			t.Errorf("%q: %s\nwant %q", c.src, got, c.want)
		}
	}
}

func TestTemplateParsesEmpty(t *testing.T) {
	p, diags := Parse("t.hcl", []byte(Template()))
	if diags.HasErrors() || len(p.Settings) != 0 {
		t.Fatalf("the template: %v, %d settings", diags, len(p.Settings))
	}
	// Uncommented, every example is a valid setting.
	var lines []string
	for _, l := range strings.Split(Template(), "\n") {
		if strings.HasPrefix(l, "# # ") || strings.HasPrefix(l, "#   # ") || l == "" || !strings.HasPrefix(l, "#") {
			continue
		}
		if strings.HasPrefix(l, "# ") && (strings.Contains(l, " = ") || strings.HasSuffix(l, "{") || l == "# }") {
			lines = append(lines, strings.TrimPrefix(l, "# "))
		}
	}
	p, diags = Parse("t.hcl", []byte(strings.Join(lines, "\n")))
	if diags.HasErrors() {
		t.Fatalf("the template uncommented: %v\n%s", diags, strings.Join(lines, "\n"))
	}
	if len(p.Settings) != len(Fields) {
		t.Errorf("the template uncommented gives %d settings, there are %d fields", len(p.Settings), len(Fields))
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(Template()))
	f.Add([]byte("dc = \"x\"\nwinrm {\n user = \"y\"\n https = true\n}\n"))
	f.Add([]byte(`password = "x"`))
	f.Add([]byte("ssh {\n port = 22\n}\nssh {}\n"))
	f.Add([]byte(`dc = "${x}"`))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, diags := Parse("f.hcl", src)
		if diags.HasErrors() {
			if p != nil {
				t.Fatal("a profile with errors was returned")
			}
			for _, d := range diags {
				if d.Subject != nil && d.Subject.Filename != "f.hcl" {
					t.Fatalf("a diagnostic without the file: %+v", d)
				}
			}
			return
		}
		for _, s := range p.Settings {
			if strings.ContainsAny(s.Value, "\x00\r\n") || s.Flag == "" && s.Attr != "bind" {
				t.Fatalf("setting %+v", s)
			}
			for _, w := range secretWords {
				if strings.Contains(strings.ToLower(s.Attr), w) && s.Attr != "password_file" {
					t.Fatalf("a secret was accepted: %+v", s)
				}
			}
		}
	})
}
