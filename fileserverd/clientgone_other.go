//go:build unix && !linux

package main

// This file exists because TCP_INFO is Linux's (clientgone_linux.go):
// elsewhere (macOS, the BSDs) the reset that a dead client's kernel sends
// shows as the socket's pending error, and the round trip is not known.

// probeTCP reads the socket fd's pending error (SO_ERROR): a reset sets
// it (ECONNRESET, or EPIPE once the client had half-closed).
func probeTCP(fd uintptr) tcpProbe {
	errno, ok := socketError(fd)
	return tcpProbe{ok: ok, closed: ok && errno != 0}
}
