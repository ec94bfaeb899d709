package main

import (
	"bufio"
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/childproc"
)

// execStarter starts process mode's worker processes: children of this
// binary, re-executed with the parent's flags, that serve what the
// parent's waiting room hands them over a link of their own. Its start is
// the supervisor's start function.
type execStarter struct {
	cfg         config
	log         *slog.Logger
	exe         string
	started     time.Time    // the pool's start, for the children's STATS
	counterFile *os.File     // fd 4 in children (fd 3 is each child's own link)
	storageDir  *os.File     // fd 5 in children: store's directory itself
	room        *waitingRoom // the parent's: it accepts, children serve
	counters    *counters
}

// start runs the worker child for id and a dispatcher that feeds it
// connections from the room. It must be called from the thread that
// stays locked for the life of the pool (see serveProcessPool): the
// child's Pdeathsig (Linux) fires when the thread that started it exits.
func (e *execStarter) start(id int) (child, error) {
	args := []string{
		"-mode", e.cfg.Mode, "-workers", strconv.Itoa(e.cfg.Workers), "-dir", e.cfg.Dir,
		"-max-size", strconv.FormatInt(e.cfg.MaxSize, 10), "-idle-timeout", e.cfg.IdleTimeout.String(), "-end-pause", e.cfg.EndPause.String(),
		"-end-pause-write", e.cfg.EndPauseWrite.String(), "-min-rate", strconv.FormatInt(e.cfg.MinRate, 10), "-min-rate-window", e.cfg.MinRateWindow.String(),
		"-head-timeout", e.cfg.HeadTimeout.String(), "-keepalive-timeout", e.cfg.KeepAlive.String(),
		"-max-conns", strconv.Itoa(e.cfg.MaxConns), "-max-conns-per-ip", strconv.Itoa(e.cfg.MaxConnsPerIP),
		"-shutdown-timeout", e.cfg.ShutdownTimeout.String(), "-log-format", e.cfg.LogFormat,
		"-allow", e.cfg.Allow, "-serve-hard-links=" + strconv.FormatBool(e.cfg.HardLinks),
	}
	cmd := exec.Command(e.exe, args...)
	cmd.Env = append(childproc.WithoutEnv(os.Environ(), "FILESERVERD_", envNotifySocket+"="), childInfo{id: id, parent: os.Getpid(), started: e.started}.env()...)
	if os.Getenv("GOMAXPROCS") == "" {
		// A child serves one connection at a time: one P is all it can
		// use, and fewer runtime threads per child leave the cores to the
		// transfers when 50 children share them.
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	link, childEnd, err := newLink()
	if err != nil {
		return nil, fmt.Errorf("start worker %d: %w", id, err)
	}
	defer childEnd.Close() // the child has its copy once started
	cmd.ExtraFiles = []*os.File{childEnd, e.counterFile, e.storageDir}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	childproc.DieWithParent(cmd, syscall.SIGTERM) // and the link's end, everywhere (serveWorkerChild)
	if err := cmd.Start(); err != nil {
		link.Close()
		return nil, fmt.Errorf("start worker %d: %w", id, err)
	}
	p := &execProc{cmd: cmd}
	pid := cmd.Process.Pid
	go dispatch(e.room, link, func() { e.log.Info("worker started", "worker", id, "pid", pid) }, func(c *conn) {
		p.hold(c)
		if c == nil {
			// A request is done: the parent's own share of it, for STATS.
			e.counters.supervisorCPU()
		}
	})
	return p, nil
}

// execProc is a running worker child, and the connection it was handed.
type execProc struct {
	cmd *exec.Cmd

	mu      sync.Mutex // guards held and heldVia: dispatch sets them, the supervisor reads them
	held    []byte     // guarded by mu: the head of the connection the child serves, or nil
	heldVia string     // guarded by mu: its client address
}

func (p *execProc) pid() int                   { return p.cmd.Process.Pid }
func (p *execProc) signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }
func (p *execProc) wait() error                { return p.cmd.Wait() }

// hold records the connection the child took, or nil once it answered
// for it (dispatch calls it): the request a kill cuts.
func (p *execProc) hold(c *conn) {
	p.mu.Lock()
	p.held, p.heldVia = nil, ""
	if c != nil {
		p.held, p.heldVia = c.replay, c.remote
	}
	p.mu.Unlock()
}

func (p *execProc) request() (attrs []any, desc string) {
	p.mu.Lock()
	head, remote := p.held, p.heldVia
	p.mu.Unlock()
	if head == nil {
		return nil, ""
	}
	// The head as the waiting room recorded it: the parent never reads
	// further, so a pipelined request behind it goes unnamed.
	req, _ := protocol.NewRequestReader(bufio.NewReader(bytes.NewReader(head))).Read()
	cmd, name := requestName(req)
	return describeRequest(cmd, name, remote)
}
