package remote

import (
	"strings"
	"testing"
	"time"
)

func TestDisplayPowerShell(t *testing.T) {
	c := Command{
		Name:       "restart_netlogon",
		PowerShell: "# restart\nRestart-Service -Name Netlogon -Force\n",
		Params:     map[string]string{"DC": "dc1.contoso.com", "Evil": "x'; Remove-Item C:\\ #\n\u2019", "AdminPassword": "hunter2"},
	}
	got := c.Display()
	want := `restart_netlogon [powershell] $P=@{AdminPassword=<redacted>; DC='dc1.contoso.com'; Evil=('x''; Remove-Item C:\ #'+[char]0x000A+'` + "\u2019\u2019" + `')}: Restart-Service -Name Netlogon -Force`
	if got != want {
		t.Errorf("Display:\n got %s\nwant %s", got, want)
	}
	if strings.Contains(got, "hunter2") {
		t.Error("secret in display")
	}
}

func TestDisplayArgvHostile(t *testing.T) {
	for _, v := range hostile {
		c := Command{Name: "x", Argv: []string{"printf", "%s", v}}
		d := c.Display()
		if strings.ContainsAny(d, "\n\r\x00\u2028\u2029\u202e") {
			t.Errorf("Display of %q breaks the line: %q", v, d)
		}
	}
	c := Command{Name: "samba_dnsupdate", Argv: []string{"samba_dnsupdate", "--verbose", "a b", "it's", "a\nb"}}
	want := `samba_dnsupdate [posix]: samba_dnsupdate --verbose 'a b' 'it'\''s' $'a\nb'`
	if got := c.Display(); got != want {
		t.Errorf("got %s want %s", got, want)
	}
}

func TestDisplayLongScriptSummarized(t *testing.T) {
	c := Command{Name: "long", PowerShell: strings.Repeat("Write-Output 'x'\n", 30)}
	if d := c.Display(); !strings.Contains(d, "script of 30 lines, sha256:") {
		t.Errorf("got %s", d)
	}
}

func TestValidate(t *testing.T) {
	bad := []Command{
		{Name: "", PowerShell: "x"},
		{Name: "Bad Name", PowerShell: "x"},
		{Name: "x; rm", PowerShell: "x"},
		{Name: "x"},
		{Name: "x", PowerShell: "x", Argv: []string{"a"}},
		{Name: "x", Argv: []string{"a", "b\x00c"}},
		{Name: "x", Argv: []string{"a"}, Params: map[string]string{"A": "b"}},
		{Name: "x", PowerShell: "x", Params: map[string]string{"a-b": "c"}},
		{Name: "x", PowerShell: "x", Params: map[string]string{"a": "\xff"}},
		{Name: "x", PowerShell: "x", Timeout: -time.Second},
	}
	for _, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil", c)
		}
	}
	if err := (Command{Name: "ok_1", PowerShell: "x", Params: map[string]string{"DC": "a\x00b"}}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestTarget(t *testing.T) {
	tg := Target{Host: "dc1.contoso.com", Address: "127.0.0.1"}
	if got := tg.DialAddress(5986); got != "127.0.0.1:5986" {
		t.Error(got)
	}
	if got := (Target{Host: "::1", Port: 22}).DialAddress(5986); got != "[::1]:22" {
		t.Error(got)
	}
	if (Target{Host: "10.0.0.1"}).HostIsIP() != true || tg.HostIsIP() {
		t.Error("HostIsIP")
	}
}
