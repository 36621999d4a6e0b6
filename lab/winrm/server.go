// Package winrm is a WS-Management (WinRM) server for tests and demos. It speaks the protocol
// Windows speaks, as the masterzen/winrm and pywinrm clients send it: SOAP 1.2 envelopes with
// WS-Addressing and WS-Management headers; the shell resource (Create, Command, Receive, Send,
// Signal, Delete) with base64 output streams, exit codes and WS-Management faults; HTTPS with
// Basic and NTLM authentication (with channel-binding verification), and HTTP with NTLM message
// encryption (sealing), with AllowUnencrypted=false as on a default Windows server.
//
// What runs is simulated: each command goes to a Handler, which receives the raw command line
// and, for "powershell -EncodedCommand", the decoded script, its "# fix8524:<name>" marker and
// the $P parameters. See README.md.
//
// The server listens on loopback only. Fault injection (Server.InjectFault) produces 401, 500,
// slow replies, dropped connections and garbage replies; a Handler that ignores its context
// models a command that never finishes.
package winrm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	rwinrm "github.com/fix8524/fix8524/remote/winrm"
)

// Config configures a Server.
type Config struct {
	// Users maps user names to passwords. A name may be "user" (any domain) or "DOMAIN\user".
	Users map[string]string
	// Domain is the NetBIOS domain name the NTLM challenge announces (default "LAB");
	// DNSDomain its DNS name (default "lab.test"); Computer the server's NetBIOS name.
	Domain, DNSDomain, Computer string
	// Basic and NTLM enable the authentication schemes. If both are false, both are enabled.
	Basic, NTLM bool
	// TLS makes the server HTTPS (Windows port 5986). Nil means HTTP (port 5985).
	TLS *tls.Config
	// AllowUnencrypted lets plain HTTP carry unsealed messages and Basic credentials. It is
	// false on a default Windows server, and should stay false.
	AllowUnencrypted bool
	// RequireChannelBinding refuses NTLM over HTTPS without a channel binding token
	// (CbtHardeningLevel=Strict). With false (Relaxed, the Windows default) a token is verified
	// when the client sends one.
	RequireChannelBinding bool
	// Handler runs commands (required).
	Handler Handler
	// MaxOperationTimeout caps how long a Receive waits for output before it answers with a
	// w:TimedOut fault (the client's OperationTimeout otherwise; default 60s).
	MaxOperationTimeout time.Duration
	// MaxShellsPerUser limits open shells per user (default 30, as Windows Server 2012+).
	MaxShellsPerUser int
	// Logf, if set, receives one line per request (never credentials).
	Logf func(format string, args ...any)
}

// FaultKind is a kind of injected failure.
type FaultKind int

// Injectable faults.
const (
	FaultNone         FaultKind = iota
	FaultUnauthorized           // HTTP 401 whatever the credentials
	FaultServerError            // HTTP 500 with an HTML body, as HTTP.sys or a proxy sends it
	FaultSlow                   // wait Delay before handling the request
	FaultDrop                   // close the TCP connection without a reply
	FaultGarbage                // HTTP 200 with a body that is not SOAP
)

// Fault is an injected failure. Action limits it to one WS-Management operation ("Create",
// "Command", "Receive", "Send", "Signal", "Delete"); "" means every request, decided before
// authentication. Count limits how many requests it hits (0 = all).
type Fault struct {
	Kind   FaultKind
	Action string
	Delay  time.Duration
	Count  int
}

// Server is a running WS-Management server.
type Server struct {
	cfg    Config
	ln     net.Listener
	http   *http.Server
	cert   *x509.Certificate
	shells *shells
	cancel context.CancelFunc

	mu    sync.Mutex
	fault Fault
	hits  int
}

type connKey struct{}

// connState is the per-TCP-connection authentication state: NTLM is connection-oriented.
type connState struct {
	mu       sync.Mutex
	acceptor *ntlmAcceptor
	session  *ntlmSession
	conn     net.Conn
}

