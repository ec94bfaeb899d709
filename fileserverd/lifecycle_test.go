package main

import (
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/testkit"
)

// TestChildKilledIsReplaced kills a worker child with SIGKILL in the middle
// of a download: that download fails, the child is replaced, the failure
// and the restart are counted, and the server keeps serving.
func TestChildKilledIsReplaced(t *testing.T) {
	d := startDaemon(t, "process", 2)
	d.upload(t, "big.bin", newPattern(5, 32<<20))
	c := d.Client(t)
	var killed int
	w := &overwriteOnFirstWrite{hashWriter: newHashWriter(), fn: func() {
		// The pid serving this download: the one whose slot is busy is not
		// visible from outside, so kill every child; the other is idle.
		for _, pid := range workerPIDs(t, d, 2) {
			syscall.Kill(pid, syscall.SIGKILL)
			killed++
		}
	}}
	if _, err := c.Get(ctxTimeout(t, 30*time.Second), "big.bin", w); err == nil {
		t.Fatal("download survived the kill of its worker")
	}
	c.Close()
	if _, err := d.Log.WaitForCount(testkit.WorkerStartedRE, 2+killed, 10*time.Second); err != nil {
		t.Fatalf("children not replaced: %v\n%s", err, d.Log)
	}
	for range 4 {
		if n, _ := d.get(t, "big.bin"); n != 32<<20 {
			t.Fatalf("download after restart: %d bytes", n)
		}
	}
	s := d.Stats(t)
	if s.WorkerRestarts != uint64(killed) || s.Requests["get"].Failed != 1 || s.Requests["get"].OK != 4 {
		t.Errorf("after killing %d children: restarts %d, get %+v; want %d restarts, 4 ok and 1 failed", killed, s.WorkerRestarts, s.Requests["get"], killed)
	}
	if !strings.Contains(d.Log.String(), "interrupted_request=true") {
		t.Errorf("the log does not say a request was interrupted:\n%s", d.Log)
	}
	// The exit is worded as os.ProcessState words it.
	if !strings.Contains(d.Log.String(), `status="signal: killed"`) {
		t.Errorf("the log does not say the child was killed by a signal:\n%s", d.Log)
	}
}

// TestOneKillIsNotACrashLoop kills a worker child with SIGKILL right after
// it started, once: it is replaced at once, and the log does not call it
// a crash loop. Its replacement, killed right after its start too, has
// died soon after two starts in a row: that backs off, and the log says
// so.
func TestOneKillIsNotACrashLoop(t *testing.T) {
	d := startDaemon(t, "process", 2)
	// kill kills the newest child, once n children have started, right away.
	kill := func(n int) {
		t.Helper()
		syscall.Kill(workerPIDs(t, d, n)[n-1], syscall.SIGKILL)
	}
	kill(2)
	kill(3) // the replacement
	diedRE, backoff := regexp.MustCompile(`msg="worker died"`), regexp.MustCompile(`restarting after backoff`)
	if _, err := d.Log.WaitForCount(diedRE, 2, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Log.WaitFor(backoff, 10*time.Second); err != nil {
		t.Errorf("a child that died soon after two starts in a row is not said to keep dying: %v\n%s", err, d.Log)
	}
	log := d.Log.String()
	died := diedRE.FindAllStringIndex(log, -1)
	if at := backoff.FindStringIndex(log); at != nil && at[0] < died[1][0] {
		t.Errorf("one kill -9 logged as a crash loop:\n%s", log)
	}
	d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.WorkerRestarts == 2 })
	if _, err := d.Log.WaitForCount(testkit.WorkerStartedRE, 4, 5*time.Second); err != nil {
		t.Fatalf("the killed children were not replaced: %v", err)
	}
	d.list(t)
}

// TestSIGTERMDuringTransfer sends SIGTERM while a download is in flight:
// the download completes whole, new connections are refused, and the
// server exits 0.
func TestSIGTERMDuringTransfer(t *testing.T) {
	const size = 24 << 20
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2)
		d.upload(t, "big.bin", newPattern(9, size))
		c := d.Client(t)
		w := &overwriteOnFirstWrite{hashWriter: newHashWriter(), fn: func() {
			d.Cmd.Process.Signal(syscall.SIGTERM)
			if _, err := d.Log.WaitFor(regexp.MustCompile(`msg="shutting down"`), 10*time.Second); err != nil {
				t.Error(err)
			}
		}}
		if _, err := c.Get(ctxTimeout(t, time.Minute), "big.bin", w); err != nil {
			t.Fatalf("download in flight at SIGTERM: %v", err)
		}
		if w.n != size || w.sum() != patternSum(9, size) {
			t.Errorf("download in flight at SIGTERM got %d bytes, not the file whole", w.n)
		}
		d.exitsZero(t, "SIGTERM", 15*time.Second)
		if _, err := protocol.Dial(ctxTimeout(t, 5*time.Second), d.Addr); err == nil {
			t.Error("server accepts connections after it exited")
		}
		if !regexp.MustCompile(`msg=stopped .*get_ok=1 get_failed=0 upload_ok=1`).MatchString(d.Log.String()) {
			t.Errorf("final counters not logged:\n%s", d.Log)
		}
	})
}

