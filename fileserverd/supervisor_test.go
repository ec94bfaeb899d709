package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
)

// The supervisor's restart, backoff, clean-up and stop logic, with fake
// worker processes: no fork, no exec. The real children are tested
// end to end in lifecycle_test.go and shutdown_test.go.

// fakeChild is a worker process whose exit the test triggers.
type fakeChild struct {
	id, pidv int
	exit     chan error // what wait returns, once sent
	// on SIGTERM / SIGKILL: exit with this error, or ignore the signal
	// when the func is nil.
	onTerm, onKill func() error

	mu      sync.Mutex
	signals []os.Signal // guarded by mu
}

func (f *fakeChild) pid() int                            { return f.pidv }
func (f *fakeChild) wait() error                         { return <-f.exit }
func (f *fakeChild) request() (attrs []any, desc string) { return nil, "" }

func (f *fakeChild) signal(sig os.Signal) error {
	f.mu.Lock()
	f.signals = append(f.signals, sig)
	f.mu.Unlock()
	react := f.onTerm
	if sig == syscall.SIGKILL {
		react = f.onKill
	}
	if react != nil {
		select {
		case f.exit <- react():
		default: // already exiting
		}
	}
	return nil
}

func (f *fakeChild) gotSignals() []os.Signal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.signals)
}

// procBehaviour is how a fake reacts to the supervisor's signals.
type procBehaviour struct {
	name           string
	onTerm, onKill func() error
}

var (
	cleanExit     = func() error { return nil }
	killedExit    = func() error { return errors.New("signal: killed") }
	obeysSIGTERM  = procBehaviour{"obeys SIGTERM", cleanExit, killedExit}
	ignoresTERM   = procBehaviour{"ignores SIGTERM", nil, killedExit}
	blockedKernel = procBehaviour{"survives SIGKILL", nil, nil}
)

