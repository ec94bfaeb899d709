package main

// Fault tests against the real binary, in both modes: a disk that fills
// up during an upload, a flood of idle connections under a low
// file-descriptor limit, clients that read a download slowly or not at
// all, and a flood of short bad requests.

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"fileserver/protocol"
	"fileserver/protocol/testkit"
)

// startUlimited is startDaemon with fileserverd run through sh after
// limits, shell commands such as "ulimit -n 64". sh execs fileserverd, so
// the daemon keeps the pid d.Cmd knows.
func startUlimited(t *testing.T, limits, mode string, workers int, extra ...string) *daemon {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("no sh to run fileserverd under %q: %v", limits, err)
	}
	if out, err := exec.Command(sh, "-c", limits).CombinedOutput(); err != nil {
		t.Skipf("sh cannot set %q here: %v %s", limits, err, out)
	}
	return newDaemon(t, testkit.ServerOptions{Mode: mode, Workers: workers, Args: extra, Setup: func(cmd *exec.Cmd) {
		cmd.Path = sh
		cmd.Args = append([]string{"sh", "-c", limits + ` && exec "$0" "$@"`, serverBin}, cmd.Args[1:]...)
	}})
}

// procLimit returns the soft limit named (as in /proc/<pid>/limits, e.g.
// "Max open files") of a process, -1 when unlimited.
func procLimit(t testing.TB, pid int, name string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		t.Skipf("cannot read process limits: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			f := strings.Fields(rest)
			if len(f) > 0 && f[0] == "unlimited" {
				return -1
			}
			if len(f) > 0 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n
				}
			}
		}
	}
	t.Fatalf("no %q in /proc/%d/limits:\n%s", name, pid, b)
	return 0
}

// treePids returns pid and its children: the daemon and, in process mode,
// its worker children.
func treePids(pid int) []int {
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == pid {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		// After the command: state, then the parent's pid.
		f := strings.Fields(s[i+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			pids = append(pids, p)
		}
	}
	return pids
}

// fdNumbers returns a process's open file descriptors, nil if it is gone.
func fdNumbers(pid int) []int {
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return nil
	}
	fds := make([]int, 0, len(entries))
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}

// fdCount counts a process's open file descriptors.
func fdCount(pid int) int { return len(fdNumbers(pid)) }

// rssBytes returns the resident memory of each process of the tree under
// pid.
func rssBytes(t testing.TB, pid int) map[int]int64 {
	t.Helper()
	rss := map[int]int64{}
	for _, p := range treePids(pid) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/status")
		if err != nil {
			t.Fatalf("process %d: %v", p, err)
		}
		m := regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no VmRSS in /proc/%d/status", p)
		}
		kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
		rss[p] = kb << 10
	}
	return rss
}

// setFileLimit sets the soft RLIMIT_NOFILE of another process (prlimit),
// keeping its hard limit.
func setFileLimit(t testing.TB, pid int, soft uint64) {
	t.Helper()
	var old syscall.Rlimit
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE, 0, uintptr(unsafe.Pointer(&old)), 0, 0); e != 0 {
		t.Skipf("prlimit: %v", e)
	}
	lim := syscall.Rlimit{Cur: soft, Max: old.Max}
	if _, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), syscall.RLIMIT_NOFILE, uintptr(unsafe.Pointer(&lim)), 0, 0, 0); e != 0 {
		t.Skipf("prlimit: %v", e)
	}
}

// fdSampler records the most file descriptors each process of a daemon's
// tree held, sampling every few milliseconds until stopped. Descriptors
// at or above the limit that a process already had when first seen are
// left out: they were inherited from whoever ran the test (a descriptor
// without close-on-exec passes through exec), and the limit only stops
// new ones.
type fdSampler struct {
	limit     int
	mu        sync.Mutex
	max       map[int]int
	inherited map[int][]int
	stop      chan struct{}
	done      chan struct{}
}

