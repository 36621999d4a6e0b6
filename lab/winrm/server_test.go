package winrm

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	mwinrm "github.com/masterzen/winrm"
)

const (
	labUser = `LAB\administrator`
	labPass = "S3cret-Pa55!"
)

// recorder is a Handler that remembers what it was asked to run.
type recorder struct {
	mu   sync.Mutex
	cmds []*Command
}

func (r *recorder) Run(ctx context.Context, cmd *Command, stdout, stderr io.Writer) int {
	r.mu.Lock()
	r.cmds = append(r.cmds, cmd)
	r.mu.Unlock()
	switch {
	case cmd.PowerShell != nil:
		// Echo the decoded script so the client can check it arrived intact.
		_, _ = io.WriteString(stdout, "script:"+cmd.PowerShell.Body)
		_, _ = io.WriteString(stderr, "warning on stderr")
		return 7
	case strings.HasPrefix(cmd.CommandLine, "timeout"):
		// Longer than MaxOperationTimeout: the client gets w:TimedOut faults and polls again.
		select {
		case <-time.After(1200 * time.Millisecond):
		case <-ctx.Done():
			return 1
		}
		_, _ = io.WriteString(stdout, "waited")
		return 0
	case strings.HasPrefix(cmd.CommandLine, "ipconfig"):
		_, _ = fmt.Fprintf(stdout, "Windows IP Configuration\r\nargs=%q\r\n", cmd.Arguments)
		return 0
	}
	_, _ = io.WriteString(stderr, "'"+cmd.Command+"' is not recognized as an internal or external command")
	return 9009
}

func startServer(t *testing.T, cfg Config, https bool) (*Server, *TestPKI) {
	t.Helper()
	var pki *TestPKI
	if https {
		var err error
		pki, err = NewTestPKI("127.0.0.1", "dc1.lab.test")
		if err != nil {
			t.Fatal(err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{pki.TLS}}
	}
	if cfg.Users == nil {
		cfg.Users = map[string]string{labUser: labPass}
	}
	if cfg.MaxOperationTimeout == 0 {
		cfg.MaxOperationTimeout = 500 * time.Millisecond
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, pki
}

const python = "/usr/bin/python3" // Debian's python with python3-winrm, not a pyenv one on PATH

func havePywinrm(t *testing.T) {
	t.Helper()
	if err := exec.Command(python, "-c", "import winrm, requests_ntlm").Run(); err != nil {
		t.Skipf("pywinrm not available (%s -c 'import winrm': %v): apt-get install -y python3-winrm", python, err)
	}
}

// OpenSSL 3 (Debian 12) disables MD4 in its default provider, and Python's ntlm-auth computes
// the NT hash with hashlib.new('md4'); the legacy provider brings it back for the child only.
const opensslLegacy = `openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
`

func pyEnv(t *testing.T) []string {
	cnf := filepath.Join(t.TempDir(), "openssl.cnf")
	if err := os.WriteFile(cnf, []byte(opensslLegacy), 0o600); err != nil {
		t.Fatal(err)
	}
	return append(os.Environ(), "PYWINRM_USER="+labUser, "PYWINRM_PASSWORD="+labPass,
		"OPENSSL_CONF="+cnf, "NO_PROXY=*", "no_proxy=*")
}

type pyResult struct {
	Stdout, Stderr string
	Code           int
	Encrypted      bool
}

// runPywinrm runs mode/command pairs in one pywinrm session (one Python start: ~1s each).
func runPywinrm(t *testing.T, endpoint, transport, ca string, pairs ...string) []pyResult {
	t.Helper()
	caFile := "-"
	if ca != "" {
		caFile = filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(caFile, []byte(ca), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	args := append([]string{"testdata/pywinrm_run.py", endpoint, transport, caFile}, pairs...)
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Env = pyEnv(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pywinrm %s %s: %v\n%s", transport, endpoint, err, strings.ReplaceAll(stderr.String(), labPass, "<password>"))
	}
	var raw []struct {
		Stdout, Stderr string
		Code           int
		Encrypted      bool
	}
	if err := json.Unmarshal(out, &raw); err != nil || len(raw) != len(pairs)/2 {
		t.Fatalf("pywinrm output %q: %v", out, err)
	}
	res := make([]pyResult, len(raw))
	for i, r := range raw {
		so, _ := base64.StdEncoding.DecodeString(r.Stdout)
		se, _ := base64.StdEncoding.DecodeString(r.Stderr)
		res[i] = pyResult{Stdout: string(so), Stderr: string(se), Code: r.Code, Encrypted: r.Encrypted}
	}
	return res
}

// TestPywinrm proves the server speaks WS-Management as an independent client expects: shell
// create, command, receive (streams, exit code, TimedOut faults), signal and delete, over
// HTTPS with Basic, HTTPS with NTLM and a channel binding token, and HTTP with NTLM sealing.
func TestPywinrm(t *testing.T) {
	havePywinrm(t)
	t.Parallel()
	cases := []struct {
		name      string
		https     bool
		transport string
		cfg       Config
		encrypted bool
	}{
		{"https-basic", true, "ssl", Config{Basic: true}, false},
		{"https-ntlm-cbt", true, "ntlm", Config{NTLM: true, RequireChannelBinding: true}, false},
		{"http-ntlm-sealed", false, "ntlm", Config{NTLM: true}, true},
	}
	script := "Get-Service Netlogon | Select Status | ConvertTo-Json # it's ’quoted’"
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			tc.cfg.Handler = rec
			s, pki := startServer(t, tc.cfg, tc.https)
			ca := ""
			if pki != nil {
				ca = string(pki.CAPEM)
			}
			pairs := []string{"cmd", "ipconfig /all", "ps", script}
			if !tc.https {
				// A command that outlasts OperationTimeout: pywinrm must see the WS-Man
				// TimedOut fault (code 2150858793) and poll again, as with Windows.
				pairs = append(pairs, "cmd", "timeout /t 1")
			}
			r := runPywinrm(t, s.URL(), tc.transport, ca, pairs...)
			if r[0].Code != 0 || !strings.HasPrefix(r[0].Stdout, "Windows IP Configuration") || !strings.Contains(r[0].Stdout, `args=["/all"]`) {
				t.Fatalf("run_cmd: %+v", r[0])
			}
			if r[0].Encrypted != tc.encrypted {
				t.Fatalf("pywinrm encryption = %v, want %v", r[0].Encrypted, tc.encrypted)
			}
			if r[1].Code != 7 || r[1].Stdout != "script:"+script || r[1].Stderr != "warning on stderr" {
				t.Fatalf("run_ps: %+v", r[1])
			}
			if len(r) > 2 && (r[2].Code != 0 || r[2].Stdout != "waited") {
				t.Fatalf("slow command: %+v", r[2])
			}
			var ps *Command
			rec.mu.Lock()
			for _, c := range rec.cmds {
				if c.PowerShell != nil {
					ps = c
				}
			}
			rec.mu.Unlock()
			if ps == nil || ps.PowerShell.Body != script || ps.User != "administrator" {
				t.Fatalf("handler saw %+v", ps)
			}
			if n := s.OpenShells(); n != 0 {
				t.Errorf("pywinrm left %d shells open (Delete not handled?)", n)
			}
		})
	}
}

// TestPywinrmRefusedWithoutEncryption: pywinrm Basic over plain HTTP is refused, as on a
// default Windows server (AllowUnencrypted=false), and pywinrm reports rejected credentials.
func TestPywinrmRefusedWithoutEncryption(t *testing.T) {
	havePywinrm(t)
	t.Parallel()
	s, _ := startServer(t, Config{Basic: true, NTLM: true, Handler: &recorder{}}, false)
	cmd := exec.Command(python, "testdata/pywinrm_run.py", s.URL(), "plaintext", "-", "cmd", "ipconfig")
	cmd.Env = pyEnv(t)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "InvalidCredentialsError") {
		t.Fatalf("want a refusal, got %v: %s", err, strings.ReplaceAll(string(out), labPass, "<password>"))
	}
	if s.CommandsStarted() != 0 {
		t.Fatal("a command ran over unencrypted HTTP")
	}
}

