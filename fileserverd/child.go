package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Environment a process-mode parent hands its children; the link to the
// parent is fd 3, the shared counters fd 4 and the storage directory fd 5
// (os/exec ExtraFiles).
const (
	envWorker  = "FILESERVERD_WORKER"
	envParent  = "FILESERVERD_PARENT"
	envStarted = "FILESERVERD_STARTED"
	fdLink     = 3
	fdCounters = 4
	fdStorage  = 5
)

// childInfo is what a worker child knows of its place in the pool.
type childInfo struct {
	id      int
	parent  int
	started time.Time
}

func (ci childInfo) env() []string {
	return []string{
		envWorker + "=" + strconv.Itoa(ci.id),
		envParent + "=" + strconv.Itoa(ci.parent),
		envStarted + "=" + strconv.FormatInt(ci.started.UnixNano(), 10),
	}
}

// childFromEnv tells whether this process is a worker child.
func childFromEnv() (childInfo, bool, error) {
	w, ok := os.LookupEnv(envWorker)
	if !ok {
		return childInfo{}, false, nil
	}
	var ci childInfo
	var err error
	var started int64
	if ci.id, err = strconv.Atoi(w); err == nil {
		if ci.parent, err = strconv.Atoi(os.Getenv(envParent)); err == nil {
			started, err = strconv.ParseInt(os.Getenv(envStarted), 10, 64)
		}
	}
	if err != nil {
		return ci, true, fmt.Errorf("worker child: bad environment: %w", err)
	}
	ci.started = time.Unix(0, started)
	return ci, true, nil
}

// serveWorkerChild is a worker child's main: it serves what the parent
// hands over the inherited link with one worker until ctx ends (the
// parent's SIGTERM, or the parent's death through Pdeathsig on Linux) or
// the link does (the parent stopping, or dead, on every platform).
func serveWorkerChild(ctx context.Context, cfg config, ci childInfo, log *slog.Logger) error {
	log = log.With("pid", os.Getpid())
	if os.Getppid() != ci.parent {
		return fmt.Errorf("worker %d: parent %d is gone", ci.id, ci.parent)
	}
	lf := os.NewFile(fdLink, "link")
	lc, err := net.FileConn(lf)
	lf.Close()
	if err != nil {
		return fmt.Errorf("worker %d: link to the parent: %w", ci.id, err)
	}
	link, ok := lc.(*net.UnixConn)
	if !ok {
		lc.Close()
		return fmt.Errorf("worker %d: fd %d is not a link to the parent", ci.id, fdLink)
	}
	cf := os.NewFile(fdCounters, "counters")
	c, err := mapCounters(cf, cfg.Mode, cfg.Workers, ci.parent, ci.started)
	cf.Close()
	if err != nil {
		return fmt.Errorf("worker %d: %w", ci.id, err)
	}
	st, err := inheritStore(fdStorage)
	if err != nil {
		return fmt.Errorf("worker %d: %w", ci.id, err)
	}
	defer st.Close()
	st.hardLinks = cfg.HardLinks
	srv := newServer(cfg, st, c, log)
	linkDone := make(chan struct{})
	go func() {
		defer close(linkDone)
		srv.serveLink(link, ci.id)
	}()

	// The parent's SIGTERM ends ctx. The link's end does as well: the
	// parent closed it, stopping, or died (the kernel closes its end);
	// that is how a child learns of its parent's death where there is no
	// Pdeathsig, and it backs Pdeathsig up on Linux.
	select {
	case <-ctx.Done():
	case <-linkDone:
		if ctx.Err() == nil && os.Getppid() != ci.parent {
			log.Warn("the parent is gone: stopping", "parent", ci.parent)
		}
	}
	// The parent stops its waiting room before it signals the children,
	// then closes each link once its child has answered for the connection
	// it holds: what was handed over is served. Should the parent not close
	// it in time, the link is closed here.
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	select {
	case <-linkDone:
	case <-sctx.Done():
		link.Close()
	}
	return srv.shutdown(sctx)
}

// serveLink runs a worker child of process mode: it serves the
// connections the parent hands over through link, one at a time, and
// tells the parent what became of each, until the link closes.
func (s *server) serveLink(link *net.UnixConn, id int) {
	s.gauges = s.counters.worker(id)
	w := newWorker(s, id)
	buf := make([]byte, handOffHead+maxReplay)
	oob := make([]byte, syscall.CmsgSpace(4))
	if _, err := link.Write([]byte{childReady}); err != nil {
		return
	}
	for {
		c, err := receive(link, buf, oob)
		if err != nil {
			// errLinkClosed: the parent stopping (it closes the link once
			// its room is shut, before or after its SIGTERM arrives) or
			// dead (serveWorkerChild says so): nothing more will come.
			if !s.isStopping() && !errors.Is(err, net.ErrClosed) && !errors.Is(err, errLinkClosed) {
				s.log.Warn("worker link", "error", err)
			}
			return
		}
		s.admit(c, false)
		if _, err := link.Write([]byte{handBackReceived}); err != nil {
			c.close()
			return
		}
		v := handBackClosed
		if w.serveConn(c) {
			v = handBackPark
		}
		c.close() // the parent holds the connection too
		if _, err := link.Write([]byte{v}); err != nil {
			return
		}
	}
}
