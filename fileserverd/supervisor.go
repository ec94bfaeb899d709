package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"time"

	"fileserver/protocol/childproc"
)

// Restart backoff for a worker process that keeps dying soon after start.
const (
	minBackoff  = 100 * time.Millisecond
	maxBackoff  = 10 * time.Second
	stableAfter = 2 * time.Second // a worker process that lived this long restarts at once
	// killGrace follows the shutdown timeout before SIGKILL: a worker
	// process's own shutdownGrace and a moment to exit, so that one that
	// can still run names what it cut itself.
	killGrace = shutdownGrace + time.Second
	// reapGrace follows SIGKILL: a worker process that has not exited by
	// then is in an uninterruptible wait in the kernel (a hung disk, a
	// frozen file system) and is abandoned, so that the parent can exit.
	reapGrace = 2 * time.Second
)

// child is a started worker process as the supervisor sees it. The real
// one is an exec'd child of this binary (workerChild, workerexec.go); the
// supervisor's tests use a fake, so that restarts, backoff, clean-up and
// stopping are tested without forking.
type child interface {
	pid() int
	signal(os.Signal) error
	// wait blocks until the process exits and returns how it ended (an
	// *exec.ExitError for a real child). The supervisor calls it once.
	wait() error
	// request names the request the process holds, for the log (attrs)
	// and errors (desc); both are empty when it holds none.
	request() (attrs []any, desc string)
}

// supervisedChild is the supervisor's handle on the process behind one
// worker id: the running process, or a place kept for a restart after
// backoff (c is nil then).
type supervisedChild struct {
	c       child
	started time.Time
	backoff time.Duration // the backoff it was started after
	// quickDeaths counts the processes for this id in a row that died
	// within stableAfter of their start, up to the last one.
	quickDeaths int
}

// childExit is how a worker process ended.
type childExit struct {
	id, pid int
	err     error
}

// supervisor keeps process mode's worker processes running: it starts
// them, replaces any that dies (at once if it lived a while, or if it is
// the first in a row to die soon after its start, as one kill does; else
// after a backoff that doubles up to a bound), clears what a dead one
// left (its counter slot and temporary upload files), and stops them all.
// Every method but the start function's work runs in the goroutine that
// called supervise: the fields below need no lock.
type supervisor struct {
	log      *slog.Logger
	counters *counters
	store    *store
	start    func(id int) (child, error) // starts the worker process for id

	minBackoff, maxBackoff time.Duration
	stableAfter            time.Duration
	shutdownTimeout        time.Duration // logged; the kill follows killAfter
	killAfter              time.Duration // from stopAll's SIGTERM to SIGKILL
	abandonAfter           time.Duration // from SIGKILL to giving up on the process
	// after runs f once d has passed (time.AfterFunc): tests record the
	// backoffs asked for instead of waiting them out.
	after func(d time.Duration, f func())

	workers  map[int]*supervisedChild // by worker id
	exits    chan childExit
	restarts chan int // worker ids whose backoff has passed
}

// newSupervisor makes a supervisor for n worker processes with the
// production timings.
func newSupervisor(cfg config, log *slog.Logger, c *counters, st *store, start func(id int) (child, error)) *supervisor {
	return &supervisor{
		log: log, counters: c, store: st, start: start,
		minBackoff: minBackoff, maxBackoff: maxBackoff, stableAfter: stableAfter,
		shutdownTimeout: cfg.ShutdownTimeout, killAfter: cfg.ShutdownTimeout + killGrace, abandonAfter: reapGrace,
		after:   func(d time.Duration, f func()) { time.AfterFunc(d, f) },
		workers: map[int]*supervisedChild{},
		exits:   make(chan childExit, cfg.Workers), restarts: make(chan int, cfg.Workers),
	}
}

// launch starts the worker process for id and watches for its exit;
// quickDeaths is how many before it died soon after their start, in a row.
func (s *supervisor) launch(id int, backoff time.Duration, quickDeaths int) error {
	p, err := s.start(id)
	if err != nil {
		return err
	}
	s.workers[id] = &supervisedChild{c: p, started: time.Now(), backoff: backoff, quickDeaths: quickDeaths}
	go func() {
		err := p.wait()
		s.exits <- childExit{id: id, pid: p.pid(), err: err}
	}()
	return nil
}

// startAll starts worker processes 1 to n; on an error the caller stops
// those started.
func (s *supervisor) startAll(n int) error {
	for id := 1; id <= n; id++ {
		if err := s.launch(id, 0, 0); err != nil {
			return err
		}
	}
	return nil
}

