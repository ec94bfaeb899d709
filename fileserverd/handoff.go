package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// In process mode the parent's waiting room hands a connection whose head
// has arrived to a free worker child over a link of their own, a Unix
// socket pair (linkPair): its descriptor (SCM_RIGHTS) and the bytes the
// room read of it, in one frame. The child serves it like a thread-mode
// worker and answers with one byte: park it (in the parent's room) or
// closed. A ready connection goes to whichever child is free.

// Link messages from the child: what became of the connection it was
// handed.
const (
	childReady       byte = 'R' // sent once: the child serves from now on
	handBackReceived byte = 'r' // the child has it: from here, its death fails the request
	handBackPark     byte = 'p' // the request is done and nothing more came: wait in the room
	handBackClosed   byte = 'c' // the child is done with it: close it
)

// handOffHeader starts every frame to a child, so that one with no
// replayed bytes still carries a byte beside its descriptor. A frame is
// the header, the time the replayed bytes arrived (handOffTimeLen bytes,
// Unix nanoseconds, little-endian; 0 for none), the replayed bytes'
// length (4 bytes, big-endian), and the bytes: a stream link may deliver
// it in parts, a packet link delivers it whole.
const (
	handOffHeader  byte = 'h'
	handOffTimeLen      = 8
	handOffHead         = 1 + handOffTimeLen + 4 // the header, the time and the length
)

// errLinkClosed is the end of the link: the parent closed it, stopping
// or dead.
var errLinkClosed = errors.New("the parent closed the link")

// newLink makes the pair of sockets between the parent and one child.
func newLink() (parent *net.UnixConn, child *os.File, err error) {
	fds, err := linkPair()
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

// detach takes a connection out of the parent's poller while a child
// serves it: it returns a duplicate of its descriptor and closes the
// net.Conn. Were the parent's copy still registered, every segment of an
// upload the child reads would wake the parent too. attach makes a
// net.Conn of the descriptor again.
func detach(conn net.Conn) (int, error) {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return -1, errors.New("hand off: not a socket")
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, err
	}
	// Under ForkLock, so that a worker child started meanwhile does not
	// inherit the duplicate before it is close-on-exec (and hold the
	// client's connection open).
	dup, dupErr := -1, error(nil)
	if err := rc.Control(func(fd uintptr) {
		syscall.ForkLock.RLock()
		defer syscall.ForkLock.RUnlock()
		if dup, dupErr = syscall.Dup(int(fd)); dupErr == nil {
			syscall.CloseOnExec(dup)
		}
	}); err != nil {
		return -1, err
	}
	if dupErr != nil {
		return -1, fmt.Errorf("hand off: %w", dupErr)
	}
	conn.Close()
	return dup, nil
}

// attach makes a net.Conn of a descriptor that detach returned, and
// closes the descriptor (the net.Conn has its own).
func attach(fd int) (net.Conn, error) {
	f := os.NewFile(uintptr(fd), "conn")
	defer f.Close()
	return net.FileConn(f)
}

// handOff sends the connection fd, with the bytes read of it and when
// they arrived, to the child at the other end of link.
func handOff(link *net.UnixConn, fd int, c *conn) error {
	msg := make([]byte, handOffHead, handOffHead+len(c.replay))
	msg[0] = handOffHeader
	var ns int64
	if !c.lastIn.IsZero() {
		ns = c.lastIn.UnixNano()
	}
	binary.LittleEndian.PutUint64(msg[1:], uint64(ns))
	binary.BigEndian.PutUint32(msg[1+handOffTimeLen:], uint32(len(c.replay)))
	msg = append(msg, c.replay...)
	_, _, err := link.WriteMsgUnix(msg, syscall.UnixRights(fd), nil)
	return err
}