// TestMasterzenClient drives the server with masterzen/winrm's own client and transports:
// Basic and NTLM (Azure/go-ntlmssp) over HTTPS, and the library's NewEncryption("ntlm")
// sealing over HTTP (not used by fix8524, but a third independent sealing implementation).
func TestMasterzenClient(t *testing.T) {
	cases := []struct {
		name  string
		https bool
		cfg   Config
		dec   func() mwinrm.Transporter
	}{
		{"https-basic", true, Config{Basic: true}, nil},
		{"https-ntlm", true, Config{NTLM: true}, func() mwinrm.Transporter { return &mwinrm.ClientNTLM{} }},
		{"http-ntlm-encryption", false, Config{NTLM: true}, func() mwinrm.Transporter {
			e, err := mwinrm.NewEncryption("ntlm")
			if err != nil {
				panic(err)
			}
			return e
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := &recorder{}
			tc.cfg.Handler = rec
			tc.cfg.Logf = t.Logf
			s, pki := startServer(t, tc.cfg, tc.https)
			ep := &mwinrm.Endpoint{Host: "127.0.0.1", Port: s.Port(), HTTPS: tc.https, Timeout: 20 * time.Second}
			if pki != nil {
				ep.CACert = pki.CAPEM
			}
			params := mwinrm.NewParameters("PT5S", "en-US", 153600)
			params.TransportDecorator = tc.dec
			c, err := mwinrm.NewClientWithParameters(ep, labUser, labPass, params)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			stdout, stderr, code, err := c.RunCmdWithContext(ctx, "ipconfig /all")
			if err != nil || code != 0 || !strings.Contains(stdout, "Windows IP Configuration") || stderr != "" {
				t.Fatalf("RunCmd: %q %q %d %v", stdout, stderr, code, err)
			}
			stdout, stderr, code, err = c.RunPSWithContext(ctx, "Write-Output 'hi'")
			if err != nil || code != 7 || !strings.HasSuffix(stdout, "Write-Output 'hi'") || stderr != "warning on stderr" {
				t.Fatalf("RunPS: %q %q %d %v", stdout, stderr, code, err)
			}
			if n := s.OpenShells(); n != 0 {
				t.Errorf("%d shells left open", n)
			}
		})
	}
}

// TestUnencryptedNTLMRefused: masterzen's ClientNTLM authenticates but sends SOAP in clear
// over HTTP; a default server answers 401 (the "invalid content type" of masterzen/winrm#75).
func TestUnencryptedNTLMRefused(t *testing.T) {
	s, _ := startServer(t, Config{NTLM: true, Handler: &recorder{}}, false)
	params := mwinrm.NewParameters("PT5S", "en-US", 153600)
	params.TransportDecorator = func() mwinrm.Transporter { return &mwinrm.ClientNTLM{} }
	c, err := mwinrm.NewClientWithParameters(&mwinrm.Endpoint{Host: "127.0.0.1", Port: s.Port(), Timeout: 10 * time.Second}, labUser, labPass, params)
	if err != nil {
		t.Fatal(err)
	}
	_, _, _, err = c.RunCmdWithContext(context.Background(), "ipconfig")
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("want a 401, got %v", err)
	}
	if s.CommandsStarted() != 0 {
		t.Fatal("a command ran over unencrypted HTTP")
	}
}
