package main

import (
	"bufio"
	"encoding/base64"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fileserver/protocol"
)

// treeHWM sums the peak resident set (VmHWM) of the daemon and its
// children: the server's whole memory, in either mode.
func treeHWM(t testing.TB, pid int) int64 {
	t.Helper()
	var sum int64
	for _, p := range treePids(pid) {
		sum += hwmBytes(p)
	}
	return sum
}

// checkPeakRSS checks that the server's whole peak RSS stayed under 64
// MiB beside the connections named by beside.
func checkPeakRSS(t *testing.T, d *daemon, beside string) {
	t.Helper()
	if hwm := treeHWM(t, d.Cmd.Process.Pid); hwm > 64<<20 {
		t.Errorf("server peak RSS %.1f MiB beside %s, want under 64 MiB", mib(hwm), beside)
	} else {
		t.Logf("server peak RSS %.1f MiB beside %s", mib(hwm), beside)
	}
}

// dialMany opens n connections to addr, closed at cleanup.
func dialMany(t testing.TB, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	return conns
}

// wellBehaved checks that a client beside the hostile connections is
// served at once: LIST within 1 s, and a 10 MB upload and download that
// verify.
func wellBehaved(t *testing.T, d *daemon, beside string) {
	t.Helper()
	start := time.Now()
	d.list(t)
	if el := time.Since(start); el > time.Second {
		t.Errorf("LIST beside %s answered after %s, want within 1 s", beside, el.Round(time.Millisecond))
	} else {
		t.Logf("LIST beside %s answered after %s", beside, el.Round(time.Millisecond))
	}
	const size = 10 << 20
	if res := d.upload(t, "ten.bin", newPattern(4, size)); res.Stored != size || res.StoredSHA256 != patternSum(4, size) {
		t.Errorf("10 MB upload beside %s stored %d bytes %s", beside, res.Stored, res.StoredSHA256)
	}
	if n, sum := d.get(t, "ten.bin"); n != size || sum != patternSum(4, size) {
		t.Errorf("10 MB download beside %s got %d bytes %s", beside, n, sum)
	}
}

// expectClosedBy reads what each connection gets until the server closes
// it: an ERROR naming flag, or nothing at all when flag is empty.
func expectClosedBy(t *testing.T, conns []net.Conn, flag string) {
	t.Helper()
	for i, c := range conns {
		c.SetReadDeadline(time.Now().Add(30 * time.Second))
		b, err := io.ReadAll(c)
		switch {
		case err != nil:
			t.Fatalf("connection %d: %v after %q, want the server to close it", i+1, err, b)
		case flag == "" && len(b) != 0:
			t.Fatalf("connection %d got %q, want to be closed without a word", i+1, b)
		case flag != "" && (!strings.HasPrefix(string(b), `{"status": "ERROR"`) || !strings.Contains(string(b), flag)):
			t.Fatalf("connection %d got %q, want an ERROR naming %s", i+1, b, flag)
		}
	}
}

// TestSilentConnectionsWaitOutsideWorkers opens 1,000 connections that
// send nothing against 5 workers: they wait in the waiting room, not in
// the workers, so a real client is served at once, the server stays small,
// and the head timeout closes them, each told why and counted.
func TestSilentConnectionsWaitOutsideWorkers(t *testing.T) {
	const silent = 1000
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 5, "-head-timeout", "5s")
		conns := dialMany(t, d.Addr, silent)
		d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.WaitingConnections >= silent })
		wellBehaved(t, d, strconv.Itoa(silent)+" silent connections")
		checkPeakRSS(t, d, strconv.Itoa(silent)+" silent connections")
		expectClosedBy(t, conns, "-head-timeout")
		if s := d.Stats(t); s.Limits["head_timeout"] < silent || s.WaitingConnections != 0 {
			t.Errorf("STATS counts %d head time-outs and %d waiting, want at least %d and 0", s.Limits["head_timeout"], s.WaitingConnections, silent)
		}
	})
}