// supervisorHarness runs a supervisor over fake processes.
type supervisorHarness struct {
	t      *testing.T
	s      *supervisor
	dir    string
	log    *lockedBuffer
	starts chan *fakeChild    // every process started, in order
	delays chan time.Duration // every backoff the supervisor waited
	cancel context.CancelFunc // ends supervise
	done   chan struct{}      // closed when supervise returned

	mu        sync.Mutex
	nextPid   int           // guarded by mu
	failStart int           // guarded by mu: starts to fail before one succeeds
	behave    procBehaviour // guarded by mu: for processes started from now on
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newSupervisorHarness starts workers fake processes and supervises
// them. stableAfter is how long a process must live to restart at once.
// Backoffs are recorded and passed at once, so the production bounds are
// checked without waiting them out.
func newSupervisorHarness(t *testing.T, workers int, stableAfter time.Duration) *supervisorHarness {
	t.Helper()
	h := &supervisorHarness{t: t, dir: t.TempDir(), log: &lockedBuffer{},
		starts: make(chan *fakeChild, 100), delays: make(chan time.Duration, 100),
		done: make(chan struct{}), nextPid: 1000, behave: obeysSIGTERM}
	st, err := openStore(h.dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := config{Workers: workers, ShutdownTimeout: time.Second}
	log := slog.New(slog.NewTextHandler(h.log, nil))
	h.s = newSupervisor(cfg, log, newCounters("process", workers, os.Getpid(), time.Now()), st, h.start)
	h.s.stableAfter = stableAfter
	h.s.killAfter, h.s.abandonAfter = 20*time.Millisecond, 20*time.Millisecond
	h.s.after = func(d time.Duration, f func()) {
		h.delays <- d
		go f()
	}
	must(t, h.s.startAll(workers))
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() {
		defer close(h.done)
		h.s.supervise(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-h.done
	})
	return h
}

func (h *supervisorHarness) start(id int) (child, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failStart > 0 {
		h.failStart--
		return nil, errors.New("fork: resource temporarily unavailable")
	}
	h.nextPid++
	p := &fakeChild{id: id, pidv: h.nextPid, exit: make(chan error, 1), onTerm: h.behave.onTerm, onKill: h.behave.onKill}
	h.starts <- p
	return p, nil
}

// started waits for the next process start.
func (h *supervisorHarness) started() *fakeChild {
	h.t.Helper()
	select {
	case p := <-h.starts:
		return p
	case <-time.After(10 * time.Second):
		h.t.Fatalf("no process started\nlog:\n%s", h.log)
		return nil
	}
}

// startedAll takes the n initial starts, by worker id.
func (h *supervisorHarness) startedAll(n int) map[int]*fakeChild {
	h.t.Helper()
	ps := map[int]*fakeChild{}
	for range n {
		p := h.started()
		ps[p.id] = p
	}
	return ps
}

// backoffs drains the backoffs waited so far.
func (h *supervisorHarness) backoffs() []time.Duration {
	var ds []time.Duration
	for {
		select {
		case d := <-h.delays:
			ds = append(ds, d)
		default:
			return ds
		}
	}
}

// stopSupervising ends supervise, as the pool does on SIGTERM.
func (h *supervisorHarness) stopSupervising() {
	h.cancel()
	<-h.done
}

func TestSupervisorRestarts(t *testing.T) {
	cases := []struct {
		name        string
		stableAfter time.Duration // 0: every death is of a stable process
		deaths      int           // of worker 1, one after another
		failStarts  int           // restarts that fail before one succeeds
		wantDelays  []time.Duration
	}{
		{name: "a process that lived restarts at once", stableAfter: 0, deaths: 3},
		// One kill -9 soon after a start is not a crash loop.
		{name: "one quick death restarts at once", stableAfter: time.Hour, deaths: 1},
		{name: "quick deaths in a row back off from the second, doubling up to the bound", stableAfter: time.Hour, deaths: 9,
			wantDelays: []time.Duration{minBackoff, 2 * minBackoff, 4 * minBackoff, 8 * minBackoff, 16 * minBackoff, 32 * minBackoff, 64 * minBackoff, maxBackoff}},
		{name: "a restart that cannot start is retried with backoff", stableAfter: 0, deaths: 1, failStarts: 3,
			wantDelays: []time.Duration{minBackoff, 2 * minBackoff, 4 * minBackoff}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newSupervisorHarness(t, 2, tc.stableAfter)
			ps := h.startedAll(2)
			p := ps[1]
			for range tc.deaths {
				h.mu.Lock()
				h.failStart = tc.failStarts
				h.mu.Unlock()
				p.exit <- errors.New("exit 3")
				next := h.started()
				if next.id != 1 || next.pidv == p.pidv {
					t.Fatalf("restarted worker %d pid %d after worker 1 pid %d died", next.id, next.pidv, p.pidv)
				}
				p = next
			}
			h.stopSupervising()
			if got := h.backoffs(); !slices.Equal(got, tc.wantDelays) {
				t.Errorf("backoffs %v, want %v", got, tc.wantDelays)
			}
			for _, d := range tc.wantDelays {
				if d < minBackoff || d > maxBackoff {
					t.Errorf("backoff %s outside [%s, %s]", d, minBackoff, maxBackoff)
				}
			}
			if got := h.s.counters.snapshot().WorkerRestarts; got != uint64(tc.deaths) {
				t.Errorf("worker_restarts %d, want %d", got, tc.deaths)
			}
			if n := strings.Count(h.log.String(), `msg="worker died"`); n != tc.deaths {
				t.Errorf("%d worker died lines, want %d\n%s", n, tc.deaths, h.log)
			}
			// The log says "keeps dying" exactly when it backs off after
			// a death, not for a start that failed.
			wantKeeps := max(0, tc.deaths-1)
			if tc.stableAfter == 0 {
				wantKeeps = 0
			}
			if n := strings.Count(h.log.String(), "restarting after backoff"); n != wantKeeps {
				t.Errorf("%d lines say \"restarting after backoff\", want %d\n%s", n, wantKeeps, h.log)
			}
			if err := h.s.stopAll(); err != nil {
				t.Errorf("stopAll: %v", err)
			}
		})
	}
}

// TestSupervisorSettlesDeadProcess: a process that dies mid-request has
// its temporary upload files removed (no other process's), its request
// counted as failed, and both logged.
func TestSupervisorSettlesDeadProcess(t *testing.T) {
	h := newSupervisorHarness(t, 2, 0)
	ps := h.startedAll(2)
	dead, alive := ps[1], ps[2]
	temp := func(pid int) string {
		return filepath.Join(h.dir, tempPrefix+strconv.Itoa(pid)+"-0123456789abcdef.tmp")
	}
	for _, name := range []string{temp(dead.pidv), temp(alive.pidv), filepath.Join(h.dir, "kept.bin")} {
		must(t, os.WriteFile(name, []byte("x"), 0o644))
	}
	h.s.counters.worker(1).begin(protocol.OpUpload)
	dead.exit <- errors.New("signal: killed")
	h.started()
	h.stopSupervising()

	if got, want := dirNames(t, h.dir), []string{filepath.Base(temp(alive.pidv)), "kept.bin"}; !slices.Equal(got, want) {
		t.Errorf("storage directory %v, want %v", got, want)
	}
	if got := h.s.counters.snapshot().Requests["upload"]; got.Failed != 1 {
		t.Errorf("upload counts %+v, want the interrupted one failed", got)
	}
	for _, want := range []string{"worker=1 pid=" + strconv.Itoa(dead.pidv), `status="signal: killed"`, "interrupted_request=true", "removed_temp_files=1"} {
		if !strings.Contains(h.log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, h.log)
		}
	}
	if err := h.s.stopAll(); err != nil {
		t.Errorf("stopAll: %v", err)
	}
}

