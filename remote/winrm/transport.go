package winrm

import (
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/bodgit/ntlmssp"
	"github.com/jcmturner/gokrb5/v8/client"
	"github.com/jcmturner/gokrb5/v8/config"
	"github.com/jcmturner/gokrb5/v8/spnego"

	"github.com/fix8524/fix8524/remote"
)

// transport sends SOAP messages to one endpoint over one authenticated connection.
type transport struct {
	cfg  Config
	url  string
	conn httpConn

	// NTLM: the connection numbered sessionGen is authenticated (ntlmReady); over HTTP,
	// ntlmSession seals its messages.
	ntlmReady   bool
	ntlmSession *ntlmssp.SecuritySession
	sessionGen  int

	krbOnce sync.Once
	krb     *client.Client
	krbErr  error
}

func newTransport(cfg Config) (*transport, error) {
	t := &transport{cfg: cfg}
	scheme := "http"
	if cfg.HTTPS {
		scheme = "https"
	}
	host := cfg.Target.Host
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	t.url = fmt.Sprintf("%s://%s:%d/wsman", scheme, host, cfg.Target.Port)
	t.conn = httpConn{dialAddr: cfg.Target.DialAddress(cfg.Target.Port), connect: cfg.ConnectTimeout}
	if cfg.HTTPS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}
		tc.ServerName = cfg.TLSServerName
		if tc.ServerName == "" {
			tc.ServerName = cfg.Target.Host
		}
		pemBytes, err := cfg.caPEM()
		if err != nil {
			return nil, err
		}
		if len(pemBytes) > 0 {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pemBytes) {
				return nil, cfg.configError("CA certificate: %w", errNoCerts)
			}
			tc.RootCAs = pool
		}
		t.conn.tls = tc
	}
	return t, nil
}

func (t *transport) logf(format string, args ...any) {
	if t.cfg.Logf != nil {
		t.cfg.Logf(format, args...)
	}
}

func (t *transport) terr(kind remote.Kind, op string, status int, err error, detail string) *remote.TransportError {
	return &remote.TransportError{Kind: kind, Op: op, Target: t.cfg.Target.String(), StatusCode: status, Err: err, Detail: detail}
}

// netErr turns a connection-level error into a TransportError with a hint.
func (t *transport) netErr(op string, err error) *remote.TransportError {
	kind := remote.Classify(err)
	detail := ""
	switch kind {
	case remote.KindRefused:
		detail = fmt.Sprintf("nothing listens on port %d: is WinRM enabled (winrm quickconfig) and is the %s listener configured?", t.cfg.Target.Port, map[bool]string{true: "HTTPS", false: "HTTP"}[t.cfg.HTTPS])
	case remote.KindTLS:
		detail = "check the CA certificate (CACertFile) and that the certificate names " + t.conn.tls.ServerName
	case remote.KindUnreachable:
		detail = "name resolution or routing failed; if DNS is what is broken, give the DC's IP address as Target.Address"
	case remote.KindTimeout:
		detail = "no answer in time"
	case remote.KindDropped:
		detail = "the server closed the connection"
	}
	return t.terr(kind, op, 0, err, detail)
}

func (t *transport) newRequest(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", "fix8524 WinRM client")
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	return req, nil
}

// post sends one SOAP message and returns the HTTP status and the (unsealed) reply body.
func (t *transport) post(ctx context.Context, op string, soap []byte) (status int, reply []byte, err error) {
	defer func() {
		if r := recover(); r != nil { // the NTLM and XML libraries must never take the process down
			t.resetNTLM()
			err = t.terr(remote.KindProtocol, op, 0, fmt.Errorf("malformed reply (recovered panic: %v)", r), "")
		}
	}()
	return t.postOnce(ctx, op, soap)
}

