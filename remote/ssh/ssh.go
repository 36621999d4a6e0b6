// Package ssh runs fix8524 commands over SSH (golang.org/x/crypto/ssh): on Samba domain
// controllers (POSIX: Command.Argv, each argument single-quoted for the remote shell) and on
// Windows OpenSSH (Command.PowerShell through "powershell.exe -EncodedCommand", the same
// bootstrap as WinRM, which cmd.exe, the default Windows OpenSSH shell, passes through).
//
// The server's host key is verified against known_hosts by default. Skipping the check is an
// explicit, loud option. Authentication is by key (file, optional passphrase) or password
// (also answered for keyboard-interactive prompts). Every command is bounded by a timeout and
// the caller's context.
package ssh

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/fix8524/fix8524/internal/inputfile"
	"github.com/fix8524/fix8524/remote"
)

// Config says how to reach one host.
type Config struct {
	Target remote.Target // Host is the known_hosts name; Address an optional IP; Port 0 = 22
	User   string

	// Key authentication: KeyFile (or KeyPEM) with an optional KeyPassphrase.
	KeyFile       string
	KeyPEM        []byte
	KeyPassphrase string
	// Password authentication (also used to answer keyboard-interactive prompts).
	Password string

	// KnownHostsFiles verify the host key (default ~/.ssh/known_hosts).
	KnownHostsFiles []string
	// InsecureIgnoreHostKey accepts any host key: anyone on the path can impersonate the DC
	// and receive the password. Every connection logs a warning.
	InsecureIgnoreHostKey bool

	// Windows selects Windows OpenSSH: commands are PowerShell scripts run with
	// powershell.exe -EncodedCommand. Otherwise commands are POSIX Argv.
	Windows bool

	Timeout        time.Duration // whole command when Command.Timeout is 0 (default 2 minutes)
	ConnectTimeout time.Duration // TCP connect and SSH handshake (default 15s)
	// Logf receives warnings and debug lines (never credentials). If nil, warnings go to stderr.
	Logf func(format string, args ...any)
}

// MaxOutput bounds stdout plus stderr of one command.
const MaxOutput = 32 << 20

// Client runs commands on one host over one SSH connection (opened on first use).
type Client struct {
	cfg    Config
	auth   []ssh.AuthMethod
	hostCB ssh.HostKeyCallback
	algos  []string

	mu     sync.Mutex
	conn   *ssh.Client
	closed bool
}

var _ remote.Runner = (*Client)(nil)

func (c *Config) terr(kind remote.Kind, op string, err error, detail string) *remote.TransportError {
	return &remote.TransportError{Kind: kind, Op: op, Target: c.Target.String(), Err: err, Detail: detail}
}

func (c *Config) logf(format string, args ...any) {
	if c.Logf != nil {
		c.Logf(format, args...)
		return
	}
	fmt.Fprintf(os.Stderr, format+"\n", args...)
}

// New checks cfg, loads keys and known_hosts, and returns a Client. It does not connect.
func New(cfg Config) (*Client, error) {
	if cfg.Target.Port == 0 {
		cfg.Target.Port = 22
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = 15 * time.Second
	}
	op := "configure SSH"
	if cfg.Target.Host == "" {
		return nil, cfg.terr(remote.KindConfig, op, errors.New("Target.Host is empty"), "")
	}
	if cfg.User == "" {
		return nil, cfg.terr(remote.KindConfig, op, errors.New("no user name"), "")
	}
	c := &Client{cfg: cfg}
	if cfg.KeyFile != "" || len(cfg.KeyPEM) > 0 {
		pemBytes := cfg.KeyPEM
		if cfg.KeyFile != "" {
			b, err := inputfile.ReadFile(cfg.KeyFile, "private key", 1<<20)
			if err != nil {
				return nil, cfg.terr(remote.KindConfig, op, fmt.Errorf("read %w", err), "")
			}
			pemBytes = b
		}
		var signer ssh.Signer
		var err error
		if cfg.KeyPassphrase != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase(pemBytes, []byte(cfg.KeyPassphrase))
		} else {
			signer, err = ssh.ParsePrivateKey(pemBytes)
		}
		var missing *ssh.PassphraseMissingError
		if errors.As(err, &missing) {
			return nil, cfg.terr(remote.KindConfig, op, errors.New("the private key is encrypted: set KeyPassphrase"), "")
		}
		if err != nil {
			return nil, cfg.terr(remote.KindConfig, op, fmt.Errorf("parse private key: %w", err), "")
		}
		c.auth = append(c.auth, ssh.PublicKeys(signer))
	}
	if cfg.Password != "" {
		pw := cfg.Password
		c.auth = append(c.auth, ssh.Password(pw), ssh.KeyboardInteractive(
			func(name, instruction string, questions []string, echos []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i, q := range questions {
					if !strings.Contains(strings.ToLower(q), "password") {
						return nil, fmt.Errorf("unexpected keyboard-interactive prompt %s", remote.Excerpt([]byte(q), 60))
					}
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	if len(c.auth) == 0 {
		return nil, cfg.terr(remote.KindConfig, op, errors.New("no key and no password"), "")
	}
	if cfg.InsecureIgnoreHostKey {
		c.hostCB = ssh.InsecureIgnoreHostKey() //nolint:gosec // explicit, loud option
		return c, nil
	}
	files := cfg.KnownHostsFiles
	if len(files) == 0 {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, cfg.terr(remote.KindConfig, op, fmt.Errorf("no known_hosts file and no home directory: %w", err), "")
		}
		files = []string{filepath.Join(home, ".ssh", "known_hosts")}
	}
	for _, f := range files {
		// knownhosts opens the files itself: a FIFO or a device is refused before it could hang
		// or fill memory.
		if err := inputfile.Check(f, "known_hosts", 64<<20); err != nil {
			return nil, cfg.terr(remote.KindConfig, op, err, "")
		}
	}
	cb, err := knownhosts.New(files...)
	if err != nil {
		return nil, cfg.terr(remote.KindConfig, op, fmt.Errorf("known_hosts: %w", err), "")
	}
	c.hostCB = cb
	c.algos = knownAlgorithms(cb, c.knownHostsName())
	return c, nil
}

// knownHostsName is the name the host key is checked under: Host, with the port when not 22.
func (c *Client) knownHostsName() string {
	return net.JoinHostPort(c.cfg.Target.Host, fmt.Sprint(c.cfg.Target.Port))
}

// knownAlgorithms asks the known_hosts callback which key types it has for the host, so the
// handshake requests one of those (else a server with several host keys may present one that
// is not recorded, and the check fails although the host is known).
func knownAlgorithms(cb ssh.HostKeyCallback, name string) []string {
	probe := probeKey{}
	err := cb(name, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 22}, probe)
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) {
		return nil
	}
	var algos []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algos = append(algos, a)
			}
		}
	}
	return algos
}

