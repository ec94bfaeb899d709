package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
)

// Binaries built once for the whole run: the real server, and filestressd
// itself, which the process pool re-executes.
var serverBin, stressBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "filestressd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "fileserverd")
	stressBin = filepath.Join(dir, "filestressd")
	stressFlags := []string{}
	if raceEnabled {
		stressFlags = append(stressFlags, "-race")
	}
	for _, b := range []struct {
		out, pkg string
		flags    []string
	}{{serverBin, "fileserver/fileserverd", nil}, {stressBin, ".", stressFlags}} {
		args := append(append([]string{"build"}, b.flags...), "-o", b.out, b.pkg)
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build %s: %v\n%s", b.pkg, err, out)
			os.RemoveAll(dir)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// server is a fileserverd process started by a test.
type server struct {
	addr string
	dir  string
	cmd  *exec.Cmd
	log  *tailLog
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startServer runs fileserverd on a free loopback port with a fresh
// directory and reads its log until it names the address. Cleanup stops
// it with SIGTERM and checks that it exits 0.
func startServer(t *testing.T, mode string, workers int) *server {
	t.Helper()
	s := &server{dir: t.TempDir(), log: &tailLog{}}
	s.cmd = exec.Command(serverBin, "-addr", "127.0.0.1:0", "-dir", s.dir, "-mode", mode, "-workers", fmt.Sprint(workers))
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	addr := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		// Read to the end, always: a server whose log pipe fills up stops.
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.log.add(sc.Text())
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		exited := make(chan error, 1)
		go func() { <-logDone; exited <- s.cmd.Wait() }()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("fileserverd exited with %v\n%s", err, s.log)
			}
		case <-time.After(15 * time.Second):
			s.cmd.Process.Kill()
			<-exited
			t.Errorf("fileserverd did not stop within 15s of SIGTERM")
		}
	})
	select {
	case s.addr = <-addr:
	case <-time.After(10 * time.Second):
		t.Fatalf("fileserverd did not log its address within 10s\n%s", s.log)
	}
	return s
}

// stats reads the server's counters directly.
func (s *server) stats(t *testing.T) *protocol.Stats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := protocol.Dial(ctx, s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// tailLog keeps the last lines of a process's log, for failure messages.
type tailLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *tailLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) >= 200 {
		l.lines = l.lines[1:]
	}
	l.lines = append(l.lines, line)
}

func (l *tailLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// stressRun is one finished filestressd process.
type stressRun struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration
	pid            int
	maxRSSKiB      int64 // the largest of filestressd and its children
}

// runStress runs filestressd to the end (at most two minutes).
func runStress(t *testing.T, args ...string) stressRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, stressBin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	err := cmd.Wait()
	r := stressRun{elapsed: time.Since(start), pid: cmd.Process.Pid, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("filestressd %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "DATA RACE") {
		t.Errorf("the race detector found a race in filestressd or a child:\n%s", r.stderr)
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.maxRSSKiB = ru.Maxrss
	}
	return r
}

// mustRun runs filestressd and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) stressRun {
	t.Helper()
	r := runStress(t, args...)
	if r.code != 0 {
		t.Fatalf("filestressd %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// readRows reads a CSV written by filestressd: its header, and its rows
// as maps by column.
func readRows(t *testing.T, path string) ([]string, []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s is empty", path)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return recs[0], rows
}

// lastRow runs filestressd with a fresh CSV and returns its one row.
func runRow(t *testing.T, args ...string) (stressRun, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cell.csv")
	r := mustRun(t, append(args, "-csv", path)...)
	_, rows := readRows(t, path)
	if len(rows) != 1 {
		t.Fatalf("want 1 row, got %d", len(rows))
	}
	return r, rows[0]
}

// expect checks columns of a row.
func expect(t *testing.T, row map[string]string, want map[string]string) {
	t.Helper()
	for col, v := range want {
		if row[col] != v {
			t.Errorf("column %s = %q, want %q (row %v)", col, row[col], v, row)
		}
	}
}

// fileSHA streams a file through SHA-256.
func fileSHA(t *testing.T, path string) (int64, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := protocol.NewHash()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return n, fmt.Sprintf("%x", h.Sum(nil))
}
