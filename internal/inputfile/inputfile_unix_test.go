//go:build unix

package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Devices and FIFOs are refused at once, without blocking; so is a link to a device.
func TestDevicesAndFIFOsAreRefused(t *testing.T) {
	dir := t.TempDir()
	for _, dev := range []string{"/dev/zero", "/dev/null", "/dev/urandom"} {
		start := time.Now()
		_, err := ReadFile(dev, "--ca-file", 1<<20)
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "character device") || time.Since(start) > 5*time.Second {
			t.Fatalf("%s: %v after %v", dev, err, time.Since(start))
		}
	}
	devLink := filepath.Join(dir, "ca.pem")
	os.Symlink("/dev/zero", devLink)
	if _, err := ReadFile(devLink, "--ca-file", 1<<20); !errors.Is(err, ErrNotRegular) {
		t.Fatalf("symlink to /dev/zero: %v", err)
	}
	fifo := filepath.Join(dir, "fifo.hcl")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	done := make(chan error, 1)
	go func() { _, err := ReadFile(fifo, "playbook", 100); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "FIFO") {
			t.Fatalf("FIFO: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("reading a FIFO blocked")
	}
	// A FIFO opened without blocking (what Open does after its stat) is refused by fstat.
	f, err := openNonblocking(fifo)
	if err != nil {
		t.Fatalf("a non-blocking open of a FIFO blocked or failed: %v", err)
	}
	st, _ := f.Stat()
	f.Close()
	if check(fifo, "playbook", st, 100) == nil {
		t.Fatal("fstat of an opened FIFO passed the check")
	}
}
