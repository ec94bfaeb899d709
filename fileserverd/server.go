package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"fileserver/protocol"
)

// shutdownGrace is how long shutdown waits for the workers once the
// shutdown timeout has closed every connection. A worker blocked in the
// file system (a hung disk, a frozen file system, a dead NFS server) does
// not notice the close: past the grace it is abandoned, so that stopping
// always ends the process. A process-mode parent gives a child this grace
// before it kills it (killGrace).
const shutdownGrace = 5 * time.Second

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

	room *waitingRoom // set before serving starts, then only read

	mu       sync.Mutex                // guards stopping, conns, and the fields of each trackedConn that say so
	stopping bool                      // guarded by mu: set once, by shutdown
	conns    map[net.Conn]*trackedConn // guarded by mu: by the connection track was given

	// loops counts thread mode's accept loop and worker goroutines:
	// shutdown waits for them, so that none touches the store after the
	// caller closes it.
	loops  sync.WaitGroup
	active sync.WaitGroup // connections being served: track adds, untrack is done
}

func newServer(cfg config, st *store, c *counters, log *slog.Logger) *server {
	return &server{cfg: cfg, store: st, counters: c, log: log, conns: map[net.Conn]*trackedConn{}}
}

// serve runs thread mode: one accept loop feeds the workers with the
// given ids through the waiting room.
func (s *server) serve(ln net.Listener, ids []int) {
	s.room = newWaitingRoom(s, 0, len(ids))
	for _, id := range ids {
		w := newWorker(s, id)
		s.loops.Go(w.run)
	}
	s.loops.Go(func() { s.room.acceptLoop(ln) })
}

func (s *server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

// trackedConn is a connection a worker serves, known to shutdown.
type trackedConn struct {
	net.Conn
	remote string // set once, by track, before it is shared

	// The rest are guarded by server.mu: shutdown reads them from another
	// goroutine, to name the requests it cuts.
	idle   bool   // guarded by server.mu: the worker waits for the next request on it
	worker int    // guarded by server.mu: the worker serving it, once it has read a request
	cmd    string // guarded by server.mu: the request being served (or the last one served)
	name   string // guarded by server.mu: its file name, if it has one
}

// track registers a connection; it returns false when shutting down.
func (s *server) track(c net.Conn) (*trackedConn, bool) {
	remote := "?"
	if a := c.RemoteAddr(); a != nil {
		remote = a.String()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return nil, false
	}
	tc := &trackedConn{Conn: c, remote: remote}
	s.conns[c] = tc
	s.active.Add(1)
	return tc, true
}

func (s *server) untrack(tc *trackedConn) {
	s.mu.Lock()
	delete(s.conns, tc.Conn)
	s.mu.Unlock()
	s.active.Done()
}

// serving records the request a worker has read on c (req is nil when
// its head was malformed), for shutdown to name should it cut it.
func (s *server) serving(c net.Conn, worker int, req *protocol.Request) {
	cmd, name := requestName(req)
	s.mu.Lock()
	if tc, ok := s.conns[c]; ok {
		tc.worker, tc.cmd, tc.name = worker, cmd, name
	}
	s.mu.Unlock()
}

// requestName is a request's command and file name as the log shows
// them, from its head alone.
func requestName(req *protocol.Request) (cmd, name string) {
	if req == nil {
		return "?", ""
	}
	cmd = req.Command
	if cmd == "" {
		cmd = "UPLOAD" // a JSON request with its content before its command
	}
	if len(req.Args) > 0 {
		name = sanitize(req.Args[0])
	}
	return cmd, name
}

// describeRequest words a cut request for an error message.
func describeRequest(cmd, name, remote string) string {
	if cmd == "" {
		return "a request not yet read from " + remote
	}
	if name != "" {
		cmd += fmt.Sprintf(" %q", name)
	}
	return cmd + " from " + remote
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
// requests in flight may finish until ctx ends, and then their
// connections are closed. It then waits for thread mode's accept loop and
// workers, which return once the room is shut and their connection is
// done. A worker that has not returned shutdownGrace later is blocked
// where no close reaches it (the file system) and is abandoned, so that
// the process can still exit. The caller closes the listener first, so
// that the accept loop returns. Its error names every request it cut.
func (s *server) shutdown(ctx context.Context) error {
	if s.room != nil {
		s.room.shutdown()
	}
	s.mu.Lock()
	s.stopping = true
	for _, tc := range s.conns {
		if tc.idle {
			tc.Close()
		}
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.active.Wait()
		s.loops.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	cut := make([]*trackedConn, 0, len(s.conns))
	for _, tc := range s.conns {
		tc.Close()
		cut = append(cut, tc)
	}
	s.mu.Unlock()
	grace := time.NewTimer(shutdownGrace)
	defer grace.Stop()
	select {
	case <-done:
	case <-grace.C:
	}
	return s.reportCut(cut)
}

// reportCut logs the requests that shutdown cut, saying whether each
// worker returned within the grace or was abandoned, and returns an error
// naming them all.
func (s *server) reportCut(cut []*trackedConn) error {
	type row struct {
		worker int
		attrs  []any
		desc   string
	}
	var rows []row
	s.mu.Lock()
	for _, tc := range cut {
		_, stuck := s.conns[tc.Conn]
		who, attrs := "a worker", []any{}
		if tc.worker != 0 {
			who, attrs = fmt.Sprintf("worker %d", tc.worker), []any{"worker", tc.worker}
		}
		attrs = append(attrs, "remote", tc.remote, "cmd", tc.cmd)
		if tc.name != "" {
			attrs = append(attrs, "name", tc.name)
		}
		desc := who + ": " + describeRequest(tc.cmd, tc.name, tc.remote)
		if stuck {
			desc += fmt.Sprintf(" (abandoned: its worker was still blocked %s later)", shutdownGrace)
		}
		rows = append(rows, row{tc.worker, append(attrs, "worker_abandoned", stuck), desc})
	}
	s.mu.Unlock()
	if len(rows) == 0 {
		return nil // they all ended just before the cut
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp.Compare(a.worker, b.worker) })
	names := make([]string, len(rows))
	for i, r := range rows {
		s.log.Warn("request cut at the shutdown timeout", r.attrs...)
		names[i] = r.desc
	}
	what := "request"
	if len(rows) != 1 {
		what += "s"
	}
	return fmt.Errorf("shutdown timeout (%s) cut %d %s in flight: %s", s.cfg.ShutdownTimeout, len(rows), what, strings.Join(names, "; "))
}
