package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"fileserver/protocol/childproc"
)

// child is one process-pool worker as the parent sees it.
type child struct {
	index     int // into the pool's jobs and results
	job       job
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	stdout    io.Reader
	ready     chan struct{} // closed by report once the child is ready, or gone
	readyOnce sync.Once
}

// isReady closes k.ready, once.
func (k *child) isReady() { k.readyOnce.Do(func() { close(k.ready) }) }

// startChild starts filestressd re-executed as the child that does
// spec.Job, waiting for its release. The child is killed when ctx ends
// (exec.CommandContext), and dies with the thread that forks it
// (Pdeathsig): forkExec arms PR_SET_PDEATHSIG in the child before the
// exec and, if the parent already died by then, signals the child itself
// (syscall/exec_linux.go), so no check of the parent is needed in the
// child. Nothing is started once the setup's budget (setup) is spent.
func startChild(ctx, setup context.Context, exe string, env []string, spec childSpec, stderr io.Writer) (*child, error) {
	if err := setup.Err(); err != nil {
		return nil, fmt.Errorf("the setup's budget (-timeout) ran out before it: %w", err)
	}
	b, err := json.Marshal(spec)
	if err != nil {
		return nil, fmt.Errorf("encode the child's job: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(slices.Clip(env), envChild+"="+string(b)) // a copy per child
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = childWaitDelay
	k := &child{job: spec.Job, cmd: cmd, ready: make(chan struct{})}
	if k.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("stdin pipe: %w", err)
	}
	if k.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return k, nil
}

// release tells the child to start its transfer. A child that died
// meanwhile does not hear it, and its exit says so in report.
func (k *child) release() {
	k.stdin.Write([]byte("go\n"))
	k.stdin.Close()
}

// report reads the child's lines until it exits, adding its progress to
// pc, then sends its outcome: the result it reported, stamped when that
// line was read, or what its exit says if it reported none. ctx is the
// window's: a child without a result after it ended was killed at the
// deadline.
func (k *child) report(ctx context.Context, pc *progressCounters, out chan<- outcome) {
	var res *workerResult
	var at time.Time
	var moved int64
	sc := bufio.NewScanner(k.stdout)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() { // ends when the child exits or is killed
		var m childMessage
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		if m.Ready {
			k.isReady()
		}
		if m.Moved > moved {
			pc.moved.Add(m.Moved - moved)
			moved = m.Moved
		}
		if m.Result != nil {
			res, at = m.Result, time.Now()
		}
	}
	k.isReady() // a child that exited will never say so
	err := k.cmd.Wait()
	if res == nil {
		at = time.Now()
	}
	r := childResult(ctx, k.job, res, childproc.ExitStatus(err))
	r.MaxRSSKiB = maxRSS(k.cmd.ProcessState)
	out <- outcome{index: k.index, result: r, at: at}
}

// childResult is a child's own report, or what its exit says when it
// could not report.
func childResult(ctx context.Context, j job, reported *workerResult, status string) workerResult {
	switch {
	case reported != nil:
		r := *reported
		r.Worker = j.Worker
		r.cpuReported = true
		return r
	case ctx.Err() != nil:
		return workerResult{Worker: j.Worker, Kind: kindTimeout, Error: "child killed at the deadline (" + status + ")"}
	}
	return workerResult{Worker: j.Worker, Kind: kindProcess, Error: "child exited without a result (" + status + ")"}
}

// maxRSS is an exited child's peak resident set, in KiB.
func maxRSS(ps *os.ProcessState) int64 {
	if ps == nil {
		return 0
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss
	}
	return 0
}