func (t *transport) postOnce(ctx context.Context, op string, soap []byte) (int, []byte, error) {
	if t.cfg.Auth == AuthNTLM && (!t.ntlmReady || t.sessionGen != t.conn.gen || t.conn.conn == nil) {
		if err := t.ntlmHandshake(ctx, op); err != nil {
			return 0, nil, err
		}
	}
	req, err := t.newRequest(ctx)
	if err != nil {
		return 0, nil, t.terr(remote.KindConfig, op, 0, err, "")
	}
	body := soap
	sealed := t.cfg.Auth == AuthNTLM && !t.cfg.HTTPS
	switch t.cfg.Auth {
	case AuthBasic:
		req.SetBasicAuth(t.cfg.User, t.cfg.Password)
	case AuthKerberos:
		if err := t.kerberosHeader(ctx, req); err != nil {
			return 0, nil, err
		}
	case AuthNTLM:
		if sealed {
			sealedMsg, sig, err := t.ntlmSession.Wrap(soap)
			if err != nil {
				return 0, nil, t.terr(remote.KindProtocol, op, 0, fmt.Errorf("NTLM seal: %w", err), "")
			}
			body = EncodeEncrypted(sig, sealedMsg, len(soap))
			req.Header.Set("Content-Type", EncryptedContentType)
		}
	}
	resp, data, err := t.conn.do(ctx, req, body)
	if err != nil {
		return 0, nil, t.netErr(op, err)
	}
	if sealed {
		if IsEncryptedContentType(resp.Header.Get("Content-Type")) {
			data, err = t.unseal(data)
			if err != nil {
				t.resetNTLM()
				return 0, nil, t.terr(remote.KindProtocol, op, resp.StatusCode, err, "")
			}
		} else if resp.StatusCode == http.StatusOK {
			t.resetNTLM()
			return 0, nil, t.terr(remote.KindProtocol, op, resp.StatusCode,
				errors.New("the server answered an encrypted request with an unencrypted reply"), "refusing unencrypted traffic")
		}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		t.resetNTLM()
		detail := "the credentials were rejected"
		if sealed {
			detail += ", or the server refused the encrypted message"
		}
		if t.cfg.Auth == AuthBasic {
			detail += "; Basic works only for local accounts and must be enabled in the WinRM service"
		}
		if r := resp.Header.Get("X-Fix8524-Lab-Reason"); r != "" {
			detail += "; server says: " + remote.Excerpt([]byte(r), 200)
		}
		return resp.StatusCode, data, t.terr(remote.KindAuth, op, resp.StatusCode, errors.New("HTTP 401 Unauthorized"), detail)
	case resp.StatusCode == http.StatusOK:
		return resp.StatusCode, data, nil
	default:
		if f, ok := ParseFault(data); ok {
			return resp.StatusCode, data, f
		}
		return resp.StatusCode, data, t.terr(remote.KindHTTPStatus, op, resp.StatusCode,
			fmt.Errorf("HTTP %s", resp.Status), "reply body "+remote.Excerpt(data, 200))
	}
}

// resetNTLM forgets the connection and its NTLM context: the next message authenticates anew.
func (t *transport) resetNTLM() {
	t.conn.close()
	t.ntlmSession, t.ntlmReady = nil, false
}

func (t *transport) unseal(data []byte) ([]byte, error) {
	sig, sealedMsg, n, err := DecodeEncrypted(data)
	if err != nil {
		return nil, err
	}
	if len(sig) != 16 {
		return nil, fmt.Errorf("NTLM signature is %d bytes, want 16", len(sig))
	}
	plain, err := t.ntlmSession.Unwrap(sealedMsg, sig)
	if err != nil {
		return nil, fmt.Errorf("NTLM unseal: %w", err)
	}
	if len(plain) != n {
		return nil, fmt.Errorf("unsealed length %d differs from OriginalContent Length %d", len(plain), n)
	}
	return plain, nil
}

const (
	ntlmFlagSign = 0x00000010
	ntlmFlagSeal = 0x00000020
	ntlmFlag128  = 0x20000000
	ntlmFlagKex  = 0x40000000
)