// Start creates a server listening on 127.0.0.1 with an OS-chosen port.
func Start(cfg Config) (*Server, error) { return Listen("127.0.0.1:0", cfg) }

// Listen creates a server on addr, which must be a loopback address.
func Listen(addr string, cfg Config) (*Server, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("lab winrm: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("lab winrm: refusing to listen on %q: only loopback addresses are allowed", addr)
	}
	if cfg.Handler == nil {
		return nil, errors.New("lab winrm: Config.Handler is required")
	}
	if !cfg.Basic && !cfg.NTLM {
		cfg.Basic, cfg.NTLM = true, true
	}
	if cfg.Domain == "" {
		cfg.Domain = "LAB"
	}
	if cfg.DNSDomain == "" {
		cfg.DNSDomain = "lab.test"
	}
	if cfg.Computer == "" {
		cfg.Computer = "DC1"
	}
	if cfg.MaxOperationTimeout <= 0 {
		cfg.MaxOperationTimeout = 60 * time.Second
	}
	if cfg.MaxShellsPerUser == 0 {
		cfg.MaxShellsPerUser = 30
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{cfg: cfg, cancel: cancel,
		shells: &shells{byID: map[string]*shell{}, perUser: cfg.MaxShellsPerUser, baseCtx: ctx, handler: cfg.Handler}}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("lab winrm: %w", err)
	}
	if cfg.TLS != nil {
		tc := cfg.TLS.Clone()
		tc.NextProtos = []string{"http/1.1"} // NTLM is connection-oriented: no HTTP/2
		if len(tc.Certificates) > 0 && tc.Certificates[0].Leaf == nil && len(tc.Certificates[0].Certificate) > 0 {
			tc.Certificates[0].Leaf, _ = x509.ParseCertificate(tc.Certificates[0].Certificate[0])
		}
		if len(tc.Certificates) > 0 {
			s.cert = tc.Certificates[0].Leaf
		}
		ln = tls.NewListener(ln, tc)
	}
	s.ln = ln
	s.http = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, &connState{conn: c})
		},
		ErrorLog: log.New(io.Discard, "", 0), // TLS handshake failures are expected in tests
	}
	if cfg.Logf != nil {
		s.http.ErrorLog = log.New(logfWriter(cfg.Logf), "lab winrm: ", 0)
	}
	go func() { _ = s.http.Serve(ln) }()
	return s, nil
}

type logfWriter func(format string, args ...any)

func (f logfWriter) Write(b []byte) (int, error) {
	f("%s", strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// URL is the WS-Management endpoint, e.g. https://127.0.0.1:5986/wsman.
func (s *Server) URL() string {
	scheme := "http"
	if s.cfg.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + s.Addr() + "/wsman"
}

// InjectFault sets the fault for subsequent requests (Fault{} clears it).
func (s *Server) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault, s.hits = f, 0
}

// OpenShells is the number of shells not yet deleted.
func (s *Server) OpenShells() int { return s.shells.count() }

// CommandsStarted is the number of commands the server has started.
func (s *Server) CommandsStarted() int {
	s.shells.mu.Lock()
	defer s.shells.mu.Unlock()
	return s.shells.commands
}

// Close stops the server, cancels running commands and waits (up to 5s) for handlers.
func (s *Server) Close() error {
	s.cancel()
	err := s.http.Close()
	done := make(chan struct{})
	go func() { s.shells.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.cfg.Logf != nil {
		s.cfg.Logf(format, args...)
	}
}

// takeFault returns the fault to apply to a request for action ("" before parsing).
func (s *Server) takeFault(action string) FaultKind {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.fault
	if f.Kind == FaultNone || !strings.EqualFold(f.Action, action) {
		return FaultNone
	}
	if f.Count > 0 && s.hits >= f.Count {
		return FaultNone
	}
	s.hits++
	return f.Kind
}

func (s *Server) faultDelay() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fault.Delay
}

// applyFault performs an injected fault; it reports whether the request is finished.
func (s *Server) applyFault(k FaultKind, w http.ResponseWriter, r *http.Request) bool {
	switch k {
	case FaultUnauthorized:
		s.challenge(w, "")
		return true
	case FaultServerError:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = io.WriteString(w, "<html><body><h1>500 Internal Server Error</h1></body></html>")
		return true
	case FaultSlow:
		t := time.NewTimer(s.faultDelay())
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		}
	case FaultDrop:
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return true
			}
		}
		panic(http.ErrAbortHandler) // aborts the connection without a reply
	case FaultGarbage:
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
		_, _ = io.WriteString(w, "this is not SOAP <<<")
		return true
	}
	return false
}

