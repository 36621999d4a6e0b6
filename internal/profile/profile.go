// Package profile reads fix8524's profile: an HCL file holding the connection settings that
// gather, plan, apply and heal would otherwise take as flags (the seed DC, the user, TLS, the CA
// file, WinRM and SSH settings, the inventory, the state directory), so that they are not
// repeated on every command. A flag given on the command line wins over the profile.
//
//	dc      = "dc1.contoso.com"
//	user    = "fix8524-reader@contoso.com"
//	tls     = "ldaps"
//	ca_file = "contoso-ca.pem"   # relative to the profile's directory
//
//	winrm {
//	  user  = "CONTOSO\\fix8524-admin"
//	  https = true
//	}
//
// A profile holds no secrets: a password, passphrase or token in it is an error (passwords come
// from the environment, a file or a prompt). Profiles are untrusted input: the file is read
// through internal/inputfile and scanned by internal/hclscan before it is parsed; every problem
// is a diagnostic with file, line and column; the parser never panics (FuzzParse).
package profile

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"

	"github.com/fix8524/fix8524/internal/hclscan"
	"github.com/fix8524/fix8524/internal/inputfile"
)

// MaxBytes bounds a profile file.
const MaxBytes = 1 << 20

// FileName is the profile's name in fix8524's configuration directory.
const FileName = "profile.hcl"

// Kind is the type of a setting's value.
type Kind int

// Kinds of values.
const (
	String Kind = iota
	Number
	Bool
	Path // a file or directory: relative to the profile's directory, ~/ is the home directory
)

// Field is one setting a profile may hold: its attribute (in a block or not), the flag it
// stands for, and its kind.
type Field struct {
	Block, Attr, Flag string
	Kind              Kind
	Doc               string
}

// Fields lists every setting, in the order profile init writes them.
var Fields = []Field{
	{"", "dc", "dc", String, "the seed DC: the DC to read the forest from"},
	{"", "user", "user", String, "bind as this user (UPN user@domain, DN, or DOMAIN\\user with bind = \"ntlm\")"},
	{"", "bind", "", String, "\"simple\" (default), \"kerberos\" (a credential cache or keytab) or \"ntlm\""},
	{"", "tls", "tls", String, "\"ldaps\" (default), \"starttls\", or \"none\" (credentials in clear text: only on purpose)"},
	{"", "ldap_port", "ldap-port", Number, "LDAP port (default 636 for ldaps, 389 otherwise)"},
	{"", "ca_file", "ca-file", Path, "trust the CA certificates in this PEM file for the DCs' LDAP certificates"},
	{"", "tls_server_name", "tls-server-name", String, "verify the seed DC's certificate for this name (when dc is an IP address)"},
	{"", "tls_legacy_cn", "tls-legacy-cn", Bool, "accept a certificate naming the DC only in its Common Name (Samba's self-generated one)"},
	{"", "keytab", "keytab", Path, "Kerberos keytab for user"},
	{"", "ccache", "ccache", Path, "Kerberos credential cache (default $KRB5CCNAME)"},
	{"", "krb5_conf", "krb5-conf", Path, "krb5.conf (default $KRB5_CONFIG or /etc/krb5.conf)"},
	{"", "password_file", "password-file", Path, "read the password from this file's first line (the file, never the password, belongs here)"},
	{"", "inventory", "inventory", Path, "inventory file (HCL): IP overrides, DNS client servers, per-DC transport settings"},
	{"", "state", "state", Path, "state directory: the journal, the lock, heal's plans"},
	{"", "dc_timeout", "dc-timeout", String, "deadline for reading one DC and for every connection step (e.g. \"20s\")"},
	{"", "timeout", "timeout", String, "deadline for a whole gather (e.g. \"5m\")"},
	{"", "parallelism", "parallelism", Number, "read at most this many DCs (and DNS servers, ports) at once"},
	{"", "events_lookback", "events-lookback", String, "read the Directory Service events of this long back (e.g. \"168h\")"},
	{"winrm", "user", "winrm-user", String, "WinRM user (DOMAIN\\user or UPN); its password comes from $FIX8524_WINRM_PASSWORD"},
	{"winrm", "https", "winrm-https", Bool, "WinRM over HTTPS (5986) instead of HTTP (5985, NTLM-sealed)"},
	{"winrm", "port", "winrm-port", Number, "WinRM port"},
	{"winrm", "auth", "winrm-auth", String, "\"ntlm\" (works over HTTP) or \"kerberos\" (HTTPS only)"},
	{"winrm", "ca_file", "winrm-ca-file", Path, "trust the CA certificates in this file for WinRM HTTPS"},
	{"winrm", "tls_server_name", "winrm-tls-server-name", String, "verify WinRM certificates for this name"},
	{"ssh", "user", "ssh-user", String, "SSH user on Samba DCs (default root)"},
	{"ssh", "port", "ssh-port", Number, "SSH port (default 22)"},
	{"ssh", "key", "ssh-key", Path, "SSH private key (its passphrase comes from $FIX8524_SSH_PASSPHRASE)"},
	{"ssh", "known_hosts", "ssh-known-hosts", Path, "known_hosts file that verifies the DCs' host keys"},
}

