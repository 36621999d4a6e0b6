package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/fix8524/fix8524/internal/approval"
)

func init() {
	register(&command{name: "keygen", summary: "create an ed25519 key pair for signing approvals", run: runKeygen})
}

func runKeygen(_ context.Context, e *env, args []string) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	comment := fs.String("comment", "", "comment stored with the public key (`TEXT`, e.g. alice@corp)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: fix8524 keygen FILE [--comment TEXT]")
		fmt.Fprintln(e.stderr, "\nWrites a new ed25519 private key to FILE (OpenSSH format, mode 0600, never overwriting) and")
		fmt.Fprintln(e.stderr, "its public key to FILE.pub. Sign approvals with: fix8524 approve PLAN --by NAME --sign-key FILE.")
		fmt.Fprintln(e.stderr, "Trust them with: cat FILE.pub >> approvers.pub; fix8524 apply PLAN --trust-keys approvers.pub")
		fs.PrintDefaults()
	}
	path, rest := splitPositional(args)
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitError
	}
	if path == "" && fs.NArg() == 1 {
		path = fs.Arg(0)
	} else if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "fix8524 keygen: unexpected argument %q\n", fs.Arg(0))
		return exitError
	}
	if path == "" {
		fs.Usage()
		return exitError
	}
	pub, err := approval.GenerateKey(path, *comment)
	if err != nil {
		fmt.Fprintln(e.stderr, "fix8524 keygen:", err)
		return exitError
	}
	fmt.Fprintf(e.stdout, "Private key: %s (keep it secret)\nPublic key:  %s.pub\n%s\n", path, path, pub)
	fmt.Fprintf(e.stdout, "Add the public key line to the trust file that apply reads with --trust-keys.\n")
	return exitOK
}
