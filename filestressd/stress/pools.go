// The client's two worker pools, in one file as hey keeps its requester:
// -pool thread runs each job in a goroutine (runThreadPool), -pool
// process in a child process of filestressd (runProcessPool, each child
// held as a *child; childmain.go is the child's side). Both
// release their workers together and gather their workerOutcomes with
// collect into a window.

package stress

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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"fileserver/protocol/childproc"
)

// stragglerGrace is how long a pool waits, after the deadline, for workers
// to notice it before leaving them counted as timed out and returning
// without them. Connections carry the deadline, so a worker notices at
// once unless it is stuck outside the network (a read of -file that does
// not return, say).
const stragglerGrace = time.Second

// Progress is a pool's live counters, for a progress line (Hooks.Progress).
type Progress struct {
	moved  atomic.Int64 // file bytes moved by all workers
	done   atomic.Int64 // workers finished
	failed atomic.Int64 // of those, workers that failed
	// released is when the workers were released, in nanoseconds since
	// the Unix epoch; 0 before.
	released atomic.Int64
}

// release notes the workers' release at t.
func (pc *Progress) release(t time.Time) { pc.released.Store(t.UnixNano()) }

// finish counts a finished worker, and whether it failed.
func (pc *Progress) finish(r workerResult) {
	pc.done.Add(1)
	if !r.OK {
		pc.failed.Add(1)
	}
}

// Moved is the file bytes all workers have moved so far.
func (pc *Progress) Moved() int64 { return pc.moved.Load() }

// Done is how many workers have finished so far, and how many of those
// failed.
func (pc *Progress) Done() (done, failed int64) { return pc.done.Load(), pc.failed.Load() }

// Released is when the workers were released; zero before.
func (pc *Progress) Released() time.Time {
	if n := pc.released.Load(); n != 0 {
		return time.Unix(0, n)
	}
	return time.Time{}
}

// EveryTick calls tick every interval on a goroutine of its own until the
// returned function is called, which calls done there and returns once it
// has: nothing is written after stop returns.
func EveryTick(interval time.Duration, tick func(now time.Time), done func()) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				done()
				return
			case now := <-t.C:
				tick(now)
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}

// window is what a pool did: every worker's result, when the workers were
// released, and when the last one finished (or the deadline passed).
type window struct {
	results    []workerResult
	start, end time.Time
	// cpu is the client's CPU time, user and system, over the window:
	// this process's from the release until the pool returned, plus, in
	// the process pool, what each child reported of its own. cpuKnown is
	// false when it could not be read.
	cpu      time.Duration
	cpuKnown bool
	// cpuMissing counts children whose CPU time is not in cpu: killed, or
	// left behind, before they reported a result.
	cpuMissing int
}

// workerOutcome is one worker's result as its pool learns it.
type workerOutcome struct {
	index  int // into the pool's jobs and results
	result workerResult
	// at is when the result arrived: the end of the worker's transfer as
	// both pools measure it (for a child, when its result line was read,
	// not when it was reaped).
	at time.Time
}

// unfinished is a worker's result until it reports: if it never does
// before the pool gives up on it, it stays counted as a time-out.
func unfinished(j job, why string) workerResult {
	return workerResult{Worker: j.Worker, Kind: kindTimeout, Error: why}
}

// collect receives n outcomes into results, until all have arrived or,
// once ctx has ended, grace has passed: a worker that has not reported by
// then keeps the result its place in results already holds (see
// unfinished). It returns the end of the window: when the last outcome
// arrived, or when ctx ended if that came first.
func collect(ctx context.Context, out <-chan workerOutcome, n int, results []workerResult, pc *Progress, grace time.Duration, start time.Time) time.Time {
	end := start
	done := ctx.Done()
	var graceOver <-chan time.Time
	for left := n; left > 0; { // each pass takes an outcome, or ends ctx's wait or the grace
		select {
		case o := <-out:
			left--
			pc.finish(o.result)
			results[o.index] = o.result
			if graceOver == nil && o.at.After(end) {
				end = o.at
			}
		case <-done:
			end = time.Now()
			done, graceOver = nil, time.After(grace)
		case <-graceOver:
			return end
		}
	}
	return end
}

