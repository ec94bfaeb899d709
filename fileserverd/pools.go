// The server's two worker pools and what they share: thread mode's
// goroutines (serveThreadPool) and process mode's children
// (serveProcessPool, kept running by the supervisor in supervisor.go and
// started by workerexec.go).

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"fileserver/protocol"
)

// serveThreadPool runs thread mode: cfg.Workers goroutines in this
// process serve until ctx ends, then it shuts down gracefully.
func serveThreadPool(ctx context.Context, cfg config, log *slog.Logger) error {
	st, ln, err := prepare(cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()
	if n := threadModeProcs(cfg.Workers); n > 0 {
		runtime.GOMAXPROCS(n)
	}
	c := newCounters(cfg.Mode, cfg.Workers, os.Getpid(), time.Now())
	srv := newServer(cfg, st, c, log)
	logListening(log, cfg, ln)
	srv.serve(ln, cfg.Workers)
	sdNotify(log, readyState(cfg, ln))

	<-ctx.Done()
	sdNotify(log, "STOPPING=1")
	log.Info("shutting down", "in_flight", c.snapshot().ActiveConnections, "timeout", cfg.ShutdownTimeout)
	ln.Close()
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = srv.shutdown(sctx)
	logFinalStats(log, c.snapshot())
	return err
}

// serveProcessPool runs process mode: it opens the listener and the
// waiting room, starts cfg.Workers worker children that serve what the
// room hands them, keeps them running (supervisor), and on ctx's end
// stops them all gracefully.
func serveProcessPool(ctx context.Context, cfg config, log *slog.Logger) error {
	// Children get Pdeathsig, which fires when the thread that started them
	// exits: keep this goroutine, which starts them all, on one thread for
	// the life of the process.
	runtime.LockOSThread()

	var err error
	if cfg.Dir, err = filepath.Abs(cfg.Dir); err != nil {
		return fmt.Errorf("storage directory: %w", err)
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
	e := &execStarter{cfg: cfg, log: log, started: time.Now(), counterFile: cf, storageDir: sd}
	if e.counters, err = mapCounters(cf, cfg.Mode, cfg.Workers, os.Getpid(), e.started); err != nil {
		return err
	}
	if e.exe, err = os.Executable(); err != nil {
		return fmt.Errorf("find own executable: %w", err)
	}
	logListening(log, cfg, ln)
	srv := newServer(cfg, st, e.counters, log)
	e.room = newWaitingRoom(srv, cfg.Workers)
	srv.room = e.room
	s := newSupervisor(cfg, log, e.counters, st, e.start)
	// stop stops handing out connections, then the children.
	stop := func() error {
		sdNotify(log, "STOPPING=1")
		ln.Close()
		srv.stop()
		cf.Close()
		return s.stopAll()
	}
	if err := s.startAll(cfg.Workers); err != nil {
		stop()
		return err
	}
	go e.room.acceptLoop(ln)
	sdNotify(log, readyState(cfg, ln))
	s.supervise(ctx)
	err = stop()
	logFinalStats(log, e.counters.snapshot())
	return err
}

// threadModeProcs is how many Ps thread mode runs with, or 0 to leave the
// runtime's choice (and an explicit $GOMAXPROCS) alone. Uploads write and
// fsync files, and under dirty-page throttling those calls block in the
// kernel; with one P per core a blocked call holds its P until the runtime
// hands it off, and the other workers wait. A few spare Ps let them run
// meanwhile, as the separate runtimes of process mode do: one P per worker,
// as process mode has one runtime per worker (results/performance.md).
func threadModeProcs(workers int) int {
	if os.Getenv("GOMAXPROCS") != "" {
		return 0
	}
	n := min(workers, 32*runtime.NumCPU())
	if n <= runtime.GOMAXPROCS(0) {
		return 0
	}
	return n
}

// prepare opens the storage directory, clears what a crash left in it,
// and opens the listener.
func prepare(cfg config, log *slog.Logger) (*store, net.Listener, error) {
	st, err := openStore(cfg.Dir)
	if err != nil {
		return nil, nil, err
	}
	st.hardLinks = cfg.HardLinks
	if n, err := st.removeTemps(0); err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("storage directory: %w", err)
	} else if n > 0 {
		log.Info("removed temporary files left by an earlier run", "count", n)
	}
	ln, err := listen(cfg.Addr, log)
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, ln, nil
}

func logListening(log *slog.Logger, cfg config, ln net.Listener) {
	dir, _ := filepath.Abs(cfg.Dir)
	log.Info("listening", "addr", ln.Addr().String(), "mode", cfg.Mode, "workers", cfg.Workers,
		"dir", dir, "max_size", cfg.MaxSize, "idle_timeout", cfg.IdleTimeout, "pid", os.Getpid(), "version", version)
}

func logFinalStats(log *slog.Logger, s protocol.Stats) {
	attrs := []any{"connections", s.Connections, "bytes_in", s.BytesIn, "bytes_out", s.BytesOut, "worker_restarts", s.WorkerRestarts}
	for _, l := range protocol.Limits {
		attrs = append(attrs, "closed_by_"+l, s.Limits[l])
	}
	for _, op := range protocol.Ops() {
		name := op.String()
		attrs = append(attrs, name+"_ok", s.Requests[name].OK, name+"_failed", s.Requests[name].Failed)
	}
	log.Info("stopped", attrs...)
}