// secretWords name attributes that would hold a secret.
var secretWords = []string{"password", "passphrase", "secret", "token", "credential"}

// Setting is one value a profile gives.
type Setting struct {
	Field
	Value string // rendered for the flag (a bool is "true"/"false", a number its digits)
	Range hcl.Range
}

// Profile is a parsed profile.
type Profile struct {
	Filename string
	Settings []Setting
}

// Get returns the setting of an attribute ("dc", "winrm.user"), if the profile gives it.
func (p *Profile) Get(name string) (Setting, bool) {
	for _, s := range p.Settings {
		if s.Name() == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Name is the attribute's name as written: "dc", "winrm.user".
func (f Field) Name() string {
	if f.Block == "" {
		return f.Attr
	}
	return f.Block + "." + f.Attr
}

// Load reads and parses a profile file: a regular file of at most MaxBytes (internal/inputfile:
// a FIFO or a device is refused without blocking).
func Load(filename string) (*Profile, hcl.Diagnostics) {
	src, err := inputfile.ReadFile(filename, "profile", MaxBytes)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the profile", Detail: err.Error()}}
	}
	return Parse(filename, src)
}

// Parse parses profile source; every diagnostic carries the file position. The source is
// scanned first (internal/hclscan: no NUL bytes, UTF-8, bounded nesting) and at most
// hclscan.MaxDiagnostics diagnostics are returned.
func Parse(filename string, src []byte) (*Profile, hcl.Diagnostics) {
	if len(src) > MaxBytes {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Profile too large", Detail: fmt.Sprintf("%s is larger than %d bytes", filename, MaxBytes)}}
	}
	if d := hclscan.Check(filename, src); d.HasErrors() {
		return nil, d
	}
	f, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, hclscan.Cap(diags)
	}
	p := &Profile{Filename: filename}
	diags = append(diags, p.body(f.Body, "")...)
	if diags.HasErrors() {
		return nil, hclscan.Cap(diags)
	}
	return p, hclscan.Cap(diags)
}

func schemaOf(block string) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, f := range Fields {
		if f.Block == block {
			s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: f.Attr})
		}
	}
	if block == "" {
		s.Blocks = []hcl.BlockHeaderSchema{{Type: "winrm"}, {Type: "ssh"}}
	}
	return s
}

