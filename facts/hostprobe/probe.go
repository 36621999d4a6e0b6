package hostprobe

import (
	"context"
	"errors"
	"fmt"

	"github.com/fix8524/fix8524/remote"
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