// ntlmHandshake authenticates a fresh connection: NEGOTIATE → CHALLENGE → AUTHENTICATE, on
// one TCP connection, with empty bodies (as pywinrm does).
func (t *transport) ntlmHandshake(ctx context.Context, op string) error {
	t.conn.close() // a new connection: the old one's authentication is gone anyway
	t.ntlmSession, t.ntlmReady = nil, false
	ctx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout)
	defer cancel()
	op = "authenticate (NTLM) for " + op
	user, domain := splitUser(t.cfg.User)
	nc, err := ntlmssp.NewClient(ntlmssp.SetUserInfo(user, t.cfg.Password), ntlmssp.SetDomain(domain),
		ntlmssp.SetVersion(ntlmssp.DefaultVersion()))
	if err != nil {
		return t.terr(remote.KindConfig, op, 0, fmt.Errorf("NTLM client: %w", err), "")
	}
	negotiate, err := nc.Authenticate(nil, nil)
	if err != nil {
		return t.terr(remote.KindProtocol, op, 0, fmt.Errorf("NTLM negotiate message: %w", err), "")
	}
	send := func(token []byte) (*http.Response, error) {
		req, err := t.newRequest(ctx)
		if err != nil {
			return nil, t.terr(remote.KindConfig, op, 0, err, "")
		}
		req.Header.Set("Authorization", "Negotiate "+base64.StdEncoding.EncodeToString(token))
		resp, _, err := t.conn.do(ctx, req, nil)
		if err != nil {
			return nil, t.netErr(op, err)
		}
		return resp, nil
	}
	resp, err := send(negotiate)
	if err != nil {
		return err
	}
	gen := t.conn.gen
	challenge, ok := negotiateToken(resp.Header)
	if resp.StatusCode != http.StatusUnauthorized || !ok {
		offered := strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
		return t.terr(remote.KindAuth, op, resp.StatusCode, errors.New("the server did not answer with an NTLM challenge"),
			"offered authentication: "+remote.Excerpt([]byte(offered), 120)+"; is Negotiate enabled in the WinRM service?")
	}
	if len(challenge) < 24 {
		return t.terr(remote.KindProtocol, op, resp.StatusCode, errors.New("NTLM challenge too short"), "")
	}
	flags := binary.LittleEndian.Uint32(challenge[20:])
	if !t.cfg.HTTPS && (flags&ntlmFlagSeal == 0 || flags&ntlmFlagSign == 0 || flags&ntlmFlag128 == 0 || flags&ntlmFlagKex == 0) {
		return t.terr(remote.KindProtocol, op, 0, errors.New("the server did not agree to 128-bit NTLM sealing"),
			"refusing to send messages unencrypted over HTTP")
	}
	var cbt *ntlmssp.ChannelBindings
	if t.conn.state != nil && len(t.conn.state.PeerCertificates) > 0 {
		cbt = &ntlmssp.ChannelBindings{ApplicationData: append([]byte(ntlmssp.TLSServerEndPoint+":"),
			CertificateHash(t.conn.state.PeerCertificates[0])...)}
	}
	auth, err := nc.Authenticate(challenge, cbt)
	if err != nil {
		return t.terr(remote.KindProtocol, op, 0, fmt.Errorf("NTLM authenticate message: %w", err), "")
	}
	resp, err = send(auth)
	if err != nil {
		return err
	}
	if t.conn.gen != gen {
		return t.terr(remote.KindProtocol, op, 0, errors.New("the server closed the connection between NTLM challenge and response"), "")
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return t.terr(remote.KindAuth, op, resp.StatusCode, errors.New("NTLM logon rejected"),
			"wrong user name or password, account locked or restricted, or NTLM disabled by policy")
	}
	if resp.StatusCode != http.StatusOK {
		return t.terr(remote.KindHTTPStatus, op, resp.StatusCode, fmt.Errorf("HTTP %s after NTLM authentication", resp.Status), "")
	}
	t.ntlmSession = nc.SecuritySession()
	if !t.cfg.HTTPS && t.ntlmSession == nil {
		return t.terr(remote.KindProtocol, op, 0, errors.New("no NTLM security context after authentication"), "refusing to send messages unencrypted")
	}
	t.ntlmReady = true
	t.sessionGen = t.conn.gen
	t.logf("winrm: %s: NTLM authenticated (connection %d)", t.cfg.Target, t.sessionGen)
	return nil
}

func negotiateToken(h http.Header) ([]byte, bool) {
	for _, v := range h.Values("WWW-Authenticate") {
		scheme, tok, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok || !(strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM")) {
			continue
		}
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(tok))
		if err == nil && len(b) > 0 {
			return b, true
		}
	}
	return nil, false
}

