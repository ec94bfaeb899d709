package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"syscall"
	"time"

	"fileserver/protocol/childproc"
)

// envWorker marks a worker child and carries its childInfo as JSON
// (childproc.Launcher). The child inherits the link to its parent as fd
// fdLink, the shared counters as fdCounters, the storage directory as
// fdStorage.
const envWorker = "FILESERVERD_WORKER"

const (
	fdLink = childproc.FirstFD + iota
	fdCounters
	fdStorage
)

// childInfo is all a worker child is told: the parent's config, whole,
// and the child's place in the pool.
type childInfo struct {
	Config  config    `json:"config"`
	ID      int       `json:"id"`
	Parent  int       `json:"parent"`  // the parent's pid
	Started time.Time `json:"started"` // the pool's start, for STATS
}

// childFromEnv tells whether this process is a worker child, and what it
// was told. The parsed -allow, which JSON does not carry, is derived again.
func childFromEnv() (childInfo, bool, error) {
	var ci childInfo
	isChild, err := childproc.Config(envWorker, &ci)
	if isChild && err == nil {
		ci.Config.allow, err = parseAllow(ci.Config.Allow)
	}
	return ci, isChild, err
}

// serveWorkerChild is a worker child's main: it serves what the parent
// hands over the inherited link with one worker until ctx ends (the
// parent's SIGTERM, or the parent's death through Pdeathsig on Linux) or
// the link does (the parent stopping, or dead, on every platform).
func serveWorkerChild(ctx context.Context, ci childInfo, log *slog.Logger) error {
	cfg := ci.Config
	log = log.With("pid", os.Getpid())
	if os.Getppid() != ci.Parent {
		return fmt.Errorf("worker %d: parent %d is gone", ci.ID, ci.Parent)
	}
	lf := os.NewFile(fdLink, "link")
	lc, err := net.FileConn(lf)
	lf.Close()
	if err != nil {
		return fmt.Errorf("worker %d: link to the parent: %w", ci.ID, err)
	}
	link, ok := lc.(*net.UnixConn)
	if !ok {
		lc.Close()
		return fmt.Errorf("worker %d: fd %d is not a link to the parent", ci.ID, fdLink)
	}
	cf := os.NewFile(fdCounters, "counters")
	c, err := mapCounters(cf, cfg.Mode, cfg.Workers, ci.Parent, ci.Started)
	cf.Close()
	if err != nil {
		return fmt.Errorf("worker %d: %w", ci.ID, err)
	}
	st, err := inheritStore(fdStorage)
	if err != nil {
		return fmt.Errorf("worker %d: %w", ci.ID, err)
	}
	defer st.Close()
	st.hardLinks = cfg.HardLinks
	srv := newServer(cfg, st, c, log)
	linkDone := make(chan struct{})
	go func() {
		defer close(linkDone)
		srv.serveLink(link, ci.ID)
	}()

	// The parent's SIGTERM ends ctx. The link's end does as well: the
	// parent closed it, stopping, or died (the kernel closes its end);
	// that is how a child learns of its parent's death where there is no
	// Pdeathsig, and it backs Pdeathsig up on Linux.
	select {
	case <-ctx.Done():
	case <-linkDone:
		if ctx.Err() == nil && os.Getppid() != ci.Parent {
			log.Warn("the parent is gone: stopping", "parent", ci.Parent)
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
