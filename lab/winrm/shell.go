package winrm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/fix8524/fix8524/remote"
)

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%X-%X-%X-%X-%X", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

type shell struct {
	id      string
	owner   string
	options map[string]string
	ctx     context.Context
	cancel  context.CancelFunc

	mu   sync.Mutex
	cmds map[string]*command
}

type command struct {
	id     string
	cancel context.CancelFunc

	mu       sync.Mutex
	stdout   []byte // produced and not yet received
	stderr   []byte
	done     bool
	exitCode int
	changed  chan struct{} // closed and replaced on every change
	stdin    *inputPipe
}

func (c *command) notify() {
	close(c.changed)
	c.changed = make(chan struct{})
}

type streamWriter struct {
	c      *command
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	w.c.mu.Lock()
	defer w.c.mu.Unlock()
	if w.c.done {
		return 0, errors.New("command has finished")
	}
	if w.stderr {
		w.c.stderr = append(w.c.stderr, p...)
	} else {
		w.c.stdout = append(w.c.stdout, p...)
	}
	w.c.notify()
	return len(p), nil
}

// receive waits up to timeout for output or completion; it hands out at most max bytes.
// timedOut is true when nothing happened in time.
func (c *command) receive(ctx context.Context, timeout time.Duration, max int) (stdout, stderr []byte, done bool, exit int, timedOut bool) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	for {
		c.mu.Lock()
		if len(c.stdout) > 0 || len(c.stderr) > 0 || c.done {
			n := min(len(c.stdout), max)
			stdout, c.stdout = c.stdout[:n:n], c.stdout[n:]
			m := min(len(c.stderr), max-n)
			stderr, c.stderr = c.stderr[:m:m], c.stderr[m:]
			done = c.done && len(c.stdout) == 0 && len(c.stderr) == 0
			exit = c.exitCode
			c.mu.Unlock()
			return stdout, stderr, done, exit, false
		}
		ch := c.changed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			return nil, nil, false, 0, true
		case <-ctx.Done():
			return nil, nil, false, 0, true
		}
	}
}

// inputPipe buffers stdin from Send operations without ever blocking the sender.
type inputPipe struct {
	mu      sync.Mutex
	buf     []byte
	eof     bool
	changed chan struct{}
	ctx     context.Context
}

func newInputPipe(ctx context.Context) *inputPipe {
	return &inputPipe{changed: make(chan struct{}), ctx: ctx}
}

func (p *inputPipe) write(b []byte, eof bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	p.eof = p.eof || eof
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *inputPipe) Read(b []byte) (int, error) {
	for {
		p.mu.Lock()
		if len(p.buf) > 0 {
			n := copy(b, p.buf)
			p.buf = p.buf[n:]
			p.mu.Unlock()
			return n, nil
		}
		if p.eof {
			p.mu.Unlock()
			return 0, io.EOF
		}
		ch := p.changed
		p.mu.Unlock()
		select {
		case <-ch:
		case <-p.ctx.Done():
			return 0, p.ctx.Err()
		}
	}
}

// shells is the server's shell table.
type shells struct {
	mu       sync.Mutex
	byID     map[string]*shell
	perUser  int
	baseCtx  context.Context
	handler  Handler
	wg       sync.WaitGroup
	commands int // total commands started (for tests)
}

func (t *shells) create(owner string, options map[string]string) (*shell, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, s := range t.byID {
		if strings.EqualFold(s.owner, owner) {
			n++
		}
	}
	if t.perUser > 0 && n >= t.perUser {
		return nil, errQuota
	}
	ctx, cancel := context.WithCancel(t.baseCtx)
	s := &shell{id: newUUID(), owner: owner, options: options, ctx: ctx, cancel: cancel, cmds: map[string]*command{}}
	t.byID[s.id] = s
	return s, nil
}

var errQuota = errors.New("shell quota exceeded")

func (t *shells) get(id, owner string) *shell {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.byID[id]
	if s == nil || !strings.EqualFold(s.owner, owner) {
		return nil // another user's shell is "not found", as on Windows
	}
	return s
}

func (t *shells) delete(id, owner string) bool {
	t.mu.Lock()
	s := t.byID[id]
	if s == nil || !strings.EqualFold(s.owner, owner) {
		t.mu.Unlock()
		return false
	}
	delete(t.byID, id)
	t.mu.Unlock()
	s.cancel()
	return true
}

func (t *shells) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}

// start runs a command in shell s.
func (t *shells) start(s *shell, cmd *Command) *command {
	ctx, cancel := context.WithCancel(s.ctx)
	c := &command{id: newUUID(), cancel: cancel, changed: make(chan struct{}), stdin: newInputPipe(ctx)}
	cmd.Stdin = c.stdin
	cmd.ShellID = s.id
	s.mu.Lock()
	s.cmds[c.id] = c
	s.mu.Unlock()
	t.mu.Lock()
	t.commands++
	t.mu.Unlock()
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		defer cancel()
		code := t.run(ctx, cmd, c)
		c.mu.Lock()
		c.done = true
		c.exitCode = code
		c.notify()
		c.mu.Unlock()
	}()
	return c
}

func (t *shells) run(ctx context.Context, cmd *Command, c *command) (code int) {
	defer func() {
		if r := recover(); r != nil {
			_, _ = fmt.Fprintf(streamWriter{c: c, stderr: true}, "lab handler panicked: %v\r\n", r)
			code = 1
		}
	}()
	return t.handler.Run(ctx, cmd, streamWriter{c: c}, streamWriter{c: c, stderr: true})
}

func (s *shell) command(id string) *command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmds[id]
}

// newCommand builds the Handler's view of a rsp:CommandLine.
func newCommand(user string, shellOpts, cmdOpts map[string]string, cl *commandLineBody) *Command {
	c := &Command{User: user, Command: strings.TrimSpace(cl.Command), Arguments: cl.Arguments, Options: map[string]string{}}
	for k, v := range shellOpts {
		c.Options[k] = v
	}
	for k, v := range cmdOpts {
		c.Options[k] = v
	}
	c.CommandLine = strings.Join(append([]string{c.Command}, cl.Arguments...), " ")
	inv, err := remote.ParsePowerShellCommandLine(c.CommandLine)
	switch {
	case err == nil:
		c.PowerShell = inv
		c.Name = inv.Name
		c.Params = inv.Params
	case !errors.Is(err, remote.ErrNotPowerShell):
		c.PowerShellErr = err
	}
	return c
}