// CertificateHash is the RFC 5929 tls-server-end-point hash of a certificate, which channel
// binding carries: the certificate's signature hash, with MD5 and SHA-1 replaced by SHA-256.
func CertificateHash(cert *x509.Certificate) []byte {
	var h crypto.Hash
	switch cert.SignatureAlgorithm {
	case x509.SHA384WithRSA, x509.ECDSAWithSHA384, x509.SHA384WithRSAPSS:
		h = crypto.SHA384
	case x509.SHA512WithRSA, x509.ECDSAWithSHA512, x509.SHA512WithRSAPSS:
		h = crypto.SHA512
	default:
		s := sha256.Sum256(cert.Raw)
		return s[:]
	}
	w := h.New()
	w.Write(cert.Raw)
	return w.Sum(nil)
}

// kerberosHeader sets the SPNEGO Authorization header. gokrb5 takes no context, so its KDC
// exchanges run in a goroutine that is abandoned (not waited for) when ctx ends.
func (t *transport) kerberosHeader(ctx context.Context, req *http.Request) error {
	op := "authenticate (Kerberos)"
	done := make(chan error, 1)
	go func() {
		t.krbOnce.Do(func() { t.krb, t.krbErr = t.kerberosLogin() })
		if t.krbErr != nil {
			done <- t.krbErr
			return
		}
		spn := t.cfg.SPN
		if spn == "" {
			spn = "HTTP/" + t.cfg.Target.Host
		}
		done <- spnego.SetSPNEGOHeader(t.krb, req, spn)
	}()
	ctx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout)
	defer cancel()
	select {
	case err := <-done:
		if err != nil {
			var te *remote.TransportError
			if errors.As(err, &te) {
				return te
			}
			return t.terr(remote.KindAuth, op, 0, err,
				"Kerberos needs the KDC (from krb5.conf, else DNS SRV records) and the SPN HTTP/"+t.cfg.Target.Host+"; if DNS is broken, list the KDC by IP in krb5.conf or use NTLM")
		}
		return nil
	case <-ctx.Done():
		return t.terr(remote.Classify(ctx.Err()), op, 0, ctx.Err(), "the KDC did not answer in time")
	}
}

func (t *transport) kerberosLogin() (*client.Client, error) {
	path := t.cfg.KRB5Conf
	if path == "" {
		path = "/etc/krb5.conf"
	}
	kc, err := config.Load(path)
	if err != nil {
		return nil, t.terr(remote.KindConfig, "load krb5.conf", 0, fmt.Errorf("%s: %w", path, err), "")
	}
	user, realm := t.cfg.User, t.cfg.Realm
	if u, r, ok := strings.Cut(user, "@"); ok {
		user = u
		if realm == "" {
			realm = strings.ToUpper(r)
		}
	} else if d, u, ok := strings.Cut(user, `\`); ok {
		user = u
		_ = d // a NetBIOS domain is not a realm
	}
	if realm == "" {
		if _, dom, ok := strings.Cut(t.cfg.Target.Host, "."); ok {
			realm = strings.ToUpper(dom)
		}
	}
	if realm == "" {
		return nil, t.terr(remote.KindConfig, "Kerberos login", 0, errors.New("no realm: set Realm or use user@REALM"), "")
	}
	cl := client.NewWithPassword(user, realm, t.cfg.Password, kc, client.DisablePAFXFAST(true))
	if err := cl.Login(); err != nil {
		return nil, t.terr(remote.KindAuth, "Kerberos login", 0, sanitizeKrb(err), "")
	}
	return cl, nil
}

// sanitizeKrb keeps gokrb5's error text, which names the principal but never the password.
func sanitizeKrb(err error) error { return fmt.Errorf("%s", strings.TrimSpace(err.Error())) }

// deadline returns a context for one HTTP exchange.
func (t *transport) exchangeCtx(ctx context.Context, receive bool) (context.Context, context.CancelFunc) {
	d := t.cfg.ConnectTimeout
	if receive {
		d += t.cfg.OperationTimeout
	}
	return context.WithTimeout(ctx, d+5*time.Second)
}
