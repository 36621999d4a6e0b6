// Package atomicfile writes files so that a reader sees the old content or the new one, never
// half of one: plans, facts, approvals, escalations and metrics that an admin or a later run
// will trust.
//
// Only a regular file is ever replaced: a target that exists and is a device, a FIFO, a socket
// or a directory (or a symbolic link to one) is refused before anything is written (`plan -o
// /dev/null` run as root would otherwise replace the system's /dev/null with a regular file).
// Writing "-" to standard output is the caller's business.
package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrNotRegular is returned for a target that exists and is not a regular file (errors.Is).
var ErrNotRegular = errors.New("not a regular file")

// Write writes data to a temporary file in path's directory with mode perm, syncs it, renames it
// over path and, where the platform allows, syncs the directory so the rename is durable.
func Write(path string, data []byte, perm fs.FileMode) error {
	return WriteFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFunc is Write with the content written by write (streamed, not held in memory).
func WriteFunc(path string, perm fs.FileMode, write func(w io.Writer) error) error {
	if err := CheckTarget(path); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := write(tmp); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	// Checked again right before the rename: the window in which the target could be swapped
	// for a device is as small as it can be without renameat2.
	if err := CheckTarget(path); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // not supported everywhere (Windows); the rename itself already happened
		d.Close()
	}
	return nil
}

// CheckTarget refuses an output path that exists and is not a regular file (a symbolic link is
// followed). A path that does not exist yet is fine.
func CheckTarget(path string) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, lerr := os.Lstat(path); lerr == nil {
			return fmt.Errorf("writing %s: it is a symbolic link to nothing: %w", path, ErrNotRegular)
		}
		return nil
	case err != nil:
		return fmt.Errorf("writing %s: %w", path, err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("writing %s: it exists and is not a regular file (%s): refusing to replace it: %w", path, st.Mode().Type(), ErrNotRegular)
	}
	return nil
}
