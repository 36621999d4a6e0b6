package winrm

import (
	"context"
	"io"
	"strings"

	"github.com/fix8524/fix8524/remote"
)

// Command is one command a client asked the server to run, as the Handler sees it.
type Command struct {
	User      string   // the authenticated user name (as the client sent it, without domain)
	ShellID   string   // the WinRS shell the command runs in
	Command   string   // rsp:Command
	Arguments []string // rsp:Arguments
	// CommandLine is Command and Arguments joined with spaces, which is what cmd.exe runs.
	CommandLine string
	// PowerShell is the decoded script when CommandLine is "powershell[.exe] ...
	// -EncodedCommand <base64>" (fix8524's bootstrap, pywinrm's run_ps, winrm.Powershell).
	// Name and Params are filled from the "# fix8524:<name>" marker and $P when present.
	PowerShell *remote.PowerShellInvocation
	// PowerShellErr is set when the command line runs powershell -EncodedCommand but the
	// payload could not be decoded.
	PowerShellErr error
	// Name and Params are shortcuts for PowerShell.Name and PowerShell.Params.
	Name   string
	Params map[string]string
	// Options are the WINRS_* options of the shell and the command.
	Options map[string]string
	// Stdin delivers what the client sent with the Send operation; EOF after End="true".
	Stdin io.Reader
}

// Handler runs commands. Run writes to stdout and stderr (the client receives them in
// rsp:Stream chunks) and returns the exit code. ctx is canceled when the client signals
// terminate or ctrl_c, deletes the shell, or the server closes; a handler that ignores ctx
// models a command that never finishes.
type Handler interface {
	Run(ctx context.Context, cmd *Command, stdout, stderr io.Writer) int
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(ctx context.Context, cmd *Command, stdout, stderr io.Writer) int

// Run calls f.
func (f HandlerFunc) Run(ctx context.Context, cmd *Command, stdout, stderr io.Writer) int {
	return f(ctx, cmd, stdout, stderr)
}

// Mux dispatches fix8524 scripts by their marker name, and anything else to Fallback.
type Mux struct {
	ByName   map[string]Handler
	Fallback Handler
}

// Run implements Handler.
func (m *Mux) Run(ctx context.Context, cmd *Command, stdout, stderr io.Writer) int {
	if h, ok := m.ByName[cmd.Name]; ok && cmd.Name != "" {
		return h.Run(ctx, cmd, stdout, stderr)
	}
	if m.Fallback != nil {
		return m.Fallback.Run(ctx, cmd, stdout, stderr)
	}
	_, _ = io.WriteString(stderr, "'"+firstWord(cmd.CommandLine)+"' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n")
	return 1
}

func firstWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[0]
}
