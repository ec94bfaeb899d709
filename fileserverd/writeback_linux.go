//go:build linux && !arm

package main

import (
	"os"
	"syscall"
)

// This file exists because sync_file_range is Linux's, and 32-bit ARM
// Linux has it under another name and argument order
// (writeback_linux_arm.go).

// syncFileRangeWrite is SYNC_FILE_RANGE_WRITE: start writeback, don't wait.
const syncFileRangeWrite = 2

// startWriteback asks the kernel to start writing n bytes of f from off
// to disk, without waiting, so that the fsync before the OK reply finds
// little left to do. Best effort: the caller leaves an error to that
// fsync.
func startWriteback(f *os.File, off, n int64) error {
	return syscall.SyncFileRange(int(f.Fd()), off, n, syncFileRangeWrite)
}