// supervise replaces worker processes that die until ctx ends.
func (s *supervisor) supervise(ctx context.Context) {
	for {
		select {
		case ex := <-s.exits:
			wp := s.workers[ex.id]
			s.settle(ex, wp, "worker died")
			delete(s.workers, ex.id)
			if ctx.Err() != nil {
				return
			}
			quick := 0
			if time.Since(wp.started) < s.stableAfter {
				quick = wp.quickDeaths + 1
			}
			s.counters.restarted()
			// One death soon after a start (a kill, an OOM) is not a
			// crash loop: only a second in a row backs off.
			if quick < 2 {
				s.restartNow(ex.id, 0, quick)
				continue
			}
			backoff := s.nextBackoff(wp.backoff)
			s.log.Warn("worker keeps dying; restarting after backoff", "worker", ex.id, "deaths_in_a_row", quick, "backoff", backoff)
			s.reserve(ex.id, backoff, quick)
		case id := <-s.restarts:
			if wp, ok := s.workers[id]; ok && wp.c == nil {
				s.restartNow(id, wp.backoff, wp.quickDeaths)
			}
		case <-ctx.Done():
			return
		}
	}
}

// nextBackoff doubles the last backoff, within [minBackoff, maxBackoff].
func (s *supervisor) nextBackoff(last time.Duration) time.Duration {
	return min(max(2*last, s.minBackoff), s.maxBackoff)
}

// reserve keeps id's place, not running, and restarts it after backoff.
func (s *supervisor) reserve(id int, backoff time.Duration, quickDeaths int) {
	s.workers[id] = &supervisedChild{backoff: backoff, quickDeaths: quickDeaths}
	s.after(backoff, func() { s.restarts <- id })
}

func (s *supervisor) restartNow(id int, backoff time.Duration, quickDeaths int) {
	if err := s.launch(id, backoff, quickDeaths); err != nil {
		s.log.Error("cannot restart worker; retrying", "worker", id, "error", err)
		s.reserve(id, s.nextBackoff(backoff), quickDeaths)
	}
}

// settle logs a worker process's exit, with the request it held if any,
// and clears what it left: its counter slot and its temporary upload
// files.
func (s *supervisor) settle(ex childExit, wp *supervisedChild, msg string) {
	attrs := []any{"worker", ex.id, "pid", ex.pid, "status", childproc.ExitStatus(ex.err)}
	if s.counters.reap(ex.id) {
		attrs = append(attrs, "interrupted_request", true)
	}
	if wp != nil && wp.c != nil {
		req, _ := wp.c.request()
		attrs = append(attrs, req...)
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

// stopAll asks every worker process to finish (SIGTERM) and waits,
// killing those that outlast the shutdown timeout and abandoning those
// that a kill does not end, so that it always returns. The caller stops
// handing out connections first. Its error names each process that
// failed and the request it held.
func (s *supervisor) stopAll() error {
	running := 0
	for id, wp := range s.workers {
		if wp.c == nil {
			delete(s.workers, id)
			continue
		}
		running++
		wp.c.signal(syscall.SIGTERM)
	}
	s.log.Info("shutting down", "workers", running, "timeout", s.shutdownTimeout)
	kill := time.After(s.killAfter)
	var abandon <-chan time.Time
	var errs []error
	for running > 0 {
		select {
		case ex := <-s.exits:
			running--
			wp := s.workers[ex.id]
			delete(s.workers, ex.id)
			s.settle(ex, wp, "worker stopped")
			if ex.err != nil && !killedBySIGTERM(ex.err) {
				msg := fmt.Sprintf("worker %d (pid %d): %s", ex.id, ex.pid, childproc.ExitStatus(ex.err))
				if _, req := wp.c.request(); req != "" {
					msg += ", cutting " + req
				}
				errs = append(errs, errors.New(msg))
			}
		case <-kill:
			for id, wp := range s.workers {
				req, _ := wp.c.request()
				s.log.Warn("worker outlived the shutdown timeout; killing it", append([]any{"worker", id, "pid", wp.c.pid()}, req...)...)
				wp.c.signal(syscall.SIGKILL)
			}
			abandon = time.After(s.abandonAfter)
		case <-abandon:
			for id, wp := range s.workers {
				pid := wp.c.pid()
				req, desc := wp.c.request()
				s.log.Warn("worker did not exit after SIGKILL; abandoned", append([]any{"worker", id, "pid", pid, "waited", s.abandonAfter}, req...)...)
				msg := fmt.Sprintf("worker %d (pid %d): still running %s after SIGKILL (blocked in the kernel), abandoned", id, pid, s.abandonAfter)
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

// killedBySIGTERM tells a worker process that our SIGTERM killed
// outright: one stopped before it installed its handler, which comes
// before it serves, so it had nothing to finish and stopped as cleanly as
// with exit 0.
func killedBySIGTERM(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}
