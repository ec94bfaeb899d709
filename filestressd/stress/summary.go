package stress

import (
	"math"
	"slices"
	"time"
)

// Result is one measured cell: what was asked, what the workers did, what
// the server counted, and the figures made of them, read through Row,
// Records and WriteSummary.
type Result struct {
	cfg       Config
	timestamp time.Time // the start of the window
	wall      time.Duration
	results   []workerResult
	server    serverView
	sum       summary
	want      knownContent // a download's expected content
	cost      serverCost   // the server's process tree over the window
	// uploads is the upload form the cell's uploads, or its download's
	// test file, were written in; nil when it uploaded nothing.
	uploads *uploadChoice
	// clientCPU is the client's CPU time over the window (see window.cpu),
	// when clientCPUKnown; cpuMissing children are not in it.
	clientCPU      time.Duration
	clientCPUKnown bool
	cpuMissing     int
}

func newResult(cfg Config, w window, server serverView) Result {
	c := Result{cfg: cfg, timestamp: w.start, wall: w.end.Sub(w.start), results: w.results, server: server,
		clientCPU: w.cpu, clientCPUKnown: w.cpuKnown, cpuMissing: w.cpuMissing}
	c.sum = summarize(cfg, w.results, c.wall)
	return c
}

// summary is a cell's figures. Times are over successful workers only:
// a failed transfer has no meaningful duration.
type summary struct {
	ok, failed  int
	kinds       map[string]int
	times       []float64 // seconds, sorted
	mean        float64
	p50, p95    float64
	max         float64
	perClient   float64 // mean of volume / seconds over successful workers, B/s
	aggregate   float64 // bytes moved by successful workers / wall, B/s
	hasVolume   bool    // false for list, which moves no file
	maxChildRSS int64   // KiB, process pool
}

func summarize(cfg Config, results []workerResult, wall time.Duration) summary {
	s := summary{kinds: map[string]int{}, hasVolume: cfg.Op != CellList}
	var rateSum float64
	for _, r := range results {
		s.maxChildRSS = max(s.maxChildRSS, r.MaxRSSKiB)
		if !r.OK {
			s.failed++
			s.kinds[r.Kind]++
			continue
		}
		s.ok++
		s.times = append(s.times, r.Seconds)
		if r.Seconds > 0 {
			rateSum += float64(cfg.Size) / r.Seconds
		}
	}
	slices.Sort(s.times)
	if s.ok > 0 {
		var sum float64
		for _, t := range s.times {
			sum += t
		}
		s.mean = sum / float64(s.ok)
		s.p50, s.p95 = nearestRank(s.times, 0.50), nearestRank(s.times, 0.95)
		s.max = s.times[len(s.times)-1]
		s.perClient = rateSum / float64(s.ok)
	}
	if w := wall.Seconds(); w > 0 {
		s.aggregate = float64(cfg.Size) * float64(s.ok) / w
	}
	return s
}

// nearestRank is the nearest-rank q-quantile of sorted values (q a
// fraction): the smallest value with at least q of the values at or below
// it. (The report interpolates: linearQuantile.)
func nearestRank(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
