package main

import (
	"bufio"
	"encoding/hex"
	"io"
	"net"
	"sync"
	"testing"

	"fileserver/protocol"
)

// Ways the fake server misbehaves.
const (
	fakeHonest     = "honest"      // right content and hashes; only STATS is missing
	fakeCorruptGet = "corrupt-get" // GET content with one byte flipped
	fakeShortGet   = "short-get"   // GET content one chunk short, in a well-formed reply
	fakeCutGet     = "cut-get"     // GET reply cut off in the middle of the content
	fakeBadUpload  = "bad-upload"  // UPLOAD reply with the wrong sha256
	fakeStall      = "stall"       // UPLOAD never read nor answered
)

// fakeServer speaks enough of the protocol to act like a plain course
// server that misbehaves in one way: STATS is an ERROR, GET serves
// generated content of size bytes for any name, UPLOAD hashes what it
// receives, DELETE and LIST succeed.
type fakeServer struct {
	addr string
	mode string
	size int64
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	conn map[net.Conn]struct{}
	quit chan struct{} // closed by cleanup
	// stalled receives one value per upload the stall mode holds.
	stalled chan struct{}
}

// startFakeServer listens on a free loopback port; cleanup closes it and
// every connection, and waits for its goroutines.
func startFakeServer(t *testing.T, mode string, size int64) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{addr: ln.Addr().String(), mode: mode, size: size, ln: ln, conn: map[net.Conn]struct{}{},
		quit: make(chan struct{}), stalled: make(chan struct{}, 64)}
	f.wg.Go(func() {
		for { // ends when cleanup closes the listener
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.mu.Lock()
			f.conn[c] = struct{}{}
			f.mu.Unlock()
			f.wg.Go(func() { f.serve(c) })
		}
	})
	t.Cleanup(func() {
		close(f.quit)
		ln.Close()
		f.mu.Lock()
		for c := range f.conn {
			c.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

// serve answers requests until the client closes or a request fails.
func (f *fakeServer) serve(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, protocol.ReaderSize)
	bufs := protocol.NewBuffers()
	for { // ends at the client's EOF or any error
		req, err := protocol.ReadRequest(br)
		if err != nil {
			return
		}
		var reply []byte
		switch req.Command {
		case "STATS":
			reply = protocol.AppendError(nil, `unknown command "STATS"`)
		case "LIST":
			reply = protocol.AppendReply(nil, protocol.Field{Key: "status", Value: "OK"}, protocol.Field{Key: "data", Value: []string{}})
		case "DELETE":
			reply = protocol.AppendReply(nil, protocol.Field{Key: "status", Value: "OK"}, protocol.Field{Key: "data", Value: "deleted"})
		case "UPLOAD":
			if f.mode == fakeStall {
				select {
				case f.stalled <- struct{}{}:
				default:
				}
				<-f.quit
				return
			}
			h := protocol.NewHash()
			n, err := protocol.DecodePayload(br, h, bufs, 1<<40)
			if err != nil {
				return
			}
			sum := hex.EncodeToString(h.Sum(nil))
			if f.mode == fakeBadUpload {
				sum = sum[1:] + sum[:1]
			}
			reply = protocol.AppendReply(nil, protocol.Field{Key: "status", Value: "OK"},
				protocol.Field{Key: "data", Value: "stored"}, protocol.Field{Key: "size", Value: n}, protocol.Field{Key: "sha256", Value: sum})
		case "GET":
			if !f.get(c, bufs, req.Args[0]) {
				return
			}
			continue
		default:
			reply = protocol.AppendError(nil, "unknown command")
		}
		if _, err := c.Write(reply); err != nil {
			return
		}
	}
}

// get sends the content, spoilt as the mode says. It reports whether the
// connection can go on.
func (f *fakeServer) get(c net.Conn, bufs *protocol.Buffers, name string) bool {
	prefix, suffix := protocol.ContentFrame(name, protocol.GetContentKey)
	var src io.Reader = newGenerator(contentSeed, f.size)
	switch f.mode {
	case fakeCorruptGet:
		src = &flipByte{r: src, at: f.size / 2}
	case fakeShortGet:
		src = io.LimitReader(src, f.size-protocol.ChunkSize)
	case fakeCutGet:
		// Half the content, well encoded, and then the connection ends.
		protocol.EncodeStream(c, io.LimitReader(src, f.size/2/3*3), bufs, prefix, "")
		return false
	}
	_, err := protocol.EncodeStream(c, src, bufs, prefix, suffix)
	return err == nil
}

// flipByte inverts the byte at offset at of what r yields.
type flipByte struct {
	r   io.Reader
	off int64
	at  int64
}

func (fb *flipByte) Read(p []byte) (int, error) {
	n, err := fb.r.Read(p)
	if fb.at >= fb.off && fb.at < fb.off+int64(n) {
		p[fb.at-fb.off] ^= 0xff
	}
	fb.off += int64(n)
	return n, err
}
