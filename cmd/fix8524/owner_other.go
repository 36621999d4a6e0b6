//go:build !unix

package main

import "io/fs"

// privateToMe: the temporary directory is per user here (%TEMP% under the user's profile).
func privateToMe(fs.FileInfo) bool { return true }
