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

// server serves connections with a fixed set of workers, each serving
// one connection at a time, fed by the waiting room. In thread mode the
// workers are goroutines of one process; in process mode the parent has
// the room and each child runs a server with one worker.
type server struct {
	cfg      config
	store    *store
	counters *counters
	log      *slog.Logger

	// Set before serving starts, then only read.
	room   *waitingRoom   // nil in a worker child
	gauges workerCounters // the slot this process counts its connections' states in (conn.go)

	mu       sync.Mutex         // guards stopping, conns, perIP, and each conn's fields that say so
	stopping bool               // guarded by mu: set once, by stop
	conns    map[*conn]struct{} // guarded by mu: every connection held, not closed
	perIP    map[string]int     // guarded by mu: connections held per client address
	freed    *sync.Cond         // on mu: a connection was closed, or the server stops

	// loops counts thread mode's accept loop and worker goroutines:
	// shutdown waits for them, so that none touches the store after the
	// caller closes it.
	loops      sync.WaitGroup
	withWorker sync.WaitGroup // connections a worker holds (connState.withWorker)
}

func newServer(cfg config, st *store, c *counters, log *slog.Logger) *server {
	s := &server{cfg: cfg, store: st, counters: c, log: log, gauges: c.worker(0), conns: map[*conn]struct{}{}, perIP: map[string]int{}}
	s.freed = sync.NewCond(&s.mu)
	return s
}

// serve runs thread mode: one accept loop feeds workers 1 to n through
// the waiting room.
func (s *server) serve(ln net.Listener, n int) {
	s.room = newWaitingRoom(s, n)
	for id := 1; id <= n; id++ {
		s.loops.Go(newWorker(s, id).run)
	}
	s.loops.Go(func() { s.room.acceptLoop(ln) })
}

func (s *server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
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

// describeRequest is a cut request for the log (attrs) and for an error
// message (desc).
func describeRequest(cmd, name, remote string) (attrs []any, desc string) {
	attrs, desc = []any{"remote", remote, "cmd", cmd}, cmd
	switch {
	case cmd == "":
		desc = "a request not yet read"
	case name != "":
		attrs, desc = append(attrs, "name", name), fmt.Sprintf("%s %q", cmd, name)
	}
	return attrs, desc + " from " + remote
}

// stop stops the room and the workers taking connections: those in the
// room, and those a worker waits on for the rest of a request, are closed
// at once, as no request is in flight on them.
func (s *server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return
	}
	s.stopping = true
	if s.room != nil {
		close(s.room.stop)
	}
	for c := range s.conns {
		switch c.state {
		case stateWaiting, stateAnswering, stateIdle:
			c.nc.Close()
		}
	}
	s.freed.Broadcast()
}

// shutdown stops the server (stop), lets requests in flight finish until
// ctx ends, then closes their connections, and waits for thread mode's
// accept loop and workers. A worker still there shutdownGrace later is
// blocked where no close reaches it (the file system) and is abandoned,
// so that the process can exit. The caller closes the listener first. Its
// error names every request it cut.
func (s *server) shutdown(ctx context.Context) error {
	s.stop()
	done := make(chan struct{})
	go func() {
		s.withWorker.Wait()
		s.loops.Wait()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	var cut []*conn
	for c := range s.conns {
		if c.state.withWorker() {
			c.nc.Close()
			cut = append(cut, c)
		}
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
func (s *server) reportCut(cut []*conn) error {
	type row struct {
		worker int
		attrs  []any
		desc   string
	}
	var rows []row
	s.mu.Lock()
	for _, c := range cut {
		stuck := c.state.withWorker()
		attrs, desc := describeRequest(c.cmd, c.name, c.remote)
		who := "a worker"
		if c.worker != 0 {
			who, attrs = fmt.Sprintf("worker %d", c.worker), append([]any{"worker", c.worker}, attrs...)
		}
		desc = who + ": " + desc
		if stuck {
			desc += fmt.Sprintf(" (abandoned: its worker was still blocked %s later)", shutdownGrace)
		}
		rows = append(rows, row{c.worker, append(attrs, "worker_abandoned", stuck), desc})
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
