package main

import (
	"context"
	"sync/atomic"
	"time"
)

// stragglerGrace is how long a pool waits, after the deadline, for workers
// to notice it before leaving them counted as timed out and returning
// without them. Connections carry the deadline, so a worker notices at
// once unless it is stuck outside the network (a read of -file that does
// not return, say).
const stragglerGrace = time.Second

// progressCounters are what the progress line shows while a pool runs.
type progressCounters struct {
	moved  atomic.Int64 // file bytes moved by all workers
	done   atomic.Int64 // workers finished
	failed atomic.Int64 // of those, workers that failed
	// released is when the workers were released, in nanoseconds since
	// the Unix epoch; 0 before.
	released atomic.Int64
}

// release notes the workers' release at t.
func (pc *progressCounters) release(t time.Time) { pc.released.Store(t.UnixNano()) }

// finish counts a finished worker, and whether it failed.
func (pc *progressCounters) finish(r workerResult) {
	pc.done.Add(1)
	if !r.OK {
		pc.failed.Add(1)
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

// outcome is one worker's result as its pool learns it.
type outcome struct {
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
// then keeps the result its slot already holds (see unfinished). It
// returns the end of the window: when the last outcome arrived, or when
// ctx ended if that came first.
func collect(ctx context.Context, out <-chan outcome, n int, results []workerResult, pc *progressCounters, grace time.Duration, start time.Time) time.Time {
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