func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

// probeKey is a public key no known_hosts line can match.
type probeKey struct{}

func (probeKey) Type() string                        { return "fix8524-probe" }
func (probeKey) Marshal() []byte                     { return []byte("\x00\x00\x00\x0dfix8524-probe") }
func (probeKey) Verify([]byte, *ssh.Signature) error { return errors.New("probe key") }

// connect returns the open connection, dialing it if needed.
func (c *Client) connect(ctx context.Context) (*ssh.Client, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, c.cfg.terr(remote.KindConfig, "connect", errors.New("client is closed"), "")
	}
	if c.conn != nil {
		return c.conn, nil
	}
	if c.cfg.InsecureIgnoreHostKey {
		c.cfg.logf("WARNING: ssh %s: host key NOT verified (InsecureIgnoreHostKey): the DC's identity is not checked and credentials may go to an impostor", c.cfg.Target)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.ConnectTimeout)
	defer cancel()
	d := net.Dialer{KeepAlive: 30 * time.Second}
	nc, err := d.DialContext(ctx, "tcp", c.cfg.Target.DialAddress(22))
	if err != nil {
		return nil, c.netErr("connect", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(time.Unix(1, 0)) })
	cc := &ssh.ClientConfig{
		User:              c.cfg.User,
		Auth:              c.auth,
		HostKeyCallback:   c.hostCB,
		HostKeyAlgorithms: c.algos,
		Timeout:           c.cfg.ConnectTimeout,
	}
	sc, chans, reqs, err := ssh.NewClientConn(nc, c.knownHostsName(), cc)
	stopped := stop()
	if err != nil {
		_ = nc.Close()
		if !stopped || ctx.Err() != nil {
			return nil, c.netErr("SSH handshake", fmt.Errorf("%w (%v)", context.DeadlineExceeded, err))
		}
		return nil, c.handshakeErr(err)
	}
	_ = nc.SetDeadline(time.Time{})
	c.conn = ssh.NewClient(sc, chans, reqs)
	return c.conn, nil
}

func (c *Client) netErr(op string, err error) error {
	kind := remote.Classify(err)
	detail := ""
	switch kind {
	case remote.KindRefused:
		detail = fmt.Sprintf("nothing listens on port %d: is sshd running?", c.cfg.Target.Port)
	case remote.KindUnreachable:
		detail = "name resolution or routing failed; if DNS is what is broken, give the IP address as Target.Address"
	}
	return c.cfg.terr(kind, op, err, detail)
}

func (c *Client) handshakeErr(err error) error {
	var ke *knownhosts.KeyError
	var re *knownhosts.RevokedError
	switch {
	case errors.As(err, &ke) && len(ke.Want) == 0:
		return c.cfg.terr(remote.KindHostKey, "SSH handshake", errors.New("host key unknown"),
			fmt.Sprintf("%s is not in known_hosts; verify its fingerprint out of band (ssh-keyscan, the DC console) and add it", c.knownHostsName()))
	case errors.As(err, &ke):
		where := ke.Want[0].Filename + ":" + fmt.Sprint(ke.Want[0].Line)
		return c.cfg.terr(remote.KindHostKey, "SSH handshake", errors.New("HOST KEY MISMATCH: the host presented a different key than known_hosts records"),
			"someone may be impersonating the DC, or it was reinstalled; known key at "+where)
	case errors.As(err, &re):
		return c.cfg.terr(remote.KindHostKey, "SSH handshake", errors.New("host key is revoked in known_hosts"), "")
	case strings.Contains(err.Error(), "unable to authenticate"):
		return c.cfg.terr(remote.KindAuth, "SSH authentication", errors.New("authentication failed"),
			"the server refused the key or password for user "+c.cfg.User)
	}
	return c.cfg.terr(remote.Classify(err), "SSH handshake", err, "")
}

