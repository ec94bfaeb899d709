//go:build unix && !linux

package main

import "os"

// This file exists because fdatasync, sync_file_range and /proc are
// Linux's (store_linux.go, writeback_linux*.go): on macOS and the BSDs a
// commit syncs with File.Sync, which on macOS is fcntl F_FULLFSYNC (the
// drive's cache too, where fsync there stops at the drive); there is no
// early writeback, and the inherited directory is reached through fchdir.

// syncData flushes a file to stable storage: File.Sync.
func syncData(f *os.File) error { return f.Sync() }

// startWriteback does nothing here: the commit's sync writes it all.
func startWriteback(*os.File, int64, int64) error { return nil }

// inheritedRoot opens the directory open as fd as an os.Root, with no
// /proc to name it by: rootByFchdir.
func inheritedRoot(fd uintptr) (*os.Root, error) { return rootByFchdir(fd) }

// openFDsDir lists this process's open descriptors, one name each.
const openFDsDir = "/dev/fd"
