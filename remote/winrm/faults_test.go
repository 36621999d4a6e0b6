package winrm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	labwinrm "github.com/fix8524/fix8524/lab/winrm"
	"github.com/fix8524/fix8524/remote"
	"github.com/fix8524/fix8524/remote/winrm"
)

var echo = remote.Command{Name: "echo_value", PowerShell: "Write-Output $P.Value", Params: map[string]string{"Value": "hello"}}

// bounded runs f and fails if it takes longer than limit (generous: this checks that a fault
// ends in a bounded time, not how fast).
func bounded(t *testing.T, limit time.Duration, f func() error) error {
	t.Helper()
	start := time.Now()
	err := f()
	if d := time.Since(start); d > limit {
		t.Errorf("took %s, want at most %s", d, limit)
	}
	return err
}

func wantKind(t *testing.T, err error, kind remote.Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("want a %s error, got nil", kind)
	}
	if got := remote.KindOf(err); got != kind {
		t.Fatalf("want kind %s, got %q: %v", kind, got, err)
	}
	if strings.Contains(err.Error(), testPass) {
		t.Fatalf("password in error: %v", err)
	}
	t.Logf("%s: %v", kind, err)
}

func TestInjectedFaults(t *testing.T) {
	cases := []struct {
		name  string
		fault labwinrm.Fault
		kind  remote.Kind
	}{
		{"401-always", labwinrm.Fault{Kind: labwinrm.FaultUnauthorized}, remote.KindAuth},
		{"500-on-create", labwinrm.Fault{Kind: labwinrm.FaultServerError, Action: "Create"}, remote.KindHTTPStatus},
		{"500-on-receive", labwinrm.Fault{Kind: labwinrm.FaultServerError, Action: "Receive"}, remote.KindHTTPStatus},
		{"slow", labwinrm.Fault{Kind: labwinrm.FaultSlow, Delay: time.Minute}, remote.KindTimeout},
		{"slow-receive", labwinrm.Fault{Kind: labwinrm.FaultSlow, Action: "Receive", Delay: time.Minute}, remote.KindTimeout},
		{"drop-all", labwinrm.Fault{Kind: labwinrm.FaultDrop}, remote.KindDropped},
		{"drop-command", labwinrm.Fault{Kind: labwinrm.FaultDrop, Action: "Command"}, remote.KindDropped},
		{"garbage-receive", labwinrm.Fault{Kind: labwinrm.FaultGarbage, Action: "Receive"}, remote.KindProtocol},
	}
	for _, https := range []bool{true, false} {
		for _, tc := range cases {
			name := tc.name + map[bool]string{true: "-https", false: "-http-sealed"}[https]
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				l := startLab(t, labwinrm.Config{}, https)
				c := l.client(t, func(c *winrm.Config) { c.Timeout = time.Second; c.ConnectTimeout = time.Second })
				l.srv.InjectFault(tc.fault)
				err := bounded(t, 15*time.Second, func() error { _, err := c.Run(context.Background(), echo); return err })
				wantKind(t, err, tc.kind)
				// The client recovers once the fault is gone.
				l.srv.InjectFault(labwinrm.Fault{})
				res, err := c.Run(context.Background(), echo)
				if err != nil || string(res.Stdout) != "hello" {
					t.Fatalf("after the fault: %q, %v", res.Stdout, err)
				}
			})
		}
	}
}

func TestCommandThatNeverFinishes(t *testing.T) {
	for _, https := range []bool{true, false} {
		https := https
		t.Run(map[bool]string{true: "https", false: "http-sealed"}[https], func(t *testing.T) {
			t.Parallel()
			l := startLab(t, labwinrm.Config{}, https)
			c := l.client(t, func(c *winrm.Config) { c.OperationTimeout = time.Second })
			hang := remote.Command{Name: "hang", PowerShell: "Start-Sleep 99999", Timeout: 900 * time.Millisecond}
			err := bounded(t, 15*time.Second, func() error { _, err := c.Run(context.Background(), hang); return err })
			wantKind(t, err, remote.KindTimeout)
			if !strings.Contains(err.Error(), "hang did not finish within 900ms") {
				t.Errorf("error does not say what timed out: %v", err)
			}
			// The client terminated the command and deleted its shell.
			if n := l.srv.OpenShells(); n != 0 {
				t.Errorf("%d shells left open after the timeout", n)
			}
			// And the connection is usable again.
			if res, err := c.Run(context.Background(), echo); err != nil || string(res.Stdout) != "hello" {
				t.Fatalf("after the timeout: %q, %v", res.Stdout, err)
			}
		})
	}
}

