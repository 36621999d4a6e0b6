// Package ldapread reads a forest's topology and each DC's inbound replication status over LDAP
// (go-ldap): the rootDSE, nTDSDSA and server objects under CN=Sites, computer objects, crossRefs,
// FSMO role owners, nTSecurityDescriptor (protected from deletion), and per DC either the rootDSE
// msDS-ReplAllInboundNeighbors XML (Windows) or the repsFrom blobs on each NC head (Samba).
//
// Connections are TLS by default (LDAPS or StartTLS); credentials are never sent over plain LDAP
// unless the caller explicitly allows it, and never appear in errors.
package ldapread

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/go-ldap/ldap/v3/gssapi"

	"github.com/fix8524/fix8524/internal/termtext"
)

// TLS modes.
const (
	TLSLDAPS    = "ldaps"
	TLSStartTLS = "starttls"
	TLSNone     = "none"
)

// Bind methods.
const (
	BindSimple    = "simple"
	BindNTLM      = "ntlm"
	BindKerberos  = "kerberos"
	BindAnonymous = "anonymous"
)

// DialFunc dials like net.Dialer.DialContext.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

// Auth says how to bind. Password is a secret: it is never logged or put into an error.
type Auth struct {
	Method   string // Bind* constant; "" means simple when User is set, else anonymous
	User     string // UPN (user@domain), DN, or DOMAIN\user (NTLM)
	Password string
	// Kerberos: a keytab (with User and Realm) or a credential cache; Krb5Conf is the krb5.conf path.
	Realm    string
	Keytab   string
	CCache   string
	Krb5Conf string
}

func (a Auth) method() string {
	if a.Method != "" {
		return a.Method
	}
	if a.User != "" {
		return BindSimple
	}
	return BindAnonymous
}

// Options configure connections.
type Options struct {
	TLS       string      // TLS* constant; default ldaps
	Port      int         // default 636 for ldaps, 389 otherwise
	TLSConfig *tls.Config // RootCAs, InsecureSkipVerify; ServerName is set per connection
	// AllowPlaintextCredentials permits a password bind over TLSNone. Set it only when the user
	// asked for --tls none on purpose.
	AllowPlaintextCredentials bool
	Auth                      Auth
	Dial                      DialFunc      // nil: a net.Dialer
	Timeout                   time.Duration // per request; default 10s
	DialTimeout               time.Duration // TCP connect and TLS handshake; default 5s
	// MaxBytes bounds what one connection may read (a DC answering huge values); default 64 MiB.
	MaxBytes int64
	// LegacyCommonName accepts a DC certificate that names the DC only in its subject Common Name
	// and has no subject alternative names (Samba's self-generated certificate). The chain is
	// still verified against the trusted CAs.
	LegacyCommonName bool
}

func (o Options) tlsMode() string {
	if o.TLS == "" {
		return TLSLDAPS
	}
	return o.TLS
}

// EffectivePort is the port Connect dials: Port when set, else 636 for LDAPS and 389 for
// StartTLS and plain LDAP.
func (o Options) EffectivePort() int { return o.port() }

func (o Options) port() int {
	if o.Port > 0 {
		return o.Port
	}
	if o.tlsMode() == TLSLDAPS {
		return 636
	}
	return 389
}

// Validate checks the options before any connection is made.
func (o Options) Validate() error {
	switch o.tlsMode() {
	case TLSLDAPS, TLSStartTLS, TLSNone:
	default:
		return fmt.Errorf("--tls %q: want ldaps, starttls or none", o.TLS)
	}
	m := o.Auth.method()
	switch m {
	case BindSimple, BindNTLM:
		if o.Auth.User == "" {
			return fmt.Errorf("%s bind needs a user", m)
		}
		if o.tlsMode() == TLSNone && o.Auth.Password != "" && !o.AllowPlaintextCredentials {
			return errors.New("refusing to send a password over plain LDAP: use --tls ldaps or starttls (or --tls none on purpose)")
		}
	case BindKerberos:
		if o.Auth.Keytab != "" && (o.Auth.User == "" || o.Auth.Realm == "") {
			return errors.New("kerberos with a keytab needs --user and a realm (user@REALM)")
		}
	case BindAnonymous:
	default:
		return fmt.Errorf("unknown bind method %q", m)
	}
	return nil
}

