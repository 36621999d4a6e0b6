// Package inventory reads the operator's inventory file (HCL): what fix8524 cannot, or should not,
// learn from the forest itself — per-DC address overrides (DNS may be the broken thing), DNS
// client servers, and transport settings for WinRM and SSH (carried for the transports; this
// package does not connect anywhere).
//
//	defaults {
//	  winrm {
//	    port    = 5986
//	    https   = true
//	    ca_file = "corp-ca.pem"
//	  }
//	}
//	dc "DC2" {
//	  ips         = ["192.0.2.12"]
//	  dns_servers = ["192.0.2.12", "192.0.2.11"]
//	  winrm {
//	    host = "dc2.contoso.com"
//	    user = "CONTOSO\\svc-fix8524"
//	  }
//	  ssh {
//	    host = "192.0.2.12"
//	    user = "root"
//	    port = 22
//	  }
//	}
//
// No secrets belong here: passwords come from the environment or a prompt.
package inventory

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/fix8524/fix8524/internal/hclscan"
	"github.com/fix8524/fix8524/internal/inputfile"
)

// MaxBytes bounds an inventory file.
const MaxBytes = 8 << 20

// Inventory is a parsed inventory file.
type Inventory struct {
	Filename string
	Defaults Transport
	DCs      map[string]*DC // by lower-case DC name
}

// DC is what the inventory says about one DC.
type DC struct {
	Name       string
	IPs        []string
	DNSServers []string
	Transport  Transport
	Range      hcl.Range
}

// Transport holds the WinRM and SSH settings of a DC (nil when not given).
type Transport struct {
	WinRM *WinRM
	SSH   *SSH
}

// WinRM settings (remote/winrm uses them).
type WinRM struct {
	Host     string `hcl:"host,optional"`
	Port     int    `hcl:"port,optional"`
	HTTPS    *bool  `hcl:"https,optional"`
	User     string `hcl:"user,optional"`
	CAFile   string `hcl:"ca_file,optional"`
	Auth     string `hcl:"auth,optional"` // ntlm | kerberos
	Insecure bool   `hcl:"insecure_skip_verify,optional"`
}

// SSH settings (remote/ssh uses them, for Samba DCs).
type SSH struct {
	Host       string `hcl:"host,optional"`
	Port       int    `hcl:"port,optional"`
	User       string `hcl:"user,optional"`
	KnownHosts string `hcl:"known_hosts,optional"`
	KeyFile    string `hcl:"key_file,optional"`
}

type fileSchema struct {
	Defaults *transportBlock `hcl:"defaults,block"`
	DCs      []dcBlock       `hcl:"dc,block"`
	Remain   hcl.Body        `hcl:",remain"`
}

type transportBlock struct {
	WinRM *WinRM `hcl:"winrm,block"`
	SSH   *SSH   `hcl:"ssh,block"`
}

type dcBlock struct {
	Name       string    `hcl:"name,label"`
	IPs        []string  `hcl:"ips,optional"`
	DNSServers []string  `hcl:"dns_servers,optional"`
	WinRM      *WinRM    `hcl:"winrm,block"`
	SSH        *SSH      `hcl:"ssh,block"`
	DefRange   hcl.Range `hcl:",def_range"`
}

// Load reads and parses an inventory file.
func Load(filename string) (*Inventory, hcl.Diagnostics) {
	src, err := inputfile.ReadFile(filename, "inventory", MaxBytes)
	if err != nil {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read the inventory", Detail: err.Error()}}
	}
	return Parse(filename, src)
}

