package main

// Both modes, the stricter reading: encoded traversal and NUL refused,
// 2000-deep JSON answered, SIGTERM with 50 uploads in flight, clients
// racing on one name.

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
)

// TestReviewRefusalsHold sends what the review tried: traversal in JSON
// escapes, NUL in text and JSON names, and a 2000-deep JSON value beside
// a LIST. Each is refused (or, the deep value, skipped) with a reply, and
// nothing is stored.
func TestReviewRefusalsHold(t *testing.T) {
	deep := strings.Repeat("[", 2000) + strings.Repeat("]", 2000)
	cases := []struct {
		send, want string
	}{
		{`{"command": "upload", "params": ["\u002e\u002e/x", "QUJD"]}`, "invalid file name"},
		{`{"command": "upload", "params": ["\u002e\u002e\u005cx", "QUJD"]}`, "invalid file name"},
		{`{"command": "upload", "filename": "a\u0000b", "content": "QUJD"}`, "control characters"},
		{"UPLOAD a\x00b QUJD\r\n\r\n", "control characters"},
		{"GET a%2f..%2fx\r\n\r\n", "not found"}, // no decoding of %: a name like any other
		{`{"command": "list", "x": ` + deep + `}`, `"status": "OK", "data": [`},
	}
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 1)
		for _, tc := range cases {
			res := runScript(t, d.Addr, 1, 10*time.Second, step{tc.send, 0})
			if len(res.replies) != 1 || !strings.Contains(res.replies[0], tc.want) {
				t.Errorf("%.60q: replies %.200q, want one saying %s", tc.send, res.replies, tc.want)
			}
		}
		if f := d.files(t); len(f) != 0 {
			t.Errorf("storage holds %v, want nothing", f)
		}
	})
}

// slowSource yields n bytes of newPattern(seed, n) in pieces, pausing
// between them, so that an upload stays in flight for a while; after
// signal bytes it calls fn once.
type slowSource struct {
	p      *pattern
	signal int64
	n      int64
	fn     func()
	once   sync.Once
}

func (s *slowSource) Read(b []byte) (int, error) {
	time.Sleep(20 * time.Millisecond)
	n, err := s.p.Read(b[:min(len(b), 16<<10)])
	if s.n += int64(n); s.n >= s.signal {
		s.once.Do(s.fn)
	}
	return n, err
}

// TestSIGTERMWithFiftyUploadsInFlight sends SIGTERM while 50 uploads are
// in flight: every one that was acknowledged is stored whole (its SHA-256
// matches), nothing half-written is left, and the server exits 0.
func TestSIGTERMWithFiftyUploadsInFlight(t *testing.T) {
	if testing.Short() {
		t.Skip("50 x 1 MB slow uploads: not in -short")
	}
	const uploads, size = 50, 1 << 20
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, uploads, "-shutdown-timeout", "60s")
		var wg sync.WaitGroup
		var started atomic.Int64
		allStarted := make(chan struct{})
		acked := make([]bool, uploads)
		for i := range uploads {
			wg.Go(func() {
				c := d.Client(t)
				defer c.Close()
				src := &slowSource{p: newPattern(uint64(100+i), size), signal: 256 << 10, fn: func() {
					if started.Add(1) == uploads {
						close(allStarted)
					}
				}}
				res, err := c.Upload(ctxTimeout(t, time.Minute), fmt.Sprintf("f%02d", i), src)
				if err == nil && res.StoredSHA256 == patternSum(uint64(100+i), size) {
					acked[i] = true
				}
			})
		}
		select {
		case <-allStarted:
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d uploads under way after 30 s", started.Load(), uploads)
		}
		d.Cmd.Process.Signal(syscall.SIGTERM)
		wg.Wait()
		d.exitsZero(t, "SIGTERM", 30*time.Second)
		n := 0
		for i, ok := range acked {
			got, exists := d.stored(t, fmt.Sprintf("f%02d", i))
			switch {
			case ok:
				n++
				if sha256Hex([]byte(got)) != patternSum(uint64(100+i), size) {
					t.Errorf("f%02d acknowledged, but the file holds %d other bytes", i, len(got))
				}
			case exists && sha256Hex([]byte(got)) != patternSum(uint64(100+i), size):
				t.Errorf("f%02d not acknowledged, and a file of %d other bytes is stored", i, len(got))
			}
		}
		for _, f := range d.files(t) {
			if strings.HasPrefix(f, tempPrefix) {
				t.Errorf("temporary file %s left", f)
			}
		}
		t.Logf("%d of %d uploads in flight at SIGTERM acknowledged and stored whole", n, uploads)
	})
}

// TestRacingClientsOnOneName has 20 clients upload, download and delete
// one name for 5 s: every download is one uploaded version, whole, and so
// is the file left at the end, if any; no temporary file remains.
func TestRacingClientsOnOneName(t *testing.T) {
	if testing.Short() {
		t.Skip("20 clients for 5 s: not in -short")
	}
	const clients, size = 20, 64 << 10
	versions := map[string]bool{}
	for v := range clients {
		versions[patternSum(uint64(v), size)] = true
	}
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 5)
		var mixed, ops atomic.Int64
		stop := time.Now().Add(5 * time.Second)
		var wg sync.WaitGroup
		for v := range clients {
			wg.Go(func() {
				c := d.Client(t)
				defer c.Close()
				for k := 0; time.Now().Before(stop); k++ {
					ctx := ctxTimeout(t, 30*time.Second)
					ops.Add(1)
					switch k % 3 {
					case 0:
						if res, err := c.Upload(ctx, "race.bin", newPattern(uint64(v), size)); err != nil || !versions[res.StoredSHA256] {
							t.Errorf("upload of version %d: %+v, %v", v, res, err)
						}
					case 1:
						w := newHashWriter()
						if _, err := c.Get(ctx, "race.bin", w); err == nil && !versions[w.sum()] {
							mixed.Add(1)
						}
					case 2:
						if err := c.Delete(ctx, "race.bin"); err != nil {
							if se := (*protocol.ServerError)(nil); !errors.As(err, &se) {
								t.Errorf("DELETE: %v", err) // not found is fine
							}
						}
					}
				}
			})
		}
		wg.Wait()
		if n := mixed.Load(); n != 0 {
			t.Errorf("%d downloads were no uploaded version", n)
		}
		if got, exists := d.stored(t, "race.bin"); exists && !versions[sha256Hex([]byte(got))] {
			t.Errorf("the file left is no uploaded version (%d bytes)", len(got))
		}
		for _, f := range d.files(t) {
			if strings.HasPrefix(f, tempPrefix) {
				t.Errorf("temporary file %s left", f)
			}
		}
		t.Logf("%d operations by %d clients", ops.Load(), clients)
	})
}
