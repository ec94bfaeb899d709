//go:build !(linux && (amd64 || arm64 || 386 || arm))

package main

import "syscall"

// This file exists for the systems without listable_linux.go's raw
// fstatat (macOS, other Linux architectures): the same check through
// os.Root.Lstat, which allocates the name's string for each call.

// listable tells whether LIST shows a name of the storage directory: a
// regular file, not a link, with one link unless hard links are served
// (what store.open serves).
func (s *store) listable(_ int, name []byte) bool {
	st, err := s.root.Lstat(string(name))
	if err != nil || !st.Mode().IsRegular() {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return s.hardLinks || !ok || sys.Nlink <= 1
}
