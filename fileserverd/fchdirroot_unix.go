//go:build unix

package main

import (
	"os"
	"syscall"
)

// rootByFchdir opens the directory open as fd as an os.Root where no
// /proc names it (macOS: store_other.go): the process makes it its
// working directory (fchdir) and opens ".", the directory itself, not a
// path to it. Only a worker child calls it, and it uses no other relative
// path. It is built on Linux too, so that its test runs there.
func rootByFchdir(fd uintptr) (*os.Root, error) {
	if err := syscall.Fchdir(int(fd)); err != nil {
		return nil, &os.PathError{Op: "fchdir", Path: "storage directory", Err: err}
	}
	return os.OpenRoot(".")
}
