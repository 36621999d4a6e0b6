// Command fix8524 diagnoses and remediates Active Directory replication error 8524
// ("The DSA operation is unable to proceed because of a DNS lookup failure").
//
// The CLI only wires flags, I/O and exit codes; every subcommand lives in its own file
// and registers itself with register() from an init function.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"sort"
	"strings"
	"syscall"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/internal/relay"
	"github.com/fix8524/fix8524/internal/termtext"
)

// Exit codes shared by every subcommand (documented in the README).
const (
	exitOK       = 0 // healthy, nothing to do, or done
	exitError    = 1 // an error: bad input, unreachable DC, failed action
	exitProposed = 2 // a plan proposes actions or manual steps; heal: a human is needed
	exitRefused  = 3 // a gate or guardrail refused (approval, window, drift, lock, policy)
)

// env is what a subcommand may touch of the outside world; tests substitute it.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	getenv func(string) string
	// verbose (-v) prints debug lines on stderr; quiet (-q) keeps progress, notes and hints
	// quiet: results, warnings and errors only.
	verbose, quiet bool
}

// debugf prints a debug line on stderr with -v; its arguments (values from files and AD) are
// escaped for the terminal.
func debugf(e *env, format string, args ...any) {
	if e.verbose {
		fmt.Fprintf(e.stderr, "debug: "+format+"\n", termtext.Args(args)...)
	}
}

// debugPlaybook says which playbook a command loaded.
func debugPlaybook(e *env, pb *engine.Playbook) {
	if pb == nil {
		return
	}
	vars := make([]string, 0, len(pb.Variables))
	for _, v := range pb.Variables {
		vars = append(vars, v.Name)
	}
	debugf(e, "playbook %s %s from %s (variables: %s)", pb.Name, pb.Digest, strings.Join(pb.Files, ", "), strings.Join(vars, ", "))
}

// notef prints an informational line (a note, a hint) on w unless -q.
func notef(e *env, w io.Writer, format string, args ...any) {
	if !e.quiet {
		fmt.Fprintf(w, format, args...)
	}
}

// progress is where progress lines go: w, or nowhere with -q.
func (e *env) progress(w io.Writer) io.Writer {
	if e.quiet {
		return io.Discard
	}
	return w
}

// globalFlags takes -v/--verbose and -q/--quiet from anywhere before "--" (they are every
// command's), and --version before the command.
func globalFlags(e *env, args []string) []string {
	out := make([]string, 0, len(args))
	for i, a := range args {
		if a == "--" {
			return append(out, args[i:]...)
		}
		switch a {
		case "-v", "--verbose":
			e.verbose = true
		case "-q", "--quiet":
			e.quiet = true
		default:
			out = append(out, a)
		}
	}
	return out
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, e *env, args []string) int
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("fix8524: command registered twice: " + c.name) // programming error at init
	}
	commands[c.name] = c
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:])
	stop()
	os.Exit(code)
}

// run runs one command. A panic anywhere in it (on this goroutine, or relayed from a worker
// pool: internal/relay) is reported and exits 1, never the Go runtime's 2, which fix8524 uses
// for "actions proposed". (A Go fatal error, a stack overflow or running out of memory, cannot
// be recovered; bounded input keeps fix8524 away from those.)
func run(ctx context.Context, e *env, args []string) (code int) {
	defer func() {
		if v := recover(); v != nil {
			stack := debug.Stack()
			if p, ok := v.(*relay.Panic); ok {
				v, stack = p.Value, p.Stack
			}
			fmt.Fprintf(e.stderr, "fix8524: internal error (a bug; please report it with the lines below): %v\n%s", termtext.Escape(fmt.Sprint(v)), stack)
			code = exitError
		}
	}()
	return runCommand(ctx, e, args)
}

func runCommand(ctx context.Context, e *env, args []string) int {
	args = globalFlags(e, args)
	if e.verbose && e.quiet {
		fmt.Fprintln(e.stderr, "fix8524: -v and -q exclude each other")
		return exitError
	}
	if len(args) > 0 && (args[0] == "--version" || args[0] == "-version") {
		return runVersion(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(e.stderr)
		if len(args) == 0 {
			return exitError
		}
		return exitOK
	}
	c, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "fix8524: unknown command %q\n\n", args[0])
		usage(e.stderr)
		return exitError
	}
	return c.run(ctx, e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "fix8524: diagnose and remediate AD replication error 8524 (DNS lookup failure)")
	fmt.Fprintln(w, "\nUsage: fix8524 <command> [flags]\n\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nEvery command takes -v (debug lines on stderr) and -q (results, warnings and errors only).")
	fmt.Fprintln(w, "Run 'fix8524 <command> -h' for the flags of a command.")
	fmt.Fprintln(w, "Exit codes: 0 nothing to do/done, 1 error, 2 actions or manual steps proposed, 3 refused by a gate.")
}
