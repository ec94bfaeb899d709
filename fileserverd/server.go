package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
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
	wg       sync.WaitGroup // the accept loop and the workers
	room     *waitingRoom   // set by serve
	active   sync.WaitGroup // connections being served
}

func newServer(cfg config, st *store, c *counters, log *slog.Logger) *server {
	return &server{cfg: cfg, store: st, counters: c, log: log, conns: map[*trackedConn]struct{}{}}
}

// serve runs thread mode: one accept loop feeds the workers with the
// given ids through the waiting room.
func (s *server) serve(ln net.Listener, ids []int) {
	s.room = newWaitingRoom(s, 0, len(ids))
	for _, id := range ids {
		w := newWorker(s, id)
		s.wg.Go(w.run)
	}
	s.wg.Go(func() { s.room.acceptLoop(ln) })
}

// run serves the connections the waiting room hands over, one at a time,
// until the server stops, and gives each back to the room or closes it.
func (w *worker) run() {
	for {
		wc, ok := w.srv.room.next()
		if !ok {
			return
		}
		if w.serveConn(wc) {
			w.srv.room.park(wc.conn)
		} else {
			w.srv.room.release(wc.conn)
		}
		w.srv.room.done()
	}
}

// serveLink runs a worker child of process mode: it serves the
// connections the parent hands over through link, one at a time, and
// tells the parent what became of each, until the link closes.
func (s *server) serveLink(link *net.UnixConn, id int) {
	w := newWorker(s, id)
	buf := make([]byte, 1+maxReplay)
	oob := make([]byte, syscall.CmsgSpace(4))
	if _, err := link.Write([]byte{childReady}); err != nil {
		return
	}
	for {
		wc, err := receive(link, buf, oob)
		if err != nil {
			if !s.isStopping() && !errors.Is(err, net.ErrClosed) {
				s.log.Warn("worker link", "error", err)
			}
			return
		}
		if _, err := link.Write([]byte{handBackReceived}); err != nil {
			wc.conn.Close()
			return
		}
		v := handBackClosed
		if w.serveConn(wc) {
			v = handBackPark
		}
		wc.conn.Close() // the parent holds the connection too
		if _, err := link.Write([]byte{v}); err != nil {
			return
		}
	}
}

func (s *server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// trackedConn is a connection a worker serves, known to shutdown.
type trackedConn struct {
	net.Conn
	idle bool // s.mu must be held: the worker waits for the next request on it
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
// when the server is stopping (the worker should close it then).
func (s *server) setIdle(tc *trackedConn, idle bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	tc.idle = idle
	return !s.stopping
}

// shutdown stops the workers gracefully: connections in the waiting room,
// and those a worker waits on for their next request, are closed at once,
// requests in flight may finish until ctx ends, and
// then the rest is cut. The caller closes the listener first. It waits
// for connections, not for the accept loop: a worker child's accept may
// be a blocking system call that no Close interrupts (see runChild), and
// a connection accepted after this point is closed. It reports whether it
// had to cut connections.
func (s *server) shutdown(ctx context.Context) error {
	if s.room != nil {
		s.room.shutdown()
	}
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
