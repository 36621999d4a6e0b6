package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegularFilesOnly(t *testing.T) {
	dir := t.TempDir()
	ok := filepath.Join(dir, "ok.hcl")
	os.WriteFile(ok, []byte("a = 1\n"), 0o600)
	if b, err := ReadFile(ok, "playbook", 100); err != nil || string(b) != "a = 1\n" {
		t.Fatalf("regular file: %q %v", b, err)
	}
	link := filepath.Join(dir, "link.hcl")
	os.Symlink(ok, link)
	if _, err := ReadFile(link, "playbook", 100); err != nil {
		t.Fatalf("symlink to a regular file: %v", err)
	}
	if _, err := ReadFile(ok, "playbook", 3); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the cap: %v", err)
	}
	if _, err := ReadFile(dir, "playbook", 100); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "directory") {
		t.Fatalf("directory: %v", err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), "playbook", 100); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
}

func TestGrowingFileIsRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte("1234"), 0o600)
	f, err := Open(p, "plan", 5)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	os.WriteFile(p, []byte("1234567890"), 0o600) // grows past the cap after the open
	buf := make([]byte, 64)
	var total int
	for {
		n, err := f.Read(buf)
		total += n
		if err != nil {
			if !errors.Is(err, ErrTooLarge) {
				t.Fatalf("read past the cap: %v (%d bytes)", err, total)
			}
			return
		}
	}
}

func TestReadStdin(t *testing.T) {
	if b, err := ReadStdin(strings.NewReader("abc"), "facts", 3); err != nil || string(b) != "abc" {
		t.Fatalf("%q %v", b, err)
	}
	if _, err := ReadStdin(strings.NewReader("abcd"), "facts", 3); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the cap: %v", err)
	}
}
