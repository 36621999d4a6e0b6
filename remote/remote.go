// Package remote holds the types every transport to a domain controller shares: the Command to
// run, its Result, the Runner interface (WinRM, SSH), the Target to reach, transport errors with
// a Kind, and the quoting and PowerShell bootstrap code that keeps AD-sourced values out of
// command text.
//
// The rule this package exists to enforce: values that come from Active Directory (DC names,
// GUIDs, naming contexts, IP addresses) are data. They travel in Command.Params and reach a
// PowerShell script as $P (base64-encoded JSON), or reach a POSIX program as single-quoted
// arguments. They are never spliced into script text.
package remote

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"time"
	"unicode/utf8"
)

// Command is one remote invocation.
//
// Exactly one of PowerShell and Argv is set. Values that come from AD go in Params and are
// delivered as data, never spliced into command text.
type Command struct {
	// Name is a stable action or probe id, e.g. "restart_netlogon"; shown in journals and
	// carried to the server in the script's first line ("# fix8524:<Name>"). It must match
	// NamePattern.
	Name string
	// PowerShell is a fixed script body (Windows, over WinRM or Windows OpenSSH). It reads its
	// parameters from $P, an object with one string property per Params key.
	PowerShell string
	// Argv is a program and its arguments (POSIX hosts over SSH). Each argument is
	// single-quote escaped by the transport; AD values may be arguments.
	Argv []string
	// Params is data for the PowerShell script ($P). A POSIX command carries no Params: put
	// the values into Argv, where they are quoted.
	Params map[string]string
	// Timeout bounds the whole command, connection included (0 = transport default).
	Timeout time.Duration
}

// Result is what a command returned. A non-zero ExitCode is not an error of the transport.
type Result struct {
	ExitCode int
	Stdout   []byte
	// Stderr is the command's standard error. WinRM transports decode PowerShell's CLIXML
	// error stream ("#< CLIXML") into plain text before they put it here.
	Stderr   []byte
	Duration time.Duration
}

// Runner runs commands on one host.
type Runner interface {
	// Run runs c and waits for it. The error is a transport failure (could not reach,
	// authenticate, or talk to the host; *TransportError), never a non-zero exit: that is
	// Result.ExitCode.
	Run(ctx context.Context, c Command) (Result, error)
	// Close releases connections; the Runner must not be used afterwards.
	Close() error
}

// Target says where a host is.
type Target struct {
	// Host is the name the host is known by: TLS server name, Kerberos service principal,
	// SSH known_hosts entry. It may be an IP address when nothing better is known.
	Host string
	// Address, when set, is the IP address (or name) to connect to instead of resolving Host:
	// DNS may be what is broken. Host is still used for TLS and host key checks.
	Address string
	// Port; 0 means the transport's default.
	Port int
}

// DialAddress returns the host:port to connect to.
func (t Target) DialAddress(defaultPort int) string {
	host := t.Address
	if host == "" {
		host = t.Host
	}
	port := t.Port
	if port == 0 {
		port = defaultPort
	}
	return net.JoinHostPort(host, strconv.Itoa(port))
}

// String names the target for messages: "dc1.contoso.com", "dc1.contoso.com:5986" or
// "dc1.contoso.com:5986 (via 192.0.2.10)".
func (t Target) String() string {
	s := t.Host
	if t.Port != 0 {
		s = net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
	}
	if t.Address != "" && t.Address != t.Host {
		s += " (via " + t.Address + ")"
	}
	return s
}

// HostIsIP reports whether Host is an IP address literal rather than a name.
func (t Target) HostIsIP() bool { return net.ParseIP(t.Host) != nil }

// Validate checks a command before it is sent.
func (c Command) Validate() error {
	if !validName(c.Name) {
		return fmt.Errorf("command name %s: must match %s", strconv.Quote(c.Name), NamePattern)
	}
	switch {
	case c.PowerShell != "" && len(c.Argv) > 0:
		return fmt.Errorf("command %s: both PowerShell and Argv are set", c.Name)
	case c.PowerShell == "" && len(c.Argv) == 0:
		return fmt.Errorf("command %s: neither PowerShell nor Argv is set", c.Name)
	case len(c.Argv) > 0 && len(c.Params) > 0:
		return fmt.Errorf("command %s: Params are for PowerShell scripts; put POSIX values into Argv", c.Name)
	}
	for i, a := range c.Argv {
		if bytes.IndexByte([]byte(a), 0) >= 0 {
			return fmt.Errorf("command %s: argument %d contains a NUL byte, which no POSIX argument can carry", c.Name, i)
		}
	}
	for k, v := range c.Params {
		if !validParamKey(k) {
			return fmt.Errorf("command %s: parameter name %s: must match %s", c.Name, strconv.Quote(k), ParamKeyPattern)
		}
		if !utf8.ValidString(v) {
			return fmt.Errorf("command %s: parameter %s is not valid UTF-8", c.Name, k)
		}
	}
	if c.Timeout < 0 {
		return fmt.Errorf("command %s: negative timeout", c.Name)
	}
	return nil
}

// NamePattern is the form of Command.Name.
const NamePattern = "^[a-z0-9][a-z0-9_.-]{0,63}$"

// ParamKeyPattern is the form of a Params key (a PowerShell property name).
const ParamKeyPattern = "^[A-Za-z_][A-Za-z0-9_]{0,63}$"

func validName(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

func validParamKey(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
		case i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return true
}

// Ok reports whether the command exited with 0.
func (r Result) Ok() bool { return r.ExitCode == 0 }

// Check returns nil for exit code 0 and an *ExitError otherwise.
func (r Result) Check(c Command) error {
	if r.ExitCode == 0 {
		return nil
	}
	return &ExitError{Name: c.Name, Code: r.ExitCode, Stderr: string(r.Stderr)}
}

// JSON decodes the command's standard output as one JSON document into v. A UTF-8 byte order
// mark and surrounding white space are ignored.
func (r Result) JSON(v any) error {
	out := bytes.TrimSpace(bytes.TrimPrefix(r.Stdout, []byte("\xef\xbb\xbf")))
	if len(out) == 0 {
		return fmt.Errorf("decode command output: stdout is empty (exit code %d)", r.ExitCode)
	}
	if err := json.Unmarshal(out, v); err != nil {
		return fmt.Errorf("decode command output as JSON: %w (stdout starts %s)", err, Excerpt(out, 120))
	}
	return nil
}

// ExitError is a command that ran and exited non-zero.
type ExitError struct {
	Name   string
	Code   int
	Stderr string
}

func (e *ExitError) Error() string {
	msg := fmt.Sprintf("command %s exited with code %d", e.Name, e.Code)
	if s := Excerpt([]byte(e.Stderr), 400); s != `""` {
		msg += ": " + s
	}
	return msg
}

// Excerpt renders at most n bytes of b as a quoted Go string, for messages: control
// characters are escaped, so an excerpt never breaks a log line.
func Excerpt(b []byte, n int) string {
	b = bytes.TrimSpace(b)
	if len(b) > n {
		return strconv.Quote(string(b[:n])) + "…"
	}
	return strconv.Quote(string(b))
}
