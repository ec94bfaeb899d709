package main

import (
	"bufio"
	"context"
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

// binary is the fileserverd built once for the whole test run.
var serverBin string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelper()
		return
	}
	if os.Getenv(failFsyncEnv) != "" {
		execFailingFsync()
	}
	dir, err := os.MkdirTemp("", "fileserverd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	serverBin = filepath.Join(dir, "fileserverd")
	out, err := exec.Command("go", "build", "-o", serverBin, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build fileserverd: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// daemon is a fileserverd process started by a test.
type daemon struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string
	dir  string
	log  *lineLog
	done chan struct{}
	err  error // exit status, once done is closed
}

var listeningRE = regexp.MustCompile(`msg=listening addr=(\S+)`)

// startDaemon runs fileserverd on a free loopback port with a fresh
// storage directory, and waits until its log names the address. Cleanup
// stops it.
func startDaemon(t testing.TB, mode string, workers int, extra ...string) *daemon {
	t.Helper()
	return startDaemonWith(t, nil, mode, workers, extra...)
}

// startDaemonEnv is startDaemon with variables added to the environment.
func startDaemonEnv(t testing.TB, env []string, mode string, workers int, extra ...string) *daemon {
	t.Helper()
	return startDaemonWith(t, func(cmd *exec.Cmd) { cmd.Env = append(os.Environ(), env...) }, mode, workers, extra...)
}

// startDaemonWith is startDaemon with setup, if not nil, called on the
// command just before it starts: cmd.Stderr is then the write end of the
// log pipe, and setup may change the environment, the extra files, or the
// program that ends up executing fileserverd (keeping its pid).
func startDaemonWith(t testing.TB, setup func(cmd *exec.Cmd), mode string, workers int, extra ...string) *daemon {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"-addr", "127.0.0.1:0", "-dir", dir, "-mode", mode, "-workers", fmt.Sprint(workers)}, extra...)
	cmd := exec.Command(serverBin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// A pipe of our own rather than StderrPipe: the daemon's exit must be
	// seen even if a child it left behind (a bug a test is looking for)
	// still holds the write end.
	stderr, logw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stderr.Close() })
	cmd.Stderr = logw
	if setup != nil {
		setup(cmd)
	}
	err = cmd.Start()
	logw.Close()
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{t: t, cmd: cmd, dir: dir, log: newLineLog(stderr), done: make(chan struct{})}
	go func() {
		d.err = cmd.Wait()
		// Its last lines, unless something else keeps the pipe open.
		select {
		case <-d.log.eof:
		case <-time.After(5 * time.Second):
		}
		close(d.done)
	}()
	t.Cleanup(func() { d.stop(10 * time.Second) })
	m, err := d.log.waitFor(listeningRE, 10*time.Second)
	if err != nil {
		t.Fatalf("fileserverd did not start: %v\nlog:\n%s", err, d.log)
	}
	d.addr = m[1]
	if mode == "process" {
		// Children are started right after the listening line.
		if _, err := d.log.waitForCount(regexp.MustCompile(`msg="worker started"`), workers, 10*time.Second); err != nil {
			t.Fatalf("workers did not start: %v\nlog:\n%s", err, d.log)
		}
	}
	return d
}

// stop sends SIGTERM and waits for the exit, killing the process if it
// takes longer than timeout. It returns the exit error.
func (d *daemon) stop(timeout time.Duration) error {
	select {
	case <-d.done:
		return d.err
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(timeout):
		d.cmd.Process.Kill()
		<-d.done
		d.t.Errorf("fileserverd did not stop within %s after SIGTERM", timeout)
	}
	return d.err
}

// client connects to the daemon; cleanup closes it.
func (d *daemon) client(t testing.TB) *protocol.Client {
	t.Helper()
	c, err := protocol.Dial(context.Background(), d.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// stats asks the daemon for its counters on a new connection.
func (d *daemon) stats(t testing.TB) *protocol.Stats {
	t.Helper()
	c := d.client(t)
	defer c.Close()
	s, err := c.Stats(ctxTimeout(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitStats polls STATS until cond holds, for at most timeout.
func (d *daemon) waitStats(t testing.TB, timeout time.Duration, cond func(*protocol.Stats) bool) *protocol.Stats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := d.stats(t)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters never reached the expected state; last: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// files lists every entry of the storage directory, hidden ones included.
func (d *daemon) files(t testing.TB) []string {
	t.Helper()
	return dirNames(t, d.dir)
}

// dirNames lists a directory's entries, hidden ones included.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// lineLog collects a process's output lines and lets a test wait for one.
type lineLog struct {
	mu      sync.Mutex
	lines   []string
	changed chan struct{} // closed and replaced on every new line
	eof     chan struct{}
}

func newLineLog(r io.Reader) *lineLog {
	l := &lineLog{changed: make(chan struct{}), eof: make(chan struct{})}
	go func() {
		defer close(l.eof)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// waitFor returns the submatches of the first line matching re.
func (l *lineLog) waitFor(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	ms, err := l.waitForCount(re, 1, timeout)
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// waitForCount waits until n lines match re and returns their submatches.
func (l *lineLog) waitForCount(re *regexp.Regexp, n int, timeout time.Duration) ([][]string, error) {
	deadline := time.After(timeout)
	ended := false
	for {
		l.mu.Lock()
		var ms [][]string
		for _, line := range l.lines {
			if m := re.FindStringSubmatch(line); m != nil {
				ms = append(ms, m)
			}
		}
		changed := l.changed
		l.mu.Unlock()
		if len(ms) >= n {
			return ms, nil
		}
		if ended {
			return ms, errors.New("process output ended before " + re.String())
		}
		select {
		case <-changed:
		case <-l.eof:
			ended = true // one more look at the complete output
		case <-deadline:
			return ms, fmt.Errorf("no %d lines matching %s within %s", n, re, timeout)
		}
	}
}

// upload stores r as name through a connection of its own.
func (d *daemon) upload(t testing.TB, name string, r io.Reader) protocol.UploadResult {
	t.Helper()
	c := d.client(t)
	defer c.Close()
	res, err := c.Upload(ctxTimeout(t, time.Minute), name, r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// get downloads name through a connection of its own and returns its size
// and SHA-256.
func (d *daemon) get(t testing.TB, name string) (int64, string) {
	t.Helper()
	c := d.client(t)
	defer c.Close()
	w := newHashWriter()
	n, err := c.Get(ctxTimeout(t, time.Minute), name, w)
	if err != nil {
		t.Fatal(err)
	}
	if n != w.n {
		t.Fatalf("Get returned %d bytes but wrote %d", n, w.n)
	}
	return n, w.sum()
}

// list returns LIST through a connection of its own.
func (d *daemon) list(t testing.TB) []string {
	t.Helper()
	c := d.client(t)
	defer c.Close()
	names, err := c.List(ctxTimeout(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return names
}