// body decodes the top level (block "") or a winrm/ssh block.
func (p *Profile) body(b hcl.Body, block string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	// Secrets first: an attribute named like one is refused with a clear message, not
	// "unsupported argument".
	attrs, _ := b.JustAttributes()
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	secret := false
	for _, n := range names {
		for _, w := range secretWords {
			if strings.Contains(strings.ToLower(n), w) && n != "password_file" {
				a := attrs[n]
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "A profile holds no secrets",
					Detail:  fmt.Sprintf("Remove %q: passwords come from the environment ($FIX8524_PASSWORD, $FIX8524_WINRM_PASSWORD, $FIX8524_SSH_PASSPHRASE), from a file (password_file, --password-file) or from a prompt.", qualified(block, n)),
					Subject: a.NameRange.Ptr()})
				secret = true
				break
			}
		}
	}
	if secret {
		return diags
	}
	c, d := b.Content(schemaOf(block))
	diags = append(diags, d...)
	if d.HasErrors() {
		return diags
	}
	seen := map[string]hcl.Range{}
	for _, blk := range c.Blocks {
		if prev, dup := seen[blk.Type]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + blk.Type + " block",
				Detail: fmt.Sprintf("The profile already has a %s block at %s.", blk.Type, pos(prev)), Subject: blk.DefRange.Ptr()})
			continue
		}
		seen[blk.Type] = blk.DefRange
		if len(blk.Labels) > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unexpected label", Detail: "A " + blk.Type + " block takes no label.", Subject: blk.DefRange.Ptr()})
			continue
		}
		diags = append(diags, p.body(blk.Body, blk.Type)...)
	}
	for _, f := range Fields {
		if f.Block != block {
			continue
		}
		a := c.Attributes[f.Attr]
		if a == nil {
			continue
		}
		s, d := value(f, a)
		diags = append(diags, d...)
		if !d.HasErrors() {
			p.Settings = append(p.Settings, s)
		}
	}
	return diags
}

func qualified(block, attr string) string {
	if block == "" {
		return attr
	}
	return block + "." + attr
}

func pos(r hcl.Range) string {
	return fmt.Sprintf("%s:%d:%d", r.Filename, r.Start.Line, r.Start.Column)
}

// value evaluates one attribute: a constant of the field's kind.
func value(f Field, a *hcl.Attribute) (Setting, hcl.Diagnostics) {
	s := Setting{Field: f, Range: a.Expr.Range()}
	bad := func(what string) hcl.Diagnostics {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for " + f.Name(),
			Detail: fmt.Sprintf("%s must be %s.", f.Name(), what), Subject: a.Expr.Range().Ptr()}}
	}
	v, d := a.Expr.Value(nil)
	if d.HasErrors() {
		return s, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for " + f.Name(),
			Detail: f.Name() + " must be a constant (a quoted string, a number, true or false): a profile evaluates nothing.", Subject: a.Expr.Range().Ptr()}}
	}
	if v.IsNull() || !v.IsWhollyKnown() {
		return s, bad("a value, not null")
	}
	switch f.Kind {
	case Number:
		n, err := convert.Convert(v, cty.Number)
		if err != nil {
			return s, bad("a whole number")
		}
		i, acc := n.AsBigFloat().Int64()
		if acc != 0 || i < 0 || i > 1<<31 {
			return s, bad("a whole number")
		}
		s.Value = strconv.FormatInt(i, 10)
	case Bool:
		b, err := convert.Convert(v, cty.Bool)
		if err != nil {
			return s, bad("true or false")
		}
		s.Value = strconv.FormatBool(b.True())
	default:
		if v.Type() != cty.String {
			return s, bad("a quoted string")
		}
		s.Value = v.AsString()
		if strings.ContainsAny(s.Value, "\x00\r\n") {
			return s, bad("one line")
		}
		if s.Value == "" {
			return s, bad("a non-empty string (leave the line out instead)")
		}
	}
	if f.Attr == "bind" && s.Value != "simple" && s.Value != "kerberos" && s.Value != "ntlm" {
		return s, bad(`"simple", "kerberos" or "ntlm"`)
	}
	return s, nil
}
