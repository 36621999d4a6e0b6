//go:build !unix

package samba

import "os/exec"

// ownProcessGroup is a no-op where there are no process groups; the lab itself needs Linux
// network namespaces and only compiles elsewhere so that the whole module builds.
func ownProcessGroup(*exec.Cmd) {}
