//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package protocol

import (
	"errors"
	"syscall"
)

// peekConn looks at the socket under conn without blocking and without
// consuming anything: recv with MSG_PEEK|MSG_DONTWAIT. It reports
// pending when the server sent bytes nobody has read, and closed when it
// closed or reset the connection. ok is false when conn has no socket to
// look at.
func peekConn(conn any) (pending, closed, ok bool) {
	sc, isSys := conn.(syscall.Conn)
	if !isSys {
		return false, false, false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false, false, false
	}
	var n int
	var rerr error
	var b [1]byte
	if err := rc.Control(func(fd uintptr) {
		for {
			n, _, rerr = syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if rerr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return false, true, true // closed by this side
	}
	switch {
	case rerr == nil && n > 0:
		return true, false, true
	case rerr == nil:
		return false, true, true // end of input: the server closed it
	case errors.Is(rerr, syscall.EAGAIN) || errors.Is(rerr, syscall.EWOULDBLOCK):
		return false, false, true
	}
	return false, true, true // reset, or any other error
}
