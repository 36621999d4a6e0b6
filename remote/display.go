package remote

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// Display renders the command on one line for plans and journals:
//
//	restart_netlogon [powershell] $P=@{DC='dc1.contoso.com'}: Restart-Service -Name Netlogon -Force
//	samba_dns_update [posix]: samba_dnsupdate --verbose --all-names
//
// AD values are quoted (PSLiteral for $P, ShellQuote or $'…' for Argv), so quotes, newlines and
// look-alike characters cannot change how the line reads. Parameters whose name contains
// "password", "secret", "token", "credential" or "passphrase" are shown as <redacted>. Scripts
// longer than 160 characters are summarized by line count and SHA-256.
func (c Command) Display() string {
	var b strings.Builder
	b.WriteString(displayName(c.Name))
	switch {
	case len(c.Argv) > 0:
		b.WriteString(" [posix]: ")
		for i, a := range c.Argv {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(displayArg(a))
		}
	default:
		b.WriteString(" [powershell]")
		if len(c.Params) > 0 {
			b.WriteString(" $P=@{")
			keys := make([]string, 0, len(c.Params))
			for k := range c.Params {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for i, k := range keys {
				if i > 0 {
					b.WriteString("; ")
				}
				if validParamKey(k) {
					b.WriteString(k)
				} else {
					b.WriteString(PSLiteral(k))
				}
				b.WriteByte('=')
				if secretKey(k) {
					b.WriteString("<redacted>")
				} else {
					b.WriteString(PSLiteral(c.Params[k]))
				}
			}
			b.WriteString("}")
		}
		b.WriteString(": ")
		b.WriteString(displayScript(c.PowerShell))
	}
	return b.String()
}

func displayName(n string) string {
	if validName(n) {
		return n
	}
	return PSLiteral(n)
}

func secretKey(k string) bool {
	k = strings.ToLower(k)
	for _, w := range []string{"password", "passwd", "secret", "token", "credential", "passphrase"} {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

// displayScript joins the script's non-empty, non-comment lines with "; ", escaping anything
// that would break the line.
func displayScript(s string) string {
	var lines []string
	n := 0
	for _, l := range strings.Split(s, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		n++
		if strings.HasPrefix(l, "#") {
			continue
		}
		lines = append(lines, l)
	}
	joined := strings.Join(lines, "; ")
	var b strings.Builder
	for _, r := range joined {
		if unsafeRune(r) {
			b.WriteRune('\uFFFD')
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > 160 {
		sum := sha256.Sum256([]byte(s))
		return "script of " + strconv.Itoa(n) + " lines, sha256:" + hex.EncodeToString(sum[:6])
	}
	return out
}
