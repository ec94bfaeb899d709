package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// reuseServer listens on loopback and runs serve on every connection,
// numbered from 1.
func reuseServer(t *testing.T, serve func(n int, c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var conns atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				serve(int(conns.Add(1)), c)
			}()
		}
	}()
	return ln.Addr().String()
}

// settle gives loopback a moment to deliver what the server wrote (or
// its FIN) to the client's socket.
func settle() { time.Sleep(50 * time.Millisecond) }

// TestClientNothingToReadSeesUnsolicitedReply checks that a Client with Reconnect
// does not reuse a connection on which the server sent a reply nobody
// asked for, once it has arrived: the next request goes on a new
// connection and gets its own reply, not the stale one.
func TestClientNothingToReadSeesUnsolicitedReply(t *testing.T) {
	extra, sent := make(chan struct{}), make(chan struct{})
	done := sent
	addr := reuseServer(t, func(n int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			if _, err := readUntilTerminator(br); err != nil {
				return
			}
			fmt.Fprintf(c, `{"status": "OK", "data": ["conn%d"]}`+Terminator, n)
			if n == 1 && sent != nil {
				<-extra
				io.WriteString(c, `{"status": "ERROR", "data": "request tidak dikenali"}`+Terminator)
				close(sent)
				sent = nil // once
			}
		}
	})
	c := dialWith(t, addr, Options{Reconnect: true})
	if names, err := c.List(testCtx(t)); err != nil || len(names) != 1 || names[0] != "conn1" {
		t.Fatalf("first LIST: %q, %v", names, err)
	}
	close(extra)
	<-done
	settle()
	for i, want := range []string{"conn2", "conn3"} {
		names, err := c.List(testCtx(t))
		if err != nil || len(names) != 1 || names[0] != want {
			t.Fatalf("LIST %d after the unsolicited reply: %q, %v; want [%s] on a new connection", i+2, names, err, want)
		}
	}
}

// TestClientNothingToReadSeesClose checks that a Client with Reconnect notices a
// reused connection the server has closed before it sends an upload,
// which it cannot send twice: the upload goes on a new connection.
func TestClientNothingToReadSeesClose(t *testing.T) {
	closed := make(chan struct{}, 1)
	addr := reuseServer(t, func(n int, c net.Conn) {
		defer func() { closed <- struct{}{} }()
		req, err := readUntilTerminator(bufio.NewReader(c))
		if err != nil {
			return
		}
		if name, payload, ok := strings.Cut(strings.TrimPrefix(req, "UPLOAD "), " "); ok && strings.HasPrefix(req, "UPLOAD ") {
			data, err := b64.DecodeString(payload)
			if err != nil {
				return
			}
			fmt.Fprintf(c, `{"status": "OK", "data": %q, "size": %d, "sha256": %q}`+Terminator, name, len(data), sha256Hex(data))
			return
		}
		io.WriteString(c, `{"status": "OK", "data": []}`+Terminator)
		c.Close()
	})
	c := dialWith(t, addr, Options{Reconnect: true})
	if _, err := c.List(testCtx(t)); err != nil {
		t.Fatalf("LIST: %v", err)
	}
	<-closed
	settle()
	if res, err := c.Upload(testCtx(t), "a.txt", strings.NewReader("hello")); err != nil || res.Sent != 5 {
		t.Fatalf("upload after the server closed the connection: %+v, %v", res, err)
	}
}

// TestClientStatusAfterContent checks replies written the way a Python
// dict keeps its keys, "status" last: an ERROR's reason under "data" is
// the server's reason, and content before an OK status is the content.
func TestClientStatusAfterContent(t *testing.T) {
	addr := reuseServer(t, func(n int, c net.Conn) {
		br := bufio.NewReader(c)
		for {
			req, err := readUntilTerminator(br)
			if err != nil {
				return
			}
			switch req {
			case "GET missing.txt":
				io.WriteString(c, `{"data": "not found", "status": "ERROR"}`+Terminator)
			case "GET a.txt":
				io.WriteString(c, `{"data_namafile": "a.txt", "data_file": "QUJD", "status": "OK"}`+Terminator)
			case "GET b.txt":
				io.WriteString(c, `{"data": "QUJD", "data_namafile": "b.txt", "status": "OK"}`+Terminator)
			case "GET c.txt":
				io.WriteString(c, `{"data": "berhasil", "file_data": "QUJD", "status": "OK"}`+Terminator)
			default:
				io.WriteString(c, `{"status": "ERROR", "data": "request tidak dikenali"}`+Terminator)
			}
		}
	})
	c := dialWith(t, addr, Options{Reconnect: true})
	var buf strings.Builder
	_, err := c.Get(testCtx(t), "missing.txt", &buf)
	var se *ServerError
	if !errors.As(err, &se) || se.Reason != "not found" || buf.Len() != 0 {
		t.Errorf("GET of a missing file: %v, content %q; want the server's ERROR with its reason \"not found\"", err, buf.String())
	}
	for _, name := range []string{"a.txt", "b.txt", "c.txt"} {
		buf.Reset()
		if n, err := c.Get(testCtx(t), name, &buf); err != nil || n != 3 || buf.String() != "ABC" {
			t.Errorf("GET %s: %d bytes %q, %v; want ABC", name, n, buf.String(), err)
		}
	}
}
