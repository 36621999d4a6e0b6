// Package inputfile opens every file fix8524 reads from a path the operator (or a playbook
// directory, an inventory) names: plans, approvals, facts, playbooks, -var-files, inventories,
// policies, profiles, CA and key files, trust files, password files, repadmin CSV files.
//
// Only regular files are read (a symbolic link to one is followed): a FIFO, a device, a socket
// or a directory is refused at once, without blocking and without being opened for long (a
// FIFO named *.hcl in a playbook directory would otherwise hang fix8524; --ca-file /dev/zero
// would fill its memory). The check is made on the file that was opened (fstat), not only on
// the path, so a file swapped for a FIFO between the two is refused too; the open itself does
// not block on a FIFO (O_NONBLOCK on Unix). Every read is bounded by a size cap the caller
// gives for that kind of file; a larger file is refused without being read.
//
// "-" means standard input where a command documents it (ReadStdin bounds it the same way).
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrNotRegular is returned for a path that is not a regular file (errors.Is).
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is returned for a file larger than its cap (errors.Is).
var ErrTooLarge = errors.New("file too large")

// Open opens path for reading if it is a regular file of at most max bytes. what names the kind
// of file in errors ("plan", "--ca-file"). The returned file reads at most max bytes.
func Open(path, what string, max int64) (*File, error) {
	// Stat first: a device or FIFO is refused before it is opened at all.
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if err := check(path, what, st, max); err != nil {
		return nil, err
	}
	f, err := openNonblocking(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	// Check what was opened: the path may have been replaced since the stat.
	st2, err := f.Stat()
	if err == nil && !os.SameFile(st, st2) {
		err = fmt.Errorf("%s: %s changed while it was opened", what, path)
	} else if err == nil {
		err = check(path, what, st2, max)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return &File{f: f, r: io.LimitReader(f, max+1), path: path, what: what, max: max}, nil
}

func check(path, what string, st fs.FileInfo, max int64) error {
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %s is %s: %w", what, path, describe(st.Mode()), ErrNotRegular)
	}
	if st.Size() > max {
		return fmt.Errorf("%s: %s is %d bytes, more than the %s this kind of file may have: %w", what, path, st.Size(), sizeText(max), ErrTooLarge)
	}
	return nil
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO (named pipe)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// File is an opened input file; reads stop after its cap (a file that grew past it since it
// was opened is an error, not a silently cut read).
type File struct {
	f    *os.File
	r    io.Reader
	path string
	what string
	max  int64
	n    int64
}

// Read implements io.Reader.
func (f *File) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	f.n += int64(n)
	if f.n > f.max {
		return n, fmt.Errorf("%s: %s grew past %s while it was read: %w", f.what, f.path, sizeText(f.max), ErrTooLarge)
	}
	return n, err
}

// Close closes the file.
func (f *File) Close() error { return f.f.Close() }

// Name is the path opened.
func (f *File) Name() string { return f.path }

// ReadFile reads a whole regular file of at most max bytes.
func ReadFile(path, what string, max int64) ([]byte, error) {
	f, err := Open(path, what, max)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// ReadStdin reads standard input (r) up to max bytes; more is an error.
func ReadStdin(r io.Reader, what string, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: reading standard input: %w", what, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: standard input is larger than %s: %w", what, sizeText(max), ErrTooLarge)
	}
	return b, nil
}

// Check verifies that path is a regular file of at most max bytes, for files a library opens
// by name itself (known_hosts, Kerberos files). It opens nothing.
func Check(path, what string, max int64) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return check(path, what, st, max)
}
