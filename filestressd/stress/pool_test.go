//go:build unix

// Unix only: a FIFO (mkfifo) is what holds the stuck worker.

package stress

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// TestStragglerCountedAtDeadline checks the pools' last resort, in
// collect: a worker stuck where the deadline cannot reach it (opening a
// FIFO that nobody writes, as a -file swapped for one would) is counted as
// a time-out, the pool returns stragglerGrace after the deadline without
// it, and the window ends at the deadline. The other worker, finished, is
// counted as it was.
func TestStragglerCountedAtDeadline(t *testing.T) {
	s := testkit.StartServer(t, testkit.ServerOptions{Mode: "thread", Workers: 2})
	fifo := filepath.Join(t.TempDir(), "never-written")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	jobs := []job{
		{Worker: 1, Op: CellUpload, Addr: s.Addr, Name: "stuck.bin", Src: source{Path: fifo, Size: 10}},
		{Worker: 2, Op: CellList, Addr: s.Addr},
	}
	const timeout = 300 * time.Millisecond
	pc := &Progress{}
	began := time.Now()
	w := runThreadPool(context.Background(), timeout, jobs, pc)
	elapsed := time.Since(began)

	// Let the stuck worker go: its open returns once a writer has come,
	// and reads the end of the file once the writer has gone. A writer
	// that cannot open without blocking means nobody was reading, i.e. the
	// worker was not stuck where this test meant it to be.
	wf, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		t.Errorf("worker 1 was not stuck opening the FIFO")
	} else if err != nil {
		t.Fatal(err)
	} else {
		wf.Close()
	}

	if r := w.results[0]; r.OK || r.Kind != kindTimeout || r.Error != "still running at the deadline" {
		t.Errorf("stuck worker: %+v, want a time-out, still running at the deadline", r)
	}
	if r := w.results[1]; !r.OK {
		t.Errorf("finished worker: %+v, want ok", r)
	}
	if min := timeout + stragglerGrace; elapsed < min || elapsed > min+2*time.Second {
		t.Errorf("the pool returned after %s, want about %s (the deadline, then the grace)", elapsed, min)
	}
	if wall := w.end.Sub(w.start); wall < timeout || wall > timeout+500*time.Millisecond {
		t.Errorf("window of %s, want it to end at the %s deadline", wall, timeout)
	}
	if n := pc.done.Load(); n != 1 {
		t.Errorf("%d workers counted done, want 1", n)
	}
}