// TestSupervisorStopAll: stopAll signals every process, waits for each,
// kills those that outlast the timeout, abandons those a kill does not
// end, and always returns, its error naming each that failed.
func TestSupervisorStopAll(t *testing.T) {
	cases := []struct {
		behave      procBehaviour
		wantSignals []os.Signal
		wantErr     string // "" for none
		wantLeft    int    // processes abandoned
	}{
		{obeysSIGTERM, []os.Signal{syscall.SIGTERM}, "", 0},
		{ignoresTERM, []os.Signal{syscall.SIGTERM, syscall.SIGKILL}, "signal: killed", 0},
		{blockedKernel, []os.Signal{syscall.SIGTERM, syscall.SIGKILL}, "after SIGKILL (blocked in the kernel), abandoned", 1},
	}
	for _, tc := range cases {
		t.Run(tc.behave.name, func(t *testing.T) {
			h := newSupervisorHarness(t, 3, 0)
			h.mu.Lock()
			h.behave = tc.behave // for worker 3's restart
			h.mu.Unlock()
			ps := h.startedAll(3)
			ps[3].exit <- errors.New("exit 1")
			ps[3] = h.started()
			h.stopSupervising()
			// A place kept through a backoff has no process to stop.
			h.s.reserve(4, time.Hour, 2)

			stopped := make(chan error, 1)
			go func() { stopped <- h.s.stopAll() }()
			var err error
			select {
			case err = <-stopped:
			case <-time.After(10 * time.Second):
				t.Fatalf("stopAll did not return\nlog:\n%s", h.log)
			}
			for id, p := range ps {
				want := []os.Signal{syscall.SIGTERM}
				if id == 3 {
					want = tc.wantSignals
				}
				if got := p.gotSignals(); !slices.Equal(got, want) {
					t.Errorf("worker %d got signals %v, want %v", id, got, want)
				}
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("stopAll: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "worker 3 ")):
				t.Errorf("stopAll: %v, want worker 3 named with %q", err, tc.wantErr)
			}
			if len(h.s.workers) != tc.wantLeft {
				t.Errorf("%d workers left after stopAll, want %d", len(h.s.workers), tc.wantLeft)
			}
			if n := strings.Count(h.log.String(), `msg="worker stopped"`); n != 3-tc.wantLeft {
				t.Errorf("%d worker stopped lines, want %d\n%s", n, 3-tc.wantLeft, h.log)
			}
		})
	}
}