func sampleFDs(t testing.TB, pid, limit int) *fdSampler {
	s := &fdSampler{limit: limit, max: map[int]int{}, inherited: map[int][]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, p := range treePids(pid) {
				fds := fdNumbers(p)
				if fds == nil {
					continue
				}
				s.mu.Lock()
				inh, seen := s.inherited[p]
				if !seen {
					for _, fd := range fds {
						if fd >= limit {
							inh = append(inh, fd)
						}
					}
					s.inherited[p] = inh
				}
				n := 0
				for _, fd := range fds {
					if !slices.Contains(inh, fd) {
						n++
					}
				}
				s.max[p] = max(s.max[p], n)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(s.end)
	return s
}

// end stops sampling; it may be called more than once.
func (s *fdSampler) end() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// check fails t if any process held more descriptors than the limit.
func (s *fdSampler) check(t testing.TB) {
	t.Helper()
	s.end()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.max) == 0 {
		t.Fatal("no file descriptor samples")
	}
	for p, n := range s.max {
		if n > s.limit {
			t.Errorf("process %d held %d file descriptors, over its limit of %d", p, n, s.limit)
		}
	}
	t.Logf("most file descriptors held per process: %v (limit %d; inherited from the test's environment and not counted: %v)", s.max, s.limit, s.inherited)
}

// alive fails t if the daemon or any of its children died.
func (d *daemon) alive(t testing.TB, pids []int) {
	t.Helper()
	select {
	case <-d.Done():
		t.Fatalf("fileserverd exited: %v\n%s", d.Err(), d.Log)
	default:
	}
	for _, p := range pids {
		if !processAlive(p) {
			t.Errorf("process %d of the server died", p)
		}
	}
}

// TestDiskFullDuringUpload runs the server under a file-size limit (Go
// ignores SIGXFSZ, so writes past it fail with EFBIG, as on a full disk)
// and uploads a file over it on top of a previous version: an ERROR reply
// that names the storage failure, no partial or temporary file, the
// previous version intact, and the server, and the connection, go on.
func TestDiskFullDuringUpload(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
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
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
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
			deadline := time.Now().Add(10 * time.Second)
			for fdCount(pid) != baseFDs {
				if time.Now().After(deadline) {
					t.Fatalf("server holds %d file descriptors when idle, had %d at start", fdCount(pid), baseFDs)
				}
				time.Sleep(10 * time.Millisecond)
			}
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
				c, err := net.Dial("tcp", d.Addr)
				if err != nil {
					t.Fatal(err)
				}
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
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
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
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
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
}

// floodRequest is one bad request of the flood and what its ERROR says.
type floodRequest struct{ req, want string }

// floodRequestAt is the mix the flood cycles through, i numbering requests.
func floodRequestAt(i int) floodRequest {
	switch i % 10 {
	case 0:
		return floodRequest{fmt.Sprintf("FROB%d x\r\n\r\n", i), "unknown command"}
	case 1:
		return floodRequest{fmt.Sprintf(`{"command": %d}`+"\r\n\r\n", i), "must be a string"}
	case 2:
		return floodRequest{fmt.Sprintf("GET ../../etc/passwd%d\r\n\r\n", i), "invalid file name"}
	case 3:
		return floodRequest{fmt.Sprintf("UPLOAD f%d.bin QUJD!!!!QUJD\r\n\r\n", i), "invalid base64"}
	case 4:
		return floodRequest{"GET " + strings.Repeat("a", 5000) + "\r\n\r\n", "longer than 4096 bytes"}
	case 5:
		return floodRequest{fmt.Sprintf("UPLOAD .hidden%d QUJD\r\n\r\n", i), "must not start with '.'"}
	case 6:
		return floodRequest{fmt.Sprintf("UPLOAD d%d/x QUJD\r\n\r\n", i), "must not contain '/'"}
	case 7:
		return floodRequest{fmt.Sprintf("UPLOAD g%d.bin QUJDRA\r\n\r\n", i), "not a multiple of 4"}
	case 8:
		return floodRequest{fmt.Sprintf("DELETE a\x01%d\r\n\r\n", i), "control characters"}
	default:
		return floodRequest{"LIST extra\r\n\r\n", "takes 0 parameter"}
	}
}

// flood sends requests first to first+n-1 over conns connections, each
// writing its share (a run of the mix) in one go while reading the replies, and checks that
// every one was answered with the expected ERROR.
func flood(t *testing.T, addr string, first, n, conns int) {
	t.Helper()
	var wg sync.WaitGroup
	var bad atomic.Int64
	for c := range conns {
		wg.Go(func() {
			var reqs []floodRequest
			for i := first + c*n/conns; i < first+(c+1)*n/conns; i++ {
				reqs = append(reqs, floodRequestAt(i))
			}
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Error(err)
				return
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(time.Minute))
			var buf []byte
			for _, r := range reqs {
				buf = append(buf, r.req...)
			}
			werr := make(chan error, 1)
			go func() { _, err := conn.Write(buf); werr <- err }()
			br := bufio.NewReader(conn)
			for _, r := range reqs {
				reply := readReplyBytes(t, br)
				if !strings.HasPrefix(reply, `{"status": "ERROR", "data": "`) || !strings.HasSuffix(reply, "\"}\r\n\r\n") || !strings.Contains(reply, r.want) {
					if bad.Add(1) <= 5 {
						t.Errorf("request %q: reply %q, want an ERROR saying %q", sanitize(r.req), reply, r.want)
					}
					if !strings.HasSuffix(reply, protocol.Terminator) {
						break // the connection ended
					}
				}
			}
			if err := <-werr; err != nil {
				t.Errorf("sending requests: %v", err)
			}
		})
	}
	wg.Wait()
	if b := bad.Load(); b > 0 {
		t.Fatalf("%d of %d bad requests not answered as expected", b, n)
	}
}

