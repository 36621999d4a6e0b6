package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/fix8524/fix8524/facts/hostprobe"
	"github.com/fix8524/fix8524/lab/samba"
	labwinrm "github.com/fix8524/fix8524/lab/winrm"
	"github.com/fix8524/fix8524/remote"
)

type fakeShell struct {
	dcs   []string
	lines []string
	fail  func(line string) bool
}

func (f *fakeShell) SSH(_ context.Context, dc string, cmd ...string) ([]byte, error) {
	f.dcs = append(f.dcs, dc)
	line := strings.Join(cmd, " ")
	f.lines = append(f.lines, line)
	if f.fail != nil && f.fail(line) {
		return []byte("ERROR: DsReplicaSync failed (2, 'WERR_FILE_NOT_FOUND')\n"), errors.New("exit 255")
	}
	return []byte("ok\n"), nil
}

// command builds what lab/winrm hands a Handler for a fix8524 script.
func command(t *testing.T, name, body string, params map[string]string) *labwinrm.Command {
	t.Helper()
	line, err := remote.PowerShellCommandLine(remote.Command{Name: name, PowerShell: body, Params: params})
	if err != nil {
		t.Fatal(err)
	}
	inv, err := remote.ParsePowerShellCommandLine(line)
	if err != nil {
		t.Fatal(err)
	}
	return &labwinrm.Command{CommandLine: line, PowerShell: inv, Name: inv.Name, Params: inv.Params}
}

const (
	listScript   = "foreach ($nc in ($P.ncs | ConvertFrom-Json)) { & repadmin.exe /replicate $P.destination $P.source $nc }"
	scalarScript = "foreach ($nc in $P.ncs) { & repadmin.exe /replicate $P.destination $P.source $nc }"
)

func ncsJSON(ncs ...string) string {
	b, _ := json.Marshal(ncs)
	return string(b)
}

