package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"
)

// server serves connections with a fixed set of workers: each worker
// accepts one connection, serves it to the end, and accepts the next, so
// at most len(workers) connections are served at once and the rest wait in
// the listen queue. In thread mode the workers are goroutines of one
// process; in process mode each child runs a server with one worker.
type server struct {
	cfg      config
	store    *store
	counters *counters
	log      *slog.Logger

	mu       sync.Mutex
	stopping bool
	conns    map[*trackedConn]struct{}
	wg       sync.WaitGroup // accept loops
	active   sync.WaitGroup // connections being served
}

func newServer(cfg config, st *store, c *counters, log *slog.Logger) *server {
	return &server{cfg: cfg, store: st, counters: c, log: log, conns: map[*trackedConn]struct{}{}}
}

// serve starts one accepting worker per id and returns at once; the
// workers stop when the listener is closed.
func (s *server) serve(ln net.Listener, ids []int) {
	for _, id := range ids {
		w := newWorker(s, id)
		s.wg.Go(func() { w.acceptLoop(ln) })
	}
}

// acceptLoop accepts and serves connections until the listener closes.
func (w *worker) acceptLoop(ln net.Listener) {
	backoff := time.Duration(0)
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || w.srv.isStopping() {
				return
			}
			// Out of file descriptors and the like: wait and retry, as
			// net/http does, rather than spin or give up.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			w.log.Warn("accept failed", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if w.srv.refuse(conn) {
			continue
		}
		w.serveConn(conn)
	}
}

func (s *server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// trackedConn is a served connection, known to shutdown.
type trackedConn struct {
	net.Conn
	idle bool // waiting for the next request
}

// track registers a connection; it returns false when shutting down.
func (s *server) track(c net.Conn) (*trackedConn, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil, false
	}
	tc := &trackedConn{Conn: c}
	s.conns[tc] = struct{}{}
	s.active.Add(1)
	return tc, true
}

func (s *server) untrack(tc *trackedConn) {
	s.mu.Lock()
	delete(s.conns, tc)
	s.mu.Unlock()
	s.active.Done()
}

// setIdle marks a connection as waiting for a request, or returns false
// if the server is stopping and the connection should be closed.
func (s *server) setIdle(tc *trackedConn, idle bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	tc.idle = idle
	return !s.stopping
}

// shutdown stops the workers gracefully: idle connections are closed at
// once, requests in flight may finish until ctx ends, and then the rest is
// cut. The caller closes the listener first. It waits for connections, not
// for the accept loops: a worker child's accept may be a blocking system
// call that no Close interrupts (see runChild), and a worker accepting
// after this point closes what it gets. It reports whether it had to cut
// connections.
func (s *server) shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.stopping = true
	for tc := range s.conns {
		if tc.idle {
			tc.Close()
		}
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() { s.active.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	for tc := range s.conns {
		tc.Close()
	}
	s.mu.Unlock()
	<-done
	return errors.New("shutdown timeout: requests still in flight were cut")
}
