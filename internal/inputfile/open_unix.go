//go:build unix

package inputfile

import (
	"os"
	"syscall"
)

// openNonblocking opens path read-only without blocking on a FIFO that has no writer.
func openNonblocking(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
}
