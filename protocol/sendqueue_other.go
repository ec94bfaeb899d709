//go:build !linux && !darwin

package protocol

// This file exists for systems with neither TIOCOUTQ nor SO_NWRITE: there
// the queue's length is unknown (so fileserverd does not extend a write
// that times out for a client that still reads slowly).

// SendQueued is unknown here: -1.
func SendQueued(uintptr) int { return -1 }
