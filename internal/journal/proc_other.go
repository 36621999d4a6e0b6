//go:build !unix && !windows

package journal

// processGone cannot tell on this platform; a lock then expires only by its TTL.
func processGone(pid int) bool { return false }
