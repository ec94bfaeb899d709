//go:build !linux

package main

import (
	"fmt"
	"os"
)

// This file exists because the failing fsync of dirsync_test.go is a
// seccomp filter, which is Linux's; the test itself is Linux's only.

// failFsyncEnv is dirsync_test.go's marker; nothing sets it here.
const failFsyncEnv = "FILESERVERD_TEST_FAIL_FSYNC"

// execFailingFsync cannot fail fsync here: it says so and exits.
func execFailingFsync() {
	fmt.Fprintln(os.Stderr, "a failing fsync (seccomp) is Linux's")
	os.Exit(2)
}