// TestCleanStopLogsNoWarning: a SIGTERM with nothing in flight is a clean
// stop, logged at info only, in both modes (under systemd, every restart
// is one, and journalctl -p warning must stay empty). A process-mode
// parent closes its links to the children before it signals them: the
// children must not take that EOF for a fault.
func TestCleanStopLogsNoWarning(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 3)
		d.list(t)
		if err := d.Stop(10 * time.Second); err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, d.Log)
		}
		for _, l := range strings.Split(d.Log.String(), "\n") {
			if strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
				t.Errorf("a clean stop logged: %s", l)
			}
		}
	})
}

// TestStatsCountAllWorkers checks STATS sums the requests served by every
// worker, in process mode across children.
func TestStatsCountAllWorkers(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 3)
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() { d.upload(t, "f"+strconv.Itoa(i), newPattern(uint64(i), 1000)) })
		}
		wg.Wait()
		d.get(t, "f1")
		exchange(t, d.Addr, []byte("GET missing\r\n\r\n"), false)
		s := d.Stats(t)
		if s.Mode != mode || s.Workers != 3 {
			t.Errorf("mode %q workers %d, want %q 3", s.Mode, s.Workers, mode)
		}
		want := map[string]protocol.OpCount{"upload": {OK: 6}, "get": {OK: 1, Failed: 1}, "stats": {}}
		for op, oc := range want {
			if s.Requests[op] != oc {
				t.Errorf("%s: %+v, want %+v", op, s.Requests[op], oc)
			}
		}
		if s.Connections != 9 || s.ActiveConnections < 1 || s.BytesIn < 6000 {
			t.Errorf("connections %d active %d bytes_in %d", s.Connections, s.ActiveConnections, s.BytesIn)
		}
	})
}

// TestCommandLine checks -version, -h and flag errors: what was asked
// for (the version, the usage) goes to stdout with exit 0, errors to
// stderr with exit 2 and nothing on stdout.
func TestCommandLine(t *testing.T) {
	cases := []struct {
		args       []string
		wantCode   int
		wantStdout string // "" : stdout must be empty
		wantStderr string // "" : stderr must be empty
	}{
		{[]string{"-version"}, 0, "fileserverd dev go1.", ""},
		{[]string{"-h"}, 0, "Examples:", ""},
		{[]string{"-help"}, 0, "-max-conns-per-ip", ""},
		{[]string{"-no-such-flag"}, 2, "", "flag provided but not defined: -no-such-flag"},
		{[]string{"-mode", "fork"}, 2, "", `-mode "fork": want thread or process`},
		{[]string{"-workers", "0"}, 2, "", "-workers 0"},
		{[]string{"-max-size", "lots"}, 2, "", `invalid size "lots"`},
		{[]string{"extra"}, 2, "", "unexpected argument"},
		{[]string{"-addr", "127.0.0.1:notaport", "-dir", t.TempDir()}, 1, "", "fileserverd: listen tcp"},
	}
	for _, tc := range cases {
		var stdout, stderr strings.Builder
		cmd := exec.Command(serverBin, tc.args...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		for _, s := range []struct{ name, got, want string }{{"stdout", stdout.String(), tc.wantStdout}, {"stderr", stderr.String(), tc.wantStderr}} {
			if (s.want == "" && s.got != "") || !strings.Contains(s.got, s.want) {
				t.Errorf("fileserverd %v: %s %q, want it to hold %q", tc.args, s.name, s.got, s.want)
			}
		}
		if code != tc.wantCode {
			t.Errorf("fileserverd %v: exit %d, want %d", tc.args, code, tc.wantCode)
		}
	}
}

// TestChildrenDieWithParent kills the process-mode parent with SIGKILL:
// no child may outlive it.
func TestChildrenDieWithParent(t *testing.T) {
	d := startDaemon(t, "process", 3)
	pids := workerPIDs(t, d, 3)
	d.Cmd.Process.Kill()
	<-d.Done()
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for processAlive(pid) {
			if time.Now().After(deadline) {
				st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
				t.Fatalf("child %d outlived its parent:\n%s\nlog:\n%s", pid, st, d.Log)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// processAlive reports whether pid runs (a zombie waiting to be reaped by
// whoever inherited it counts as dead).
func processAlive(pid int) bool {
	f := statFields(pid)
	if f == nil {
		return syscall.Kill(pid, 0) == nil
	}
	return len(f) == 0 || f[0] != "Z"
}
