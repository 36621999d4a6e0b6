// Package sshd runs a private OpenSSH server for tests: /usr/sbin/sshd on 127.0.0.1, on a free
// port, with a host key, an authorized client key and a config in a temporary directory, stopped
// by its PID when the test ends.
//
// The server runs as the test's own user and takes logins for that user only, with the client
// key (no passwords). Every session gets PATH=<fake commands>:/usr/bin:/bin, so a test can put
// stand-ins for remote commands (Options.Commands) in front of the real ones, and SHLVL=2, which
// keeps Debian's bash from sourcing the login user's ~/.bashrc for every command (root's .bashrc
// may run slow things such as pyenv).
//
// Key material is never printed: Key's String method shows a fingerprint only, and failures
// quote sshd's own error log.
package sshd

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Path is the sshd binary Start runs; a test that calls Start is skipped where it is missing.
const Path = "/usr/sbin/sshd"

// Options configures Start.
type Options struct {
	// Commands are stand-ins for remote commands, first on every session's PATH: file name
	// (a plain name, no slash) to contents, usually a "#!/bin/sh" script; written mode 0755.
	Commands map[string]string
}

// Key is an unencrypted ed25519 key pair. Its String and GoString show the fingerprint only.
type Key struct {
	Public gossh.PublicKey
	Signer gossh.Signer
	PEM    []byte // the private key in OpenSSH PEM form
}

// String is the key's SHA256 fingerprint: never the private key.
func (k Key) String() string {
	if k.Public == nil {
		return "sshd.Key(none)"
	}
	return "sshd.Key(" + gossh.FingerprintSHA256(k.Public) + ")"
}

// GoString is String, so that %#v does not print the private key either.
func (k Key) GoString() string { return k.String() }

// NewKey generates a key pair.
func NewKey(t testing.TB) Key {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatalf("sshd: generate key: %v", err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatalf("sshd: marshal key: %v", err)
	}
	sp, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatalf("sshd: public key: %v", err)
	}
	signer, err := gossh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatalf("sshd: signer: %v", err)
	}
	return Key{Public: sp, Signer: signer, PEM: pem.EncodeToMemory(block)}
}

// WriteFile writes the private key to path, mode 0600.
func (k Key) WriteFile(t testing.TB, path string) {
	t.Helper()
	if err := os.WriteFile(path, k.PEM, 0o600); err != nil {
		t.Fatalf("sshd: write key: %v", err)
	}
}

// Server is a running sshd.
type Server struct {
	Addr          string // "127.0.0.1:<Port>"
	Port          int
	User          string // the test's user: the one login the server takes
	HostKey       gossh.PublicKey
	Client        Key    // the authorized client key
	ClientKeyFile string // Client's private key, written mode 0600
}

// PrivsepDir is sshd's privilege-separation directory on Debian.
const PrivsepDir = "/run/sshd"

// Start runs a private sshd for the test and stops it (by PID) in t.Cleanup. It skips the test
// when sshd is not installed.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if _, err := os.Stat(Path); err != nil {
		t.Skipf("%s not found: apt-get install -y openssh-server (skipping a test that needs a private sshd)", Path)
	}
	dir := t.TempDir()
	if strings.ContainsAny(dir, "\"\n") {
		t.Fatalf("sshd: temporary directory %q cannot be named in sshd_config", dir)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	u, err := user.Current()
	if err != nil {
		t.Fatalf("sshd: current user: %v", err)
	}
	host := NewKey(t)
	host.WriteFile(t, filepath.Join(dir, "host_ed25519"))
	s := &Server{User: u.Username, HostKey: host.Public, Client: NewKey(t), ClientKeyFile: filepath.Join(dir, "client_key")}
	s.Client.WriteFile(t, s.ClientKeyFile)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), gossh.MarshalAuthorizedKey(s.Client.Public), 0o600); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatalf("sshd: %v", err)
	}
	names := make([]string, 0, len(opts.Commands))
	for name := range opts.Commands {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			t.Fatalf("sshd: command name %q is not a plain file name", name)
		}
		if err := os.WriteFile(filepath.Join(bin, name), []byte(opts.Commands[name]), 0o755); err != nil {
			t.Fatalf("sshd: command %s: %v", name, err)
		}
	}
	cfgPath := filepath.Join(dir, "sshd_config")
	var lastErr string
	for attempt := 0; attempt < 5; attempt++ {
		s.Port = FreePort(t)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		if err := os.WriteFile(cfgPath, []byte(config(s.Port, dir, bin)), 0o600); err != nil {
			t.Fatalf("sshd: %v", err)
		}
		cmd := exec.Command(Path, "-D", "-e", "-f", cfgPath)
		var errb strings.Builder
		cmd.Stderr = &errb
		if err := cmd.Start(); err != nil {
			t.Fatalf("sshd: start %s: %v", Path, err)
		}
		if waitBanner(s.Addr, 10*time.Second) {
			t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
			return s
		}
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		lastErr = errb.String()
		if strings.Contains(lastErr, "privilege separation directory") {
			// sshd needs its compiled-in privilege-separation directory (/run/sshd), which the
			// package's service unit creates at boot; a machine where the service never ran
			// (a container, policy-rc.d during install) has none. Root makes it, as the unit does.
			if os.Geteuid() != 0 {
				t.Skipf("sshd cannot start here (%s); as root the test creates %s", strings.TrimSpace(lastErr), PrivsepDir)
			}
			if err := os.MkdirAll(PrivsepDir, 0o755); err != nil {
				t.Fatalf("sshd: creating %s: %v", PrivsepDir, err)
			}
		}
	}
	t.Fatalf("sshd did not start: %s", lastErr)
	return nil
}

// config is the sshd_config of a server on 127.0.0.1:port with its files in dir.
func config(port int, dir, bin string) string {
	return fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile none
SetEnv %s SHLVL=2
LogLevel ERROR
`, port, quote(filepath.Join(dir, "host_ed25519")), quote(filepath.Join(dir, "authorized_keys")), quote("PATH="+bin+":/usr/bin:/bin"))
}

// quote makes one sshd_config argument of v (a temporary path: no double quotes in it).
func quote(v string) string { return `"` + v + `"` }

// KnownHosts writes a known_hosts file (in a new temporary directory) that lists the server's
// host key under each of names, at the server's port, and returns its path.
func (s *Server) KnownHosts(t testing.TB, names ...string) string {
	t.Helper()
	return s.KnownHostsWithKey(t, s.HostKey, names...)
}

// KnownHostsWithKey is KnownHosts with another host key: a known_hosts file that does not
// match the server.
func (s *Server) KnownHostsWithKey(t testing.TB, key gossh.PublicKey, names ...string) string {
	t.Helper()
	var b strings.Builder
	for _, h := range names {
		b.WriteString(knownhosts.Line([]string{knownhosts.Normalize(net.JoinHostPort(h, strconv.Itoa(s.Port)))}, key) + "\n")
	}
	p := filepath.Join(t.TempDir(), "known_hosts")
	if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
		t.Fatalf("sshd: known_hosts: %v", err)
	}
	return p
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listened on a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("sshd: free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitBanner reports whether an SSH server answers with its banner at addr within limit.
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