func TestStandInRetry(t *testing.T) {
	sh := &fakeShell{}
	w := &WindowsStandIn{DC: "dc1", Shell: sh}
	var out, errOut bytes.Buffer
	cmd := command(t, "retry_replication", listScript, map[string]string{
		"destination": "DC1.lab.example.com.", "source": "dc2.lab.example.com",
		"ncs": ncsJSON("dc=lab,dc=example,dc=com", samba.SchemaDN)})
	if code := w.Run(context.Background(), cmd, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := []string{
		"samba-tool drs replicate 'DC1.lab.example.com.' 'dc2.lab.example.com' 'DC=lab,DC=example,DC=com' -P 2>&1",
		"samba-tool drs replicate 'DC1.lab.example.com.' 'dc2.lab.example.com' '" + samba.SchemaDN + "' -P 2>&1",
	}
	if strings.Join(sh.lines, "\n") != strings.Join(want, "\n") || sh.dcs[0] != "dc1" {
		t.Fatalf("ran %q on %q", sh.lines, sh.dcs)
	}
	calls := w.Calls()
	if len(calls) != 1 || calls[0].Name != "retry_replication" || calls[0].Exit != 0 || len(calls[0].Commands) != 2 {
		t.Fatalf("calls %+v", calls)
	}
}

// A script that iterates $P.ncs directly iterates one JSON string (PowerShell semantics): the
// stand-in fails it as repadmin would, and runs nothing.
func TestStandInScalarNCs(t *testing.T) {
	sh := &fakeShell{}
	w := &WindowsStandIn{DC: "dc1", Shell: sh}
	var out, errOut bytes.Buffer
	cmd := command(t, "retry_replication", scalarScript, map[string]string{
		"destination": "dc1.lab.example.com", "source": "dc2.lab.example.com", "ncs": ncsJSON(samba.BaseDN)})
	if code := w.Run(context.Background(), cmd, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if len(sh.lines) != 0 || !strings.Contains(errOut.String(), "repadmin /replicate failed for") {
		t.Fatalf("ran %q; stderr %q", sh.lines, errOut.String())
	}
	// a single NC given as a plain string is what such a script handles
	cmd = command(t, "retry_replication", scalarScript, map[string]string{
		"destination": "dc1.lab.example.com", "source": "0cc1d2b7-3c6e-4b0b-8f6e-1a2b3c4d5e6f", "ncs": samba.BaseDN})
	if code := w.Run(context.Background(), cmd, &out, &errOut); code != 0 || len(sh.lines) != 1 {
		t.Fatalf("exit %d, ran %q", code, sh.lines)
	}
}

func TestStandInFailures(t *testing.T) {
	sh := &fakeShell{fail: func(l string) bool { return strings.Contains(l, "Schema") }}
	w := &WindowsStandIn{DC: "dc3", Shell: sh}
	var out, errOut bytes.Buffer
	cmd := command(t, "retry_replication", listScript, map[string]string{
		"destination": "dc3", "source": "dc2", "ncs": ncsJSON(samba.BaseDN, samba.SchemaDN)})
	if code := w.Run(context.Background(), cmd, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "Schema") {
		t.Fatalf("exit %d, stderr %q", code, errOut.String())
	}
	for name, c := range map[string]*labwinrm.Command{
		"hostile host":   command(t, "retry_replication", listScript, map[string]string{"destination": "dc1; rm -rf /", "source": "dc2", "ncs": ncsJSON(samba.BaseDN)}),
		"other host":     command(t, "retry_replication", listScript, map[string]string{"destination": "dc1.contoso.com", "source": "dc2", "ncs": ncsJSON(samba.BaseDN)}),
		"unknown nc":     command(t, "retry_replication", listScript, map[string]string{"destination": "dc1", "source": "dc2", "ncs": ncsJSON("DC=evil'$(id)")}),
		"bad json":       command(t, "retry_replication", listScript, map[string]string{"destination": "dc1", "source": "dc2", "ncs": "[oops"}),
		"unknown script": command(t, "restart_everything", "Restart-Computer", nil),
		"no marker":      {CommandLine: "ipconfig /all"},
		"undecodable":    {CommandLine: "powershell -enc ???", PowerShellErr: errors.New("bad base64")},
	} {
		before := len(sh.lines)
		if code := w.Run(context.Background(), c, &out, &errOut); code == 0 {
			t.Errorf("%s: exit 0", name)
		}
		if len(sh.lines) != before {
			t.Errorf("%s: ran %q", name, sh.lines[before:])
		}
	}
	if code := (&WindowsStandIn{DC: "dc9", Shell: sh}).Run(context.Background(), command(t, "register_cname", "x", nil), &out, &errOut); code != 1 {
		t.Errorf("a stand-in for dc9 ran something: exit %d", code)
	}
}

func TestStandInRegister(t *testing.T) {
	sh := &fakeShell{}
	w := &WindowsStandIn{DC: "dc2", Shell: sh}
	var out, errOut bytes.Buffer
	for _, name := range []string{"register_cname", "register_host"} {
		if code := w.Run(context.Background(), command(t, name, "Restart-Service Netlogon", nil), &out, &errOut); code != 0 {
			t.Fatalf("%s: exit %d", name, code)
		}
	}
	if len(sh.lines) != 2 || !strings.HasPrefix(sh.lines[0], "samba_dnsupdate --all-interfaces") || sh.dcs[1] != "dc2" {
		t.Fatalf("ran %q on %q", sh.lines, sh.dcs)
	}
	sh.fail = func(string) bool { return true }
	if code := w.Run(context.Background(), command(t, "register_cname", "x", nil), &out, &errOut); code != 1 {
		t.Fatalf("ssh failure: exit %d", code)
	}
}

// FuzzStandIn: whatever parameters and script arrive, the stand-in never panics and only ever
// runs command lines made of the lab's own names, quoted.
func FuzzStandIn(f *testing.F) {
	f.Add("dc1.lab.example.com", "dc2.lab.example.com", ncsJSON(samba.BaseDN), listScript)
	f.Add("dc1", "0cc1d2b7-3c6e-4b0b-8f6e-1a2b3c4d5e6f", samba.ConfigDN, scalarScript)
	f.Add("dc1'", "dc2", `["DC=lab,DC=example,DC=com'"]`, listScript)
	f.Add("", "", `"x"`, "$P.NCS|convertfrom-json")
	f.Fuzz(func(t *testing.T, dest, src, ncs, body string) {
		sh := &fakeShell{}
		w := &WindowsStandIn{DC: "dc1", Shell: sh}
		cmd := &labwinrm.Command{Name: "retry_replication",
			PowerShell: &remote.PowerShellInvocation{Body: body},
			Params:     map[string]string{"destination": dest, "source": src, "ncs": ncs}}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		w.Run(ctx, cmd, &bytes.Buffer{}, &bytes.Buffer{})
		for _, l := range sh.lines {
			rest, ok := strings.CutPrefix(l, "samba-tool drs replicate '")
			if !ok || !strings.HasSuffix(rest, "' -P 2>&1") {
				t.Fatalf("unexpected command %q", l)
			}
			args := strings.Split(strings.TrimSuffix(rest, "' -P 2>&1"), "' '")
			if len(args) != 3 || !labHost(args[0]) || !labHost(args[1]) {
				t.Fatalf("command %q: hosts not from the lab", l)
			}
			if _, ok := labNC(args[2]); !ok || strings.ContainsAny(strings.Join(args, ""), "\n\r\x00;$`|&'\"\\") {
				t.Fatalf("command %q: unsafe", l)
			}
		}
	})
}

func TestStandInDNSClient(t *testing.T) {
	sh := &fakeShell{}
	w := &WindowsStandIn{DC: "dc1", Shell: sh}
	var out, errOut bytes.Buffer
	cmd := command(t, hostprobe.NameDNSClientWindows, "Get-DnsClientServerAddress", nil)
	// the fake returns "ok\n" as the file: no nameserver at all
	if code := w.Run(context.Background(), cmd, &out, &errOut); code != 0 || sh.lines[0] != "cat /etc/resolv.conf" {
		t.Fatalf("exit %d (%s), ran %q", code, errOut.String(), sh.lines)
	}
	js, err := DNSClientJSON([]byte("# lab\nnameserver 127.0.10.9\nnameserver ::1\nsearch lab.example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	d, err := hostprobe.ParseDNSClientJSON(js)
	if err != nil || strings.Join(d.Servers, ",") != "127.0.10.9,::1" {
		t.Fatalf("round trip: %+v %v (%s)", d, err, js)
	}
	if code := w.Run(context.Background(), command(t, hostprobe.NameEvents, "Get-WinEvent", nil), &out, &errOut); code == 0 {
		t.Fatal("the events probe succeeded on a Samba DC")
	}
}
