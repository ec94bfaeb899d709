package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// unixPair makes a connected pair of Unix sockets of type typ, as net
// connections.
func unixPair(t *testing.T, typ int) (a, b *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, typ, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c.(*net.UnixConn)
	}
	return conn(fds[0]), conn(fds[1])
}

// tcpPair is a connected pair of loopback TCP connections.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client = dial(t, ln.Addr().String())
	if server, err = ln.Accept(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	return client, server
}

// TestHandOffFrames hands connections over both kinds of worker link, the
// SOCK_SEQPACKET pair of Linux and the SOCK_STREAM pair of macOS (built
// here by hand), with no replayed bytes up to maxReplay of them: the
// child's side gets each connection, working, with exactly its bytes.
func TestHandOffFrames(t *testing.T) {
	for _, link := range []struct {
		name string
		typ  int
	}{{"seqpacket", syscall.SOCK_SEQPACKET}, {"stream", syscall.SOCK_STREAM}} {
		t.Run(link.name, func(t *testing.T) {
			parent, child := unixPair(t, link.typ)
			buf, oob := make([]byte, handOffHead+maxReplay), make([]byte, syscall.CmsgSpace(4))
			for _, n := range []int{0, 1, 1000, maxReplay} {
				client, server := tcpPair(t)
				fd, err := detach(server)
				if err != nil {
					t.Fatal(err)
				}
				replay := bytes.Repeat([]byte("LIST\r\n"), n/6+1)[:n]
				var lastIn time.Time // none, for no replayed bytes
				if n > 0 {
					lastIn = time.Unix(1_800_000_000, int64(n))
				}
				must(t, handOff(parent, fd, &conn{replay: replay, lastIn: lastIn}))
				syscall.Close(fd)
				wc, err := receive(child, buf, oob)
				if err != nil {
					t.Fatalf("%d replayed bytes: %v", n, err)
				}
				if !bytes.Equal(wc.replay, replay) {
					t.Errorf("%d replayed bytes: received %d, not the same", n, len(wc.replay))
				}
				if !wc.lastIn.Equal(lastIn) {
					t.Errorf("%d replayed bytes: arrived at %v, received as %v", n, lastIn, wc.lastIn)
				}
				wc.nc.Write([]byte("ok"))
				wc.nc.Close()
				if got, _ := io.ReadAll(client); string(got) != "ok" {
					t.Errorf("%d replayed bytes: the client read %q through the handed-off connection, want ok", n, got)
				}
			}
		})
	}
}

// TestReadFrameInParts checks how a stream link's hand-off is put
// together: whatever part of the frame the first read brought (even part
// of its header), readFrame reads the rest and no more; a frame that
// starts wrong, claims more than the buffer, or is cut is refused.
func TestReadFrameInParts(t *testing.T) {
	const replay = "LIST\r\n\r\nab"
	head := binary.LittleEndian.AppendUint64([]byte{handOffHeader}, uint64(time.Unix(1_800_000_000, 0).UnixNano()))
	frame := append(binary.BigEndian.AppendUint32(head, uint32(len(replay))), replay...)
	for _, first := range []int{1, 3, handOffHead, handOffHead + 1, len(frame) - 1, len(frame)} {
		parent, child := unixPair(t, syscall.SOCK_STREAM)
		buf := make([]byte, handOffHead+maxReplay)
		copy(buf, frame[:first])
		if _, err := parent.Write(frame[first:]); err != nil {
			t.Fatal(err)
		}
		n, err := readFrame(child, buf, first)
		if err != nil || !bytes.Equal(buf[:n], frame) {
			t.Errorf("first read of %d bytes: %q, %v; want the frame %q", first, buf[:n], err, frame)
		}
	}
	bad := map[string][]byte{
		"wrong header": append([]byte{'x'}, frame[1:]...),
		"too long":     binary.BigEndian.AppendUint32(head, maxReplay+1),
		"cut":          frame[:len(frame)-2],
	}
	for name, b := range bad {
		parent, child := unixPair(t, syscall.SOCK_STREAM)
		buf := make([]byte, handOffHead+maxReplay)
		parent.Write(b)
		parent.Close()
		n, err := child.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readFrame(child, buf, n); err == nil {
			t.Errorf("%s: a frame %q was accepted", name, b)
		}
	}
}

// TestWorkerChildStopsWhenLinkEnds starts a real worker child as
// execStarter does, but without Pdeathsig, with this test as its parent:
// it serves a connection handed over its link, and once the link ends
// (as when the parent dies: the kernel closes its end) it stops by
// itself, exit 0, with no warning, though no signal came.
func TestWorkerChildStopsWhenLinkEnds(t *testing.T) {
	dir := t.TempDir()
	st, err := openStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	sd, err := st.file()
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	cf, err := sharedCounterFile(1)
	if err != nil {
		t.Fatal(err)
	}
	defer cf.Close()
	link, childEnd, err := newLink()
	if err != nil {
		t.Fatal(err)
	}
	defer link.Close()

	cfg, err := parseFlags([]string{"-mode", "process", "-workers", "1", "-dir", dir}, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	e := &execStarter{cfg: cfg, exe: serverBin, started: time.Now(), counterFile: cf, storageDir: sd}
	cmd, err := e.command(1, childEnd) // started without the launcher's Pdeathsig
	if err != nil {
		t.Fatal(err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd.Stderr = w
	err = cmd.Start()
	w.Close()
	childEnd.Close()
	if err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill() // if still running
		<-exited
	})
	log := testkit.NewLog(r)

	verdict := make([]byte, 1)
	link.SetReadDeadline(time.Now().Add(30 * time.Second))
	if n, err := link.Read(verdict); err != nil || n != 1 || verdict[0] != childReady {
		t.Fatalf("child's first word %q, %v; want ready\n%s", verdict[:n], err, log)
	}
	client, server := tcpPair(t)
	fd, err := detach(server)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	must(t, handOff(link, fd, &conn{replay: []byte("LIST\r\n\r\n"), lastIn: time.Now()}))
	if n, err := link.Read(verdict); err != nil || n != 1 || verdict[0] != handBackReceived {
		t.Fatalf("child's receipt %q, %v\n%s", verdict[:n], err, log)
	}
	client.SetReadDeadline(time.Now().Add(10 * time.Second))
	reply, err := bufio.NewReader(client).ReadString('}')
	if err != nil || !strings.Contains(reply, `"status": "OK"`) {
		t.Fatalf("LIST through the child: %q, %v\n%s", reply, err, log)
	}
	if n, err := link.Read(verdict); err != nil || n != 1 {
		t.Fatalf("child's verdict %q, %v\n%s", verdict[:n], err, log)
	}

	link.Close() // what the kernel does when the parent dies
	ended := time.Now()
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("child ended with %v after its link ended, want exit 0\n%s", waitErr, log)
		}
		t.Logf("child stopped %s after its link ended", time.Since(ended).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatalf("child still running 10s after its link ended\n%s", log)
	}
	<-log.EOF()
	if strings.Contains(log.String(), "level=WARN") || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("child logged a warning or an error:\n%s", log)
	}
}
