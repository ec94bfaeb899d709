package main

import (
	"syscall"
	"testing"
	"unsafe"
)

// This file exists because prlimit, which sets another process's limits,
// is Linux's; filelimit_other_test.go skips where it is missing.

// setFileLimit sets the soft RLIMIT_NOFILE of another process (prlimit),
// keeping its hard limit.
func setFileLimit(t testing.TB, pid int, soft uint64) {
	t.Helper()
	var old syscall.Rlimit
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE, 0, uintptr(unsafe.Pointer(&old)), 0, 0); e != 0 {
		t.Skipf("prlimit: %v", e)
	}
	lim := syscall.Rlimit{Cur: soft, Max: old.Max}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
		t.Skipf("prlimit: %v", e)
	}
}
