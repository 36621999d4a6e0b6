package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/fix8524/fix8524/engine"
	"github.com/fix8524/fix8524/playbooks"
)

func init() {
	register(&command{name: "version", summary: "print the version: module version, VCS revision, Go version, embedded playbook digest", run: runVersion})
}

// buildInfo is read once per call (tests may replace it).
var buildInfo = debug.ReadBuildInfo

func runVersion(_ context.Context, e *env, args []string) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(e.stderr, "Usage: fix8524 version   (or fix8524 --version)")
		return exitOK
	}
	if len(args) > 0 {
		fmt.Fprintf(e.stderr, "fix8524 version: unexpected argument %q\n", args[0])
		return exitError
	}
	version, revision := "(unknown)", "unknown (built without VCS information, e.g. -buildvcs=false)"
	var when, modified string
	if bi, ok := buildInfo(); ok {
		version = bi.Main.Version
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				revision = s.Value
			case "vcs.time":
				when = s.Value
			case "vcs.modified":
				if s.Value == "true" {
					modified = "with local changes"
				}
			}
		}
	}
	fmt.Fprintf(e.stdout, "fix8524 %s\n", version)
	var rev []string
	for _, s := range []string{when, modified} {
		if s != "" {
			rev = append(rev, s)
		}
	}
	if len(rev) > 0 {
		revision += " (" + strings.Join(rev, ", ") + ")"
	}
	fmt.Fprintf(e.stdout, "  revision  %s\n", revision)
	fmt.Fprintf(e.stdout, "  go        %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	pb, _, diags := playbooks.Load(engine.LoadOptions{})
	if diags.HasErrors() || pb == nil {
		fmt.Fprintf(e.stdout, "  playbook  the embedded playbook does not load: %s\n", diags.Error())
		return exitError
	}
	fmt.Fprintf(e.stdout, "  playbook  %s %s (embedded %s)\n", pb.Name, pb.Digest, strings.Join(pb.Files, ", "))
	return exitOK
}
