package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"fileserver/filestressd/stress"
)

const progressRedraw = 250 * time.Millisecond

// mb is the report's megabyte, as in the course's reports.
const mb = 1 << 20

// progressHook is the progress line the cell shows on stderr, if any: on
// a terminal a redrawn line (unless -quiet); elsewhere, with -progress, a
// plain line at that interval (even with -quiet, which -progress
// overrides since it is asked for).
func progressHook(o options, stderr io.Writer) func(*stress.Progress) (stop func()) {
	terminal := isTerminal(stderr)
	switch {
	case terminal && !o.Quiet:
		return func(pc *stress.Progress) func() { return startProgress(stderr, o.Workers, pc) }
	case !terminal && o.Progress > 0:
		return func(pc *stress.Progress) func() { return startPlainProgress(stderr, o.Progress, o.Workers, pc) }
	}
	return nil
}

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
func startProgress(w io.Writer, workers int, pc *stress.Progress) (stop func()) {
	start := time.Now()
	return stress.EveryTick(progressRedraw, func(time.Time) {
		done, _ := pc.Done()
		fmt.Fprintf(w, "\r\033[K%.1f MB moved, %d/%d workers done, %.1fs",
			float64(pc.Moved())/mb, done, workers, time.Since(start).Seconds())
	}, func() { fmt.Fprint(w, "\r\033[K") })
}

// startPlainProgress writes a plain progress line to w every interval
// until the returned function is called: for a log or a pipe, where the
// redrawn line of startProgress would be litter. Elapsed time counts from
// the workers' release.
func startPlainProgress(w io.Writer, interval time.Duration, workers int, pc *stress.Progress) (stop func()) {
	return stress.EveryTick(interval, func(now time.Time) {
		fmt.Fprintln(w, plainProgressLine(now, workers, pc))
	}, func() {})
}

// plainProgressLine is one line of startPlainProgress, at now.
func plainProgressLine(now time.Time, workers int, pc *stress.Progress) string {
	released := pc.Released()
	if released.IsZero() {
		return fmt.Sprintf("filestressd: progress: %d workers not released yet (the process pool is starting its children)", workers)
	}
	done, failed := pc.Done()
	elapsed := now.Sub(released)
	return fmt.Sprintf("filestressd: progress %.1fs: %d/%d workers done (%d ok, %d failed), %.1f MB moved",
		max(elapsed, 0).Seconds(), done, workers, done-failed, failed, float64(pc.Moved())/mb)
}
