package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"
)

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
	e.room = newWaitingRoom(srv, 0, cfg.Workers)
	srv.room = e.room
	s := newSupervisor(cfg, log, e.counters, st, e.start)
	// stop stops handing out connections, then the children.
	stop := func() error {
		sdNotify(log, "STOPPING=1")
		ln.Close()
		e.room.shutdown()
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
