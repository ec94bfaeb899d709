package main

import (
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
	"strings"
	"syscall"
	"time"
)

// Restart backoff for a worker child that keeps dying soon after start.
const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 10 * time.Second
	stableAfter = 2 * time.Second // a child that lived this long restarts at once
	killGrace   = 5 * time.Second // after the shutdown timeout, before SIGKILL
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
	cmd.Env = append(withoutChildEnv(os.Environ()), childInfo{id: id, parent: os.Getpid(), started: s.started}.env()...)
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
	go dispatch(s.room, link, func() { s.log.Info("worker started", "worker", id, "pid", pid) })
	s.children[id] = &child{cmd: cmd, started: time.Now(), backoff: backoff}
	go func() {
		err := cmd.Wait()
		s.exits <- childExit{id: id, pid: cmd.Process.Pid, err: err}
	}()
	return nil
}

// withoutChildEnv drops our variables for children, and NOTIFY_SOCKET:
// only the parent speaks to systemd.
func withoutChildEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, "FILESERVERD_") && !strings.HasPrefix(kv, envNotifySocket+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// supervise replaces children that die until ctx ends, then stops them.
func (s *supervisor) supervise(ctx context.Context, ln net.Listener) error {
	for {
		select {
		case ex := <-s.exits:
			s.settle(ex, "worker died")
			ch := s.children[ex.id]
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

// settle logs a child's exit and clears what it left: its counter slot and
// its temporary upload files.
func (s *supervisor) settle(ex childExit, msg string) {
	attrs := []any{"worker", ex.id, "pid", ex.pid, "status", exitStatus(ex.err)}
	if s.counters.reap(ex.id) {
		attrs = append(attrs, "interrupted_request", true)
	}
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
// killing those that outlast the shutdown timeout.
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
	var errs []error
	for running > 0 {
		select {
		case ex := <-s.exits:
			running--
			delete(s.children, ex.id)
			s.settle(ex, "worker stopped")
			if ex.err != nil && !killedBySIGTERM(ex.err) {
				errs = append(errs, fmt.Errorf("worker %d (pid %d): %s", ex.id, ex.pid, exitStatus(ex.err)))
			}
		case <-kill:
			for _, ch := range s.children {
				ch.cmd.Process.Kill()
			}
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

func exitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	// ProcessState's own words: "exit status 1", "signal: killed".
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ProcessState.String()
	}
	return err.Error()
}
