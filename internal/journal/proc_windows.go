//go:build windows

package journal

import (
	"errors"
	"os"
	"syscall"
)

// processGone reports whether no process with pid exists on this host: OpenProcess (behind
// FindProcess) fails with ERROR_INVALID_PARAMETER for a pid that does not exist. Any other
// failure (access denied) counts as alive.
func processGone(pid int) bool {
	if pid <= 0 {
		return false
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return errors.Is(err, syscall.Errno(87))
	}
	_ = p.Release()
	return false
}
