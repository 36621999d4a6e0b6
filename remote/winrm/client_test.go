package winrm_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	labwinrm "github.com/fix8524/fix8524/lab/winrm"
	"github.com/fix8524/fix8524/remote"
	"github.com/fix8524/fix8524/remote/winrm"
)

const (
	testUser = `LAB\administrator`
	testPass = "S3cret-Pa55!"
)

// echoHandler answers fix8524 scripts: "echo_params" prints $P as JSON lines "key=value",
// "exit_code" exits with $P.Code, "fail" writes a CLIXML error; other command lines are echoed.
func echoHandler() labwinrm.Handler {
	return labwinrm.HandlerFunc(func(ctx context.Context, cmd *labwinrm.Command, stdout, stderr io.Writer) int {
		switch cmd.Name {
		case "echo_value":
			_, _ = io.WriteString(stdout, cmd.Params["Value"])
			return 0
		case "exit_code":
			var n int
			_, _ = fmt.Sscan(cmd.Params["Code"], &n)
			return n
		case "fail":
			_, _ = io.WriteString(stderr, "#< CLIXML\r\n<Objs Version=\"1.1.0.1\" xmlns=\"http://schemas.microsoft.com/powershell/2004/04\"><S S=\"Error\">Restart-Service : boom_x000D__x000A_</S></Objs>")
			return 1
		case "hang":
			<-ctx.Done()
			return 1
		case "big":
			_, _ = io.WriteString(stdout, strings.Repeat("0123456789", 50000))
			return 0
		}
		if cmd.PowerShellErr != nil {
			_, _ = fmt.Fprintf(stderr, "bad powershell: %v", cmd.PowerShellErr)
			return 2
		}
		_, _ = fmt.Fprintf(stdout, "ran: %s", cmd.CommandLine)
		return 0
	})
}

type lab struct {
	srv *labwinrm.Server
	pki *labwinrm.TestPKI
}

func startLab(t *testing.T, cfg labwinrm.Config, https bool) *lab {
	t.Helper()
	l := &lab{}
	if https {
		pki, err := labwinrm.NewTestPKI("dc1.lab.test", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		l.pki = pki
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{pki.TLS}}
	}
	if cfg.Users == nil {
		cfg.Users = map[string]string{testUser: testPass}
	}
	if cfg.Handler == nil {
		cfg.Handler = echoHandler()
	}
	if cfg.MaxOperationTimeout == 0 {
		cfg.MaxOperationTimeout = 300 * time.Millisecond
	}
	srv, err := labwinrm.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	l.srv = srv
	return l
}

func (l *lab) client(t *testing.T, mod func(*winrm.Config)) *winrm.Client {
	t.Helper()
	cfg := winrm.Config{
		Target:   remote.Target{Host: "dc1.lab.test", Address: "127.0.0.1", Port: l.srv.Port()},
		HTTPS:    l.pki != nil,
		Auth:     winrm.AuthNTLM,
		User:     testUser,
		Password: testPass,
		Timeout:  20 * time.Second,
	}
	if l.pki != nil {
		cfg.CACertPEM = l.pki.CAPEM
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := winrm.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestRunEachTransport(t *testing.T) {
	cases := []struct {
		name  string
		https bool
		auth  winrm.Auth
		srv   labwinrm.Config
	}{
		{"https-basic", true, winrm.AuthBasic, labwinrm.Config{Basic: true}},
		{"https-ntlm", true, winrm.AuthNTLM, labwinrm.Config{NTLM: true}},
		{"https-ntlm-cbt-required", true, winrm.AuthNTLM, labwinrm.Config{NTLM: true, RequireChannelBinding: true}},
		{"http-ntlm-sealed", false, winrm.AuthNTLM, labwinrm.Config{NTLM: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := startLab(t, tc.srv, tc.https)
			c := l.client(t, func(c *winrm.Config) { c.Auth = tc.auth })
			for _, v := range hostileValues {
				res, err := c.Run(context.Background(), remote.Command{Name: "echo_value", PowerShell: "Write-Output $P.Value", Params: map[string]string{"Value": v}})
				if err != nil {
					t.Fatalf("Run(%q): %v", v, err)
				}
				if string(res.Stdout) != v || res.ExitCode != 0 {
					t.Fatalf("value %q came back as %q (exit %d)", v, res.Stdout, res.ExitCode)
				}
			}
			if n := l.srv.OpenShells(); n != 0 {
				t.Errorf("%d shells left open", n)
			}
		})
	}
}

var hostileValues = []string{
	"dc1.contoso.com", "it's", `"`, "a;b", "a&b", "a|b", "$(Get-Date)", "`whoami`", "a\nb\r\n", "\u2019; Remove-Item C:\\ -Recurse; \u2018",
	"\uff07", "\u201cx\u201d", "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Site,CN=Sites,CN=Configuration,DC=contoso,DC=com",
	"52f6c43b-99ec-4040-a2b0-e9ebf2ec02b8._msdcs.contoso.com", "]]>", "<x/>", "&amp;", "\x00nul", "日本語😀", "",
}
