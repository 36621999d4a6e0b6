package winrm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	mwinrm "github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/fix8524/fix8524/remote"
)

// Client runs commands on one Windows host. It is safe for concurrent use; commands run one
// at a time over the client's single connection.
type Client struct {
	cfg    Config
	params *mwinrm.Parameters
	t      *transport
	sem    chan struct{}
	closed bool
}

var _ remote.Runner = (*Client)(nil)

// MaxOutput bounds how much stdout plus stderr a command may return.
const MaxOutput = 32 << 20

// New checks cfg and returns a Client. It does not connect.
func New(cfg Config) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	t, err := newTransport(cfg)
	if err != nil {
		return nil, err
	}
	secs := int(math.Ceil(cfg.OperationTimeout.Seconds()))
	// Per-client parameters: never winrm.DefaultParameters, a mutable global.
	params := mwinrm.NewParameters(fmt.Sprintf("PT%dS", secs), cfg.Locale, 153600)
	return &Client{cfg: cfg, params: params, t: t, sem: make(chan struct{}, 1)}, nil
}

// Close closes the connection.
func (c *Client) Close() error {
	c.sem <- struct{}{}
	defer func() { <-c.sem }()
	c.closed = true
	c.t.conn.close()
	return nil
}

// Run runs a PowerShell command (Command.PowerShell with Params as $P) through
// "powershell.exe -EncodedCommand". The error is a *remote.TransportError for transport
// failures (including WS-Management faults and the command not finishing in time); a
// non-zero exit is Result.ExitCode. Result.Stderr holds PowerShell's error stream decoded
// from CLIXML. Argv commands, invalid commands and scripts too long for cmd.exe are refused
// with KindUnsupported before anything is sent.
func (c *Client) Run(ctx context.Context, cmd remote.Command) (remote.Result, error) {
	start := time.Now()
	if len(cmd.Argv) > 0 && cmd.PowerShell == "" {
		return remote.Result{}, &remote.TransportError{Kind: remote.KindUnsupported, Op: "run " + cmd.Name, Target: c.cfg.Target.String(),
			Err: errors.New("WinRM runs PowerShell scripts; Argv commands are for POSIX hosts over SSH")}
	}
	line, err := remote.PowerShellCommandLine(cmd)
	if err != nil { // an invalid command, or one too long for cmd.exe: nothing was sent
		return remote.Result{}, &remote.TransportError{Kind: remote.KindUnsupported, Op: "run " + cmd.Name, Target: c.cfg.Target.String(), Err: err}
	}
	timeout := cmd.Timeout
	if timeout <= 0 {
		timeout = c.cfg.Timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return remote.Result{}, c.ctxError(ctx, "wait for the connection", cmd.Name, timeout)
	}
	defer func() { <-c.sem }()
	if c.closed {
		return remote.Result{}, &remote.TransportError{Kind: remote.KindConfig, Op: "run " + cmd.Name, Target: c.cfg.Target.String(), Err: errors.New("client is closed")}
	}
	res, err := c.run(ctx, cmd.Name, line, timeout)
	res.Duration = time.Since(start)
	if err != nil {
		return res, err
	}
	if s, ok := remote.DecodeCLIXML(res.Stderr); ok {
		res.Stderr = []byte(s)
	}
	return res, nil
}

// expired reports whether ctx is done or its deadline has passed (a socket deadline set from
// it can fire a moment before the context's own timer).
func expired(ctx context.Context) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !time.Now().Before(dl)
}

// ctxError reports why ctx ended as a TransportError.
func (c *Client) ctxError(ctx context.Context, op, name string, timeout time.Duration) error {
	kind := remote.KindCanceled
	detail := ""
	err := ctx.Err()
	if err == nil || errors.Is(err, context.DeadlineExceeded) {
		err = context.DeadlineExceeded
		kind = remote.KindTimeout
		detail = fmt.Sprintf("%s did not finish within %s", name, timeout)
	}
	return &remote.TransportError{Kind: kind, Op: op, Target: c.cfg.Target.String(), Err: err, Detail: detail}
}

