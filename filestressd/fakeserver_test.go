package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fileserver/filestressd/stress"
	"fileserver/protocol"
)

// Ways the fake server misbehaves.
const (
	fakeHonest     = "honest"      // right content and hashes; only STATS is missing
	fakeCorruptGet = "corrupt-get" // GET content with one byte flipped
	fakeShortGet   = "short-get"   // GET content one chunk short, in a well-formed reply
	fakeCutGet     = "cut-get"     // GET reply cut off in the middle of the content
	fakePrefixGet  = "prefix-get"  // GET reply cut off right after the JSON before the content
	fakeResetGet   = "reset-get"   // GET connection reset in the middle of the content
	fakeDupPeriod  = "dup-period"  // GET content with period 1 sent again in place of period 2
	fakeSwapPeriod = "swap-period" // GET content with periods 1 and 2 swapped
	fakeBadUpload  = "bad-upload"  // UPLOAD reply with the wrong sha256
	fakeNoSize     = "no-size"     // UPLOAD reply OK, without "size"
	fakeBadSize    = "bad-size"    // UPLOAD reply OK, with "size" a string
	fakeStall      = "stall"       // UPLOAD never read nor answered
	fakeSlowGet    = "slow-get"    // GET answered honestly, after slowGetDelay
	fakeOldStats   = "old-stats"   // honest, with a STATS like fileserverd's before cpu_us
)

// slowGetDelay is how long the slow-get server thinks before every GET.
const slowGetDelay = 600 * time.Millisecond

// fakeServer speaks enough of the protocol to act like a plain course
// server that misbehaves in one way: STATS is an ERROR, GET serves
// generated content of size bytes for any name, UPLOAD hashes what it
// receives, DELETE and LIST succeed. The upload probe's file (a name
// starting with probePrefix, at most maxProbeFile bytes) is stored and
// served back honestly whatever its fault, so that the setup finds the form
// and the fault falls on the workers.
type fakeServer struct {
	addr  string
	fault string
	size  int64
	quit  chan struct{} // closed by cleanup
	// stalled receives one value per upload fakeStall holds.
	stalled chan struct{}
	mu      sync.Mutex
	// probes holds the probe files uploaded, guarded by mu.
	probes map[string][]byte
}

// probePrefix starts the probe file's name (see probeName); maxProbeFile
// bounds what the fake server keeps of one.
const (
	probePrefix  = "stress-probe-"
	maxProbeFile = 4 << 10
)

