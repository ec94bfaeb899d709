package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/childproc"
)

// Restart backoff for a worker child that keeps dying soon after start.
const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 10 * time.Second
	stableAfter = 2 * time.Second // a child that lived this long restarts at once
	// killGrace follows the shutdown timeout before SIGKILL: a child's
	// own shutdownGrace and a moment to exit, so that a child that can
	// still run names what it cut itself.
	killGrace = shutdownGrace + time.Second
	// reapGrace follows SIGKILL: a child that has not exited by then is
	// in an uninterruptible wait in the kernel (a hung disk, a frozen
	// file system) and is abandoned, so that the parent can exit.
	reapGrace = 2 * time.Second
)

// supervisor runs the worker children of process mode.
type supervisor struct {
	cfg         config
	log         *slog.Logger
	exe         string
	started     time.Time
	counterFile *os.File     // fd 4 in children (fd 3 is each child's own link)
	storageDir  *os.File     // fd 5 in children: store's directory itself
	room        *waitingRoom // the parent's: it accepts, children serve
	counters    *counters
	store       *store

	children map[int]*child // by worker id
	exits    chan childExit
	restarts chan int
}

type child struct {
	cmd     *exec.Cmd
	started time.Time
	backoff time.Duration

	mu      sync.Mutex // for held: dispatch sets it, the supervisor reads it
	held    *waitingConn
	heldVia string // held's client address
}

// hold records the connection the child took, or nil once it answered for
// it (dispatch calls it): the request a kill cuts.
func (ch *child) hold(wc *waitingConn) {
	remote := "?"
	if wc != nil && wc.conn.RemoteAddr() != nil {
		remote = wc.conn.RemoteAddr().String()
	}
	ch.mu.Lock()
	ch.held, ch.heldVia = wc, remote
	ch.mu.Unlock()
}

// request names the request the child holds, for the log (attrs) and
// errors (desc); both are empty when it holds none.
func (ch *child) request() (attrs []any, desc string) {
	if ch == nil {
		return nil, ""
	}
	ch.mu.Lock()
	wc, remote := ch.held, ch.heldVia
	ch.mu.Unlock()
	if wc == nil {
		return nil, ""
	}
	// The head as the waiting room recorded it: the parent never reads
	// further, so a pipelined request behind it goes unnamed.
	req, _ := protocol.NewRequestReader(bufio.NewReader(bytes.NewReader(wc.replay))).Read()
	cmd, name := requestName(req)
	attrs = []any{"remote", remote, "cmd", cmd}
	if name != "" {
		attrs = append(attrs, "name", name)
	}
	return attrs, describeRequest(cmd, name, remote)
}

type childExit struct {
	id, pid int
	err     error
}