// call sends one request built by masterzen/winrm and returns the reply body.
func (c *Client) call(ctx context.Context, op string, msg *soap.SoapMessage, receive bool) ([]byte, error) {
	body := []byte(msg.String())
	msg.Free()
	ectx, cancel := c.t.exchangeCtx(ctx, receive)
	defer cancel()
	_, reply, err := c.t.post(ectx, op, body)
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			return nil, f
		}
		return nil, err
	}
	return reply, nil
}

func (c *Client) faultError(op string, f *Fault) error {
	return &remote.TransportError{Kind: remote.KindProtocol, Op: op, Target: c.cfg.Target.String(), Err: f}
}

func (c *Client) run(ctx context.Context, name, line string, timeout time.Duration) (res remote.Result, err error) {
	url := c.t.url
	wrap := func(op string, e error) error {
		if expired(ctx) {
			return c.ctxError(ctx, op, name, timeout)
		}
		var f *Fault
		if errors.As(e, &f) {
			return c.faultError(op, f)
		}
		return e
	}

	reply, err := c.call(ctx, "create shell", mwinrm.NewOpenShellRequest(url, c.params), false)
	if err != nil {
		return res, wrap("create shell", err)
	}
	shellID, err := parseSafely(func() (string, error) { return mwinrm.ParseOpenShellResponse(string(reply)) })
	if err != nil || shellID == "" {
		return res, &remote.TransportError{Kind: remote.KindProtocol, Op: "create shell", Target: c.cfg.Target.String(),
			Err: fmt.Errorf("no ShellId in the reply: %v", err)}
	}
	var commandID string
	defer func() {
		// Clean up even when ctx has ended: terminate the command and delete the shell, bounded,
		// so a timed-out command does not keep running or hold one of the user's shells.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.ConnectTimeout)
		defer cancel()
		if commandID != "" {
			if _, e := c.call(cctx, "signal terminate", mwinrm.NewSignalRequest(url, shellID, commandID, c.params), false); e != nil {
				c.t.logf("winrm: %s: terminate %s: %v", c.cfg.Target, name, e)
			}
		}
		if _, e := c.call(cctx, "delete shell", mwinrm.NewDeleteShellRequest(url, shellID, c.params), false); e != nil {
			c.t.logf("winrm: %s: delete shell: %v", c.cfg.Target, e)
		}
	}()

	reply, err = c.call(ctx, "run command", mwinrm.NewExecuteCommandRequest(url, shellID, line, nil, c.params), false)
	if err != nil {
		return res, wrap("run command", err)
	}
	commandID, err = parseSafely(func() (string, error) { return mwinrm.ParseExecuteCommandResponse(string(reply)) })
	if err != nil || commandID == "" {
		commandID = ""
		return res, &remote.TransportError{Kind: remote.KindProtocol, Op: "run command", Target: c.cfg.Target.String(),
			Err: fmt.Errorf("no CommandId in the reply: %v", err)}
	}
	for {
		if expired(ctx) {
			return res, c.ctxError(ctx, "receive output", name, timeout)
		}
		reply, err := c.call(ctx, "receive output", mwinrm.NewGetOutputRequest(url, shellID, commandID, "stdout stderr", c.params), true)
		if err != nil {
			var f *Fault
			if errors.As(err, &f) && f.TimedOut() {
				continue // no output within OperationTimeout: poll again
			}
			return res, wrap("receive output", err)
		}
		out, err := ParseReceive(reply, commandID)
		if err != nil {
			return res, &remote.TransportError{Kind: remote.KindProtocol, Op: "receive output", Target: c.cfg.Target.String(), Err: err}
		}
		res.Stdout = append(res.Stdout, out.Stdout...)
		res.Stderr = append(res.Stderr, out.Stderr...)
		if len(res.Stdout)+len(res.Stderr) > MaxOutput {
			return res, &remote.TransportError{Kind: remote.KindProtocol, Op: "receive output", Target: c.cfg.Target.String(),
				Err: fmt.Errorf("command output exceeds %d bytes", MaxOutput)}
		}
		if out.Done {
			res.ExitCode = out.ExitCode
			return res, nil
		}
	}
}

// parseSafely runs a masterzen/winrm parser, turning a panic on malformed XML into an error.
func parseSafely(f func() (string, error)) (s string, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("malformed reply (recovered panic: %v)", r)
		}
	}()
	return f()
}
