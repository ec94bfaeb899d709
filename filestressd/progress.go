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
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressRedraw)
		defer t.Stop()
		for {
			select {
			case <-quit:
				fmt.Fprint(w, "\r\033[K")
				return
			case <-t.C:
				fmt.Fprintf(w, "\r\033[K%.1f MB moved, %d/%d workers done, %.1fs",
					float64(pc.moved.Load())/mb, pc.done.Load(), workers, time.Since(start).Seconds())
			}
		}
	}()
	return func() {
		close(quit)
		<-finished
	}
}
