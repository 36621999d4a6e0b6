package hostprobe_test

import (
	"bufio"
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
)

// A private sshd on 127.0.0.1 for the SSH probes (after actions/ssh's test helper, which is
// not exported). The DC's /etc/resolv.conf is simulated: a `cat` first on the server's PATH
// prints resolvConf for /etc/resolv.conf and runs /bin/cat otherwise, so the test does not
// depend on this machine's resolver settings.

const sshdPath = "/usr/sbin/sshd"

type sshd struct {
	port       int
	user       string
	keyFile    string // authorized client key
	otherKey   string // a key the server does not know
	knownHosts string // the host key for each of the host names given, on this port
}

func genKey(t *testing.T, path string) gossh.PublicKey {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sp, err := gossh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return sp
}

func startSSHD(t *testing.T, resolvConf string, hostNames ...string) *sshd {
	t.Helper()
	if _, err := os.Stat(sshdPath); err != nil {
		t.Skipf("%s not found: apt-get install -y openssh-server (skipping the SSH probe test)", sshdPath)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	s := &sshd{keyFile: filepath.Join(dir, "client_key"), otherKey: filepath.Join(dir, "other_key")}
	hostPub := genKey(t, filepath.Join(dir, "host_ed25519"))
	clientPub := genKey(t, s.keyFile)
	genKey(t, s.otherKey)
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), gossh.MarshalAuthorizedKey(clientPub), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "bin")
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "resolv.conf"), []byte(resolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
	fakeCat := fmt.Sprintf("#!/bin/sh\nif [ \"$#\" = 1 ] && [ \"$1\" = /etc/resolv.conf ]; then exec /bin/cat %s/resolv.conf; fi\nexec /bin/cat \"$@\"\n", dir)
	if err := os.WriteFile(filepath.Join(bin, "cat"), []byte(fakeCat), 0o755); err != nil {
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
HostKey %[2]s/host_ed25519
AuthorizedKeysFile %[2]s/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PidFile none
SetEnv PATH=%[3]s:/usr/bin:/bin SHLVL=2
LogLevel ERROR
`, s.port, dir, bin)
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
			s.knownHosts = filepath.Join(dir, "known_hosts")
			var lines string
			for _, h := range hostNames {
				lines += knownhosts.Line([]string{knownhosts.Normalize(fmt.Sprintf("%s:%d", h, s.port))}, hostPub) + "\n"
			}
			if err := os.WriteFile(s.knownHosts, []byte(lines), 0o600); err != nil {
				t.Fatal(err)
			}
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
