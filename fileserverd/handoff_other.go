//go:build unix && !linux

package main

import "syscall"

// This file exists because macOS has no SOCK_SEQPACKET for Unix sockets
// and no SOCK_CLOEXEC: there a worker link is a SOCK_STREAM pair, whose
// hand-offs readFrame puts together, made close-on-exec under
// syscall.ForkLock so that no child started meanwhile inherits it (Linux:
// handoff_linux.go).

// linkPair makes the sockets of a worker link, close-on-exec.
func linkPair() ([2]int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		return fds, err
	}
	syscall.CloseOnExec(fds[0])
	syscall.CloseOnExec(fds[1])
	return fds, nil
}
