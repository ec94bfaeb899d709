package stress

import (
	"context"
	"time"
)

// minWindow is the window a release gets when the setup ended so late
// that the deadline, -timeout after -start-at, has already passed: its
// workers start and are counted as timed out at once.
const minWindow = time.Millisecond

// releaseAt waits for the -start-at instant at (none when zero) or ctx's
// end, and returns how long the window may last from now: the deadline is
// at + timeout on every host, wherever this host's release falls.
func releaseAt(ctx context.Context, at time.Time, timeout time.Duration) time.Duration {
	if at.IsZero() {
		return timeout
	}
	if wait := time.Until(at); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return max(time.Until(at.Add(timeout)), minWindow)
}

// fromStartAt makes a window of a cell with -start-at run from that
// instant: a host whose setup ended late has the delay in its wall time,
// so that the hosts' walls all run from the same instant.
func fromStartAt(w window, at time.Time) window {
	if !at.IsZero() && at.Before(w.start) {
		w.start = at
	}
	return w
}

// hostFailedWindow is the window of -host-failed: every worker failed,
// kind host, for reason; no time measured.
func hostFailedWindow(cfg Config) window {
	start := cfg.StartAt
	if start.IsZero() {
		start = time.Now()
	}
	w := window{start: start, end: start, results: make([]workerResult, cfg.Workers)}
	for i := range w.results {
		w.results[i] = workerResult{Worker: i + 1, Kind: kindHost, Error: "host " + cfg.Host + ": " + cfg.HostFailed}
	}
	return w
}