// TestSlowlorisWaitsOutsideWorkers sends heads a byte at a time, one
// every 2 s, on 100 connections against 5 workers: they wait in the
// waiting room, and -head-timeout closes them.
func TestSlowlorisWaitsOutsideWorkers(t *testing.T) {
	const slow = 100
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 5, "-head-timeout", "3s")
		conns := dialMany(t, d.Addr, slow)
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Go(func() {
				// At most 4 bytes: the head timeout ends it first.
				for _, b := range []byte("GET ") {
					if _, err := c.Write([]byte{b}); err != nil {
						return
					}
					time.Sleep(2 * time.Second)
				}
			})
		}
		d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.WaitingConnections >= slow })
		wellBehaved(t, d, strconv.Itoa(slow)+" slowloris connections")
		checkPeakRSS(t, d, strconv.Itoa(slow)+" slowloris connections")
		expectClosedBy(t, conns, "-head-timeout")
		wg.Wait()
		if s := d.Stats(t); s.Limits["head_timeout"] < slow {
			t.Errorf("STATS counts %d head time-outs, want at least %d", s.Limits["head_timeout"], slow)
		}
	})
}

// TestKeptAliveConnectionsWaitOutsideWorkers leaves 200 connections idle
// after a request each: a new client is served at once, and
// -keepalive-timeout closes them without a word (an ERROR would be read
// as the reply to their next request).
func TestKeptAliveConnectionsWaitOutsideWorkers(t *testing.T) {
	const idle = 200
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 5, "-keepalive-timeout", "3s")
		conns := dialMany(t, d.Addr, idle)
		for i, c := range conns {
			c.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := c.Write([]byte("LIST\r\n\r\n")); err != nil {
				t.Fatal(err)
			}
			if reply := readReplyBytes(t, bufio.NewReader(c)); !strings.HasPrefix(reply, `{"status": "OK"`) {
				t.Fatalf("connection %d: LIST got %q", i+1, reply)
			}
		}
		d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.WaitingConnections >= idle })
		wellBehaved(t, d, strconv.Itoa(idle)+" kept-alive connections")
		expectClosedBy(t, conns, "")
		if s := d.Stats(t); s.Limits["keepalive_timeout"] < idle {
			t.Errorf("STATS counts %d keep-alive time-outs, want at least %d", s.Limits["keepalive_timeout"], idle)
		}
	})
}

// TestSlowWriterFinishes uploads 1 MB at 32 KiB every 100 ms: a slow but
// steady client is never cut by any time-out, even ones shorter than the
// whole transfer.
func TestSlowWriterFinishes(t *testing.T) {
	const size = 1 << 20
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2, "-head-timeout", "1s", "-idle-timeout", "1s")
		conn := dial(t, d.Addr)
		data, _ := io.ReadAll(newPattern(6, size))
		req := "UPLOAD slow.bin " + base64.StdEncoding.EncodeToString(data) + "\r\n\r\n"
		for len(req) > 0 {
			n := min(len(req), 32<<10)
			if _, err := conn.Write([]byte(req[:n])); err != nil {
				t.Fatalf("slow upload: %v", err)
			}
			req = req[n:]
			time.Sleep(100 * time.Millisecond)
		}
		conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		reply := readReplyBytes(t, bufio.NewReader(conn))
		if !strings.Contains(reply, `"size": 1048576`) || !strings.Contains(reply, patternSum(6, size)) {
			t.Fatalf("slow upload reply %q, want the size and SHA-256 of what was sent", reply)
		}
	})
}

// TestConnectionCaps checks -max-conns and -max-conns-per-ip: past a cap a
// new connection gets an ERROR naming the flag, is closed, and is counted.
func TestConnectionCaps(t *testing.T) {
	for _, mode := range modes {
		for _, tc := range []struct {
			flag, limit string
		}{{"-max-conns", "max_conns"}, {"-max-conns-per-ip", "max_conns_per_ip"}} {
			t.Run(mode+tc.flag, func(t *testing.T) {
				t.Parallel()
				d := startDaemon(t, mode, 2, tc.flag, "10")
				// Ten connections that made a request and wait for the next:
				// the server holds them all once each had its reply.
				held := dialMany(t, d.Addr, 10)
				for i, c := range held {
					c.SetDeadline(time.Now().Add(10 * time.Second))
					c.Write([]byte("LIST\r\n"))
					if reply := readReplyBytes(t, bufio.NewReader(c)); !strings.HasPrefix(reply, `{"status": "OK"`) {
						t.Fatalf("connection %d: LIST got %q", i+1, reply)
					}
				}
				expectClosedBy(t, dialMany(t, d.Addr, 1), tc.flag)
				for _, c := range held {
					c.Close()
				}
				if s := d.statsPastCap(t, func(*protocol.Stats) bool { return true }); s.Limits[tc.limit] < 1 {
					t.Errorf("STATS counts %d refusals by %s, want at least 1", s.Limits[tc.limit], tc.flag)
				}
			})
		}
	}
}

