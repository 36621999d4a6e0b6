//go:build !unix

package inputfile

import "os"

// openNonblocking opens path read-only (no FIFOs in the file system here).
func openNonblocking(path string) (*os.File, error) {
	return os.Open(path)
}
