package main

// Fault tests against the real binary, in both modes, at the limits of
// the machine: a disk that fills up during an upload, and a flood of idle
// connections under a low file-descriptor limit.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fileserver/protocol"
)

// TestDiskFullDuringUpload runs the server under a file-size limit (Go
// ignores SIGXFSZ, so writes past it fail with EFBIG, as on a full disk)
// and uploads a file over it on top of a previous version: an ERROR reply
// that names the storage failure, no partial or temporary file, the
// previous version intact, and the server, and the connection, go on.
func TestDiskFullDuringUpload(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		// 2048 blocks: 1 MiB with dash (512-byte blocks), 2 MiB with
		// bash; the test reads what it got.
		d := startUlimited(t, "ulimit -f 2048", mode, 2)
		pids := treePids(d.Cmd.Process.Pid)
		limit := procLimit(t, pids[0], "Max file size")
		if limit < 256<<10 || limit > 16<<20 {
			t.Fatalf("file size limit is %d bytes, want 256 KiB to 16 MiB", limit)
		}
		for _, p := range pids[1:] {
			if l := procLimit(t, p, "Max file size"); l != limit {
				t.Fatalf("child %d has file size limit %d, parent %d", p, l, limit)
			}
		}
		const name = "victim.bin"
		old := d.upload(t, name, newPattern(1, 100<<10))

		c := d.Client(t)
		big := 3*limit + 12345
		_, err := c.Upload(ctxTimeout(t, time.Minute), name, newPattern(2, big))
		var se *protocol.ServerError
		if !errors.As(err, &se) || se.Status != protocol.StatusError {
			t.Fatalf("upload of %d bytes over a %d-byte file size limit: %v, want an ERROR reply", big, limit, err)
		}
		if !strings.Contains(se.Reason, "file too large") || !strings.Contains(se.Reason, name) {
			t.Errorf("ERROR reply %q does not name the storage failure (file too large) and the file", se.Reason)
		}
		// The server skipped the rest of the upload: the connection goes on.
		if names, err := c.List(ctxTimeout(t, 10*time.Second)); err != nil || !slices.Equal(names, []string{name}) {
			t.Errorf("LIST on the same connection after the failed upload: %v %v, want [%s]", names, err, name)
		}
		c.Close()

		if f := d.files(t); !slices.Equal(f, []string{name}) {
			t.Errorf("storage holds %v after the failed upload, want only the previous %s", f, name)
		}
		if n, sum := d.get(t, name); n != old.Stored || sum != old.StoredSHA256 {
			t.Errorf("previous version changed by the failed upload: %d bytes %s, want %d bytes %s", n, sum, old.Stored, old.StoredSHA256)
		}
		if res := d.upload(t, "after.bin", newPattern(3, 10<<10)); res.Stored != 10<<10 {
			t.Errorf("upload after the failure stored %d bytes", res.Stored)
		}
		s := d.Stats(t)
		if s.Requests["upload"] != (protocol.OpCount{OK: 2, Failed: 1}) || s.WorkerRestarts != 0 {
			t.Errorf("upload %+v, restarts %d; want 2 ok, 1 failed, no restart", s.Requests["upload"], s.WorkerRestarts)
		}
		d.alive(t, pids)
		if !regexp.MustCompile(`msg="request failed".*cmd=UPLOAD name=victim.bin.*file too large`).MatchString(d.Log.String()) {
			t.Errorf("the failed upload is not logged:\n%s", d.Log)
		}
	})
}

