package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"fileserver/protocol/childproc"
)

// childWaitDelay bounds the wait for a killed child's pipes to close.
const childWaitDelay = time.Second

// childBackstop is how long after its deadlines (for the release, and for
// the window) a child gives up on its own. The parent kills children at
// the deadline itself; this only covers a parent that cannot (and
// Pdeathsig one that died).
const childBackstop = time.Second

// childOptions are how the parent runs its children.
type childOptions struct {
	progress bool      // children report bytes moved, for the progress line
	stderr   io.Writer // the children's stderr
	verbose  io.Writer // -v: each child's pid
	startAt  time.Time // -start-at: the release waits for it
}

// runProcessPool runs every job in its own child process (filestressd
// re-executed with envChild set). It starts them all within the setup's
// budget (setup), then releases them together; the window's deadline runs
// from the release for timeout. It returns their results when all have
// reported or the deadline has passed. Children die with this process
// (Pdeathsig) and are killed at the deadline or at ctx's end, so none
// outlives either.
func runProcessPool(ctx, setup context.Context, timeout time.Duration, jobs []job, pc *progressCounters, opt childOptions) (window, error) {
	// Pdeathsig fires when the thread that forked the child exits: keep
	// this goroutine, which forks them all, on one thread meanwhile. Go
	// never ends a thread that is not locked.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	exe, err := os.Executable()
	if err != nil {
		return window{}, fmt.Errorf("process pool: find own executable: %w", err)
	}
	startBy, ok := setup.Deadline()
	if !ok {
		return window{}, errors.New("process pool: the setup has no deadline")
	}
	kidsCtx, killKids := context.WithCancel(ctx) // ending it kills every child
	defer killKids()
	results := make([]workerResult, len(jobs))
	if opt.startAt.After(startBy) {
		startBy = opt.startAt
	}
	spec := childSpec{StartBy: startBy.Add(timeout + childBackstop), Timeout: timeout, Progress: opt.progress}
	kids := startChildren(kidsCtx, setup, exe, spec, jobs, results, pc, opt)

	// The window's deadline runs from the release, after the children are
	// ready; their reports are read from now on.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(wctx, killKids)
	defer stop()
	out := make(chan outcome, len(kids)) // buffered: a straggler never blocks
	for _, k := range kids {
		results[k.index] = unfinished(k.job, "child still running at the deadline")
		go k.report(wctx, pc, out)
	}
	waitReady(setup, kids)
	deadline := time.AfterFunc(releaseAt(ctx, opt.startAt, timeout), cancel)
	defer deadline.Stop()
	cpu := startCPU()
	start := time.Now()
	pc.release(start)
	for _, k := range kids {
		k.release()
	}
	fmt.Fprintf(opt.verbose, "filestressd: %d children released\n", len(kids))
	end := collect(wctx, out, len(kids), results, pc, childWaitDelay+stragglerGrace, start)
	w := window{results: results, start: start, end: end}
	w.cpu, w.cpuKnown = cpu.stop()
	for _, k := range kids {
		if r := results[k.index]; r.cpuReported {
			w.cpu += time.Duration(r.CPUMicros) * time.Microsecond
		} else {
			w.cpuMissing++
		}
	}
	return w, nil
}

// waitReady waits until every child is ready for the release, or gone,
// or the setup's budget is spent: a child still starting then is released
// with the others and its start-up counts in its time.
func waitReady(setup context.Context, kids []*child) {
	for _, k := range kids {
		select {
		case <-k.ready:
		case <-setup.Done():
			return
		}
	}
}

// startChildren starts a child for each job, each waiting for the
// release, and returns those that started. A child that cannot be started
// fails at once, its result filled in: kind timeout if the setup's budget
// or ctx had ended, kind process otherwise.
func startChildren(ctx, setup context.Context, exe string, spec childSpec, jobs []job, results []workerResult, pc *progressCounters, opt childOptions) []*child {
	env := childproc.WithoutEnv(os.Environ(), envChild+"=")
	var kids []*child
	for i, j := range jobs {
		spec.Job = j
		k, err := startChild(ctx, setup, exe, env, spec, opt.stderr)
		if err != nil {
			kind := kindProcess
			if ctx.Err() != nil || setup.Err() != nil {
				kind = kindTimeout
			}
			results[i] = workerResult{Worker: j.Worker, Kind: kind, Error: fmt.Sprintf("start child: %v", err)}
			pc.finish(results[i])
			continue
		}
		k.index = i
		fmt.Fprintf(opt.verbose, "filestressd: worker %d: child pid %d\n", j.Worker, k.cmd.Process.Pid)
		kids = append(kids, k)
	}
	return kids
}
