package profile

import (
	"fmt"
	"strings"
)

// examples are the values profile init shows, commented out.
var examples = map[string]string{
	"dc": `"dc1.contoso.com"`, "user": `"fix8524-reader@contoso.com"`, "bind": `"simple"`, "tls": `"ldaps"`,
	"ldap_port": "636", "ca_file": `"contoso-ca.pem"`, "tls_server_name": `"dc1.contoso.com"`, "tls_legacy_cn": "false",
	"keytab": `"fix8524.keytab"`, "ccache": `"/tmp/krb5cc_fix8524"`, "krb5_conf": `"/etc/krb5.conf"`,
	"password_file": `"~/.config/fix8524/ldap-password"`, "inventory": `"inventory.hcl"`, "state": `"~/.local/state/fix8524"`,
	"dc_timeout": `"20s"`, "timeout": `"5m"`, "parallelism": "64", "events_lookback": `"168h"`,
	"winrm.user": `"CONTOSO\\fix8524-admin"`, "winrm.https": "true", "winrm.port": "5986", "winrm.auth": `"kerberos"`,
	"winrm.ca_file": `"contoso-ca.pem"`, "winrm.tls_server_name": `"dc1.contoso.com"`,
	"ssh.user": `"root"`, "ssh.port": "22", "ssh.key": `"~/.ssh/fix8524_ed25519"`, "ssh.known_hosts": `"~/.ssh/known_hosts"`,
}

// Template is the commented profile `fix8524 profile init` writes: every setting, commented out,
// with what it does. As written it sets nothing.
func Template() string {
	var b strings.Builder
	b.WriteString(`# fix8524 profile: the connection settings gather, plan, apply and heal would otherwise take as
# flags (each setting is named after its flag). A flag given on the command line wins over the
# profile; --profile FILE reads another profile, --profile none reads none. The demo (--demo)
# and plans made from facts files ignore it.
#
# No secrets here: the LDAP password comes from $FIX8524_PASSWORD, password_file or a prompt;
# the WinRM password from $FIX8524_WINRM_PASSWORD; an SSH key's passphrase from
# $FIX8524_SSH_PASSPHRASE. A password in this file is refused.
#
# Relative paths are relative to this file's directory; ~/ is your home directory.
# Uncomment what you need.
`)
	block := ""
	for _, f := range Fields {
		if f.Block != block {
			if block != "" {
				b.WriteString("# }\n")
			}
			block = f.Block
			fmt.Fprintf(&b, "\n# %s {\n", block)
		}
		indent := ""
		if block != "" {
			indent = "  "
		}
		fmt.Fprintf(&b, "\n#%s # %s\n#%s %s = %s\n", indent, f.Doc, indent, f.Attr, examples[f.Name()])
	}
	if block != "" {
		b.WriteString("# }\n")
	}
	return b.String()
}