// TestBadRequestFlood sends 10,000 short bad requests, pipelined over 20
// connections to 5 workers: every one is answered with ERROR, nothing is
// stored, and the memory of every server process stays flat from the
// first 1,000 requests to the 10,000th.
//
// The bound is per process. A Go heap fills up to its first collection
// goal (4 MiB) before it reuses anything, so a process that has served
// only a few hundred requests at the first reading (each of the 5
// children in process mode) grows by up to about 4.5 MiB afterwards
// without any leak; in thread mode, where one heap has seen all 1,000,
// the growth measures about 1 MiB. 8 MiB stays clear of both, and a leak
// of 1 KiB per request would grow the thread-mode server by 9 MiB.
func TestBadRequestFlood(t *testing.T) {
	const (
		total     = 10000
		warmup    = 1000
		conns     = 20
		maxGrowth = 8 << 20
	)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			d := startDaemon(t, mode, 5)
			pid := d.Cmd.Process.Pid
			flood(t, d.Addr, 0, warmup, conns)
			rss1 := rssBytes(t, pid)
			flood(t, d.Addr, warmup, total-warmup, conns)
			rss2 := rssBytes(t, pid)
			var sum1, sum2, most int64
			for p, r1 := range rss1 {
				r2, ok := rss2[p]
				if !ok {
					t.Fatalf("server process %d is gone", p)
				}
				sum1, sum2, most = sum1+r1, sum2+r2, max(most, r2-r1)
				if r2-r1 > maxGrowth {
					t.Errorf("server process %d grew from %.1f to %.1f MiB (RSS) between %d and %d bad requests, want under %d MiB more",
						p, mib(r1), mib(r2), warmup, total, maxGrowth>>20)
				}
			}
			t.Logf("server RSS after %d bad requests: %.1f MiB in %d processes; after %d: %.1f MiB; most growth of one process %.1f MiB",
				warmup, mib(sum1), len(rss1), total, mib(sum2), mib(most))
			d.alive(t, treePids(pid))
			if f := d.files(t); len(f) != 0 {
				t.Errorf("storage holds %v after the flood, want nothing", f)
			}
			s := d.Stats(t)
			var ok, failed uint64
			for _, oc := range s.Requests {
				ok += oc.OK
				failed += oc.Failed
			}
			if ok != 0 || failed != total || s.WorkerRestarts != 0 {
				t.Errorf("counters after the flood: %d ok, %d failed, %d restarts; want 0, %d, 0", ok, failed, s.WorkerRestarts, total)
			}
		})
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