func (s *Server) challenge(w http.ResponseWriter, token string) {
	if s.cfg.NTLM {
		if token != "" {
			w.Header().Add("WWW-Authenticate", "Negotiate "+token)
		} else {
			w.Header().Add("WWW-Authenticate", "Negotiate")
		}
	}
	if s.cfg.Basic && token == "" {
		w.Header().Add("WWW-Authenticate", `Basic realm="WSMAN"`)
	}
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusUnauthorized)
}

// lookupUser finds the password of user in domain. A user given as a UPN (admin@lab.test)
// with an empty domain, as MS-NLMP allows, is split at the last '@'.
func (s *Server) lookupUser(user, domain string) (string, bool) {
	if i := strings.LastIndexByte(user, '@'); i > 0 && domain == "" {
		user, domain = user[:i], user[i+1:]
	}
	for name, pw := range s.cfg.Users {
		d, u, hasDomain := strings.Cut(name, `\`)
		if !hasDomain {
			u, d = name, ""
		}
		if !strings.EqualFold(u, user) {
			continue
		}
		if d == "" || domain == "" || strings.EqualFold(d, domain) ||
			(strings.EqualFold(d, s.cfg.Domain) && strings.EqualFold(domain, s.cfg.DNSDomain)) {
			return pw, true
		}
	}
	return "", false
}

const maxBody = 4 << 20

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	st, _ := r.Context().Value(connKey{}).(*connState)
	if st == nil {
		http.Error(w, "no connection state", http.StatusInternalServerError)
		return
	}
	if s.applyFault(s.takeFault(""), w, r) {
		return
	}
	if r.Method != http.MethodPost || !strings.EqualFold(r.URL.Path, "/wsman") {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	st.mu.Lock() // requests on one connection are sequential; the lock guards the NTLM state
	defer st.mu.Unlock()
	user, ok := s.authenticate(w, r, st)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request body too large or unreadable", http.StatusBadRequest)
		return
	}
	sealed := rwinrm.IsEncryptedContentType(r.Header.Get("Content-Type"))
	plain := s.cfg.TLS == nil && !s.cfg.AllowUnencrypted
	if sealed {
		if st.session == nil || st.session.seal == nil {
			s.refuse(w, "encrypted message on a connection without an NTLM sealing context")
			return
		}
		sig, data, n, err := rwinrm.DecodeEncrypted(body)
		if err == nil {
			body, err = st.session.seal.Unwrap(sig, data)
		}
		if err == nil && len(body) != n {
			err = fmt.Errorf("length %d does not match OriginalContent Length %d", len(body), n)
		}
		if err != nil {
			// The RC4 stream is now out of step: this connection cannot continue.
			s.logf("lab winrm: unseal: %v", err)
			st.session = nil
			w.Header().Set("Connection", "close")
			http.Error(w, "bad encrypted message", http.StatusBadRequest)
			return
		}
	} else if len(body) > 0 && plain {
		s.refuse(w, "unencrypted traffic is disabled (AllowUnencrypted=false)")
		return
	}
	if len(body) == 0 {
		if r.Header.Get("Authorization") == "" {
			// An empty message that authenticates nothing: ask for credentials again. This is
			// how masterzen/winrm's NewEncryption gets a fresh NTLM context for each message.
			s.challenge(w, "")
			return
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK) // the end of an authentication round trip (pywinrm, fix8524)
		return
	}
	status, reply, action := s.dispatch(r.Context(), user, body)
	if k := s.takeFault(action); k != FaultNone && s.applyFault(k, w, r) {
		return
	}
	s.logf("lab winrm: %s %s -> %d", user, action, status)
	if sealed {
		sig, data := st.session.seal.Wrap(reply)
		reply = rwinrm.EncodeEncrypted(sig, data, len(reply))
		w.Header().Set("Content-Type", rwinrm.EncryptedContentType)
	} else {
		w.Header().Set("Content-Type", "application/soap+xml;charset=UTF-8")
	}
	w.WriteHeader(status)
	_, _ = w.Write(reply)
}

// refuse answers like Windows does when policy forbids a message: HTTP 401, with a reason
// header that only the lab sends.
func (s *Server) refuse(w http.ResponseWriter, reason string) {
	w.Header().Set("X-Fix8524-Lab-Reason", reason)
	s.challenge(w, "")
}

// authenticate handles the Authorization header; it writes the 401 itself when it fails.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, st *connState) (string, bool) {
	h := r.Header.Get("Authorization")
	scheme, token, _ := strings.Cut(h, " ")
	token = strings.TrimSpace(token)
	switch {
	case h == "":
		if st.session != nil {
			return st.session.User, true
		}
		s.challenge(w, "")
		return "", false
	case strings.EqualFold(scheme, "Basic"):
		if !s.cfg.Basic {
			s.challenge(w, "")
			return "", false
		}
		if s.cfg.TLS == nil && !s.cfg.AllowUnencrypted {
			s.refuse(w, "Basic authentication over HTTP is disabled (AllowUnencrypted=false)")
			return "", false
		}
		user, pass, ok := r.BasicAuth()
		if !ok {
			s.challenge(w, "")
			return "", false
		}
		domain, u, hasDomain := strings.Cut(user, `\`)
		if !hasDomain {
			u, domain = user, ""
		}
		want, found := s.lookupUser(u, domain)
		if !found || !constantEq(want, pass) {
			s.logf("lab winrm: Basic logon failed for %q", user)
			s.challenge(w, "")
			return "", false
		}
		return u, true
	case strings.EqualFold(scheme, "Negotiate") || strings.EqualFold(scheme, "NTLM"):
		if !s.cfg.NTLM {
			s.challenge(w, "")
			return "", false
		}
		msg, err := base64.StdEncoding.DecodeString(token)
		if err != nil || len(msg) < 12 || string(msg[:8]) != ntlmSignature {
			s.refuse(w, "only raw NTLM tokens are supported in the Negotiate header (no SPNEGO, no Kerberos)")
			return "", false
		}
		switch msg[8] {
		case 1:
			st.session = nil
			st.acceptor = &ntlmAcceptor{domain: s.cfg.Domain, dnsDomain: s.cfg.DNSDomain, computer: s.cfg.Computer,
				users: s.lookupUser, cert: s.cert, requireCB: s.cfg.RequireChannelBinding}
			ch, err := st.acceptor.Challenge(msg)
			if err != nil {
				s.logf("lab winrm: %v", err)
				s.challenge(w, "")
				return "", false
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
			s.challenge(w, base64.StdEncoding.EncodeToString(ch))
			return "", false
		case 3:
			if st.acceptor == nil {
				s.challenge(w, "")
				return "", false
			}
			sess, err := st.acceptor.Authenticate(msg)
			st.acceptor = nil
			if err != nil {
				s.logf("lab winrm: %v", err)
				s.challenge(w, "")
				return "", false
			}
			st.session = sess
			return sess.User, true
		}
		s.challenge(w, "")
		return "", false
	}
	s.challenge(w, "")
	return "", false
}

func constantEq(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v byte
	for i := 0; i < len(a); i++ {
		v |= a[i] ^ b[i]
	}
	return v == 0
}

// shortAction names an action for faults and logs: "Create", "Receive", ...
func shortAction(a string) string {
	if i := strings.LastIndexByte(a, '/'); i >= 0 {
		return a[i+1:]
	}
	return a
}

// dispatch runs one WS-Management operation and returns the HTTP status and reply envelope.
func (s *Server) dispatch(ctx context.Context, user string, body []byte) (int, []byte, string) {
	req, err := parseRequest(body)
	if err != nil {
		s.logf("lab winrm: %v", err)
		return http.StatusBadRequest, faultSchema.render(""), ""
	}
	action := shortAction(req.Action)
	fault := func(f wsmanFault) (int, []byte, string) {
		return http.StatusInternalServerError, f.render(req.MessageID), action
	}
	if !strings.EqualFold(req.ResourceURI, ResourceURIShell) {
		return fault(faultBadResource)
	}
	var sh *shell
	if req.Action != actionCreate {
		if sh = s.shells.get(req.Selectors["ShellId"], user); sh == nil {
			return fault(faultShellNotFound)
		}
	}
	switch req.Action {
	case actionCreate:
		if req.Shell == nil {
			return fault(faultSchema)
		}
		sh, err := s.shells.create(user, req.Options)
		if err != nil {
			return fault(faultQuota)
		}
		return http.StatusOK, createResponse(req, s.URL(), sh.id, user), action
	case actionCommand:
		if req.CommandLine == nil || strings.TrimSpace(req.CommandLine.Command) == "" {
			return fault(faultSchema)
		}
		c := s.shells.start(sh, newCommand(user, sh.options, req.Options, req.CommandLine))
		return http.StatusOK, commandResponse(req, c.id), action
	case actionReceive:
		if req.Receive == nil {
			return fault(faultSchema)
		}
		c := sh.command(req.Receive.DesiredStream.CommandID)
		if c == nil {
			return fault(faultBadCommandID)
		}
		wait := s.cfg.MaxOperationTimeout
		if req.OperationTimeout > 0 && req.OperationTimeout < wait {
			wait = req.OperationTimeout
		}
		env := req.MaxEnvelopeSize
		if env <= 0 {
			env = 153600
		}
		budget := max(1024, (env-4096)*3/4)
		stdout, stderr, done, exit, timedOut := c.receive(ctx, wait, budget)
		if timedOut {
			return fault(faultTimedOut)
		}
		return http.StatusOK, receiveResponse(req, c.id, stdout, stderr, done, exit), action
	case actionSend:
		if req.Send == nil {
			return fault(faultSchema)
		}
		for _, st := range req.Send.Streams {
			c := sh.command(st.CommandID)
			if c == nil {
				return fault(faultBadCommandID)
			}
			data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(st.Data))
			if err != nil {
				return fault(faultSchema)
			}
			c.stdin.write(data, strings.EqualFold(st.End, "true"))
		}
		return http.StatusOK, response(actionSend+"Response", req.MessageID, `<rsp:SendResponse/>`), action
	case actionSignal:
		if req.Signal == nil {
			return fault(faultSchema)
		}
		c := sh.command(req.Signal.CommandID)
		if c == nil {
			return fault(faultBadCommandID)
		}
		switch strings.TrimSpace(req.Signal.Code) {
		case signalTerm:
			c.cancel()
			sh.mu.Lock()
			delete(sh.cmds, c.id)
			sh.mu.Unlock()
		case signalCtrlC, signalCtrlBrk:
			c.cancel()
		default:
			return fault(faultSchema)
		}
		return http.StatusOK, response(actionSignal+"Response", req.MessageID, `<rsp:SignalResponse/>`), action
	case actionDelete:
		if !s.shells.delete(sh.id, user) {
			return fault(faultShellNotFound)
		}
		return http.StatusOK, response(actionDelete+"Response", req.MessageID, ""), action
	}
	return fault(faultActionNotSupported)
}