// runThreadPool runs every job in its own goroutine, all at once, until
// all are done or the window's deadline, timeout after their release (or
// ctx's end), has passed.
func runThreadPool(ctx context.Context, timeout time.Duration, jobs []job, pc *Progress) window {
	results := make([]workerResult, len(jobs))
	for i, j := range jobs {
		results[i] = unfinished(j, "still running at the deadline")
	}
	out := make(chan workerOutcome, len(jobs)) // buffered: a straggler never blocks
	cpu := startCPU()
	start := time.Now()
	pc.release(start)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for i, j := range jobs {
		go func() {
			r := runTransfer(wctx, j, &pc.moved)
			out <- workerOutcome{index: i, result: r, at: time.Now()}
		}()
	}
	end := collect(wctx, out, len(jobs), results, pc, stragglerGrace, start)
	w := window{results: results, start: start, end: end}
	w.cpu, w.cpuKnown = cpu.stop()
	return w
}

// childWaitDelay bounds the wait for a killed child's pipes to close.
const childWaitDelay = time.Second

// childBackstop is how long after its deadlines (for the release, and for
// the window) a child gives up on its own, should its parent not kill it.
const childBackstop = time.Second

// runProcessPool runs every job in its own child process (filestressd
// re-executed with envChild set). It starts them all within the setup's
// budget (setup), then releases them together (no sooner than startAt);
// the window's deadline is timeout after the release. It returns their
// results when all have reported or the deadline has passed. Children are
// killed then, or at ctx's end, and die with this process (startChild).
func runProcessPool(ctx, setup context.Context, timeout time.Duration, startAt time.Time, jobs []job, pc *Progress, h Hooks) (window, error) {
	// Pdeathsig (Linux) fires when the thread that forked the child
	// exits: keep this goroutine, which forks them all, on one thread
	// meanwhile. Go never ends a thread that is not locked.
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
	childrenCtx, killChildren := context.WithCancel(ctx) // ending it kills every child
	defer killChildren()
	results := make([]workerResult, len(jobs))
	if startAt.After(startBy) {
		startBy = startAt
	}
	spec := childSpec{StartBy: startBy.Add(timeout + childBackstop), Timeout: timeout, Progress: h.Progress != nil}
	children := startChildren(childrenCtx, setup, exe, spec, jobs, results, pc, h)

	// The window's deadline runs from the release, after the children are
	// ready; their reports are read from now on.
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(wctx, killChildren)
	defer stop()
	out := make(chan workerOutcome, len(children)) // buffered: a straggler never blocks
	for _, c := range children {
		results[c.index] = unfinished(c.job, "child still running at the deadline")
		go c.report(wctx, pc, out)
	}
	waitReady(setup, children)
	deadline := time.AfterFunc(releaseAt(ctx, startAt, timeout), cancel)
	defer deadline.Stop()
	cpu := startCPU()
	start := time.Now()
	pc.release(start)
	for _, c := range children {
		c.release()
	}
	fmt.Fprintf(h.Verbose, "filestressd: %d children released\n", len(children))
	end := collect(wctx, out, len(children), results, pc, childWaitDelay+stragglerGrace, start)
	w := window{results: results, start: start, end: end}
	w.cpu, w.cpuKnown = cpu.stop()
	for _, c := range children {
		if r := results[c.index]; r.cpuReported {
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
func waitReady(setup context.Context, children []*child) {
	for _, c := range children {
		select {
		case <-c.ready:
		case <-setup.Done():
			return
		}
	}
}

// startChildren starts a child for each job, each waiting for the
// release, and returns those that started. A child that cannot be started
// fails at once, its result filled in: kind timeout if the setup's budget
// or ctx had ended, kind process otherwise.
func startChildren(ctx, setup context.Context, exe string, spec childSpec, jobs []job, results []workerResult, pc *Progress, h Hooks) []*child {
	var children []*child
	for i, j := range jobs {
		spec.Job = j
		c, err := startChild(ctx, setup, exe, spec, h.Warnings)
		if err != nil {
			kind := kindProcess
			if ctx.Err() != nil || setup.Err() != nil {
				kind = kindTimeout
			}
			results[i] = workerResult{Worker: j.Worker, Kind: kind, Error: fmt.Sprintf("start child: %v", err)}
			pc.finish(results[i])
			continue
		}
		c.index = i
		fmt.Fprintf(h.Verbose, "filestressd: worker %d: child pid %d\n", j.Worker, c.cmd.Process.Pid)
		children = append(children, c)
	}
	return children
}

// child is the parent's handle on one child-pool worker: the
// process, its pipes, and whether it is ready for the release. The
// child's own side is childmain.go.
type child struct {
	index     int // into the pool's jobs and results
	job       job
	cmd       *exec.Cmd
	stdin     io.WriteCloser
	stdout    io.Reader
	ready     chan struct{} // closed by report once the child is ready, or gone
	readyOnce sync.Once
}

// isReady closes c.ready, once.
func (c *child) isReady() { c.readyOnce.Do(func() { close(c.ready) }) }

// startChild starts filestressd re-executed as the child that does
// spec.Job, waiting for its release, and killed when ctx ends. It dies
// with this process in two ways: on Linux with the thread that forks it
// (Pdeathsig), even if this process died before the child ran; and on
// every platform when its stdin, whose write end this process holds until
// the child has exited, reaches EOF (watchParent). Nothing is started once
// the setup's budget (setup) is spent.
func startChild(ctx, setup context.Context, exe string, spec childSpec, stderr io.Writer) (*child, error) {
	if err := setup.Err(); err != nil {
		return nil, fmt.Errorf("the setup's budget (-timeout) ran out before it: %w", err)
	}
	l := childproc.Launcher{Var: envChild, Exe: exe, DeathSignal: syscall.SIGKILL}
	cmd, err := l.Command(ctx, spec)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = stderr
	cmd.WaitDelay = childWaitDelay
	c := &child{job: spec.Job, cmd: cmd, ready: make(chan struct{})}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("stdin pipe: %w", err)
	}
	if c.stdout, err = cmd.StdoutPipe(); err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	if err := l.Start(cmd); err != nil {
		return nil, err
	}
	return c, nil
}

// release tells the child to start its transfer. A child that died
// meanwhile does not hear it, and its exit says so in report. stdin stays
// open: its end is how the child learns that this process is gone
// (watchParent), and cmd.Wait closes it once the child has exited.
func (c *child) release() {
	c.stdin.Write([]byte("go\n"))
}

// report reads the child's lines until it exits, adding its progress to
// pc, then sends its outcome: the result it reported, stamped when that
// line was read, or what its exit says if it reported none. ctx is the
// window's: a child without a result after it ended was killed at the
// deadline.
func (c *child) report(ctx context.Context, pc *Progress, out chan<- workerOutcome) {
	var res *workerResult
	var at time.Time
	var moved int64
	stage := ""
	sc := bufio.NewScanner(c.stdout)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for sc.Scan() { // ends when the child exits or is killed
		var m childMessage
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		if m.Ready {
			c.isReady()
		}
		if m.Moved > moved {
			pc.moved.Add(m.Moved - moved)
			moved = m.Moved
		}
		if m.Stage != "" {
			stage = m.Stage
		}
		if m.Result != nil {
			res, at = m.Result, time.Now()
		}
	}
	c.isReady() // a child that exited will never say so
	err := c.cmd.Wait()
	if res == nil {
		at = time.Now()
	}
	r := childResult(ctx, c.job, res, stage, childproc.ExitStatus(err))
	if kib, ok := childPeakRSS(c.cmd.ProcessState); ok {
		r.MaxRSSKiB = kib // the whole life's, where the platform keeps it
	}
	out <- workerOutcome{index: c.index, result: r, at: at}
}

// childResult is a child's own report, or what its exit says when it
// could not report, with the stage it last reported ("" for none).
func childResult(ctx context.Context, j job, reported *workerResult, stage, status string) workerResult {
	where := " before its transfer began"
	if stage != "" {
		where = " while " + stage
	}
	switch {
	case reported != nil:
		r := *reported
		r.Worker = j.Worker
		r.cpuReported = true
		return r
	case ctx.Err() != nil:
		return workerResult{Worker: j.Worker, Kind: kindTimeout, Error: "child killed at the deadline" + where + " (" + status + ")"}
	}
	return workerResult{Worker: j.Worker, Kind: kindProcess, Error: "child exited without a result" + where + " (" + status + ")"}
}