// runProcessPool opens the listener, starts cfg.Workers children that
// serve on it, replaces any that dies, and on ctx's end stops them all
// gracefully.
func runProcessPool(ctx context.Context, cfg config, log *slog.Logger) error {
	// Children get Pdeathsig, which fires when the thread that started them
	// exits: keep this goroutine, which starts them all, on one thread for
	// the life of the process.
	runtime.LockOSThread()

	var err error
	if cfg.Dir, err = filepath.Abs(cfg.Dir); err != nil {
		return err
	}
	st, ln, err := prepare(cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	cf, err := sharedCounterFile(cfg.Workers)
	if err != nil {
		return err
	}
	sd, err := st.file()
	if err != nil {
		return fmt.Errorf("storage directory: %w", err)
	}
	defer sd.Close()
	s := &supervisor{cfg: cfg, log: log, started: time.Now(), store: st,
		counterFile: cf, storageDir: sd, children: map[int]*child{},
		exits: make(chan childExit, cfg.Workers), restarts: make(chan int, cfg.Workers)}
	if s.counters, err = mapCounters(cf, cfg.Mode, cfg.Workers, os.Getpid(), s.started); err != nil {
		return err
	}
	if s.exe, err = os.Executable(); err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	logListening(log, cfg, ln)
	srv := newServer(cfg, st, s.counters, log)
	s.room = newWaitingRoom(srv, 0, cfg.Workers)
	srv.room = s.room
	for id := 1; id <= cfg.Workers; id++ {
		if err := s.start(id, 0); err != nil {
			s.stopAll(ln)
			return err
		}
	}
	go s.room.acceptLoop(ln)
	sdNotify(log, readyState(cfg, ln))
	err = s.supervise(ctx, ln)
	logFinalStats(log, s.counters.snapshot())
	return err
}

// start runs worker child id.
func (s *supervisor) start(id int, backoff time.Duration) error {
	args := []string{
		"-mode", s.cfg.Mode, "-workers", strconv.Itoa(s.cfg.Workers), "-dir", s.cfg.Dir,
		"-max-size", strconv.FormatInt(s.cfg.MaxSize, 10), "-idle-timeout", s.cfg.IdleTimeout.String(), "-quiet", s.cfg.Quiet.String(),
		"-head-timeout", s.cfg.HeadTimeout.String(), "-keepalive-timeout", s.cfg.KeepAlive.String(),
		"-max-conns", strconv.Itoa(s.cfg.MaxConns), "-max-conns-per-ip", strconv.Itoa(s.cfg.MaxConnsPerIP),
		"-shutdown-timeout", s.cfg.ShutdownTimeout.String(), "-log-format", s.cfg.LogFormat,
		"-allow", s.cfg.Allow, "-serve-hard-links=" + strconv.FormatBool(s.cfg.HardLinks),
	}
	cmd := exec.Command(s.exe, args...)
	cmd.Env = append(childproc.WithoutEnv(os.Environ(), "FILESERVERD_", envNotifySocket+"="), childInfo{id: id, parent: os.Getpid(), started: s.started}.env()...)
	if os.Getenv("GOMAXPROCS") == "" {
		// A child serves one connection at a time: one P is all it can
		// use, and fewer runtime threads per child leave the cores to the
		// transfers when 50 children share them.
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	link, childEnd, err := newLink()
	if err != nil {
		return fmt.Errorf("start worker %d: %w", id, err)
	}
	defer childEnd.Close() // the child has its copy once started
	cmd.ExtraFiles = []*os.File{childEnd, s.counterFile, s.storageDir}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		link.Close()
		return fmt.Errorf("start worker %d: %w", id, err)
	}
	pid := cmd.Process.Pid
	ch := &child{cmd: cmd, started: time.Now(), backoff: backoff}
	go dispatch(s.room, link, func() { s.log.Info("worker started", "worker", id, "pid", pid) }, func(wc *waitingConn) {
		ch.hold(wc)
		if wc == nil {
			// A request is done: the parent's own share of it, for STATS.
			s.counters.supervisorCPU()
		}
	})
	s.children[id] = ch
	go func() {
		err := cmd.Wait()
		s.exits <- childExit{id: id, pid: cmd.Process.Pid, err: err}
	}()
	return nil
}

// supervise replaces children that die until ctx ends, then stops them.
func (s *supervisor) supervise(ctx context.Context, ln net.Listener) error {
	for {
		select {
		case ex := <-s.exits:
			ch := s.children[ex.id]
			s.settle(ex, ch, "worker died")
			delete(s.children, ex.id)
			if ctx.Err() != nil {
				return s.stopAll(ln)
			}
			backoff := time.Duration(0)
			if time.Since(ch.started) < stableAfter {
				backoff = min(max(2*ch.backoff, minBackoff), maxBackoff)
			}
			s.counters.restarted()
			if backoff == 0 {
				s.restartNow(ex.id, 0)
				continue
			}
			s.log.Warn("worker keeps dying; restarting after backoff", "worker", ex.id, "backoff", backoff)
			s.children[ex.id] = &child{backoff: backoff} // reserved, not running
			id := ex.id
			time.AfterFunc(backoff, func() { s.restarts <- id })
		case id := <-s.restarts:
			if ch, ok := s.children[id]; ok && ch.cmd == nil {
				s.restartNow(id, ch.backoff)
			}
		case <-ctx.Done():
			return s.stopAll(ln)
		}
	}
}

func (s *supervisor) restartNow(id int, backoff time.Duration) {
	if err := s.start(id, backoff); err != nil {
		s.log.Error("cannot restart worker; retrying", "worker", id, "error", err)
		b := min(max(2*backoff, minBackoff), maxBackoff)
		s.children[id] = &child{backoff: b}
		time.AfterFunc(b, func() { s.restarts <- id })
	}
}

// settle logs a child's exit, with the request it held if any, and
// clears what it left: its counter slot and its temporary upload files.
func (s *supervisor) settle(ex childExit, ch *child, msg string) {
	attrs := []any{"worker", ex.id, "pid", ex.pid, "status", childproc.ExitStatus(ex.err)}
	if s.counters.reap(ex.id) {
		attrs = append(attrs, "interrupted_request", true)
	}
	req, _ := ch.request()
	attrs = append(attrs, req...)
	if n, _ := s.store.removeTemps(ex.pid); n > 0 {
		attrs = append(attrs, "removed_temp_files", n)
	}
	if ex.err != nil {
		s.log.Warn(msg, attrs...)
	} else {
		s.log.Info(msg, attrs...)
	}
}

// stopAll stops accepting, asks every child to finish (SIGTERM) and waits,
// killing those that outlast the shutdown timeout and abandoning those
// that a kill does not end, so that it always returns. Its error names
// each child that failed and the request it held.
func (s *supervisor) stopAll(ln net.Listener) error {
	sdNotify(s.log, "STOPPING=1")
	ln.Close()
	s.room.shutdown()
	s.counterFile.Close()
	running := 0
	for id, ch := range s.children {
		if ch.cmd == nil {
			delete(s.children, id)
			continue
		}
		running++
		ch.cmd.Process.Signal(syscall.SIGTERM)
	}
	s.log.Info("shutting down", "workers", running, "timeout", s.cfg.ShutdownTimeout)
	kill := time.After(s.cfg.ShutdownTimeout + killGrace)
	var abandon <-chan time.Time
	var errs []error
	for running > 0 {
		select {
		case ex := <-s.exits:
			running--
			ch := s.children[ex.id]
			delete(s.children, ex.id)
			s.settle(ex, ch, "worker stopped")
			if ex.err != nil && !killedBySIGTERM(ex.err) {
				msg := fmt.Sprintf("worker %d (pid %d): %s", ex.id, ex.pid, childproc.ExitStatus(ex.err))
				if _, req := ch.request(); req != "" {
					msg += ", cutting " + req
				}
				errs = append(errs, errors.New(msg))
			}
		case <-kill:
			for id, ch := range s.children {
				req, _ := ch.request()
				s.log.Warn("worker outlived the shutdown timeout; killing it", append([]any{"worker", id, "pid", ch.cmd.Process.Pid}, req...)...)
				ch.cmd.Process.Kill()
			}
			abandon = time.After(reapGrace)
		case <-abandon:
			for id, ch := range s.children {
				pid := ch.cmd.Process.Pid
				req, desc := ch.request()
				s.log.Warn("worker did not exit after SIGKILL; abandoned", append([]any{"worker", id, "pid", pid, "waited", reapGrace}, req...)...)
				msg := fmt.Sprintf("worker %d (pid %d): still running %s after SIGKILL (blocked in the kernel), abandoned", id, pid, reapGrace)
				if desc != "" {
					msg += ", cutting " + desc
				}
				errs = append(errs, errors.New(msg))
			}
			running = 0
		}
	}
	return errors.Join(errs...)
}

// killedBySIGTERM tells a child that our SIGTERM killed outright: one
// stopped before it installed its handler, which comes before it serves,
// so it had nothing to finish and stopped as cleanly as with exit 0.
func killedBySIGTERM(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}
