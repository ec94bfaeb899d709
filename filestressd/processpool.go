package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// childWaitDelay bounds the wait for a killed child's pipes to close.
const childWaitDelay = time.Second

// childBackstop is how long after the deadline a child gives up on its
// own. The parent kills children at the deadline itself; this only
// covers a parent that cannot (and Pdeathsig one that died).
const childBackstop = time.Second

// childExit is what the parent learns from one child.
type childExit struct {
	index  int
	result *workerResult
	status string
	maxRSS int64 // KiB
}

// runProcessPool runs every job in its own child process (filestressd
// re-executed with envChild set), releases them together once all are
// started, and returns their results when all have exited or ctx has
// ended. Children die with this process (Pdeathsig) and are killed at
// ctx's end (exec.CommandContext), so none outlives the deadline.
func runProcessPool(ctx context.Context, jobs []job, pc *progressCounters, progress bool, stderr, verbose io.Writer) (window, error) {
	// Pdeathsig fires when the thread that forked the child exits: keep
	// this goroutine, which forks them all, on one thread meanwhile. Go
	// never ends a thread that is not locked.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	exe, err := os.Executable()
	if err != nil {
		return window{}, fmt.Errorf("process pool: find own executable: %w", err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		return window{}, fmt.Errorf("process pool: no deadline")
	}
	results := make([]workerResult, len(jobs))
	reported := make([]bool, len(jobs))
	type kid struct {
		index  int
		cmd    *exec.Cmd
		stdin  io.WriteCloser
		stdout io.Reader
		moved  atomic.Int64
	}
	var kids []*kid
	env := withoutChildEnv(os.Environ())
	for i, j := range jobs {
		cmd := exec.CommandContext(ctx, exe)
		cmd.Stderr = stderr
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		cmd.WaitDelay = childWaitDelay
		k := &kid{index: i, cmd: cmd}
		spec, err := json.Marshal(childSpec{Parent: os.Getpid(), Job: j, Deadline: deadline.Add(childBackstop), Progress: progress})
		if err == nil {
			cmd.Env = append(slices.Clip(env), envChild+"="+string(spec)) // a copy per child
			k.stdin, err = cmd.StdinPipe()
		}
		if err == nil {
			k.stdout, err = cmd.StdoutPipe()
		}
		if err == nil {
			err = cmd.Start()
		}
		if err != nil {
			results[i], reported[i] = workerResult{Worker: j.Worker, Kind: kindProcess, Error: fmt.Sprintf("start child: %v", err)}, true
			pc.done.Add(1)
			continue
		}
		fmt.Fprintf(verbose, "filestressd: worker %d: child pid %d\n", j.Worker, cmd.Process.Pid)
		kids = append(kids, k)
	}

	exits := make(chan childExit, len(kids)) // buffered: a straggler never blocks
	for _, k := range kids {
		go func() {
			e := childExit{index: k.index}
			sc := bufio.NewScanner(k.stdout)
			sc.Buffer(make([]byte, 0, 4096), 64<<10)
			for sc.Scan() { // ends when the child exits or is killed
				var m childMessage
				if json.Unmarshal(sc.Bytes(), &m) != nil {
					continue
				}
				if m.Moved > 0 {
					pc.moved.Add(m.Moved - k.moved.Swap(m.Moved))
				}
				if m.Result != nil {
					e.result = m.Result
				}
			}
			err := k.cmd.Wait()
			e.status = exitStatus(err)
			if ps := k.cmd.ProcessState; ps != nil {
				if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
					e.maxRSS = ru.Maxrss
				}
			}
			exits <- e
		}()
	}
	start := time.Now()
	for _, k := range kids {
		k.stdin.Write([]byte("go\n"))
		k.stdin.Close()
	}
	fmt.Fprintf(verbose, "filestressd: %d children released\n", len(kids))

	w := window{results: results, start: start, end: start}
	var grace <-chan time.Time
	done := ctx.Done()
	for left := len(kids); left > 0; {
		select {
		case e := <-exits:
			left--
			pc.done.Add(1)
			results[e.index], reported[e.index] = childResult(ctx, jobs[e.index], e), true
			if grace == nil {
				w.end = time.Now()
			}
		case <-done:
			// exec.CommandContext kills every child now.
			w.end = time.Now()
			done, grace = nil, time.After(childWaitDelay+stragglerGrace)
		case <-grace:
			fillUnfinished(results, reported, "child still running at the deadline")
			return w, nil
		}
	}
	return w, nil
}

// childResult is a child's own report, or what its exit says when it
// could not report.
func childResult(ctx context.Context, j job, e childExit) workerResult {
	var r workerResult
	switch {
	case e.result != nil:
		r = *e.result
		r.Worker = j.Worker
	case ctx.Err() != nil:
		r = workerResult{Worker: j.Worker, Kind: kindTimeout, Error: "child killed at the deadline (" + e.status + ")"}
	default:
		r = workerResult{Worker: j.Worker, Kind: kindProcess, Error: "child exited without a result (" + e.status + ")"}
	}
	r.MaxRSSKiB = e.maxRSS
	return r
}

// withoutChildEnv drops a child marker this process may have inherited.
func withoutChildEnv(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if !strings.HasPrefix(kv, envChild+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// exitStatus words how a child ended.
func exitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "signal: " + ws.Signal().String()
		}
		return fmt.Sprintf("exit %d", ee.ExitCode())
	}
	return err.Error()
}
