package connect

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/fix8524/fix8524/facts/inventory"
	"github.com/fix8524/fix8524/remote"
)

func inv(t *testing.T, src string) *inventory.Inventory {
	t.Helper()
	i, diags := inventory.Parse("inv.hcl", []byte(src))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return i
}

func pw(s string) func() (string, error) { return func() (string, error) { return s, nil } }

func TestChoose(t *testing.T) {
	i := inv(t, `
dc "WINSSH" {
  ssh {
    user     = "Administrator"
    key_file = "k"
  }
}
dc "BOTH" {
  winrm { user = "LAB\\a" }
  ssh { key_file = "k" }
}
dc "KRB" {
  winrm {
    user  = "a@lab.test"
    auth  = "kerberos"
    https = true
  }
}
`)
	for _, c := range []struct {
		name     string
		r        Runners
		dc, plat string
		want     string // transport, or "!" + a word of the reason
	}{
		{"nothing configured", Runners{}, "DC1", "windows", "!WinRM credentials"},
		{"--user is not WinRM consent", Runners{DefaultUser: "LAB\\a", WinRMPassword: pw("x")}, "DC1", "windows", "!WinRM credentials"},
		{"winrm user without password", Runners{Settings: Settings{WinRMUser: "LAB\\a"}}, "DC1", "windows", "!password"},
		{"windows winrm", Runners{Settings: Settings{WinRMUser: "LAB\\a"}, WinRMPassword: pw("x")}, "DC1", "windows", remote.WinRM},
		{"samba without key", Runners{Settings: Settings{WinRMUser: "LAB\\a"}, WinRMPassword: pw("x")}, "DC1", "samba", "!SSH credentials"},
		{"samba key", Runners{Settings: Settings{SSHKey: "k"}}, "DC1", "samba", remote.SSH},
		{"samba password", Runners{SSHPassword: "p"}, "DC1", "samba", remote.SSH},
		{"unknown platform, SSH key", Runners{Settings: Settings{SSHKey: "k"}}, "DC1", "", remote.SSH},
		{"unknown platform, WinRM only", Runners{Settings: Settings{WinRMUser: "LAB\\a"}, WinRMPassword: pw("x")}, "DC1", "", remote.WinRM},
		{"unknown platform, both: SSH", Runners{Settings: Settings{WinRMUser: "LAB\\a", SSHKey: "k"}, WinRMPassword: pw("x")}, "DC1", "", remote.SSH},
		{"unknown platform, nothing", Runners{}, "DC1", "", "!platform is unknown"},
		{"inventory ssh only wins over windows", Runners{Inventory: i}, "WINSSH", "windows", remote.SSH},
		{"inventory ssh only, unknown platform", Runners{Inventory: i}, "winssh.lab.test", "", remote.SSH},
		{"inventory both: platform decides", Runners{Inventory: i, WinRMPassword: pw("x")}, "BOTH", "samba", remote.SSH},
		{"inventory both: windows", Runners{Inventory: i, WinRMPassword: pw("x")}, "BOTH", "windows", remote.WinRM},
		{"inventory kerberos needs no password", Runners{Inventory: i}, "KRB", "windows", remote.WinRM},
	} {
		tr, why := c.r.Choose(c.dc, c.plat)
		switch {
		case strings.HasPrefix(c.want, "!"):
			if tr != "" || !strings.Contains(why, c.want[1:]) {
				t.Errorf("%s: got %q (%s), want none because of %q", c.name, tr, why, c.want[1:])
			}
		case tr != c.want || why != "":
			t.Errorf("%s: got %q (%s), want %s", c.name, tr, why, c.want)
		}
	}
	var nilRunners *Runners
	if tr, why := nilRunners.Choose("DC1", "windows"); tr != "" || why == "" {
		t.Errorf("nil runners: %q %q", tr, why)
	}
}

func TestWinRMPasswordNeededAndConfigured(t *testing.T) {
	if (&Runners{}).WinRMPasswordNeeded() || (&Runners{}).Configured() {
		t.Error("empty settings need a password / are configured")
	}
	if !(&Runners{Settings: Settings{WinRMUser: "a"}}).WinRMPasswordNeeded() {
		t.Error("--winrm-user with NTLM needs a password")
	}
	if (&Runners{Settings: Settings{WinRMUser: "a", WinRMAuth: "kerberos"}}).WinRMPasswordNeeded() {
		t.Error("Kerberos needs no password")
	}
	krb := inv(t, "dc \"DC1\" {\n  winrm {\n    user = \"a@x\"\n    auth = \"kerberos\"\n  }\n}\n")
	if (&Runners{Inventory: krb}).WinRMPasswordNeeded() || !(&Runners{Inventory: krb}).Configured() {
		t.Error("inventory Kerberos user")
	}
	def := inv(t, "defaults {\n  winrm { user = \"LAB\\\\svc\" }\n}\n")
	if !(&Runners{Inventory: def}).WinRMPasswordNeeded() || !(&Runners{Inventory: def}).Configured() {
		t.Error("inventory default NTLM user needs a password")
	}
	if !(&Runners{Inventory: inv(t, "dc \"DC2\" {\n  ssh { key_file = \"k\" }\n}\n")}).Configured() {
		t.Error("inventory SSH key")
	}
	if !(&Runners{SSHPassword: "p"}).Configured() {
		t.Error("SSH password")
	}
}

func TestRunnerErrors(t *testing.T) {
	ctx := context.Background()
	target := remote.DC{Name: "DC1", DNSHostName: "dc1.lab.test", IPs: []string{"127.0.0.1"}, Platform: "windows"}
	r := &Runners{}
	if _, err := r.Runner(ctx, withTransport(target, "telnet")); err == nil || !strings.Contains(err.Error(), "telnet") {
		t.Errorf("unknown transport: %v", err)
	}
	if _, err := r.Runner(ctx, withTransport(target, remote.WinRM)); err == nil || !strings.Contains(err.Error(), "no WinRM user") {
		t.Errorf("no user: %v", err)
	}
	boom := errors.New("no terminal to ask for the password")
	r = &Runners{DefaultUser: `LAB\a`, WinRMPassword: func() (string, error) { return "", boom }}
	if _, err := r.Runner(ctx, withTransport(target, remote.WinRM)); !errors.Is(err, boom) {
		t.Errorf("password error lost: %v", err)
	}
	// Kerberos to an IP-only host is refused by the transport's own checks; the password
	// callback is not even asked.
	r = &Runners{Settings: Settings{WinRMUser: "a@lab.test", WinRMAuth: "kerberos", WinRMHTTPS: true},
		WinRMPassword: func() (string, error) { t.Error("password asked for Kerberos"); return "", nil }}
	if _, err := r.Runner(ctx, remote.DC{Name: "192.0.2.1", Transport: remote.WinRM}); err == nil {
		t.Error("Kerberos to an IP accepted")
	}
	// Secrets never appear in an error.
	const secret = "S3cret-Passphrase-Never-Shown"
	r = &Runners{Settings: Settings{SSHKey: "/nonexistent/key"}, SSHKeyPassphrase: secret, SSHPassword: secret + "2"}
	_, err := r.Runner(ctx, withTransport(target, remote.SSH))
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Errorf("ssh with a missing key: %v", err)
	}
}

func withTransport(t remote.DC, tr string) remote.DC { t.Transport = tr; return t }
