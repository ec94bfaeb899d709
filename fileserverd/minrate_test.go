package main

// Transfers below -min-rate, against the real binary in both modes: they
// are cut, counted and cleaned up, and the clients behind them are served
// meanwhile; transfers above it are not cut.

import (
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"fileserver/protocol"
)

// TestDrippersCutAtMinRate holds all 5 workers with uploads that drip a
// byte of base64 a second, at the default -min-rate 1KB/s over
// -min-rate-window 10s: each is cut within the window plus 2 s, with an
// ERROR, and counted; a LIST sent meanwhile waits in the waiting room
// (STATS counts it) and is answered within the window plus 2 s; no
// temporary file remains.
func TestDrippersCutAtMinRate(t *testing.T) {
	const (
		drippers = 5
		window   = 10 * time.Second
		bound    = window + 2*time.Second
	)
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, drippers)
		var wg sync.WaitGroup
		cut := make([]time.Duration, drippers)
		replies := make([]string, drippers)
		for i := range drippers {
			conn := dial(t, d.Addr)
			conn.SetDeadline(time.Now().Add(3 * bound))
			if _, err := conn.Write([]byte("UPLOAD slow" + string(rune('0'+i)) + " ")); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			stop := make(chan struct{})
			go func() { // one byte a second until the server hangs up
				for k := 0; ; k++ {
					if _, err := conn.Write([]byte{"QUJD"[k%4]}); err != nil {
						return
					}
					select {
					case <-stop:
						return
					case <-time.After(time.Second):
					}
				}
			}()
			wg.Go(func() {
				defer close(stop)
				b, _ := io.ReadAll(conn)
				cut[i], replies[i] = time.Since(start), string(b)
			})
		}
		// Every worker holds a dripper (the STATS connection is the
		// sixth active one): a new client waits in the room.
		d.waitStats(t, 5*time.Second, func(s *protocol.Stats) bool { return s.ActiveConnections >= drippers+1 })
		listed := make(chan time.Duration, 1)
		go func() {
			start := time.Now()
			c := d.Client(t)
			if _, err := c.List(ctxTimeout(t, 3*bound)); err != nil {
				t.Errorf("LIST beside the drippers: %v", err)
			}
			listed <- time.Since(start)
		}()
		d.waitStats(t, 5*time.Second, func(s *protocol.Stats) bool { return s.WaitingForWorker >= 1 })
		if el := <-listed; el > bound {
			t.Errorf("LIST beside %d drippers answered after %s, want within %s", drippers, el.Round(time.Millisecond), bound)
		} else {
			t.Logf("LIST beside %d drippers answered after %s", drippers, el.Round(time.Millisecond))
		}
		wg.Wait()
		for i := range drippers {
			if cut[i] > bound {
				t.Errorf("dripper %d cut after %s, want within %s", i, cut[i].Round(time.Millisecond), bound)
			}
			if !isError(replies[i]) || !strings.Contains(replies[i], "-min-rate") {
				t.Errorf("dripper %d got %q, want an ERROR naming -min-rate", i, replies[i])
			}
		}
		t.Logf("drippers cut after %v", cut)
		s := d.waitStats(t, 5*time.Second, func(s *protocol.Stats) bool { return s.Limits["min_rate"] >= drippers })
		if s.Requests["upload"].Failed != drippers {
			t.Errorf("upload %+v, want %d failed", s.Requests["upload"], drippers)
		}
		if temps, _ := filepath.Glob(filepath.Join(d.Dir, tempPrefix+"*")); len(temps) != 0 || len(d.files(t)) != 0 {
			t.Errorf("storage holds %v after the drippers were cut, want nothing", d.files(t))
		}
	})
}

// TestSlowDownloadCutAtMinRate reads a download at 200 bytes a second
// through a small receive window: once the kernel's buffers are full, the
// server waits on the client, which takes fewer bytes than -min-rate, so
// the download is cut within two windows plus 2 s, and counted. (The
// client only sees the end once it has read what its own buffer holds.)
func TestSlowDownloadCutAtMinRate(t *testing.T) {
	const window = 2 * time.Second
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 1, "-min-rate-window", window.String())
		d.put(t, "big.bin", newPattern(3, 16<<20))
		conn := dialSmallWindow(t, d.Addr)
		conn.SetDeadline(time.Now().Add(time.Minute))
		if _, err := conn.Write([]byte("GET big.bin\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			buf := make([]byte, 20)
			for {
				if _, err := conn.Read(buf); err != nil {
					return
				}
				select {
				case <-stop:
					return
				case <-time.After(100 * time.Millisecond):
				}
			}
		}()
		// The kernel's buffers, filled at once, are not the client's
		// pace; the cut comes once the server has waited a window on
		// the client (its last trickle of acknowledgements buys a
		// little more), after the time the buffers took to fill.
		bound := 2*window + 2*time.Second
		s := d.waitStats(t, 3*window+5*time.Second, func(s *protocol.Stats) bool { return s.Limits["min_rate"] >= 1 })
		if el := time.Since(start); el > bound {
			t.Errorf("slow download cut after %s, want within %s", el.Round(time.Millisecond), bound)
		} else {
			t.Logf("slow download cut after %s", el.Round(time.Millisecond))
		}
		if s.Requests["get"].Failed != 1 {
			t.Errorf("get %+v, want 1 failed", s.Requests["get"])
		}
	})
}

// TestSteadyUploadAboveMinRateNotCut uploads at twice -min-rate for five
// windows: it is not cut, and stored whole. (A download read slowly but
// steadily: TestSlowReader, at the default -min-rate.)
func TestSteadyUploadAboveMinRateNotCut(t *testing.T) {
	const rate, window = 4 << 10, time.Second
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2, "-min-rate", "4KB/s", "-min-rate-window", window.String())
		content := patternString(5, 30<<10)
		enc := strings.Join(wrapBase64(content, 76), "")
		steps := []step{{"UPLOAD steady.bin\r\n", 0}}
		for i := 0; i < len(enc); i += 2 * rate / 10 { // 2x the rate, 10 writes a second
			steps = append(steps, step{enc[i:min(i+2*rate/10, len(enc))], 100 * time.Millisecond})
		}
		steps = append(steps, step{"\r\n", 0})
		res := runScript(t, d.Addr, 1, time.Minute, steps...)
		if len(res.replies) != 1 {
			t.Fatalf("steady upload: no reply")
		}
		d.checkUploadReply(t, res.replies[0], "steady.bin", content, false)
	})
}
