package main

import (
	"os"
	"syscall"
)

// This file exists because 32-bit ARM Linux has sync_file_range as
// arm_sync_file_range, flags second so that the two 64-bit arguments sit
// in aligned register pairs (EABI); the syscall package has no wrapper.

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writeback, don't wait.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to start writing n bytes of f from off
// to disk, without waiting, so that the fsync before the OK reply finds
// little left to do. Best effort: the caller leaves an error to that
// fsync. Each 64-bit argument goes as its low word, then its high word.
func startWriteback(f *os.File, off, n int64) error {
	_, _, e := syscall.Syscall6(syscall.SYS_ARM_SYNC_FILE_RANGE, f.Fd(), syncFileRangeWrite,
		uintptr(off), uintptr(off>>32), uintptr(n), uintptr(n>>32))
	if e != 0 {
		return e
	}
	return nil
}
