//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package protocol

// peekConn cannot look at a socket without blocking on this system: the
// Client then waits a moment for bytes instead (see Client.nothingToRead).
func peekConn(conn any) (pending, closed, ok bool) { return false, false, false }
