//go:build linux

package journal

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// runHelperMode runs the Linux-only helper scenarios, inside a private mount namespace the
// parent created (CLONE_NEWNS), so the mounts never touch the host.
func runHelperMode(mode, dir string, out *os.File) bool {
	switch mode {
	case "readonly-mount":
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=4m,mode=0700"); err != nil {
			fmt.Fprintf(out, "skip: mount tmpfs: %v\n", err)
			return true
		}
		s, err := Open(dir)
		if err != nil {
			fmt.Fprintf(out, "error: open writable: %v\n", err)
			return true
		}
		if _, err := s.Record(Entry{Kind: KindNote, Name: "before"}); err != nil {
			fmt.Fprintf(out, "error: record: %v\n", err)
			return true
		}
		s.Close()
		if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
			fmt.Fprintf(out, "skip: remount read-only: %v\n", err)
			return true
		}
		_, err = Open(dir)
		fmt.Fprintf(out, "result: readonly=%v err=%v\n", errors.Is(err, ErrStateDirReadOnly), err)
		return true
	case "full-tmpfs":
		if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=256k,mode=0700"); err != nil {
			fmt.Fprintf(out, "skip: mount tmpfs: %v\n", err)
			return true
		}
		s, err := Open(dir)
		if err != nil {
			fmt.Fprintf(out, "error: open: %v\n", err)
			return true
		}
		big := strings.Repeat("z", 3500)
		recorded := 0
		for i := 0; i < 2000; i++ {
			if _, err = s.Record(Entry{Kind: KindNote, Name: fmt.Sprint("fill", i), Reason: big}); err != nil {
				break
			}
			recorded++
		}
		all, lerr := s.List(Filter{})
		var check string
		cerr := s.db.QueryRow("PRAGMA integrity_check").Scan(&check)
		fmt.Fprintf(out, "result: full=%v recorded=%d listed=%d listErr=%v integrity=%s/%v err=%v\n",
			errors.Is(err, ErrDiskFull), recorded, len(all), lerr, check, cerr, err)
		return true
	}
	return false
}

func runInMountNamespace(t *testing.T, mode string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount in a private mount namespace")
	}
	dir := t.TempDir()
	cmd := helperCmd(t, mode, dir)
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Skipf("cannot start a child in a new mount namespace: %v", err)
	}
	line, _ := bufio.NewReader(outPipe).ReadString('\n')
	cmd.Wait()
	if strings.HasPrefix(line, "skip: ") {
		t.Skip(strings.TrimSpace(line))
	}
	if !strings.HasPrefix(line, "result: ") {
		t.Fatalf("child said %q", line)
	}
	t.Log(strings.TrimSpace(line))
	return line
}

// TestReadOnlyMount: a state directory on a read-only file system (root ignores permission
// bits, so this uses a real read-only mount) is reported as read-only, not as a SQLite error.
func TestReadOnlyMount(t *testing.T) {
	line := runInMountNamespace(t, "readonly-mount")
	if !strings.Contains(line, "readonly=true") || !strings.Contains(line, "not writable") {
		t.Fatalf("read-only mount: %s", line)
	}
}

// TestFullFileSystem: a real ENOSPC from a tiny tmpfs is reported as ErrDiskFull, and the
// entries recorded before it are intact.
func TestFullFileSystem(t *testing.T) {
	line := runInMountNamespace(t, "full-tmpfs")
	var full bool
	var recorded, listed int
	if _, err := fmt.Sscanf(line, "result: full=%t recorded=%d listed=%d", &full, &recorded, &listed); err != nil {
		t.Fatalf("parse %q: %v", line, err)
	}
	if !full || recorded == 0 || listed != recorded || !strings.Contains(line, "integrity=ok/<nil>") {
		t.Fatalf("full tmpfs: %s", line)
	}
}