// Client is one bound LDAP connection to one DC.
type Client struct {
	conn    *ldap.Conn
	host    string
	timeout time.Duration
	secret  string
	stop    func() bool
}

// Connect dials host (a name or IP; the port comes from the options), sets up TLS with
// serverName (default: host) for certificate checks, and binds. Every network step honours ctx.
func Connect(ctx context.Context, host, serverName string, o Options) (*Client, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if serverName == "" {
		serverName = host
	}
	dial := o.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	addr := net.JoinHostPort(host, strconv.Itoa(o.port()))
	dialTimeout := o.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = 5 * time.Second
	}
	dctx, cancelDial := context.WithTimeout(ctx, dialTimeout)
	defer cancelDial()
	nc, err := dial(dctx, "tcp", addr)
	if err != nil {
		if dctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("connecting to %s: no answer within %v", addr, dialTimeout)
		}
		return nil, fmt.Errorf("connecting to %s: %w", addr, err)
	}
	max := o.MaxBytes
	if max <= 0 {
		max = 64 << 20
	}
	nc = &budgetConn{Conn: nc, left: max}
	tc := tlsConfig(o.TLSConfig, serverName)
	if o.LegacyCommonName && !tc.InsecureSkipVerify {
		tc = legacyCNConfig(tc)
	}
	isTLS := false
	if o.tlsMode() == TLSLDAPS {
		tlsConn := tls.Client(nc, tc)
		if err := tlsConn.HandshakeContext(dctx); err != nil {
			nc.Close()
			if dctx.Err() != nil && ctx.Err() == nil {
				return nil, fmt.Errorf("TLS handshake with %s: no answer within %v", addr, dialTimeout)
			}
			if ctx.Err() != nil {
				err = ctxError(ctx)
			}
			return nil, fmt.Errorf("TLS handshake with %s: %w", addr, err)
		}
		nc, isTLS = tlsConn, true
	}
	conn := ldap.NewConn(nc, isTLS)
	conn.Start()
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	conn.SetTimeout(timeout)
	c := &Client{conn: conn, host: host, timeout: timeout, secret: o.Auth.Password}
	c.stop = context.AfterFunc(ctx, func() { conn.Close() })
	if o.tlsMode() == TLSStartTLS {
		if err := conn.StartTLS(tc); err != nil {
			c.Close()
			return nil, c.wrap(ctx, "StartTLS with "+addr, err)
		}
	}
	if err := c.bind(o, serverName); err != nil {
		c.Close()
		if o.Auth.method() == BindNTLM && strings.Contains(err.Error(), "EOF") {
			err = fmt.Errorf("%w (the DC closed the connection: it may not accept NTLM binds; Samba does not)", err)
		}
		return nil, c.wrap(ctx, "binding to "+addr, err)
	}
	return c, nil
}

func tlsConfig(base *tls.Config, serverName string) *tls.Config {
	var tc *tls.Config
	if base != nil {
		tc = base.Clone()
	} else {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName = strings.TrimSuffix(serverName, ".")
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return tc
}

// legacyCNConfig verifies the chain itself and accepts a Common Name match when the leaf has no
// subject alternative names (crypto/tls no longer does).
func legacyCNConfig(tc *tls.Config) *tls.Config {
	name := tc.ServerName
	roots := tc.RootCAs
	tc = tc.Clone()
	tc.InsecureSkipVerify = true // replaced by the verification below, which always runs
	tc.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) == 0 {
			return errors.New("the DC sent no certificate")
		}
		leaf := cs.PeerCertificates[0]
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			return fmt.Errorf("tls: failed to verify certificate: %w", err)
		}
		if len(leaf.DNSNames) > 0 || len(leaf.IPAddresses) > 0 {
			return leaf.VerifyHostname(name)
		}
		if !strings.EqualFold(strings.TrimSuffix(leaf.Subject.CommonName, "."), name) {
			return fmt.Errorf("tls: certificate is for %q (Common Name), not %q", leaf.Subject.CommonName, name)
		}
		return nil
	}
	return tc
}

