package main

import (
	"context"
	"sync/atomic"
	"time"
)

// stragglerGrace is how long a pool waits, after the deadline, for workers
// to notice it before counting them as timed out and returning without
// them. Connections carry the deadline, so they notice at once.
const stragglerGrace = time.Second

// progressCounters are what the progress line shows while a pool runs.
type progressCounters struct {
	moved atomic.Int64 // file bytes moved by all workers
	done  atomic.Int64 // workers finished
}

// window is what a pool did: every worker's result, and when the
// workers were released and when the last one finished (or the deadline
// passed).
type window struct {
	results    []workerResult
	start, end time.Time
}

// runThreadPool runs every job in its own goroutine, all at once, until
// all are done or ctx ends.
func runThreadPool(ctx context.Context, jobs []job, pc *progressCounters) window {
	results := make([]workerResult, len(jobs))
	reported := make([]bool, len(jobs))
	ch := make(chan workerResult, len(jobs)) // buffered: a straggler never blocks
	start := time.Now()
	for _, j := range jobs {
		go func() {
			r := runTransfer(ctx, j, &pc.moved)
			pc.done.Add(1)
			ch <- r
		}()
	}
	w := window{results: results, start: start}
	var grace <-chan time.Time
	done := ctx.Done()
	for left := len(jobs); left > 0; {
		select {
		case r := <-ch:
			results[r.Worker-1], reported[r.Worker-1] = r, true
			left--
			if grace == nil {
				w.end = time.Now()
			}
		case <-done:
			w.end = time.Now()
			done, grace = nil, time.After(stragglerGrace)
		case <-grace:
			fillUnfinished(results, reported, "still running at the deadline")
			return w
		}
	}
	return w
}

// fillUnfinished counts workers that did not report as timed out.
func fillUnfinished(results []workerResult, reported []bool, why string) {
	for i := range results {
		if !reported[i] {
			results[i] = workerResult{Worker: i + 1, Kind: kindTimeout, Error: why}
		}
	}
}
