package ssh_test

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/fix8524/fix8524/lab/sshd"
	"github.com/fix8524/fix8524/remote"
	"github.com/fix8524/fix8524/remote/ssh"
)

// fakePowerShell stands in for powershell.exe on the private sshd: it prints the script that
// -EncodedCommand carries, so the Windows path can be checked end to end.
const fakePowerShell = "#!/bin/sh\n# fake powershell.exe: print the decoded -EncodedCommand script\n" +
	"while [ $# -gt 0 ]; do case \"$1\" in -EncodedCommand) printf %s \"$2\" | base64 -d | iconv -f UTF-16LE -t UTF-8; exit 0;; esac; shift; done\nexit 64\n"

// startSSHD runs a private sshd on 127.0.0.1 (lab/sshd) with the fake powershell.exe on its PATH.
func startSSHD(t *testing.T) *sshd.Server {
	t.Helper()
	return sshd.Start(t, sshd.Options{Commands: map[string]string{"powershell.exe": fakePowerShell}})
}

// client is an ssh.Client for s as dc1.samba.test, with the authorized key and s's host key;
// mod changes the config first.
func client(t *testing.T, s *sshd.Server, mod func(*ssh.Config)) *ssh.Client {
	t.Helper()
	cfg := ssh.Config{
		Target:          remote.Target{Host: "dc1.samba.test", Address: "127.0.0.1", Port: s.Port},
		User:            s.User,
		KeyPEM:          s.Client.PEM,
		KnownHostsFiles: []string{s.KnownHosts(t, "dc1.samba.test")},
		Timeout:         10 * time.Second,
		Logf:            t.Logf,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := ssh.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

var hostile = []string{
	"", " ", "dc1.contoso.com", "it's", "'", "''", `"`, `\`, `\'`, "a;b", "a&b", "a|b", "$(id)", "`id`", "${HOME}",
	"a\nb", "a\r\nb", "tab\there", "-n", "--", "*", "?", "~root", "a=b", "!", "#c", "<x>", "%PATH%",
	"\u2019; rm -rf /; \u2018", "\uff07", "\u201cdq\u201d", "\u202eevil", "emoji😀", "\x7f", "\x1b[31m",
	"CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=samba,DC=test",
	"52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8._msdcs.samba.test",
}

func TestRunHostileArguments(t *testing.T) {
	s := startSSHD(t)
	c := client(t, s, nil)
	for _, v := range hostile {
		res, err := c.Run(context.Background(), remote.Command{Name: "echo", Argv: []string{"printf", "%s", v}})
		if err != nil {
			t.Fatalf("Run(%q): %v", v, err)
		}
		if string(res.Stdout) != v || res.ExitCode != 0 {
			t.Fatalf("value %q came back as %q (exit %d, stderr %q)", v, res.Stdout, res.ExitCode, res.Stderr)
		}
	}
	res, err := c.Run(context.Background(), remote.Command{Name: "fail", Argv: []string{"sh", "-c", "echo oops >&2; exit 3"}})
	if err != nil || res.ExitCode != 3 || string(res.Stderr) != "oops\n" {
		t.Fatalf("exit: %+v %v", res, err)
	}
	if _, err := c.Run(context.Background(), remote.Command{Name: "nul", Argv: []string{"printf", "a\x00b"}}); remote.KindOf(err) != remote.KindUnsupported {
		t.Fatalf("NUL argument: %v", err)
	}
	if _, err := c.Run(context.Background(), remote.Command{Name: "ps", PowerShell: "Get-Date"}); remote.KindOf(err) != remote.KindUnsupported {
		t.Fatalf("PowerShell on POSIX: %v", err)
	}
}

func TestWindowsOpenSSHBootstrap(t *testing.T) {
	s := startSSHD(t)
	c := client(t, s, func(c *ssh.Config) { c.Windows = true })
	res, err := c.Run(context.Background(), remote.Command{Name: "restart_netlogon", PowerShell: "Restart-Service Netlogon", Params: map[string]string{"DC": "dc1'; evil"}})
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("%+v %v", res, err)
	}
	inv, err := remote.ParsePowerShellScript(string(res.Stdout))
	if err != nil || inv.Name != "restart_netlogon" || inv.Params["DC"] != "dc1'; evil" || inv.Body != "Restart-Service Netlogon" {
		t.Fatalf("decoded on the server: %+v %v (%q)", inv, err, res.Stdout)
	}
}

func TestHostKeyVerification(t *testing.T) {
	s := startSSHD(t)
	other := sshd.NewKey(t).Public
	echo := remote.Command{Name: "echo", Argv: []string{"true"}}

	c := client(t, s, func(c *ssh.Config) { c.KnownHostsFiles = []string{s.KnownHostsWithKey(t, other, "dc1.samba.test")} })
	_, err := c.Run(context.Background(), echo)
	if remote.KindOf(err) != remote.KindHostKey || !strings.Contains(err.Error(), "MISMATCH") {
		t.Fatalf("wrong host key: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c = client(t, s, func(c *ssh.Config) { c.KnownHostsFiles = []string{empty} })
	_, err = c.Run(context.Background(), echo)
	if remote.KindOf(err) != remote.KindHostKey || !strings.Contains(err.Error(), "not in known_hosts") {
		t.Fatalf("unknown host: %v", err)
	}
	var warned bool
	c = client(t, s, func(c *ssh.Config) {
		c.KnownHostsFiles = []string{empty}
		c.InsecureIgnoreHostKey = true
		c.Logf = func(f string, a ...any) { warned = warned || strings.Contains(fmt.Sprintf(f, a...), "NOT verified") }
	})
	if _, err := c.Run(context.Background(), echo); err != nil || !warned {
		t.Fatalf("insecure mode: %v, warned=%v", err, warned)
	}
}

func TestFailuresAreBounded(t *testing.T) {
	s := startSSHD(t)
	wrongKey := sshd.NewKey(t).PEM
	cases := []struct {
		name string
		mod  func(*ssh.Config)
		cmd  remote.Command
		kind remote.Kind
	}{
		{"wrong-key", func(c *ssh.Config) { c.KeyPEM = wrongKey }, remote.Command{Name: "x", Argv: []string{"true"}}, remote.KindAuth},
		{"timeout", nil, remote.Command{Name: "sleepy", Argv: []string{"sleep", "30"}, Timeout: time.Second}, remote.KindTimeout},
		{"refused", func(c *ssh.Config) { c.Target.Port = sshd.FreePort(t) }, remote.Command{Name: "x", Argv: []string{"true"}}, remote.KindRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := client(t, s, tc.mod)
			start := time.Now()
			_, err := c.Run(context.Background(), tc.cmd)
			if remote.KindOf(err) != tc.kind {
				t.Fatalf("want %s, got %v", tc.kind, err)
			}
			if d := time.Since(start); d > 15*time.Second {
				t.Errorf("took %s", d)
			}
			t.Logf("%v", err)
		})
	}
	// After a timeout the connection still works.
	c := client(t, s, nil)
	_, _ = c.Run(context.Background(), remote.Command{Name: "sleepy", Argv: []string{"sleep", "30"}, Timeout: 500 * time.Millisecond})
	if res, err := c.Run(context.Background(), remote.Command{Name: "x", Argv: []string{"echo", "ok"}}); err != nil || string(res.Stdout) != "ok\n" {
		t.Fatalf("after timeout: %q %v", res.Stdout, err)
	}
}

func TestConfigErrors(t *testing.T) {
	enc := sshd.NewKey(t).PEM
	for name, cfg := range map[string]ssh.Config{
		"no-host":     {User: "u", Password: "p"},
		"no-user":     {Target: remote.Target{Host: "h"}, Password: "p"},
		"no-auth":     {Target: remote.Target{Host: "h"}, User: "u"},
		"bad-key":     {Target: remote.Target{Host: "h"}, User: "u", KeyPEM: []byte("nope")},
		"no-known":    {Target: remote.Target{Host: "h"}, User: "u", KeyPEM: enc, KnownHostsFiles: []string{"/nonexistent/known_hosts"}},
		"bad-keyfile": {Target: remote.Target{Host: "h"}, User: "u", KeyFile: "/nonexistent/id"},
	} {
		if _, err := ssh.New(cfg); remote.KindOf(err) != remote.KindConfig {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestEncryptedKeyFile(t *testing.T) {
	s := startSSHD(t)
	block, err := gossh.ParseRawPrivateKey(s.Client.PEM)
	if err != nil {
		t.Fatal(err)
	}
	enc, err := gossh.MarshalPrivateKeyWithPassphrase(block, "", []byte("key pass"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(enc), 0o600); err != nil {
		t.Fatal(err)
	}
	c := client(t, s, func(c *ssh.Config) { c.KeyPEM = nil; c.KeyFile = path; c.KeyPassphrase = "key pass" })
	if res, err := c.Run(context.Background(), remote.Command{Name: "x", Argv: []string{"echo", "ok"}}); err != nil || string(res.Stdout) != "ok\n" {
		t.Fatalf("%q %v", res.Stdout, err)
	}
	_, err = ssh.New(ssh.Config{Target: remote.Target{Host: "h"}, User: "u", KeyFile: path, InsecureIgnoreHostKey: true})
	if remote.KindOf(err) != remote.KindConfig || !strings.Contains(err.Error(), "KeyPassphrase") {
		t.Fatalf("missing passphrase: %v", err)
	}
	_, err = ssh.New(ssh.Config{Target: remote.Target{Host: "h"}, User: "u", KeyFile: path, KeyPassphrase: "wrong", InsecureIgnoreHostKey: true})
	if remote.KindOf(err) != remote.KindConfig || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong passphrase: %v", err)
	}
}
