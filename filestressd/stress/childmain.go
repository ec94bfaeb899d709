// A process-pool child's own main: filestressd re-executed with envChild
// set reads its job, says it is ready, waits for the parent's release,
// does its one transfer and reports the result on stdout. The parent's
// side is pools.go.

package stress

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"fileserver/protocol/childproc"
)

// envChild marks a process-pool child and carries its childSpec as JSON.
// It is not a flag, so that it stays out of -h and out of the way of
// anyone's command line.
const envChild = "FILESTRESSD_CHILD"

// progressEvery is how often a child reports bytes moved, when asked to.
const progressEvery = 200 * time.Millisecond

// childSpec is everything a child needs for its one transfer.
type childSpec struct {
	Job job `json:"job"`
	// StartBy bounds the wait for the release: the latest the parent's
	// window can end (the end of its setup's budget, plus -timeout), plus
	// childBackstop. A child that starts up slowly still finds the release
	// waiting on its stdin, however late.
	StartBy time.Time `json:"start_by"`
	// Timeout is the cell's -timeout, which runs from the release; the
	// child gives up childBackstop after it.
	Timeout  time.Duration `json:"timeout"`
	Progress bool          `json:"progress"`
}

// childMessage is one line a child writes on its stdout: progress while
// it works, then its result.
type childMessage struct {
	Ready bool  `json:"ready,omitempty"` // prepared: the release may come
	Moved int64 `json:"moved,omitempty"`
	// Stage is the stage the transfer just reached (see stageWatch),
	// sent once per stage, so that the parent can say where a child it
	// killed at the deadline was stuck.
	Stage  string        `json:"stage,omitempty"`
	Result *workerResult `json:"result,omitempty"`
}

// childSpecFromEnv tells whether this process is a process-pool child.
func childSpecFromEnv() (childSpec, bool, error) {
	var s childSpec
	isChild, err := childproc.Config(envChild, &s)
	return s, isChild, err
}

// runChildMain does a child's one transfer, once the parent says go, and
// reports the result on stdout. The parent reads a missing result as a
// failure, so a child that cannot even start just says why on stderr.
func runChildMain(spec childSpec, err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, "filestressd:", err)
		return childFailed
	}
	// A parent that dies is seen two ways: on Linux, Pdeathsig kills this
	// process even if the parent died before it ran (see startChild); on
	// every platform, the parent's end of stdin closes with it, and
	// watchParent ends this process at that EOF.
	ignoreBrokenPipe()
	if spec.Job.Src.generated() {
		baseFor(spec.Job.Src.Size) // made before the release
	}
	// The parent releases the children once all say they are ready, so
	// that their start-up (exec, the runtime, the base period) is not
	// inside the measured window.
	if b, err := json.Marshal(childMessage{Ready: true}); err == nil {
		os.Stdout.Write(append(b, '\n'))
	}
	released := watchParent(os.Stdin, func() {
		fmt.Fprintf(os.Stderr, "filestressd: child of worker %d: the parent is gone (end of its pipe): exiting\n", spec.Job.Worker)
		os.Exit(childFailed)
	})
	startCtx, cancelStart := context.WithDeadline(context.Background(), spec.StartBy)
	err = waitForStart(startCtx, released)
	cancelStart()
	if err != nil {
		fmt.Fprintf(os.Stderr, "filestressd: child of worker %d: %v\n", spec.Job.Worker, err)
		return childFailed
	}
	ctx, cancel := context.WithTimeout(context.Background(), spec.Timeout+childBackstop)
	defer cancel()
	if err := runChildJob(ctx, spec, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "filestressd: child of worker %d: %v\n", spec.Job.Worker, err)
		return childFailed
	}
	return childOK
}

// watchParent reads the parent's pipe (the child's stdin): first the
// "go" line, whose outcome it sends on the channel it returns (nil, or
// why there was none), then nothing more until the pipe ends. The parent
// keeps its end open until this process has exited, so that end comes
// only when the parent is gone, killed or crashed, and then watchParent
// calls gone. That holds on every platform: where there is no Pdeathsig
// it is how a child learns of its parent's death, and on Linux it backs
// Pdeathsig up.
func watchParent(stdin io.Reader, gone func()) <-chan error {
	got := make(chan error, 1)
	go func() {
		r := bufio.NewReaderSize(stdin, 64)
		line, err := r.ReadString('\n')
		if strings.TrimSpace(line) == "go" {
			err = nil
		} else if err == nil {
			err = fmt.Errorf("unexpected start line %q", line)
		}
		got <- err
		if err != nil {
			return // the start failed: the child ends on its own
		}
		for {
			if _, err := r.ReadByte(); err != nil {
				gone()
				return
			}
		}
	}()
	return got
}

// waitForStart waits for the parent's "go" line (as watchParent reports
// it), so that all children start their transfers together whatever their
// start-up took. End of input means the parent gave up.
func waitForStart(ctx context.Context, released <-chan error) error {
	select {
	case err := <-released:
		if err != nil {
			return fmt.Errorf("waiting for the start: %w", err)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the start: %w", ctx.Err())
	}
}

// runChildJob does the transfer and writes its result as one JSON line,
// preceded by progress lines when the parent shows a progress line. The
// result carries the CPU time this process used from its release (runChildJob
// starts then) to the result, which the parent adds to client_cpu_s.
func runChildJob(ctx context.Context, spec childSpec, stdout io.Writer) error {
	cpu := startCPU()
	var moved atomic.Int64
	var mu sync.Mutex
	send := func(m childMessage) error {
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		_, err = stdout.Write(append(b, '\n'))
		return err
	}
	stopProgress := func() {}
	if spec.Progress {
		stopProgress = EveryTick(progressEvery, func(time.Time) { send(childMessage{Moved: moved.Load()}) }, func() {})
	}
	res := runWatched(ctx, spec.Job, &moved, newStageWatch(spec.Job, func(stage string) { send(childMessage{Stage: stage}) }))
	stopProgress()
	res.PID = os.Getpid()
	if used, ok := cpu.stop(); ok {
		res.CPUMicros = used.Microseconds()
	}
	if kib, ok := selfPeakRSS(); ok {
		res.MaxRSSKiB = kib // the parent's childPeakRSS replaces it where it has one
	}
	if err := send(childMessage{Moved: moved.Load(), Result: &res}); err != nil {
		return fmt.Errorf("report result: %w", err)
	}
	return nil
}

// A child's exit status: childFailed when it could not report its result
// (the parent counts it as a failure; the reason is on its stderr).
const childOK, childFailed = 0, 1

// ChildMain runs this process as a process pool's child when it is one
// (its parent set envChild): it returns the exit status and true. In any
// other process it returns false at once, and filestressd goes on as a
// command.
func ChildMain() (status int, isChild bool) {
	spec, ok, err := childSpecFromEnv()
	if !ok {
		return 0, false
	}
	return runChildMain(spec, err), true
}
