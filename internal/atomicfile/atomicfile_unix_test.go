//go:build unix

package atomicfile

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// A target that is a FIFO, a device (through a link) or a directory is refused and left as it
// is; nothing is written.
func TestNonRegularTargetsAreRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "plan.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("mkfifo:", err)
	}
	devLink := filepath.Join(dir, "facts.json")
	os.Symlink("/dev/null", devLink)
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o700)
	for _, p := range []string{fifo, devLink, sub} {
		before, _ := os.Lstat(p)
		err := Write(p, []byte("x"), 0o600)
		if !errors.Is(err, ErrNotRegular) {
			t.Fatalf("%s: %v", p, err)
		}
		after, _ := os.Lstat(p)
		if before.Mode() != after.Mode() {
			t.Fatalf("%s was replaced: %v -> %v", p, before.Mode(), after.Mode())
		}
	}
	if st, err := os.Stat("/dev/null"); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("/dev/null is no longer a device: %v %v", st, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("temp files left behind: %v", ents)
	}
}