func (c *Client) bind(o Options, serverName string) error {
	a := o.Auth
	switch a.method() {
	case BindAnonymous:
		return nil
	case BindSimple:
		return c.conn.Bind(a.User, a.Password)
	case BindNTLM:
		domain, user := splitNTLMUser(a.User)
		return c.conn.NTLMBind(domain, user, a.Password)
	case BindKerberos:
		var kc *gssapi.Client
		var err error
		conf := a.Krb5Conf
		if conf == "" {
			conf = "/etc/krb5.conf"
		}
		switch {
		case a.Keytab != "":
			kc, err = gssapi.NewClientWithKeytab(a.User, a.Realm, a.Keytab, conf)
		case a.Password != "" && a.User != "" && a.Realm != "":
			kc, err = gssapi.NewClientWithPassword(a.User, a.Realm, a.Password, conf)
		default:
			cc := a.CCache
			if cc == "" {
				return errors.New("kerberos: no keytab and no credential cache (set KRB5CCNAME or --ccache)")
			}
			kc, err = gssapi.NewClientFromCCache(strings.TrimPrefix(cc, "FILE:"), conf)
		}
		if err != nil {
			return fmt.Errorf("kerberos: %w", err)
		}
		defer kc.Close()
		return c.conn.GSSAPIBind(kc, "ldap/"+strings.TrimSuffix(serverName, "."), "")
	}
	return fmt.Errorf("unknown bind method %q", a.method())
}

// splitNTLMUser splits DOMAIN\user or user@domain.
func splitNTLMUser(u string) (domain, user string) {
	if d, n, ok := strings.Cut(u, `\`); ok {
		return d, n
	}
	if n, d, ok := strings.Cut(u, "@"); ok {
		return d, n
	}
	return "", u
}

// Close unbinds and closes the connection.
func (c *Client) Close() {
	if c.stop != nil {
		c.stop()
	}
	c.conn.Close()
}

// wrap adds context to an error and removes any trace of the password from it.
func (c *Client) wrap(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%v)", ctxError(ctx), err)
	}
	return redactErr(fmt.Errorf("%s: %w", what, err), c.secret)
}

// ctxError says in words why ctx ended; errors.Is still finds context.DeadlineExceeded or
// context.Canceled.
func ctxError(ctx context.Context) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &wordsError{msg: "no answer in the time allowed", err: ctx.Err()}
	case errors.Is(ctx.Err(), context.Canceled):
		return &wordsError{msg: "stopped", err: ctx.Err()}
	}
	return ctx.Err()
}

// wordsError is an error with a message for people in place of its cause's.
type wordsError struct {
	msg string
	err error
}

func (e *wordsError) Error() string { return e.msg }
func (e *wordsError) Unwrap() error { return e.err }

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redactErr removes the secret from err's text, and escapes its control characters: a DC's
// diagnostic message is text from AD that reaches terminals and the journal.
func redactErr(err error, secret string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := msg
	if secret != "" {
		clean = strings.ReplaceAll(clean, secret, "[redacted]")
	}
	clean = termtext.Escape(clean)
	if clean == msg {
		return err
	}
	// The wrapped error still holds the secret; only errors.Is/As may look inside.
	return &redactedError{msg: clean, err: errors.Unwrap(err)}
}

// budgetConn fails reads once a connection has read more than its budget.
type budgetConn struct {
	net.Conn
	left int64
}

var errBudget = errors.New("the DC sent more data than fix8524 accepts from one connection")

func (b *budgetConn) Read(p []byte) (int, error) {
	if atomic.LoadInt64(&b.left) <= 0 {
		return 0, errBudget
	}
	n, err := b.Conn.Read(p)
	atomic.AddInt64(&b.left, -int64(n))
	return n, err
}
