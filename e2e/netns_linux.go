//go:build linux

package e2e

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"

	"golang.org/x/sys/unix"
)

var nsNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// InNetNS runs f with the calling OS thread switched into the named network namespace
// (/var/run/netns/NAME, as `ip netns add` makes it), then switches back. Sockets that f
// creates belong to that namespace for their whole life, whichever thread later uses them:
// a listener created in f accepts connections inside the namespace while the rest of the
// process stays outside. f must create its sockets synchronously (net.Listen, net.Dial with
// an IP address); goroutines it starts run on other threads, outside the namespace.
//
// f runs on a goroutine of its own, locked to its thread. If the thread cannot be switched
// back, it is not unlocked, so the runtime discards it when the goroutine ends: no other
// goroutine ever runs in the namespace by accident. Needs CAP_SYS_ADMIN.
func InNetNS(name string, f func() error) error {
	if !nsNameRE.MatchString(name) || name == "." || name == ".." {
		return fmt.Errorf("netns: bad namespace name %q", name)
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netns: current namespace: %w", err)
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join("/var/run/netns", name))
		if err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netns %s: %w", name, err)
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			done <- fmt.Errorf("netns %s: setns: %w", name, err)
			return
		}
		ferr := f()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			// leave the thread locked: it is destroyed with this goroutine
			done <- errors.Join(ferr, fmt.Errorf("netns %s: switching back: %w", name, err))
			return
		}
		runtime.UnlockOSThread()
		done <- ferr
	}()
	return <-done
}
