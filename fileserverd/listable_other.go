//go:build !(linux && (amd64 || arm64))

package main

import "syscall"

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
