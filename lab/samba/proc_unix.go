//go:build unix

package samba

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup runs cmd in its own process group and makes cancelling it kill the whole
// group, so that lab.sh's children (samba-tool, ip netns exec ...) end with it.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
}
