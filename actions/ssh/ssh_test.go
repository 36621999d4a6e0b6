package ssh_test

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fix8524/fix8524/actions/remote"
	"github.com/fix8524/fix8524/actions/ssh"
)

const sshdPath = "/usr/sbin/sshd"

type sshd struct {
	dir     string
	port    int
	hostPub gossh.PublicKey
	keyPEM  []byte // client private key
	user    string
}

func writeKey(t *testing.T, path string) (gossh.PublicKey, []byte) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	b := pem.EncodeToMemory(block)
	if path != "" {
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	sp, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp, b
}

// startSSHD runs a private sshd on 127.0.0.1 with keys generated in a temp dir. A fake
// powershell.exe on the server's PATH decodes -EncodedCommand so the Windows path can be
// checked end to end. SHLVL=2 keeps Debian's bash from sourcing the login user's ~/.bashrc
// for every command (on the CI machine root's .bashrc runs pyenv: seconds per command).
func startSSHD(t *testing.T) *sshd {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("%s not found: apt-get install -y openssh-server (skipping the SSH integration test)", sshdPath)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &sshd{dir: dir}
	s.hostPub, _ = writeKey(t, filepath.Join(dir, "host_ed25519"))
	clientPub, clientPEM := writeKey(t, "")
	s.keyPEM = clientPEM
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), gossh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	fakePS := "#!/bin/sh\n# fake powershell.exe: print the decoded -EncodedCommand script\n" +
		"while [ $# -gt 0 ]; do case \"$1\" in -EncodedCommand) printf %s \"$2\" | base64 -d | iconv -f UTF-16LE -t UTF-8; exit 0;; esac; shift; done\nexit 64\n"
	if err := os.WriteFile(filepath.Join(bin, "powershell.exe"), []byte(fakePS), 0o755); err != nil {
		t.Fatal(err)
	}
	u, err := exec.Command("id", "-un").Output()
	if err != nil {
		t.Fatal(err)
	}
	s.user = strings.TrimSpace(string(u))
	var lastErr string
	for attempt := 0; attempt < 5; attempt++ {
		s.port = freePort(t)
		cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s/host_ed25519
AuthorizedKeysFile %s/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile none
SetEnv PATH=%s:/usr/bin:/bin SHLVL=2
LogLevel ERROR
`, s.port, dir, dir, bin)
		cfgPath := filepath.Join(dir, "sshd_config")
		if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(sshdPath, "-D", "-e", "-f", cfgPath)
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatalf("start sshd: %v", err)
		}
		if waitBanner(fmt.Sprintf("127.0.0.1:%d", s.port), 10*time.Second) {
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return s
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		lastErr = errb.String()
	}
	t.Fatalf("sshd did not start: %s", lastErr)
	return nil
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitBanner(addr string, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			_ = c.Close()
			if strings.HasPrefix(line, "SSH-2.0-") {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func (s *sshd) knownHosts(t *testing.T, key gossh.PublicKey) string {
	p := filepath.Join(t.TempDir(), "known_hosts")
	line := knownhosts.Line([]string{knownhosts.Normalize(fmt.Sprintf("dc1.samba.test:%d", s.port))}, key)
	if err := os.WriteFile(p, []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (s *sshd) client(t *testing.T, mod func(*ssh.Config)) *ssh.Client {
	t.Helper()
	cfg := ssh.Config{
		Target:          remote.Target{Host: "dc1.samba.test", Address: "127.0.0.1", Port: s.port},
		User:            s.user,
		KeyPEM:          s.keyPEM,
		KnownHostsFiles: []string{s.knownHosts(t, s.hostPub)},
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
	c := s.client(t, nil)
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
	c := s.client(t, func(c *ssh.Config) { c.Windows = true })
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
	other, _ := writeKey(t, "")
	echo := remote.Command{Name: "echo", Argv: []string{"true"}}

	c := s.client(t, func(c *ssh.Config) { c.KnownHostsFiles = []string{s.knownHosts(t, other)} })
	_, err := c.Run(context.Background(), echo)
	if remote.KindOf(err) != remote.KindHostKey || !strings.Contains(err.Error(), "MISMATCH") {
		t.Fatalf("wrong host key: %v", err)
	}
	empty := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c = s.client(t, func(c *ssh.Config) { c.KnownHostsFiles = []string{empty} })
	_, err = c.Run(context.Background(), echo)
	if remote.KindOf(err) != remote.KindHostKey || !strings.Contains(err.Error(), "not in known_hosts") {
		t.Fatalf("unknown host: %v", err)
	}
	var warned bool
	c = s.client(t, func(c *ssh.Config) {
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
	_, wrongKey := writeKey(t, "")
	cases := []struct {
		name string
		mod  func(*ssh.Config)
		cmd  remote.Command
		kind remote.Kind
	}{
		{"wrong-key", func(c *ssh.Config) { c.KeyPEM = wrongKey }, remote.Command{Name: "x", Argv: []string{"true"}}, remote.KindAuth},
		{"timeout", nil, remote.Command{Name: "sleepy", Argv: []string{"sleep", "30"}, Timeout: time.Second}, remote.KindTimeout},
		{"refused", func(c *ssh.Config) { c.Target.Port = freePort(t) }, remote.Command{Name: "x", Argv: []string{"true"}}, remote.KindRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := s.client(t, tc.mod)
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
	c := s.client(t, nil)
	_, _ = c.Run(context.Background(), remote.Command{Name: "sleepy", Argv: []string{"sleep", "30"}, Timeout: 500 * time.Millisecond})
	if res, err := c.Run(context.Background(), remote.Command{Name: "x", Argv: []string{"echo", "ok"}}); err != nil || string(res.Stdout) != "ok\n" {
		t.Fatalf("after timeout: %q %v", res.Stdout, err)
	}
}

func TestConfigErrors(t *testing.T) {
	_, enc := writeKey(t, "")
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
	block, err := gossh.ParseRawPrivateKey(s.keyPEM)
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
	c := s.client(t, func(c *ssh.Config) { c.KeyPEM = nil; c.KeyFile = path; c.KeyPassphrase = "key pass" })
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
