package inventory

import (
	"strings"
	"testing"
)

const good = `
defaults {
  winrm {
    port    = 5986
    https   = true
    ca_file = "corp-ca.pem"
  }
}
dc "DC2" {
  ips         = ["192.0.2.12"]
  dns_servers = ["192.0.2.12", "192.0.2.11"]
  winrm {
    host = "dc2.contoso.com"
    user = "CONTOSO\\svc"
  }
  ssh {
    host = "192.0.2.12"
    user = "root"
  }
}
dc "DC3" {
  ips = ["2001:db8::3"]
}
`

func TestParse(t *testing.T) {
	inv, diags := Parse("inv.hcl", []byte(good))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	dc := inv.DC("dc2.contoso.com")
	if dc == nil || dc.IPs[0] != "192.0.2.12" || len(dc.DNSServers) != 2 {
		t.Fatalf("DC2 = %+v", dc)
	}
	tr := inv.TransportFor("DC2")
	if tr.WinRM == nil || tr.WinRM.Port != 5986 || tr.WinRM.Host != "dc2.contoso.com" || tr.WinRM.CAFile != "corp-ca.pem" || tr.WinRM.HTTPS == nil || !*tr.WinRM.HTTPS || tr.SSH.User != "root" {
		t.Fatalf("transport = %+v %+v", tr.WinRM, tr.SSH)
	}
	if inv.DC("DC9") != nil || len(inv.Names()) != 2 {
		t.Fatal("lookup")
	}
	if tr := inv.TransportFor("DC3"); tr.WinRM == nil || tr.WinRM.Port != 5986 {
		t.Fatalf("defaults not applied: %+v", tr)
	}
}

func TestDiagnostics(t *testing.T) {
	cases := map[string]string{
		`dc "DC1" { ips = ["dc1.contoso.com"] }`:                     "inv.hcl:1,1",
		"dc \"DC1\" {}\ndc \"dc1\" {}":                               "Duplicate dc block",
		"dc \"DC1\" {\n winrm { port = 99999 }\n}":                   "out of range",
		"dc \"DC1\" {\n winrm { auth = \"basic\" }\n}":               "want ntlm or kerberos",
		`dc "DC1" { password = "x" }`:                                "Unsupported argument",
		`oops = 1`:                                                   "not an inventory setting",
		`dc "DC1" {`:                                                 "inv.hcl:1",
		`dc "DC1" { dns_servers = ["192.0.2.1", "not an address"] }`: "not an IP address",
	}
	for src, want := range cases {
		_, diags := Parse("inv.hcl", []byte(src))
		if !diags.HasErrors() || !strings.Contains(diags.Error(), want) {
			t.Errorf("Parse(%q) = %v, want %q", src, diags, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Add([]byte(`dc "x" { ips = [] }`))
	f.Fuzz(func(t *testing.T, src []byte) {
		inv, diags := Parse("fuzz.hcl", src)
		if inv == nil && !diags.HasErrors() {
			t.Fatal("nil inventory without errors")
		}
	})
}
