package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
)

// In process mode the parent accepts every connection and keeps it in its
// waiting room until its request head has arrived; then it hands the
// connection to a free worker child over a link of their own, a Unix
// SOCK_SEQPACKET pair: the connection's descriptor (SCM_RIGHTS) and the
// bytes the room read of it. The child serves it like a thread-mode worker
// and answers with one byte: park it (wait for its next request in the
// parent's room) or closed. One room for all children: a ready connection
// goes to whichever child is free, never behind another's transfer, and
// the children no longer all wake for every new connection.

// Link messages from the child: what became of the connection it was
// handed.
const (
	handBackPark   byte = 'p' // the request is done and nothing more came: wait in the room
	handBackClosed byte = 'c' // the child is done with it: close it
)

// handOffHeader starts every message to a child, so that one with no
// replayed bytes still carries a byte beside its descriptor.
const handOffHeader byte = 'h'

// newLink makes the pair of sockets between the parent and one child.
func newLink() (parent *net.UnixConn, child *os.File, err error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_SEQPACKET|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("worker link: %w", err)
	}
	pf := os.NewFile(uintptr(fds[0]), "link-parent")
	defer pf.Close()
	c, err := net.FileConn(pf)
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, fmt.Errorf("worker link: %w", err)
	}
	return c.(*net.UnixConn), os.NewFile(uintptr(fds[1]), "link-child"), nil
}

// handOff sends wc to the child at the other end of link.
func handOff(link *net.UnixConn, wc *waitingConn) error {
	sc, ok := wc.conn.(syscall.Conn)
	if !ok {
		return errors.New("hand off: not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var sendErr error
	err = rc.Control(func(fd uintptr) {
		msg := append([]byte{handOffHeader}, wc.replay...)
		_, _, sendErr = link.WriteMsgUnix(msg, syscall.UnixRights(int(fd)), nil)
	})
	if err == nil {
		err = sendErr
	}
	return err
}

// receive waits for the next connection the parent hands over.
func receive(link *net.UnixConn, buf, oob []byte) (*waitingConn, error) {
	n, oobn, _, _, err := link.ReadMsgUnix(buf, oob)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, errors.New("the parent closed the link")
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("hand-off without a connection: %v", err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		return nil, fmt.Errorf("hand-off without one connection: %v", err)
	}
	f := os.NewFile(uintptr(fds[0]), "conn")
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("handed-off connection: %w", err)
	}
	return &waitingConn{conn: conn, replay: append([]byte(nil), buf[1:n]...)}, nil
}

// dispatch feeds one child, through link, the connections of the room
// whose head arrived, one at a time, and acts on what the child says of
// each, until the child dies or the server stops.
func dispatch(room *waitingRoom, link *net.UnixConn) {
	defer link.Close()
	verdict := make([]byte, 1)
	for {
		wc, ok := room.next()
		if !ok {
			return
		}
		if err := handOff(link, wc); err != nil {
			// The child is gone: another takes the connection.
			room.requeue(wc)
			room.done()
			return
		}
		n, err := link.Read(verdict)
		switch {
		case err != nil || n != 1:
			// The child died serving it: the request failed (its
			// counter slot says so), and the client is told by the close.
			room.release(wc.conn)
			room.done()
			return
		case verdict[0] == handBackPark:
			room.park(wc.conn)
		default:
			room.release(wc.conn)
		}
		room.done()
	}
}