// Close closes the connection.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.conn != nil {
		err := c.conn.Close()
		c.conn = nil
		return err
	}
	return nil
}

// drop forgets a broken connection so the next command reconnects.
func (c *Client) drop(conn *ssh.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn == conn {
		_ = conn.Close()
		c.conn = nil
	}
}

// CommandLine renders cmd as the command string the SSH server's shell receives.
func CommandLine(windows bool, cmd remote.Command) (string, error) {
	if err := cmd.Validate(); err != nil {
		return "", err
	}
	if windows {
		if cmd.PowerShell == "" {
			return "", errors.New("commands for Windows OpenSSH must be PowerShell scripts (cmd.exe quoting is not POSIX)")
		}
		return remote.PowerShellCommandLine(cmd)
	}
	if len(cmd.Argv) == 0 {
		return "", errors.New("POSIX hosts run Argv commands; PowerShell scripts need Windows")
	}
	return remote.ShellJoin(cmd.Argv), nil
}

type limitedBuffer struct {
	mu   *sync.Mutex
	buf  bytes.Buffer
	used *int
	over *bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if *b.used+len(p) > MaxOutput {
		*b.over = true
		return 0, fmt.Errorf("output exceeds %d bytes", MaxOutput)
	}
	*b.used += len(p)
	return b.buf.Write(p)
}

// Run runs cmd. The error is a *remote.TransportError for transport failures (including the
// command not finishing in time); a non-zero exit is Result.ExitCode.
func (c *Client) Run(ctx context.Context, cmd remote.Command) (remote.Result, error) {
	start := time.Now()
	line, err := CommandLine(c.cfg.Windows, cmd)
	if err != nil {
		return remote.Result{}, c.cfg.terr(remote.KindUnsupported, "run "+cmd.Name, err, "")
	}
	timeout := cmd.Timeout
	if timeout <= 0 {
		timeout = c.cfg.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	conn, err := c.connect(ctx)
	if err != nil {
		return remote.Result{}, err
	}
	sess, err := conn.NewSession()
	if err != nil {
		c.drop(conn)
		return remote.Result{}, c.netErr("open session", err)
	}
	defer sess.Close()
	var mu sync.Mutex
	used, over := 0, false
	stdout := &limitedBuffer{mu: &mu, used: &used, over: &over}
	stderr := &limitedBuffer{mu: &mu, used: &used, over: &over}
	sess.Stdout, sess.Stderr = stdout, stderr
	if err := sess.Start(line); err != nil {
		return remote.Result{}, c.netErr("start command", err)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Wait() }()
	var werr error
	select {
	case werr = <-done:
	case <-ctx.Done():
		// Ask the server to kill the command (OpenSSH 7.9+ honours "signal"), then close the
		// channel; the remote process may outlive us if the server ignores the signal.
		_ = sess.Signal(ssh.SIGKILL)
		_ = sess.Close()
		kind, detail := remote.KindCanceled, ""
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			kind, detail = remote.KindTimeout, fmt.Sprintf("%s did not finish within %s", cmd.Name, timeout)
		}
		mu.Lock()
		res := remote.Result{ExitCode: -1, Stdout: bytes.Clone(stdout.buf.Bytes()), Stderr: bytes.Clone(stderr.buf.Bytes()), Duration: time.Since(start)}
		mu.Unlock()
		return res, c.cfg.terr(kind, "run "+cmd.Name, ctx.Err(), detail)
	}
	mu.Lock()
	res := remote.Result{Stdout: bytes.Clone(stdout.buf.Bytes()), Stderr: bytes.Clone(stderr.buf.Bytes()), Duration: time.Since(start)}
	tooBig := over
	mu.Unlock()
	if tooBig {
		return res, c.cfg.terr(remote.KindProtocol, "run "+cmd.Name, fmt.Errorf("command output exceeds %d bytes", MaxOutput), "")
	}
	var ee *ssh.ExitError
	var missing *ssh.ExitMissingError
	switch {
	case werr == nil:
	case errors.As(werr, &ee):
		res.ExitCode = ee.ExitStatus()
		if ee.Signal() != "" {
			res.ExitCode = -1
			res.Stderr = append(res.Stderr, fmt.Sprintf("\n[fix8524: remote command killed by signal %s]", ee.Signal())...)
		}
	case errors.As(werr, &missing):
		return res, c.cfg.terr(remote.KindProtocol, "run "+cmd.Name, werr, "the server closed the session without an exit status")
	default:
		c.drop(conn)
		return res, c.netErr("run "+cmd.Name, werr)
	}
	if c.cfg.Windows {
		if s, ok := remote.DecodeCLIXML(res.Stderr); ok {
			res.Stderr = []byte(s)
		}
	}
	return res, nil
}
