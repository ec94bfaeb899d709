package protocol

import (
	"bufio"
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

// endPausePair is a loopback TCP connection whose server side reads
// requests with an end pause, as fileserverd does, and whose client side
// the test writes.
func endPausePair(t *testing.T, endPause, endPauseWrite time.Duration) (*RequestReader, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		client.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	// A hang is a failure, not a test that never ends.
	server.SetDeadline(time.Now().Add(20 * time.Second))
	qc := &pauseConn{Conn: server}
	rr := NewRequestReader(bufio.NewReaderSize(qc, ReaderSize))
	rr.EndPause, rr.EndPauseWrite = endPause, endPauseWrite
	rr.SetPauseWait = qc.clock.SetPauseWait
	return rr, client
}

// pauseConn reads with the deadline a PauseClock asks for, or 20 s.
type pauseConn struct {
	net.Conn
	clock PauseClock
}

func (c *pauseConn) Read(p []byte) (int, error) {
	for {
		d := c.clock.Deadline()
		if d.IsZero() {
			d = time.Now().Add(20 * time.Second)
		}
		c.Conn.SetReadDeadline(d)
		n, err := c.Conn.Read(p)
		c.clock.Arrived(n)
		if err, retry := c.clock.Pause(err, c.Conn); !retry || n > 0 {
			return n, err
		}
	}
}

// send writes pieces to c, pausing for pause before each but the first,
// and reports the first error on the returned channel. The pauses are the
// stimulus under test: a client that stops sending mid-request.
func send(c net.Conn, pause time.Duration, pieces ...string) <-chan error {
	done := make(chan error, 1)
	go func() {
		for i, p := range pieces {
			if i > 0 {
				time.Sleep(pause)
			}
			if _, err := c.Write([]byte(p)); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// TestEndPauseEndsRequest checks that a request without a terminator is
// served once nothing more arrives for long enough, and only where it can
// be whole: a pause of EndPause ends a request that reads, and a payload that
// cannot go on (padded, or its length reached); one that changes storage
// (DELETE, a payload that may go on) waits for EndPauseWrite; a pause inside
// a head that needs more, or after a line of base64 of any width, shorter
// than EndPauseWrite, does not cut the request.
func TestEndPauseEndsRequest(t *testing.T) {
	t.Parallel()
	const endPause, endPauseWrite = 30 * time.Millisecond, time.Second
	pause := 4 * endPause
	line64 := strings.Repeat("QUJD", 16)
	tests := []struct {
		name    string
		pieces  []string // sent with a pause between them
		command string
		args    []string
		payload string // for an UPLOAD
		// write: the request ends only at the longer pause, EndPauseWrite;
		// otherwise well before it.
		write bool
	}{
		{name: "LIST", pieces: []string{"LIST"}, command: "LIST"},
		{name: "list then more", pieces: []string{"list", "\r\n"}, command: "LIST"},
		{name: "GET name", pieces: []string{"GET a.txt"}, command: "GET", args: []string{"a.txt"}},
		{name: "GET waits for its name", pieces: []string{"GET", " a.txt"}, command: "GET", args: []string{"a.txt"}},
		{name: "a prefix of a command waits", pieces: []string{"LI", "ST"}, command: "LIST"},
		{name: "quoted name", pieces: []string{`GET "a`, ` b"`}, command: "GET", args: []string{"a b"}},
		{name: "DELETE waits for the rest of its name", pieces: []string{"DELETE a", "b\r\n"}, command: "DELETE", args: []string{"ab"}},
		{name: "DELETE without a terminator", pieces: []string{"DELETE ab"}, command: "DELETE", args: []string{"ab"}, write: true},
		{name: "payload after a line break", pieces: []string{"UPLOAD f QUJD\r\n"}, command: "UPLOAD", args: []string{"f"}, payload: "ABC", write: true},
		{name: "padded payload after a line break", pieces: []string{"UPLOAD f QUI=\n"}, command: "UPLOAD", args: []string{"f"}, payload: "AB"},
		{name: "payload of its declared size", pieces: []string{"UPLOAD f 3 QUJD"}, command: "UPLOAD", args: []string{"f"}, payload: "ABC"},
		{name: "payload on the next line", pieces: []string{"UPLOAD f\r\n", "QUJD\n"}, command: "UPLOAD", args: []string{"f"}, payload: "ABC", write: true},
		{name: "payload paused mid-line", pieces: []string{"UPLOAD f QU", "JD\r\n\r\n"}, command: "UPLOAD", args: []string{"f"}, payload: "ABC"},
		{name: "payload lines", pieces: []string{"UPLOAD f QUJDQUJD\nQU", "JD\n\n"}, command: "UPLOAD", args: []string{"f"}, payload: "ABCABCABC"},
		{name: "payload paused after a partial quantum", pieces: []string{"UPLOAD f QU\n", "JDQUJD\n\n"}, command: "UPLOAD", args: []string{"f"}, payload: "ABCABC"},
		{name: "payload paused after a 76-column line", pieces: []string{"UPLOAD f " + strings.Repeat("QUJD", 19) + "\n", "QUJD\n\n"},
			command: "UPLOAD", args: []string{"f"}, payload: strings.Repeat("ABC", 20)},
		{name: "payload paused after the first 64-column line", pieces: []string{"UPLOAD f\r\n" + line64 + "\n", line64 + "\nQUJD\n\n"},
			command: "UPLOAD", args: []string{"f"}, payload: strings.Repeat("ABC", 33)},
		{name: "payload paused after a short line", pieces: []string{"UPLOAD f QUJDQUJD\nQUJD\n", "QUJD\n\n"},
			command: "UPLOAD", args: []string{"f"}, payload: strings.Repeat("ABC", 4)},
		{name: "payload paused after lines of one width", pieces: []string{"UPLOAD f QUJDQUJD\nQUJDQUJD\n", "QUJD\n\n"},
			command: "UPLOAD", args: []string{"f"}, payload: strings.Repeat("ABC", 5)},
		{name: "JSON needs no pause", pieces: []string{`{"command": "get", "params": ["x"]}`}, command: "GET", args: []string{"x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rr, client := endPausePair(t, endPause, endPauseWrite)
			began := time.Now()
			sent := send(client, pause, tt.pieces...)
			req, err := rr.Read()
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			var got bytes.Buffer
			if req.HasPayload {
				if _, err := rr.ReadPayload(req, &got, NewBuffers(), 1<<20); err != nil {
					t.Fatalf("ReadPayload: %v", err)
				}
			}
			if req.Command != tt.command || len(req.Args) != len(tt.args) || (len(tt.args) > 0 && req.Args[0] != tt.args[0]) || got.String() != tt.payload {
				t.Fatalf("read %+v with payload %q, want %s %q with payload %q", req, got.String(), tt.command, tt.args, tt.payload)
			}
			// Which pause ended it: it cannot end before its pause has
			// passed, and one that ends at EndPause ends well before EndPauseWrite.
			el, pauses := time.Since(began), time.Duration(len(tt.pieces)-1)*pause
			if tt.write && el < pauses+endPauseWrite {
				t.Errorf("read after %s, before the pause of EndPauseWrite (%s) after the last piece", el, endPauseWrite)
			}
			if !tt.write && el >= pauses+endPauseWrite {
				t.Errorf("read after %s: it waited for EndPauseWrite (%s), not for EndPause or its end", el, endPauseWrite)
			}
			if err := <-sent; err != nil {
				t.Fatalf("send: %v", err)
			}
			// The connection goes on: the next request reads whole.
			sent = send(client, 0, "STATS\r\n")
			if next, err := rr.Read(); err != nil || next.Command != "STATS" {
				t.Fatalf("next request = %+v, %v; want STATS", next, err)
			}
			<-sent
		})
	}
}

// TestEndPauseEndsSkip checks that skipping a bad request stops at a line
// break followed by a pause, so a client that ends requests with one CRLF
// gets on after an error, while a pause mid-line does not end the skip.
func TestEndPauseEndsSkip(t *testing.T) {
	t.Parallel()
	rr, client := endPausePair(t, 30*time.Millisecond, time.Second)
	sent := send(client, 120*time.Millisecond, "GET  a b", "c d\r\n", "LIST\r\n")
	if _, err := rr.Read(); err == nil {
		t.Fatal("a double space read as a request")
	}
	if err := rr.Skip(1 << 20); err != nil {
		t.Fatalf("Skip: %v", err)
	}
	if next, err := rr.Read(); err != nil || next.Command != "LIST" {
		t.Fatalf("request after the skipped one = %+v, %v; want LIST", next, err)
	}
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
}