// TestConnectionsWaitInRoomWhileWorkersBusy holds the only worker with a
// steady upload and sends LISTs on new connections: they are accepted and
// wait in the waiting room for the worker (STATS, which the room answers
// itself, counts them as waiting_for_worker), -max-conns counts them and
// refuses the connections past it with an ERROR, and each LIST is answered
// once the worker is free.
func TestConnectionsWaitInRoomWhileWorkersBusy(t *testing.T) {
	const queued, maxConns = 5, 8
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 1, "-max-conns", strconv.Itoa(maxConns))
		holder := dial(t, d.Addr)
		holder.SetDeadline(time.Now().Add(time.Minute))
		release := make(chan struct{})
		held := make(chan error, 1)
		go func() { // 4 KB/s, above -min-rate, until released
			if _, err := holder.Write([]byte("UPLOAD hold.bin ")); err != nil {
				held <- err
				return
			}
			for {
				select {
				case <-release:
					_, err := holder.Write([]byte("\r\n\r\n"))
					held <- err
					return
				case <-time.After(100 * time.Millisecond):
					if _, err := holder.Write([]byte(strings.Repeat("QUJD", 100))); err != nil {
						held <- err
						return
					}
				}
			}
		}()
		d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.ActiveConnections >= 2 })
		lists := dialMany(t, d.Addr, queued)
		for _, c := range lists {
			c.SetDeadline(time.Now().Add(time.Minute))
			if _, err := c.Write([]byte("LIST\r\n")); err != nil {
				t.Fatal(err)
			}
		}
		s := d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.WaitingForWorker >= queued })
		if s.WaitingConnections < queued {
			t.Errorf("waiting_connections %d beside %d waiting for the worker", s.WaitingConnections, s.WaitingForWorker)
		}
		// Past -max-conns (the holder, the LISTs and a STATS connection
		// count), a new connection is refused at once.
		refused := false
		for range maxConns - queued + 1 {
			// Nothing sent before the answer: bytes the server never
			// read would turn its close into a reset, losing the ERROR.
			c := dialMany(t, d.Addr, 1)[0]
			c.SetReadDeadline(time.Now().Add(time.Second))
			b, err := io.ReadAll(c)
			if err == nil && strings.Contains(string(b), "-max-conns") {
				refused = true
				break
			}
			c.SetDeadline(time.Now().Add(time.Minute))
			if _, err := c.Write([]byte("LIST\r\n")); err != nil {
				t.Fatal(err)
			}
			lists = append(lists, c) // accepted: it waits for the worker too
		}
		if !refused {
			t.Errorf("no connection refused past -max-conns %d while the worker was busy", maxConns)
		}
		close(release)
		must(t, <-held)
		if r := readReplyBytes(t, bufio.NewReader(holder)); !strings.Contains(r, `"size": 300`) && !isOK(r) {
			t.Errorf("the held upload got %q", r)
		}
		for i, c := range lists {
			if r := readReplyBytes(t, bufio.NewReader(c)); !strings.HasPrefix(r, `{"status": "OK", "data": [`) {
				t.Errorf("queued LIST %d got %q\n%s", i+1, r, d.Log)
			}
			c.Close()
		}
		s = d.statsPastCap(t, func(s *protocol.Stats) bool { return s.WaitingForWorker == 0 })
		if s.Limits["max_conns"] < 1 {
			t.Errorf("max_conns refusals %d, want at least 1", s.Limits["max_conns"])
		}
	})
}

// dial opens a connection to addr, closed when the test ends.
func dial(t testing.TB, addr string) net.Conn {
	t.Helper()
	return dialMany(t, addr, 1)[0]
}

// statsPastCap is waitStats, for 10 s, for a test that held connections
// up to a cap and closed them: until the server has seen them close, a
// STATS from the same address may be refused too, and is tried again.
func (d *daemon) statsPastCap(t testing.TB, cond func(*protocol.Stats) bool) *protocol.Stats {
	t.Helper()
	var s *protocol.Stats
	var err error
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		var c *protocol.Client
		if c, err = protocol.Dial(ctxTimeout(t, time.Second), d.Addr); err == nil {
			s, err = c.Stats(ctxTimeout(t, time.Second))
			c.Close()
			if err == nil && cond(s) {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no STATS in the expected state within 10 s of closing the held connections: %v; last: %+v", err, s)
		}
	}
}
