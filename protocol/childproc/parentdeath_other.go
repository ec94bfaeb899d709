//go:build !linux

package childproc

import (
	"os/exec"
	"syscall"
)

// This file exists because macOS, Windows and the BSDs have no
// parent-death signal: there, DieWithParent arms nothing, and a child
// learns of its parent's death from a pipe the parent holds reaching EOF.

// DieWithParent would arm cmd to get sig when its parent dies; this
// platform has no such signal, so it leaves cmd alone and reports false.
func DieWithParent(cmd *exec.Cmd, sig syscall.Signal) bool { return false }
