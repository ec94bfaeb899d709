package main

import (
	"context"
	"time"
)

// runThreadPool runs every job in its own goroutine, all at once, until
// all are done or the window's deadline, timeout after their release (or
// ctx's end), has passed.
func runThreadPool(ctx context.Context, timeout time.Duration, jobs []job, pc *progressCounters) window {
	results := make([]workerResult, len(jobs))
	for i, j := range jobs {
		results[i] = unfinished(j, "still running at the deadline")
	}
	out := make(chan outcome, len(jobs)) // buffered: a straggler never blocks
	cpu := startCPU()
	start := time.Now()
	pc.release(start)
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for i, j := range jobs {
		go func() {
			r := runTransfer(wctx, j, &pc.moved)
			out <- outcome{index: i, result: r, at: time.Now()}
		}()
	}
	end := collect(wctx, out, len(jobs), results, pc, stragglerGrace, start)
	w := window{results: results, start: start, end: end}
	w.cpu, w.cpuKnown = cpu.stop()
	return w
}
