//go:build !linux

package main

import "testing"

// This file exists because prlimit is Linux's (filelimit_linux_test.go):
// elsewhere the tests that need another process's file limit skip.

// setFileLimit cannot set another process's limit here: it skips.
func setFileLimit(t testing.TB, pid int, soft uint64) {
	t.Helper()
	t.Skip("setting another process's RLIMIT_NOFILE (prlimit) is Linux's")
}