func TestCancel(t *testing.T) {
	l := startLab(t, labwinrm.Config{}, false)
	c := l.client(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	err := bounded(t, 10*time.Second, func() error {
		_, err := c.Run(ctx, remote.Command{Name: "hang", PowerShell: "x"})
		return err
	})
	wantKind(t, err, remote.KindCanceled)
}

func TestAuthAndTLSFailures(t *testing.T) {
	https := startLab(t, labwinrm.Config{}, true)
	http := startLab(t, labwinrm.Config{}, false)
	otherPKI, err := labwinrm.NewTestPKI("dc1.lab.test")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		lab  *lab
		mod  func(*winrm.Config)
		kind remote.Kind
	}{
		{"wrong-password-ntlm-https", https, func(c *winrm.Config) { c.Password = "wrong" }, remote.KindAuth},
		{"wrong-password-ntlm-http", http, func(c *winrm.Config) { c.Password = "wrong" }, remote.KindAuth},
		{"wrong-password-basic", https, func(c *winrm.Config) { c.Auth = winrm.AuthBasic; c.Password = "wrong" }, remote.KindAuth},
		{"unknown-user", http, func(c *winrm.Config) { c.User = `LAB\nobody` }, remote.KindAuth},
		{"untrusted-ca", https, func(c *winrm.Config) { c.CACertPEM = otherPKI.CAPEM }, remote.KindTLS},
		{"system-roots-only", https, func(c *winrm.Config) { c.CACertPEM = nil }, remote.KindTLS},
		{"wrong-server-name", https, func(c *winrm.Config) { c.TLSServerName = "dc2.lab.test" }, remote.KindTLS},
		{"https-to-http-port", http, func(c *winrm.Config) { c.HTTPS = true; c.CACertPEM = otherPKI.CAPEM }, remote.KindTLS},
		{"refused", http, func(c *winrm.Config) { c.Target.Port = closedPort(t) }, remote.KindRefused},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.lab.client(t, tc.mod)
			err := bounded(t, 15*time.Second, func() error { _, err := c.Run(context.Background(), echo); return err })
			wantKind(t, err, tc.kind)
		})
	}
}

func TestConfigErrors(t *testing.T) {
	base := winrm.Config{Target: remote.Target{Host: "dc1.contoso.com"}, User: "u", Password: testPass}
	cases := map[string]func(*winrm.Config){
		"kerberos-by-ip":     func(c *winrm.Config) { c.Auth = winrm.AuthKerberos; c.HTTPS = true; c.Target.Host = "192.0.2.10" },
		"kerberos-over-http": func(c *winrm.Config) { c.Auth = winrm.AuthKerberos },
		"basic-over-http":    func(c *winrm.Config) { c.Auth = winrm.AuthBasic },
		"no-host":            func(c *winrm.Config) { c.Target.Host = "" },
		"no-user":            func(c *winrm.Config) { c.User = "" },
		"ca-on-http":         func(c *winrm.Config) { c.CACertPEM = []byte("x") },
		"bad-ca":             func(c *winrm.Config) { c.HTTPS = true; c.CACertPEM = []byte("not pem") },
		"unknown-auth":       func(c *winrm.Config) { c.Auth = "credssp" },
	}
	for name, mod := range cases {
		cfg := base
		mod(&cfg)
		_, err := winrm.New(cfg)
		wantKind(t, err, remote.KindConfig)
		if name == "kerberos-by-ip" && !strings.Contains(err.Error(), "Kerberos is impossible") {
			t.Errorf("unclear: %v", err)
		}
	}
}

