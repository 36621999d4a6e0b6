package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// The flags of a subcommand: every command builds its flag set with newFlags and parses it with
// parseFlags, or parseFlagsArg when it takes one argument (a plan file, a key file).

// newFlags returns the flag set of the subcommand name: its errors go to standard error, and -h
// prints the usage lines, then the flags.
func newFlags(e *env, name string, usage ...string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		for _, l := range usage {
			fmt.Fprintln(e.stderr, l)
		}
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses the arguments of a command that takes no argument besides its flags. When
// ok is false the command ends with code: exitOK after -h, exitError after a bad flag (the flag
// package said what) or an argument it does not take.
func parseFlags(e *env, fs *flag.FlagSet, args []string) (code int, ok bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK, false
		}
		return exitError, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "fix8524 %s: unexpected argument %q\n", commandName(fs), fs.Arg(0))
		return exitError, false
	}
	return 0, true
}

// parseFlagsArg is parseFlags for a command that takes one argument, before its flags ("approve
// p.json --by me") or after them; arg is "" when it was not given.
func parseFlagsArg(e *env, fs *flag.FlagSet, args []string) (arg string, code int, ok bool) {
	arg, rest := splitPositional(args)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return "", exitOK, false
		}
		return "", exitError, false
	}
	if arg == "" && fs.NArg() == 1 {
		arg = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "fix8524 %s: unexpected argument %q\n", commandName(fs), fs.Arg(0))
		return "", exitError, false
	}
	return arg, 0, true
}

// commandName is the command a flag set belongs to ("profile" for "profile init").
func commandName(fs *flag.FlagSet) string {
	name, _, _ := strings.Cut(fs.Name(), " ")
	return name
}

// splitPositional takes a leading non-flag argument (the plan file) so that flags may follow
// it: "approve p.json --by me".
func splitPositional(args []string) (string, []string) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		return args[0], args[1:]
	}
	return "", args
}

// takeOptionalArg removes "--NAME [VALUE]" / "--NAME=VALUE" from args: a bare word right after
// the flag is its value. It lets `plan --demo` and `plan --demo NAME` both work.
func takeOptionalArg(args []string, name string) (rest []string, set bool, value string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--"+name || a == "-"+name:
			set = true
			if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") {
				value = args[i+1]
				i++
			}
			continue
		case strings.HasPrefix(a, "--"+name+"=") || strings.HasPrefix(a, "-"+name+"="):
			set = true
			_, value, _ = strings.Cut(a, "=")
			continue
		case a == "--":
			rest = append(rest, args[i:]...)
			return rest, set, value
		}
		rest = append(rest, a)
	}
	return rest, set, value
}

// multiFlag is a repeatable string flag (-var, -var-file, --allow-each, --policy).
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ", ") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// flagSet reports whether the flag name was given (on the command line or by the profile).
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