// TestIdleConnectionFlood opens 200 connections that send nothing against
// 5 workers, with the server under a low file-descriptor limit: the
// waiting room's head timeout closes them, every idle client is told, a legitimate client is
// served within a bound, and no process of the server ever holds more
// descriptors than its limit. In thread mode it then lowers the limit
// below what 5 connections need: the waiting room accepts only what the
// limit leaves room for, no accept fails, and the server keeps serving.
func TestIdleConnectionFlood(t *testing.T) {
	const (
		idleConns = 200
		fdLimit   = 64
		// 200 connections, 5 at a time, each held for the idle timeout:
		// 40 rounds. 250ms keeps that near 10 s; the legitimate client,
		// queued behind them all, gets a minute.
		idle  = 250 * time.Millisecond
		bound = time.Minute
	)
	forModes(t, func(t *testing.T, mode string) {
		if testing.Short() && mode == "process" {
			t.Skip("-short: thread mode only (each run takes about 10 s)")
		}
		d := startUlimited(t, "ulimit -n "+strconv.Itoa(fdLimit), mode, 5, "-idle-timeout", idle.String(), "-head-timeout", idle.String())
		pid := d.Cmd.Process.Pid
		pids := treePids(pid)
		if len(pids) != map[string]int{"thread": 1, "process": 6}[mode] {
			t.Fatalf("server processes %v", pids)
		}
		for _, p := range pids {
			if l := procLimit(t, p, "Max open files"); l != fdLimit {
				t.Fatalf("process %d has a limit of %d open files, want %d", p, l, fdLimit)
			}
		}
		baseFDs := fdCount(pid)
		fds := sampleFDs(t, pid, fdLimit)

		conns := make([]net.Conn, 0, idleConns)
		t.Cleanup(func() {
			for _, c := range conns {
				c.Close()
			}
		})
		for range idleConns {
			c, err := net.Dial("tcp", d.Addr)
			if err != nil {
				t.Fatalf("idle connection %d: %v", len(conns)+1, err)
			}
			conns = append(conns, c)
		}
		start := time.Now()
		c, err := protocol.Dial(ctxTimeout(t, 10*time.Second), d.Addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		if _, err := c.List(ctxTimeout(t, bound)); err != nil {
			t.Fatalf("LIST behind %d idle connections: %v after %s", idleConns, err, time.Since(start).Round(time.Millisecond))
		}
		t.Logf("LIST behind %d idle connections served after %s", idleConns, time.Since(start).Round(time.Millisecond))
		c.Close()

		// Every idle client was told why, and closed.
		for i, c := range conns {
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			b, err := io.ReadAll(c)
			// The waiting room closes them by -head-timeout.
			if err != nil || !strings.HasPrefix(string(b), `{"status": "ERROR"`) || !strings.Contains(string(b), "-head-timeout") {
				t.Fatalf("idle connection %d got %q, %v; want a time-out ERROR, then the end", i+1, b, err)
			}
		}
		d.alive(t, pids)
		if strings.Contains(d.Log.String(), `msg="accept failed"`) {
			t.Errorf("accept failed under a limit of %d descriptors that 5 workers cannot reach:\n%s", fdLimit, d.Log)
		}
		fds.check(t)
		s := d.Stats(t)
		if s.Connections < idleConns+1 || s.WorkerRestarts != 0 {
			t.Errorf("connections %d, restarts %d; want at least %d and 0", s.Connections, s.WorkerRestarts, idleConns+1)
		}
		if mode != "thread" {
			return
		}

		// Now too few descriptors for 5 connections at once.
		waitUntil(t, func() bool { return fdCount(pid) == baseFDs }, func() string {
			return fmt.Sprintf("server holds %d file descriptors when idle, had %d at start", fdCount(pid), baseFDs)
		})
		// Room for 3 more: the kernel hands out the lowest free
		// numbers, below the limit.
		tight := 3
		for _, fd := range fdNumbers(pid) {
			if fd < fdLimit {
				tight++
			}
		}
		setFileLimit(t, pid, uint64(tight))
		fds = sampleFDs(t, pid, tight)
		for range 20 {
			c := dial(t, d.Addr)
			conns = append(conns, c)
		}
		failed := 0
		start = time.Now()
		for {
			names, err := d.tryList(ctxTimeout(t, bound))
			if err == nil {
				if len(names) != 0 {
					t.Errorf("LIST %v, want nothing", names)
				}
				break
			}
			// LIST needs a descriptor of its own, for the directory:
			// being told there is none is fine; being dropped is not.
			var se *protocol.ServerError
			if !errors.As(err, &se) || !strings.Contains(se.Reason, "too many open files") || time.Since(start) > bound {
				t.Fatalf("LIST with %d file descriptors: %v (after %d ERROR replies)", tight, err, failed)
			}
			failed++
			time.Sleep(10 * time.Millisecond)
		}
		t.Logf("LIST with %d file descriptors served after %s and %d 'too many open files' replies", tight, time.Since(start).Round(time.Millisecond), failed)
		// The waiting room accepts only what the descriptor limit
		// leaves room for, and leaves the rest in the listen queue:
		// no accept fails for want of descriptors.
		if strings.Contains(d.Log.String(), `msg="accept failed"`) {
			t.Errorf("accept failed under %d file descriptors:\n%s", tight, d.Log)
		}
		d.alive(t, pids)
		fds.check(t)

		setFileLimit(t, pid, fdLimit)
		for _, c := range conns {
			c.Close()
		}
		if names := d.list(t); len(names) != 0 {
			t.Errorf("LIST %v, want nothing", names)
		}
	})
}

// tryList is LIST on a new connection, returning any error.
func (d *daemon) tryList(ctx context.Context) ([]string, error) {
	c, err := protocol.Dial(ctx, d.Addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.List(ctx)
}

// dialSmallWindow connects with a small receive buffer, so that a client
// that does not read stalls the server's writes soon instead of after the
// kernel has absorbed megabytes. Cleanup closes the connection.
