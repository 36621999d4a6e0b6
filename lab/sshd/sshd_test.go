package sshd_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fix8524/fix8524/lab/sshd"
)

func dial(t *testing.T, s *sshd.Server, knownHostsFile string, auth gossh.AuthMethod) (*gossh.Client, error) {
	t.Helper()
	cb, err := knownhosts.New(knownHostsFile)
	if err != nil {
		t.Fatal(err)
	}
	c, err := gossh.Dial("tcp", s.Addr, &gossh.ClientConfig{User: s.User, Auth: []gossh.AuthMethod{auth}, HostKeyCallback: cb, Timeout: 10 * time.Second})
	if err == nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, err
}

func run(t *testing.T, c *gossh.Client, cmd string) string {
	t.Helper()
	sess, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	var stderr bytes.Buffer
	sess.Stderr = &stderr
	out, err := sess.Output(cmd)
	if err != nil {
		t.Fatalf("%s: %v (stderr %q)", cmd, err, stderr.String())
	}
	return string(out)
}

func TestServer(t *testing.T) {
	s := sshd.Start(t, sshd.Options{Commands: map[string]string{
		"greet": "#!/bin/sh\nprintf 'hello %s\\n' \"$1\"\n",
		"cat":   "#!/bin/sh\necho fake cat\n",
	}})
	if host, _, err := net.SplitHostPort(s.Addr); err != nil || host != "127.0.0.1" || s.Addr != fmt.Sprintf("127.0.0.1:%d", s.Port) {
		t.Fatalf("address %q (port %d): %v", s.Addr, s.Port, err)
	}
	known := s.KnownHosts(t, "127.0.0.1")

	c, err := dial(t, s, known, gossh.PublicKeys(s.Client.Signer))
	if err != nil {
		t.Fatalf("dial with the client key: %v", err)
	}
	if got := run(t, c, "greet world"); got != "hello world\n" {
		t.Errorf("greet: %q", got)
	}
	if got := run(t, c, "cat /dev/null"); got != "fake cat\n" {
		t.Errorf("the fake cat is not first on PATH: %q", got)
	}
	// SHLVL comes as 2 (the login shell may count itself: 3); never 1, never unset.
	if got := run(t, c, "echo $SHLVL; id -un; echo $PATH"); !strings.HasPrefix(got, "2\n") && !strings.HasPrefix(got, "3\n") ||
		!strings.Contains(got, "\n"+s.User+"\n") || !strings.HasSuffix(got, ":/usr/bin:/bin\n") {
		t.Errorf("environment / user: %q", got)
	}

	// The key file holds the same key as Client.
	signer, err := gossh.ParsePrivateKey(s.Client.PEM)
	if err != nil || !bytes.Equal(signer.PublicKey().Marshal(), s.Client.Public.Marshal()) {
		t.Fatalf("client PEM: %v", err)
	}

	// Another host key in known_hosts: the client refuses the server.
	_, err = dial(t, s, s.KnownHostsWithKey(t, sshd.NewKey(t).Public, "127.0.0.1"), gossh.PublicKeys(s.Client.Signer))
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		t.Errorf("mismatched host key: %v", err)
	}
	// A host name the file does not list: unknown host.
	other := s.KnownHosts(t, "dc9.lab.example.com")
	_, err = dial(t, s, other, gossh.PublicKeys(s.Client.Signer))
	if !errors.As(err, &ke) || len(ke.Want) != 0 {
		t.Errorf("unknown host: %v", err)
	}
	// A key the server does not know, and passwords, are refused.
	if _, err := dial(t, s, known, gossh.PublicKeys(sshd.NewKey(t).Signer)); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("unknown client key: %v", err)
	}
	if _, err := dial(t, s, known, gossh.Password("secret")); err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Errorf("password: %v", err)
	}
}

func TestKeysAreNotPrinted(t *testing.T) {
	k := sshd.NewKey(t)
	s := &sshd.Server{Client: k, HostKey: k.Public}
	body := strings.Split(string(k.PEM), "\n")[1]
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(f, s) + fmt.Sprintf(f, *s) + fmt.Sprintf(f, k)
		if strings.Contains(out, body) || strings.Contains(out, "PRIVATE") || !strings.Contains(out, gossh.FingerprintSHA256(k.Public)) {
			t.Errorf("%s shows the private key or no fingerprint: %s", f, out)
		}
	}
}

func TestStoppedAfterTest(t *testing.T) {
	var addr string
	t.Run("server", func(t *testing.T) { addr = sshd.Start(t, sshd.Options{}).Addr })
	if addr == "" {
		t.Skip("no server started")
	}
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		_ = c.Close()
		t.Fatalf("%s still accepts connections after its test ended", addr)
	}
}

// fatalTB records Fatalf and ends the goroutine, as testing.T does.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Fatalf(format string, a ...any) {
	f.msg = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

func TestBadCommandName(t *testing.T) {
	if _, err := os.Stat(sshd.Path); err != nil {
		t.Skipf("%s not found", sshd.Path) // Start would skip from another goroutine
	}
	for _, name := range []string{"", ".", "..", "a/b", "/bin/sh", "a\x00b"} {
		f := &fatalTB{TB: t}
		done := make(chan *sshd.Server)
		go func() {
			defer close(done)
			done <- sshd.Start(f, sshd.Options{Commands: map[string]string{name: "#!/bin/sh\n"}})
		}()
		if s := <-done; s != nil || !strings.Contains(f.msg, "not a plain file name") {
			t.Errorf("%q: started=%v, fatal %q", name, s != nil, f.msg)
		}
	}
}
