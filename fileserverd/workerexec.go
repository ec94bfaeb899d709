package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/childproc"
)

// execStarter starts process mode's worker children: this binary
// re-executed with the parent's config (childInfo), serving what the
// parent's waiting room hands them over a link of their own. Its start is
// the supervisor's start function.
type execStarter struct {
	cfg         config
	log         *slog.Logger
	exe         string
	started     time.Time    // the pool's start, for the children's STATS
	counterFile *os.File     // fdCounters in children
	storageDir  *os.File     // fdStorage in children: store's directory itself
	room        *waitingRoom // the parent's: it accepts, children serve
	counters    *counters
}

// start runs the worker child for id and a dispatcher that feeds it
// connections from the room. It must be called from the thread that
// stays locked for the life of the pool (see serveProcessPool): the
// child's Pdeathsig (Linux) fires when the thread that started it exits.
func (e *execStarter) start(id int) (child, error) {
	link, childEnd, err := newLink()
	if err != nil {
		return nil, fmt.Errorf("start worker %d: %w", id, err)
	}
	defer childEnd.Close() // the child has its copy once started
	cmd, err := e.command(id, childEnd)
	if err == nil {
		err = e.launcher().Start(cmd) // and the link's end tells it too, everywhere (serveWorkerChild)
	}
	if err != nil {
		link.Close()
		return nil, fmt.Errorf("start worker %d: %w", id, err)
	}
	p := &workerChild{cmd: cmd}
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

// launcher starts worker children: SIGTERM when the parent dies, and no
// marker meant for the parent (systemd's NOTIFY_SOCKET) in their
// environment.
func (e *execStarter) launcher() childproc.Launcher {
	return childproc.Launcher{Var: envWorker, Exe: e.exe, Drop: []string{"FILESERVERD_", envNotifySocket + "="}, DeathSignal: syscall.SIGTERM}
}

// command prepares worker child id: told the parent's config and its place
// in the pool, given link, the counters and the storage directory.
func (e *execStarter) command(id int, link *os.File) (*exec.Cmd, error) {
	ci := childInfo{Config: e.cfg, ID: id, Parent: os.Getpid(), Started: e.started}
	cmd, err := e.launcher().Command(context.Background(), ci, link, e.counterFile, e.storageDir)
	if err != nil {
		return nil, err
	}
	if os.Getenv("GOMAXPROCS") == "" {
		// A child serves one connection at a time: one P is all it can
		// use, and fewer runtime threads per child leave the cores to the
		// transfers when 50 children share them.
		cmd.Env = append(cmd.Env, "GOMAXPROCS=1")
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	return cmd, nil
}

// workerChild is a running worker child, and the connection it was handed.
type workerChild struct {
	cmd *exec.Cmd

	mu      sync.Mutex // guards held and heldVia: dispatch sets them, the supervisor reads them
	held    []byte     // guarded by mu: the head of the connection the child serves, or nil
	heldVia string     // guarded by mu: its client address
}

func (p *workerChild) pid() int                   { return p.cmd.Process.Pid }
func (p *workerChild) signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }
func (p *workerChild) wait() error                { return p.cmd.Wait() }

// hold records the connection the child took, or nil once it answered
// for it (dispatch calls it): the request a kill cuts.
func (p *workerChild) hold(c *conn) {
	p.mu.Lock()
	p.held, p.heldVia = nil, ""
	if c != nil {
		p.held, p.heldVia = c.replay, c.remote
	}
	p.mu.Unlock()
}

func (p *workerChild) request() (attrs []any, desc string) {
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