// receive waits for the next connection the parent hands over, not yet
// held by a server. buf must hold handOffHead and maxReplay bytes.
func receive(link *net.UnixConn, buf, oob []byte) (*conn, error) {
	n, oobn, _, _, err := link.ReadMsgUnix(buf, oob)
	if n == 0 && (err == nil || errors.Is(err, io.EOF)) {
		return nil, errLinkClosed
	}
	if err != nil {
		return nil, err
	}
	fd, err := receivedFD(oob[:oobn])
	if err != nil {
		return nil, err
	}
	if n, err = readFrame(link, buf, n); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "conn")
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("handed-off connection: %w", err)
	}
	c := newConn(nc)
	c.replay = append([]byte(nil), buf[handOffHead:n]...)
	if ns := int64(binary.LittleEndian.Uint64(buf[1:])); ns != 0 {
		c.lastIn = time.Unix(0, ns)
	}
	return c, nil
}

// readFrame completes the frame of which buf holds the first n bytes
// (the descriptor came with them) and returns its length. The parent
// sends the next frame only once this one is answered, so what arrives
// meanwhile belongs to this one.
func readFrame(link *net.UnixConn, buf []byte, n int) (int, error) {
	for {
		need := handOffHead
		if n >= handOffHead {
			if buf[0] != handOffHeader {
				return 0, fmt.Errorf("worker link: frame starts with %q, want %q", buf[0], handOffHeader)
			}
			need += int(binary.BigEndian.Uint32(buf[1+handOffTimeLen : handOffHead]))
			if need > len(buf) {
				return 0, fmt.Errorf("worker link: frame of %d bytes, more than the %d it may have", need, len(buf))
			}
		}
		if n > need {
			return 0, fmt.Errorf("worker link: %d bytes in a frame of %d", n, need)
		}
		if n == need && n >= handOffHead {
			return n, nil
		}
		m, err := link.Read(buf[n:need])
		if err != nil {
			return 0, fmt.Errorf("worker link: frame cut at %d of %d bytes: %w", n, need, err)
		}
		n += m
	}
}

// receivedFD is the one descriptor a hand-off's control message carries.
func receivedFD(oob []byte) (int, error) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return -1, fmt.Errorf("hand-off without a connection: %v", err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			syscall.Close(fd)
		}
		return -1, fmt.Errorf("hand-off without one connection: %v", err)
	}
	return fds[0], nil
}

// dispatch feeds one child, through link, the connections of the room
// whose head arrived, one at a time, and acts on what the child says of
// each, until the child dies or the server stops. hold learns each
// connection the child took, and nil once the child answered for it: the
// supervisor names the request of a child it kills.
func dispatch(room *waitingRoom, link *net.UnixConn, started func(), hold func(*conn)) {
	defer link.Close()
	verdict := make([]byte, 1)
	// No connection for a child before it can serve: until then the
	// others, or the room, keep it.
	if n, err := link.Read(verdict); err != nil || n != 1 || verdict[0] != childReady {
		return
	}
	started()
	for {
		c, ok := room.next()
		if !ok {
			return
		}
		if !c.setState(stateHandedOver) {
			return
		}
		fd, err := detach(c.nc)
		if err != nil {
			c.close()
			continue
		}
		err = handOff(link, fd, c)
		if err == nil {
			// A child that dies before it says it has the connection
			// never touched it: another child serves it.
			var n int
			n, err = link.Read(verdict)
			if err == nil && (n != 1 || verdict[0] != handBackReceived) {
				err = fmt.Errorf("worker link: %q, want receipt", verdict[:n])
			}
		}
		if err != nil {
			if nc, err := attach(fd); err == nil {
				c.nc = nc
				go room.queue(c)
			} else {
				c.close()
			}
			return
		}
		hold(c)
		n, err := link.Read(verdict)
		if err == nil && n == 1 {
			hold(nil)
		}
		if err == nil && n == 1 && verdict[0] == handBackPark {
			if nc, err := attach(fd); err == nil {
				c.nc = nc
				room.park(c)
				continue
			}
		} else {
			syscall.Close(fd)
		}
		// Closed by the child, or the child died serving it (the request
		// failed, its counter slot says so): the client sees the close.
		c.close()
		if err != nil || n != 1 {
			return
		}
	}
}
