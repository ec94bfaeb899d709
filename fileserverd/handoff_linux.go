package main

import "syscall"

// This file exists because Linux has SOCK_SEQPACKET for Unix socket pairs,
// which keeps each hand-off a message of its own, and SOCK_CLOEXEC, which
// makes the pair close-on-exec atomically; handoff_other.go is the rest
// of Unix's way.

// linkPair makes the sockets of a worker link, close-on-exec.
func linkPair() ([2]int, error) {
	return syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
}
