package testkit

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/childproc"
)

// Lines of fileserverd's text log that tests wait for. ListeningAddr and
// WorkerStarted read them in either log format.
var (
	ListeningRE     = regexp.MustCompile(`msg=listening addr=(\S+)`)
	WorkerStartedRE = regexp.MustCompile(`msg="worker started" worker=(\d+) pid=(\d+)`)
)

// logRecord is what the tests read of a -log-format json line.
type logRecord struct {
	Msg    string
	Addr   string
	Worker int
	PID    int
}

// jsonRecord decodes a JSON log line, after the journal's "<6>" priority
// prefix if it has one.
func jsonRecord(line string) (logRecord, bool) {
	var rec logRecord
	i := strings.IndexByte(line, '{')
	return rec, i >= 0 && i <= 3 && json.Unmarshal([]byte(line[i:]), &rec) == nil
}

// ListeningAddr is the address in fileserverd's "listening" log line.
func ListeningAddr(line string) (string, bool) {
	if m := ListeningRE.FindStringSubmatch(line); m != nil {
		return m[1], true
	}
	if rec, ok := jsonRecord(line); ok && rec.Msg == "listening" && rec.Addr != "" {
		return rec.Addr, true
	}
	return "", false
}

// WorkerStarted is the worker id and pid in a process-mode "worker
// started" log line.
func WorkerStarted(line string) (worker, pid int, ok bool) {
	if m := WorkerStartedRE.FindStringSubmatch(line); m != nil {
		worker, _ = strconv.Atoi(m[1])
		pid, _ = strconv.Atoi(m[2])
		return worker, pid, true
	}
	if rec, ok := jsonRecord(line); ok && rec.Msg == "worker started" {
		return rec.Worker, rec.PID, true
	}
	return 0, 0, false
}

// ServerOptions say how StartServer runs fileserverd. The zero value is
// one thread-mode worker.
type ServerOptions struct {
	Bin     string   // the binary; default: the fileserverd Main built
	Mode    string   // -mode: "thread" (the default) or "process"
	Workers int      // -workers; default 1
	Dir     string   // -dir; default a fresh t.TempDir()
	Args    []string // more flags, after the ones above (a later flag wins)
	Env     []string // added to the environment
	// Setup, if not nil, is called on the command just before it starts:
	// cmd.Stderr is then the write end of the log pipe, and Setup may
	// change the environment, the extra files, or the program that ends
	// up executing fileserverd (keeping its pid).
	Setup func(cmd *exec.Cmd)
	// WantCleanExit makes the cleanup fail the test unless the server
	// exits 0 on SIGTERM.
	WantCleanExit bool
}

// Server is a fileserverd process started by StartServer.
type Server struct {
	Addr string // where it listens, from its log
	Dir  string // its storage directory
	Log  *Log   // its stderr
	Cmd  *exec.Cmd

	t    testing.TB
	done chan struct{}
	err  error // the exit status, once done is closed
}

// cleanupStopTimeout is how long the cleanup waits after SIGTERM before
// it kills the server and fails the test.
const cleanupStopTimeout = 10 * time.Second

// cleanupLogLines is how much of a long log the cleanup's failure message
// quotes: the server logs every request.
const cleanupLogLines = 200

// StartServer runs fileserverd on a free loopback port (127.0.0.1:0) and
// waits until its log names the address, and in process mode until every
// worker child has started. t.Cleanup stops it (SIGTERM, then SIGKILL).
// The server dies with the test binary (Pdeathsig, on Linux).
func StartServer(t testing.TB, opts ServerOptions) *Server {
	t.Helper()
	if opts.Bin == "" {
		opts.Bin = serverBin
	}
	if opts.Bin == "" {
		t.Fatal("testkit: no fileserverd binary: build testkit.ServerPkg in testkit.Main, or set ServerOptions.Bin")
	}
	if opts.Mode == "" {
		opts.Mode = "thread"
	}
	if opts.Workers == 0 {
		opts.Workers = 1
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	args := append([]string{"-addr", "127.0.0.1:0", "-dir", opts.Dir, "-mode", opts.Mode, "-workers", strconv.Itoa(opts.Workers)}, opts.Args...)
	cmd := exec.Command(opts.Bin, args...)
	childproc.DieWithParent(cmd, syscall.SIGKILL)
	if len(opts.Env) > 0 {
		cmd.Env = append(os.Environ(), opts.Env...)
	}
	// A pipe of our own rather than StderrPipe: the server's exit must be
	// seen even if a child it left behind (a bug a test is looking for)
	// still holds the write end.
	stderr, logw, err := os.Pipe()
	if err != nil {
		t.Fatalf("testkit: log pipe: %v", err)
	}
	t.Cleanup(func() { stderr.Close() })
	cmd.Stderr = logw
	if opts.Setup != nil {
		opts.Setup(cmd)
	}
	err = cmd.Start()
	logw.Close()
	if err != nil {
		t.Fatalf("testkit: start fileserverd: %v", err)
	}
	s := &Server{Dir: opts.Dir, Log: NewLog(stderr), Cmd: cmd, t: t, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		// Its last lines, unless something else keeps the pipe open.
		select {
		case <-s.Log.EOF():
		case <-time.After(5 * time.Second):
		}
		close(s.done)
	}()
	t.Cleanup(func() {
		if err := s.Stop(cleanupStopTimeout); err != nil && opts.WantCleanExit {
			t.Errorf("fileserverd exited with %v\nlog:\n%s", err, s.Log.Tail(cleanupLogLines))
		}
	})
	ms, err := s.Log.waitMatches("the listening line", 1, 10*time.Second, func(line string) []string {
		if addr, ok := ListeningAddr(line); ok {
			return []string{addr}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("fileserverd did not start: %v\nlog:\n%s", err, s.Log)
	}
	s.Addr = ms[0][0]
	if opts.Mode == "process" {
		// Children are started right after the listening line.
		_, err := s.Log.waitMatches("worker started lines", opts.Workers, 10*time.Second, func(line string) []string {
			if _, _, ok := WorkerStarted(line); ok {
				return []string{line}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("workers did not start: %v\nlog:\n%s", err, s.Log)
		}
	}
	return s
}

// Done is closed once the server has exited (and its log has ended, or
// 5 s passed since).
func (s *Server) Done() <-chan struct{} { return s.done }

// Err is how the server exited; valid once Done is closed.
func (s *Server) Err() error { return s.err }

// Stop sends SIGTERM and waits for the exit, killing the process, and
// failing the test, if that takes longer than timeout. It returns the
// exit error; once the server has exited it only returns it.
func (s *Server) Stop(timeout time.Duration) error {
	select {
	case <-s.done:
		return s.err
	default:
	}
	s.Cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		s.Cmd.Process.Kill()
		<-s.done
		s.t.Errorf("fileserverd did not stop within %s after SIGTERM", timeout)
	}
	return s.err
}

// Client connects to the server; t.Cleanup closes it.
func (s *Server) Client(t testing.TB) *protocol.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := protocol.Dial(ctx, s.Addr)
	if err != nil {
		t.Fatalf("dial fileserverd: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// Stats asks the server for its counters on a connection of its own.
func (s *Server) Stats(t testing.TB) *protocol.Stats {
	t.Helper()
	c := s.Client(t)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatalf("STATS: %v", err)
	}
	return st
}
