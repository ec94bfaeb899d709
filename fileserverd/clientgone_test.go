package main

import (
	"net"
	"syscall"
	"testing"
	"time"
)

// TestSocketErrorSeesReset checks what clientGone rests on where there is
// no TCP_INFO (macOS: clientgone_other.go), here beside Linux's TCP_INFO:
// a client that half-closed after its upload and then died (its socket
// closed: its kernel answers the reply's first bytes with a reset) leaves
// a pending error on the server's socket, within a round trip; a client
// that half-closed and waits for its reply leaves none, and both probes
// say it is open.
func TestSocketErrorSeesReset(t *testing.T) {
	for _, dies := range []bool{true, false} {
		name := map[bool]string{true: "client died", false: "client waits"}[dies]
		t.Run(name, func(t *testing.T) {
			client, server := tcpPair(t)
			client.Write([]byte("UPLOAD x.bin aGVsbG8="))
			client.(*net.TCPConn).CloseWrite()
			if dies {
				client.Close()
			}
			if _, err := server.Read(make([]byte, 64)); err != nil {
				t.Fatal(err)
			}
			if _, err := server.Write([]byte(replyPrefix)); err != nil {
				t.Fatal(err)
			}
			rc, err := server.(*net.TCPConn).SyscallConn()
			if err != nil {
				t.Fatal(err)
			}
			// A reset is due within a round trip (microseconds here):
			// watch the dead client's socket for a second, the live
			// one's for 100 ms.
			watch := 100 * time.Millisecond
			if dies {
				watch = time.Second
			}
			var errno syscall.Errno
			for end := time.Now().Add(watch); errno == 0 && time.Now().Before(end); time.Sleep(time.Millisecond) {
				var ok bool
				rc.Control(func(fd uintptr) { errno, ok = socketError(fd) })
				if !ok {
					t.Fatal("SO_ERROR could not be read")
				}
			}
			var p tcpProbe
			rc.Control(func(fd uintptr) { p = probeTCP(fd) })
			switch {
			case dies && errno == 0:
				t.Errorf("no pending error a second after the reset was due")
			case dies && !(p.ok && p.closed):
				t.Errorf("probeTCP %+v after the reset, want closed", p)
			case !dies && errno != 0:
				t.Errorf("pending error %v on a live client's connection", errno)
			case !dies && !(p.ok && !p.closed):
				t.Errorf("probeTCP %+v on a live client's connection, want open", p)
			}
			if dies {
				t.Logf("pending error %v (%d)", errno, int(errno))
			}
		})
	}
}