func TestExitCodeAndCLIXML(t *testing.T) {
	l := startLab(t, labwinrm.Config{}, false)
	c := l.client(t, nil)
	res, err := c.Run(context.Background(), remote.Command{Name: "exit_code", PowerShell: "exit [int]$P.Code", Params: map[string]string{"Code": "3221225786"}})
	if err != nil || res.ExitCode != -1073741510 {
		t.Fatalf("exit code: %d, %v", res.ExitCode, err)
	}
	res, err = c.Run(context.Background(), remote.Command{Name: "fail", PowerShell: "throw 'boom'"})
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode != 1 || strings.TrimSpace(string(res.Stderr)) != "Restart-Service : boom" {
		t.Fatalf("exit %d stderr %q", res.ExitCode, res.Stderr)
	}
	var ee *remote.ExitError
	if err := res.Check(remote.Command{Name: "fail"}); !errors.As(err, &ee) || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("Check: %v", err)
	}
	res, err = c.Run(context.Background(), remote.Command{Name: "big", PowerShell: "x"})
	if err != nil || len(res.Stdout) != 500000 {
		t.Fatalf("big output: %d bytes, %v", len(res.Stdout), err)
	}
	if _, err := c.Run(context.Background(), remote.Command{Name: "argv", Argv: []string{"ls"}}); remote.KindOf(err) != remote.KindUnsupported {
		t.Fatalf("Argv over WinRM: %v", err)
	}
	if _, err := c.Run(context.Background(), remote.Command{Name: "too_long", PowerShell: strings.Repeat("x", 5000)}); remote.KindOf(err) != remote.KindUnsupported || !strings.Contains(err.Error(), "8191") {
		t.Fatalf("long script: %v", err)
	}
}

func closedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return p
}

// tap is a loopback TCP proxy that records every byte in both directions.
type tap struct {
	ln  net.Listener
	mu  sync.Mutex
	buf bytes.Buffer
}

func newTap(t *testing.T, target string) *tap {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tap{ln: ln}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				_ = c.Close()
				continue
			}
			cp := func(dst, src net.Conn) {
				_, _ = io.Copy(io.MultiWriter(dst, tp), src)
				_ = dst.Close()
			}
			go cp(s, c)
			go cp(c, s)
		}
	}()
	return tp
}

func (tp *tap) Write(b []byte) (int, error) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.buf.Write(b)
}

func (tp *tap) bytes() []byte {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return append([]byte(nil), tp.buf.Bytes()...)
}

func (tp *tap) port() int { return tp.ln.Addr().(*net.TCPAddr).Port }

// TestSealedOnTheWire checks what an observer of port 5985 sees: no SOAP, no command, no
// output, no password; only NTLM handshake headers and multipart/encrypted bodies.
func TestSealedOnTheWire(t *testing.T) {
	l := startLab(t, labwinrm.Config{}, false)
	tp := newTap(t, l.srv.Addr())
	c := l.client(t, func(c *winrm.Config) { c.Target.Port = tp.port() })
	secret := "Value-that-must-not-leak-" + strings.Repeat("Z", 10)
	res, err := c.Run(context.Background(), remote.Command{Name: "echo_value", PowerShell: "Write-Output $P.Value", Params: map[string]string{"Value": secret}})
	if err != nil || string(res.Stdout) != secret {
		t.Fatalf("%q %v", res.Stdout, err)
	}
	wire := tp.bytes()
	for _, s := range []string{secret, "Envelope", "ShellId", "EncodedCommand", "powershell", testPass, "echo_value", "ReceiveResponse"} {
		if bytes.Contains(wire, []byte(s)) {
			t.Errorf("%q visible on the wire", s)
		}
	}
	for _, s := range []string{"multipart/encrypted", "Authorization: Negotiate", "--Encrypted Boundary--"} {
		if !bytes.Contains(wire, []byte(s)) {
			t.Errorf("%q not on the wire: is this test looking at the right traffic?", s)
		}
	}
	// Negative control: the same exchange over HTTPS-less Basic is impossible, so compare with
	// what the tap sees when the lab allows unencrypted traffic and the masterzen NTLM client
	// sends plaintext (see lab/winrm tests); here it is enough that SOAP is absent.
	if n := bytes.Count(wire, []byte("Authorization: Negotiate")); n != 2 {
		t.Errorf("%d NTLM handshake messages, want exactly 2 (one handshake for the connection)", n)
	}
}
