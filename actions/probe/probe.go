// Package probe holds read-only probes that run on a domain controller through a
// remote.Runner (WinRM or SSH): the DC's DNS client servers, and the Directory Service events
// of an 8524 (2087, 2088, 1925, 1926, 2023, 1655, 1308, 1865) with DNS Server event 2501
// (scavenging). Nothing here changes the DC.
//
// Every probe is a fixed remote.Command (exported, so a lab server can recognize it by its
// Name) and a parser for its output (exported and fuzzed, so facts can be rebuilt from saved
// output). AD-sourced values never reach the command text: the only parameters are the event
// query (IDs, start time, count), and they travel as $P data.
package probe

import (
	"context"
	"errors"
	"fmt"

	"github.com/fix8524/fix8524/actions/remote"
)

// Platform says which kind of host a Runner talks to.
type Platform int

// Platforms.
const (
	Windows Platform = iota + 1 // PowerShell over WinRM or Windows OpenSSH
	POSIX                       // Samba on Linux/BSD over SSH
)

func (p Platform) String() string {
	switch p {
	case Windows:
		return "windows"
	case POSIX:
		return "posix"
	}
	return fmt.Sprintf("platform(%d)", int(p))
}

// run runs c and insists on exit code 0. Transport errors keep their *remote.TransportError.
func run(ctx context.Context, r remote.Runner, c remote.Command) (remote.Result, error) {
	if r == nil {
		return remote.Result{}, errors.New("probe " + c.Name + ": no runner")
	}
	res, err := r.Run(ctx, c)
	if err != nil {
		return res, fmt.Errorf("probe %s: %w", c.Name, err)
	}
	if err := res.Check(c); err != nil {
		return res, fmt.Errorf("probe %s: %w", c.Name, err)
	}
	return res, nil
}
