package main

// Fault tests against the real binary, in both modes: clients that read
// a download slowly or not at all.

import (
	"bufio"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
)

func dialSmallWindow(t testing.TB, addr string) net.Conn {
	t.Helper()
	dialer := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 64<<10)
		})
		return errors.Join(err, serr)
	}}
	conn, err := dialer.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// slowReader reads at most chunk bytes every period while slow is set,
// and at full speed once it is cleared.
type slowReader struct {
	r      io.Reader
	chunk  int
	period time.Duration
	slow   atomic.Bool
	n      atomic.Int64
	last   time.Time
}

func (s *slowReader) Read(p []byte) (int, error) {
	if s.slow.Load() {
		p = p[:min(len(p), s.chunk)]
		time.Sleep(s.period - time.Since(s.last))
		s.last = time.Now()
	}
	n, err := s.r.Read(p)
	s.n.Add(int64(n))
	return n, err
}

// put stores a file straight into the storage directory, for tests
// whose idle timeout is too short for an upload by a slow (-race) client.
func (d *daemon) put(t testing.TB, name string, r io.Reader) {
	t.Helper()
	f, err := os.Create(filepath.Join(d.Dir, name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		t.Fatal(err)
	}
	must(t, f.Close())
}

// getReplySize is the length of a GET reply carrying size bytes.
func getReplySize(name string, size int64) int64 {
	prefix, suffix := protocol.ContentFrame(name, protocol.GetContentKey)
	return int64(len(prefix)+len(suffix)) + int64(base64.StdEncoding.EncodedLen(int(size)))
}

// TestSlowReader downloads 8 MB reading a little at a time for longer
// than the idle timeout: the server keeps streaming while the client makes
// progress, the other workers serve other clients meanwhile, and the file
// arrives whole once the client reads at full speed. The second pace is
// slower than the kernel frees room in the server's send buffer (it wakes
// a blocked writer only once a third of up to 4 MiB has drained): the
// server must still see that the client takes bytes.
func TestSlowReader(t *testing.T) {
	const (
		size    = 8 << 20
		slowFor = 3500 * time.Millisecond
	)
	paces := []struct {
		name   string
		chunk  int
		period time.Duration
		idle   time.Duration
	}{
		{"64KiB per 50ms", 64 << 10, 50 * time.Millisecond, 2 * time.Second},
		{"32KiB per 100ms", 32 << 10, 100 * time.Millisecond, time.Second},
	}
	for _, pace := range paces {
		for _, mode := range modes {
			t.Run(pace.name+"/"+mode, func(t *testing.T) {
				t.Parallel()
				d := startDaemon(t, mode, 3, "-idle-timeout", pace.idle.String())
				d.put(t, "big.bin", newPattern(7, size))
				small := d.upload(t, "small.bin", newPattern(8, 1000))

				conn := dialSmallWindow(t, d.Addr)
				conn.SetDeadline(time.Now().Add(time.Minute))
				if _, err := conn.Write([]byte("GET big.bin\r\n\r\n")); err != nil {
					t.Fatal(err)
				}
				sr := &slowReader{r: conn, chunk: pace.chunk, period: pace.period}
				sr.slow.Store(true)
				type result struct {
					r   *protocol.Reply
					w   *hashWriter
					err error
				}
				done := make(chan result, 1)
				go func() {
					w := newHashWriter()
					r, err := protocol.ReadReply(bufio.NewReaderSize(sr, protocol.ReaderSize), protocol.GetContentKey, w, protocol.NewBuffers())
					done <- result{r, w, err}
				}()

				// Meanwhile, other clients are served by the other workers
				// (were they not, d.list would time out).
				start := time.Now()
				gets := uint64(0)
				for time.Since(start) < slowFor {
					t0 := time.Now()
					d.list(t)
					if _, sum := d.get(t, "small.bin"); sum != small.StoredSHA256 {
						t.Fatal("small.bin corrupted")
					}
					gets++
					if el := time.Since(t0); el > 5*time.Second {
						t.Errorf("LIST and GET of 1000 bytes took %s beside the slow download", el)
					}
					select {
					case res := <-done:
						t.Fatalf("slow download ended after %s and %d bytes: %v\n%s", time.Since(start), sr.n.Load(), res.err, d.Log)
					default:
					}
					time.Sleep(100 * time.Millisecond)
				}
				// Still streaming: neither finished nor failed.
				read := sr.n.Load()
				if total := getReplySize("big.bin", size); read < 4*int64(pace.chunk) || read >= total {
					t.Errorf("slow client read %d of %d bytes in %s, want progress and the download unfinished", read, total, slowFor)
				}
				if s := d.Stats(t); s.Requests["get"] != (protocol.OpCount{OK: gets}) {
					t.Errorf("get %+v during the slow download, want %d ok (the other clients') and none failed\n%s", s.Requests["get"], gets, d.Log)
				}
				t.Logf("slow client read %d bytes in %s while %d other GETs were served", read, time.Since(start).Round(time.Millisecond), gets)

				sr.slow.Store(false)
				res := <-done
				if res.err != nil || res.r.Err() != nil {
					t.Fatalf("slow download: %v %v", res.err, res.r.Err())
				}
				if res.w.n != size || res.w.sum() != patternSum(7, size) {
					t.Errorf("slow download got %d bytes, not the file whole", res.w.n)
				}
				if s := d.Stats(t); s.Requests["get"] != (protocol.OpCount{OK: gets + 1}) {
					t.Errorf("get %+v, want %d ok and none failed", s.Requests["get"], gets+1)
				}
			})
		}
	}
}

// TestStalledReader starts a download and stops reading: the write
// deadline frees the only worker (after one or two idle periods: the one
// in which the client still took bytes may count as progress), the
// failed GET is counted, and the next client is served.
func TestStalledReader(t *testing.T) {
	const size = 8 << 20
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 1, "-idle-timeout", "1s")
		d.put(t, "big.bin", newPattern(11, size))

		conn := dialSmallWindow(t, d.Addr)
		conn.SetDeadline(time.Now().Add(time.Minute))
		if _, err := conn.Write([]byte("GET big.bin\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		first := make([]byte, 64<<10)
		if _, err := io.ReadFull(conn, first); err != nil {
			t.Fatalf("download did not begin: %v", err)
		}
		// Stop reading. The only worker is stuck in a write until its
		// deadline: the next client waits for it, within a bound.
		start := time.Now()
		if names, err := d.tryList(ctxTimeout(t, 20*time.Second)); err != nil || len(names) != 1 {
			t.Fatalf("LIST behind a stalled download: %v %v after %s", names, err, time.Since(start))
		}
		t.Logf("LIST served %s after the client stopped reading", time.Since(start).Round(time.Millisecond))
		s := d.Stats(t)
		if s.Requests["get"] != (protocol.OpCount{Failed: 1}) {
			t.Errorf("get %+v, want 1 failed", s.Requests["get"])
		}
		if !regexp.MustCompile(`msg="request failed".*cmd=GET name=big.bin.*i/o timeout`).MatchString(d.Log.String()) {
			t.Errorf("the stalled download is not logged as timed out:\n%s", d.Log)
		}
		// The stalled client gets what was buffered, then the end: a
		// truncated reply, never the terminator.
		rest, err := io.ReadAll(conn)
		if err != nil {
			t.Fatalf("stalled client: %v", err)
		}
		if got := int64(len(first) + len(rest)); got >= getReplySize("big.bin", size) || strings.HasSuffix(string(rest), protocol.Terminator) {
			t.Errorf("stalled client got %d bytes ending %q, want a truncated reply", got, rest[max(0, len(rest)-8):])
		}
	})
}

// floodRequest is one bad request of the flood and what its ERROR says.
