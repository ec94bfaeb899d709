package main

import (
	"fmt"
	"io"
	"os"
	"time"
)

const progressRedraw = 250 * time.Millisecond

// isTerminal tells whether w is a terminal: the progress line is for a
// person watching, and would only litter a log or a pipe.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// startProgress redraws one status line on w until the returned function
// is called, which erases it.
func startProgress(w io.Writer, workers int, pc *progressCounters) (stop func()) {
	start := time.Now()
	return everyTick(progressRedraw, func(time.Time) {
		fmt.Fprintf(w, "\r\033[K%.1f MB moved, %d/%d workers done, %.1fs",
			float64(pc.moved.Load())/mb, pc.done.Load(), workers, time.Since(start).Seconds())
	}, func() { fmt.Fprint(w, "\r\033[K") })
}

// startPlainProgress writes a plain progress line to w every interval
// until the returned function is called: for a log or a pipe, where the
// redrawn line of startProgress would be litter. Elapsed time counts from
// the workers' release.
func startPlainProgress(w io.Writer, interval time.Duration, workers int, pc *progressCounters) (stop func()) {
	return everyTick(interval, func(now time.Time) {
		fmt.Fprintln(w, plainProgressLine(now, workers, pc))
	}, func() {})
}

// everyTick calls tick every interval on a goroutine of its own until the
// returned function is called, which calls done there and returns once it
// has: nothing is written after stop returns.
func everyTick(interval time.Duration, tick func(now time.Time), done func()) (stop func()) {
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

// plainProgressLine is one line of startPlainProgress, at now.
func plainProgressLine(now time.Time, workers int, pc *progressCounters) string {
	released := pc.released.Load()
	if released == 0 {
		return fmt.Sprintf("filestressd: progress: %d workers not released yet (the process pool is starting its children)", workers)
	}
	done, failed := pc.done.Load(), pc.failed.Load()
	elapsed := time.Duration(now.UnixNano() - released)
	return fmt.Sprintf("filestressd: progress %.1fs: %d/%d workers done (%d ok, %d failed), %.1f MB moved",
		max(elapsed, 0).Seconds(), done, workers, done-failed, failed, float64(pc.moved.Load())/mb)
}
