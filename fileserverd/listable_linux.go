//go:build linux && (amd64 || arm64 || 386 || arm)

package main

import (
	"syscall"
	"unsafe"
)

// This file exists because fstatat on the directory's descriptor, without
// a path string or an allocation, is a raw system call whose number each
// Linux architecture has its own (listable_linux_*.go); listable_other.go
// goes through os.Root elsewhere.

// listable tells whether LIST shows a name of the storage directory, open
// as fd: a regular file, not a link, with one link unless hard links are
// served (what store.open serves). It calls fstatat itself, without the
// string and allocation of os.Root.Lstat, as LIST asks for every name.
// name comes from the directory itself, so it has no '/', and fstatat on
// fd cannot leave the directory. name must have room for the NUL the
// system call needs within its capacity (a lister cell).
func (s *store) listable(fd int, name []byte) bool {
	path := append(name, 0)
	var st syscall.Stat_t
	_, _, errno := syscall.Syscall6(fstatatTrap, uintptr(fd), uintptr(unsafe.Pointer(&path[0])),
		uintptr(unsafe.Pointer(&st)), atSymlinkNofollow, 0, 0)
	if errno != 0 || st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return false
	}
	return s.hardLinks || st.Nlink <= 1
}

// atSymlinkNofollow is AT_SYMLINK_NOFOLLOW: a link is stated, not followed.
const atSymlinkNofollow = 0x100
