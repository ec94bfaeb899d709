package main

import (
	"fmt"
	"os"
	"strconv"
	"syscall"
)

// This file exists because durability and descriptor paths are each
// system's own: Linux has fdatasync and /proc/self/fd (store_other.go
// has the rest of Unix's; writeback_linux*.go has sync_file_range).

// syncData flushes a file's content and the metadata needed to read it
// back (its size), without the times that fsync would also write: the
// directory sync after the rename makes the name durable.
func syncData(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if cerr := rc.Control(func(fd uintptr) {
		for {
			if err = syscall.Fdatasync(int(fd)); err != syscall.EINTR {
				break
			}
		}
	}); cerr != nil {
		return cerr
	}
	if err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: err}
	}
	return nil
}

// inheritedRoot opens the directory open as fd as an os.Root:
// /proc/self/fd/N names the open directory itself, not a path to it.
func inheritedRoot(fd uintptr) (*os.Root, error) {
	root, err := os.OpenRoot(openFDsDir + "/" + strconv.Itoa(int(fd)))
	if err != nil {
		return nil, fmt.Errorf("%w (is /proc mounted?)", err)
	}
	return root, nil
}

// openFDsDir lists this process's open descriptors, one name each.
const openFDsDir = "/proc/self/fd"