// Parse parses inventory source; diagnostics carry file positions.
func Parse(filename string, src []byte) (*Inventory, hcl.Diagnostics) {
	if len(src) > MaxBytes {
		return nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Inventory too large"}}
	}
	if d := hclscan.Check(filename, src); d.HasErrors() {
		return nil, d
	}
	f, diags := hclparse.NewParser().ParseHCL(src, filename)
	if diags.HasErrors() {
		return nil, hclscan.Cap(diags)
	}
	var fs fileSchema
	diags = append(diags, gohcl.DecodeBody(f.Body, nil, &fs)...)
	if diags.HasErrors() {
		return nil, diags
	}
	if fs.Remain != nil {
		attrs, d := fs.Remain.JustAttributes()
		if !d.HasErrors() {
			for _, a := range attrs {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Unexpected attribute", Detail: fmt.Sprintf("%q is not an inventory setting; use dc or defaults blocks", a.Name), Subject: a.NameRange.Ptr()})
			}
		}
	}
	inv := &Inventory{Filename: filename, DCs: map[string]*DC{}}
	if fs.Defaults != nil {
		inv.Defaults = Transport{WinRM: fs.Defaults.WinRM, SSH: fs.Defaults.SSH}
		diags = append(diags, checkTransport(inv.Defaults, fs.Defaults.rangeOr())...)
	}
	for _, b := range fs.DCs {
		rng := b.DefRange
		key := strings.ToLower(b.Name)
		if b.Name == "" {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Empty DC name", Subject: &rng})
			continue
		}
		if prev, dup := inv.DCs[key]; dup {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate dc block", Detail: fmt.Sprintf("DC %q is already described at %s", b.Name, prev.Range), Subject: &rng})
			continue
		}
		for _, ip := range append(append([]string(nil), b.IPs...), b.DNSServers...) {
			if _, err := netip.ParseAddr(ip); err != nil {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not an IP address", Detail: fmt.Sprintf("dc %q: %q is not an IP address (ips and dns_servers take addresses, not names)", b.Name, ip), Subject: &rng})
			}
		}
		t := Transport{WinRM: b.WinRM, SSH: b.SSH}
		diags = append(diags, checkTransport(t, rng)...)
		inv.DCs[key] = &DC{Name: b.Name, IPs: b.IPs, DNSServers: b.DNSServers, Transport: t, Range: rng}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return inv, diags
}

func (t *transportBlock) rangeOr() hcl.Range { return hcl.Range{} }

func checkTransport(t Transport, rng hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	bad := func(detail string) {
		r := rng
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid transport setting", Detail: detail, Subject: &r})
	}
	if w := t.WinRM; w != nil {
		if w.Port < 0 || w.Port > 65535 {
			bad(fmt.Sprintf("winrm port %d is out of range", w.Port))
		}
		if w.Auth != "" && w.Auth != "ntlm" && w.Auth != "kerberos" {
			bad(fmt.Sprintf("winrm auth %q: want ntlm or kerberos", w.Auth))
		}
	}
	if s := t.SSH; s != nil && (s.Port < 0 || s.Port > 65535) {
		bad(fmt.Sprintf("ssh port %d is out of range", s.Port))
	}
	return diags
}

// DC returns the inventory entry of a DC by name or DNS host name (first label), or nil.
func (inv *Inventory) DC(name string) *DC {
	if inv == nil {
		return nil
	}
	n := strings.ToLower(strings.TrimSuffix(name, "."))
	if dc := inv.DCs[n]; dc != nil {
		return dc
	}
	if short, _, ok := strings.Cut(n, "."); ok {
		return inv.DCs[short]
	}
	return nil
}

// TransportFor merges a DC's transport settings over the defaults.
func (inv *Inventory) TransportFor(name string) Transport {
	if inv == nil {
		return Transport{}
	}
	out := inv.Defaults
	if dc := inv.DC(name); dc != nil {
		if dc.Transport.WinRM != nil {
			w := *dc.Transport.WinRM
			if d := inv.Defaults.WinRM; d != nil {
				mergeWinRM(&w, d)
			}
			out.WinRM = &w
		}
		if dc.Transport.SSH != nil {
			s := *dc.Transport.SSH
			if d := inv.Defaults.SSH; d != nil {
				mergeSSH(&s, d)
			}
			out.SSH = &s
		}
	}
	return out
}

func mergeWinRM(w, d *WinRM) {
	if w.Port == 0 {
		w.Port = d.Port
	}
	if w.HTTPS == nil {
		w.HTTPS = d.HTTPS
	}
	if w.User == "" {
		w.User = d.User
	}
	if w.CAFile == "" {
		w.CAFile = d.CAFile
	}
	if w.Auth == "" {
		w.Auth = d.Auth
	}
	w.Insecure = w.Insecure || d.Insecure
}

func mergeSSH(s, d *SSH) {
	if s.Port == 0 {
		s.Port = d.Port
	}
	if s.User == "" {
		s.User = d.User
	}
	if s.KnownHosts == "" {
		s.KnownHosts = d.KnownHosts
	}
	if s.KeyFile == "" {
		s.KeyFile = d.KeyFile
	}
}

// Names lists the DCs of the inventory, sorted.
func (inv *Inventory) Names() []string {
	var out []string
	for _, dc := range inv.DCs {
		out = append(out, dc.Name)
	}
	sort.Strings(out)
	return out
}
