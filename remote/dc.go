package remote

import (
	"context"
	"strings"
)

// The transports Runners open: the values of DC.Transport (and of a planned action's). Facts
// read through one name it as where they came from (facts.DC.DNSServersFrom).
const (
	WinRM = "winrm"
	SSH   = "ssh"
)

// DC is a domain controller as a plan or the facts name it: what Runners needs to reach it.
type DC struct {
	Name        string   // DC name
	DNSHostName string   // may be empty
	IPs         []string // may be empty
	Platform    string   // windows | samba | any | unknown
	Transport   string   // WinRM, SSH, or "ldap" (an LDAP operation needs no runner)
}

// String names the DC for messages: "DC2", or "DC2 (dc2.contoso.com)".
func (t DC) String() string {
	if t.DNSHostName != "" && !strings.EqualFold(t.DNSHostName, t.Name) {
		return t.Name + " (" + t.DNSHostName + ")"
	}
	return t.Name
}

// Runners opens a command runner (WinRM or SSH) to a DC. The caller closes it.
type Runners interface {
	Runner(ctx context.Context, dc DC) (Runner, error)
}