// serveLoopback listens on a free loopback port and serves each
// connection on a goroutine of its own, closing it after; cleanup closes
// the listener and every connection, and waits for the goroutines.
func serveLoopback(t *testing.T, serve func(net.Conn)) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	wg.Go(func() {
		for { // ends when cleanup closes the listener
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// startFakeServer starts a fakeServer (serveLoopback); cleanup first
// closes quit, releasing the stalled uploads.
func startFakeServer(t *testing.T, fault string, size int64) *fakeServer {
	t.Helper()
	f := &fakeServer{fault: fault, size: size, quit: make(chan struct{}), stalled: make(chan struct{}, 64), probes: map[string][]byte{}}
	f.addr = serveLoopback(t, f.serve)
	t.Cleanup(func() { close(f.quit) }) // runs before serveLoopback's
	return f
}

// serve answers requests until the client closes or a request fails.
func (f *fakeServer) serve(c net.Conn) {
	requests := protocol.NewRequestReader(bufio.NewReaderSize(c, protocol.ReaderSize))
	bufs := protocol.NewBuffers()
	for { // ends at the client's EOF or any error
		req, err := requests.Read()
		if err != nil {
			return
		}
		var reply []byte
		switch req.Command {
		case "STATS":
			reply = protocol.AppendError(nil, `unknown command "STATS"`)
			if f.fault == fakeOldStats {
				reply = oldStatsReply()
			}
		case "LIST":
			reply = protocol.AppendReply(nil, protocol.Field{Key: "status", Value: "OK"}, protocol.Field{Key: "data", Value: []string{}})
		case "DELETE":
			f.mu.Lock()
			delete(f.probes, req.Args[0])
			f.mu.Unlock()
			reply = protocol.AppendReply(nil, protocol.Field{Key: "status", Value: "OK"}, protocol.Field{Key: "data", Value: "deleted"})
		case "UPLOAD":
			if strings.HasPrefix(req.Args[0], probePrefix) {
				if reply = f.storeProbe(requests, req, bufs); reply == nil {
					return
				}
				break
			}
			if f.fault == fakeStall {
				select {
				case f.stalled <- struct{}{}:
				default:
				}
				<-f.quit
				return
			}
			h := protocol.NewHash()
			n, err := requests.ReadPayload(req, h, bufs, 1<<40)
			if err != nil {
				return
			}
			reply = f.uploadReply(n, hex.EncodeToString(h.Sum(nil)))
		case "GET":
			if probe, ok := f.probe(req.Args[0]); ok {
				prefix, suffix := protocol.ContentFrame(req.Args[0], protocol.GetContentKey)
				if _, err := protocol.EncodeStream(c, bytes.NewReader(probe), bufs, prefix, suffix); err != nil {
					return
				}
				continue
			}
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

// storeProbe keeps a probe file and returns the honest reply, or nil
// when the connection cannot go on.
func (f *fakeServer) storeProbe(requests *protocol.RequestReader, req *protocol.Request, bufs *protocol.Buffers) []byte {
	var b bytes.Buffer
	n, err := requests.ReadPayload(req, &b, bufs, maxProbeFile)
	if err != nil {
		return nil
	}
	f.mu.Lock()
	f.probes[req.Args[0]] = b.Bytes()
	f.mu.Unlock()
	sum := sha256.Sum256(b.Bytes())
	return protocol.AppendReply(nil, protocol.Field{Key: "status", Value: "OK"}, protocol.Field{Key: "data", Value: "stored"},
		protocol.Field{Key: "size", Value: n}, protocol.Field{Key: "sha256", Value: hex.EncodeToString(sum[:])})
}

// probe returns a probe file the server holds.
func (f *fakeServer) probe(name string) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.probes[name]
	return b, ok
}

// oldStatsReply is a STATS reply as fileserverd gave it before cpu_us:
// mode, workers, pid, start and request counts (all 0), no CPU time.
func oldStatsReply() []byte {
	var ops []protocol.Field
	for _, op := range protocol.Ops() {
		ops = append(ops, protocol.Field{Key: op.String(), Value: []protocol.Field{{Key: "ok", Value: 0}, {Key: "failed", Value: 0}}})
	}
	return protocol.AppendReply(nil, protocol.Field{Key: "status", Value: "OK"}, protocol.Field{Key: "data", Value: []protocol.Field{
		{Key: "mode", Value: "thread"}, {Key: "workers", Value: 1}, {Key: "pid", Value: 4242},
		{Key: "started", Value: "2026-01-01T10:00:00Z"}, {Key: "requests", Value: ops},
	}})
}

// uploadReply is the reply to an upload of n bytes with SHA-256 sum,
// spoilt as the fault says.
func (f *fakeServer) uploadReply(n int64, sum string) []byte {
	fields := []protocol.Field{{Key: "status", Value: "OK"}, {Key: "data", Value: "stored"}}
	switch f.fault {
	case fakeBadUpload:
		return protocol.AppendReply(nil, append(fields, protocol.Field{Key: "size", Value: n}, protocol.Field{Key: "sha256", Value: sum[1:] + sum[:1]})...)
	case fakeNoSize:
		return protocol.AppendReply(nil, append(fields, protocol.Field{Key: "sha256", Value: sum})...)
	case fakeBadSize:
		return protocol.AppendReply(nil, append(fields, protocol.Field{Key: "size", Value: strconv.FormatInt(n, 10)}, protocol.Field{Key: "sha256", Value: sum})...)
	}
	return protocol.AppendReply(nil, append(fields, protocol.Field{Key: "size", Value: n}, protocol.Field{Key: "sha256", Value: sum})...)
}

// get sends the content, spoilt as the fault says. It reports whether the
// connection can go on.
func (f *fakeServer) get(c net.Conn, bufs *protocol.Buffers, name string) bool {
	prefix, suffix := protocol.ContentFrame(name, protocol.GetContentKey)
	var src io.Reader = stress.TestFileContent(f.size)
	switch f.fault {
	case fakeDupPeriod:
		src = periodsReader(f.size, map[int64]int64{2: 1})
	case fakeSwapPeriod:
		src = periodsReader(f.size, map[int64]int64{1: 2, 2: 1})
	case fakeCorruptGet:
		src = &flipByte{r: src, at: f.size / 2}
	case fakeShortGet:
		src = io.LimitReader(src, f.size-protocol.ChunkSize)
	case fakeCutGet:
		// Half the content, well encoded, and then the connection ends.
		protocol.EncodeStream(c, io.LimitReader(src, f.size/2/3*3), bufs, prefix, "")
		return false
	case fakePrefixGet:
		c.Write([]byte(prefix))
		return false
	case fakeSlowGet:
		select {
		case <-time.After(slowGetDelay):
		case <-f.quit:
			return false
		}
	case fakeResetGet:
		// Half the content, then a reset (a close with SO_LINGER 0) once
		// the client has all of it: a reset drops what is still unsent.
		protocol.EncodeStream(c, io.LimitReader(src, f.size/2/3*3), bufs, prefix, "")
		waitAcked(c)
		c.(*net.TCPConn).SetLinger(0)
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

// periodSize is the period of stress's generated content (see its
// content.go).
const periodSize = 768 << 10

// periodsReader yields the test file's content of size bytes with its
// whole periods rearranged: period k is sent where order[k] says, the
// others in place. Every byte is right for some offset, so only the
// period headers tell.
func periodsReader(size int64, order map[int64]int64) io.Reader {
	whole, _ := io.ReadAll(stress.TestFileContent(size))
	out := make([]byte, size)
	for off := int64(0); off < size; off++ {
		k, j := off/periodSize, off%periodSize
		from, moved := order[k]
		if !moved {
			from = k
		}
		out[off] = whole[from*periodSize+j]
	}
	return bytes.NewReader(out)
}

// waitAcked waits, at most five seconds, until the peer has acknowledged
// everything written on c (the kernel's unacknowledged send queue,
// protocol.SendQueued, is empty).
func waitAcked(c net.Conn) {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return
	}
	unacked := func() int {
		n := -1
		rc.Control(func(fd uintptr) { n = protocol.SendQueued(fd) })
		return n
	}
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for range 5000 { // at most five seconds
		if unacked() <= 0 {
			return
		}
		<-t.C
	}
}
