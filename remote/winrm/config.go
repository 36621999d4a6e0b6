// Package winrm runs fix8524's PowerShell commands on Windows domain controllers over
// WS-Management (WinRM), built on github.com/masterzen/winrm's SOAP message builders with its
// own transport:
//
//   - HTTPS (5986) with certificate verification against the system roots or a custom CA, an
//     optional TLS server name override, and NTLM (with a channel binding token), Kerberos
//     (gokrb5) or Basic authentication;
//   - HTTP (5985) with NTLM message encryption (sealing, MS-WSMV 2.2.9.1), which is what a
//     default Windows server (AllowUnencrypted=false) requires. There is never a fallback to
//     unencrypted messages, and no option to skip certificate verification.
//
// One NTLM handshake per TCP connection, one connection per Client, and every exchange bounded
// by the context: a timeout or cancellation stops the HTTP exchange itself, and the remote
// command is then signalled to terminate and its shell deleted (best effort, bounded).
package winrm

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/remote"
)

// Auth is an authentication scheme.
type Auth string

// Authentication schemes.
const (
	// AuthNTLM is Negotiate/NTLM: works with domain accounts and with the DC's IP address.
	// Over HTTP it also encrypts every message (NTLM sealing).
	AuthNTLM Auth = "ntlm"
	// AuthKerberos needs the DC's DNS name (SPN HTTP/<fqdn>) and a reachable KDC; HTTPS only
	// (Kerberos message encryption is not implemented).
	AuthKerberos Auth = "kerberos"
	// AuthBasic works only for local accounts (not for domain accounts on a DC) and only over
	// HTTPS, and is disabled in the Windows service by default.
	AuthBasic Auth = "basic"
)

// Default ports.
const (
	PortHTTP  = 5985
	PortHTTPS = 5986
)

// Config says how to reach one host.
type Config struct {
	Target remote.Target // Host (FQDN), optional Address (IP), Port (0 = 5985/5986)
	HTTPS  bool          // HTTPS (5986); false = HTTP (5985) with NTLM sealing
	Auth   Auth          // default AuthNTLM

	// User is "DOMAIN\user", "user@dns.domain" (UPN) or "user". Password is never logged and
	// never part of an error.
	User     string
	Password string

	// CACertFile or CACertPEM: PEM certificates trusted for the server certificate instead of
	// the system roots (HTTPS).
	CACertFile string
	CACertPEM  []byte
	// TLSServerName is the name to verify in the server certificate (default Target.Host).
	TLSServerName string

	// Kerberos: Realm (default: the upper-cased domain part of Target.Host), KRB5Conf path
	// (default /etc/krb5.conf or $KRB5_CONFIG), SPN (default HTTP/<Target.Host>).
	Realm    string
	KRB5Conf string
	SPN      string

	// Timeout bounds a whole command when Command.Timeout is 0 (default 2 minutes).
	Timeout time.Duration
	// ConnectTimeout bounds TCP connect, TLS handshake and authentication (default 15s).
	ConnectTimeout time.Duration
	// OperationTimeout is the WS-Management OperationTimeout of each Receive poll (default
	// 20s). Each HTTP exchange is bounded by OperationTimeout + ConnectTimeout.
	OperationTimeout time.Duration
	// Locale of messages (default en-US).
	Locale string
	// Logf receives debug lines (never credentials). Optional.
	Logf func(format string, args ...any)
}

func (c *Config) setDefaults() {
	if c.Auth == "" {
		c.Auth = AuthNTLM
	}
	if c.Target.Port == 0 {
		c.Target.Port = PortHTTP
		if c.HTTPS {
			c.Target.Port = PortHTTPS
		}
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Minute
	}
	if c.ConnectTimeout <= 0 {
		c.ConnectTimeout = 15 * time.Second
	}
	if c.OperationTimeout <= 0 {
		c.OperationTimeout = 20 * time.Second
	}
	if c.OperationTimeout < time.Second {
		c.OperationTimeout = time.Second // WS-Man durations are whole seconds here
	}
	if c.Locale == "" {
		c.Locale = "en-US"
	}
}

func (c *Config) configError(format string, args ...any) error {
	return &remote.TransportError{Kind: remote.KindConfig, Op: "configure WinRM", Target: c.Target.String(),
		Err: fmt.Errorf(format, args...)}
}

func (c *Config) validate() error {
	if c.Target.Host == "" {
		return c.configError("Target.Host is empty")
	}
	if c.User == "" {
		return c.configError("no user name")
	}
	if strings.ContainsAny(c.User, "\r\n\x00") {
		return c.configError("user name contains a control character")
	}
	switch c.Auth {
	case AuthNTLM:
	case AuthBasic:
		if !c.HTTPS {
			return c.configError("Basic authentication over HTTP would send the password and every message in clear text; use HTTPS, or NTLM (which encrypts HTTP)")
		}
	case AuthKerberos:
		if !c.HTTPS {
			return c.configError("Kerberos over HTTP needs Kerberos message encryption, which this client does not implement; use HTTPS, or NTLM over HTTP")
		}
		if c.Target.HostIsIP() {
			return c.configError("Kerberos is impossible when the DC is known only by its IP address %s: the service principal is HTTP/<fqdn>. Give the DC's DNS name as Host (and the IP as Address), or use NTLM", c.Target.Host)
		}
	default:
		return c.configError("unknown authentication %q (ntlm, kerberos, basic)", c.Auth)
	}
	if c.CACertFile != "" && len(c.CACertPEM) > 0 {
		return c.configError("both CACertFile and CACertPEM are set")
	}
	if !c.HTTPS && (c.CACertFile != "" || len(c.CACertPEM) > 0 || c.TLSServerName != "") {
		return c.configError("CA certificate or TLS server name given for an HTTP connection; set HTTPS")
	}
	return nil
}

// MaxCAFileBytes bounds a CA certificate file (a bundle of a few hundred certificates fits).
const MaxCAFileBytes = 4 << 20

func (c *Config) caPEM() ([]byte, error) {
	if c.CACertFile == "" {
		return c.CACertPEM, nil
	}
	b, err := inputfile.ReadFile(c.CACertFile, "CA certificate file", MaxCAFileBytes)
	if err != nil {
		return nil, c.configError("read %w", err)
	}
	return b, nil
}

// splitUser splits "DOMAIN\user"; a UPN stays whole with an empty domain (MS-NLMP).
func splitUser(u string) (user, domain string) {
	if d, name, ok := strings.Cut(u, `\`); ok {
		return name, d
	}
	return u, ""
}

var errNoCerts = errors.New("no PEM certificates found")
