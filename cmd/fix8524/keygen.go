package main

import (
	"context"
	"fmt"

	"github.com/fix8524/fix8524/internal/approval"
)

func init() {
	register(&command{name: "keygen", summary: "create an ed25519 key pair for signing approvals", run: runKeygen})
}

func runKeygen(_ context.Context, e *env, args []string) int {
	fs := newFlags(e, "keygen",
		"Usage: fix8524 keygen FILE [--comment TEXT]",
		"\nWrites a new ed25519 private key to FILE (OpenSSH format, mode 0600, never overwriting) and",
		"its public key to FILE.pub. Sign approvals with: fix8524 approve PLAN --by NAME --sign-key FILE.",
		"Trust them with: cat FILE.pub >> approvers.pub; fix8524 apply PLAN --trust-keys approvers.pub",
	)
	comment := fs.String("comment", "", "comment stored with the public key (`TEXT`, e.g. alice@corp)")
	path, code, ok := parseFlagsArg(e, fs, args)
	if !ok {
		return code
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
