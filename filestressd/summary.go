package main

import (
	"math"
	"slices"
	"strconv"
	"time"
)

// cell is one measured cell: what was asked, what the workers did, and
// what the server counted.
type cell struct {
	cfg       config
	timestamp time.Time // the start of the window
	wall      time.Duration
	results   []workerResult
	server    serverView
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

func summarize(c cell) summary {
	s := summary{kinds: map[string]int{}, hasVolume: c.cfg.Op != opList}
	var rateSum float64
	for _, r := range c.results {
		s.maxChildRSS = max(s.maxChildRSS, r.MaxRSSKiB)
		if !r.OK {
			s.failed++
			s.kinds[r.Kind]++
			continue
		}
		s.ok++
		s.times = append(s.times, r.Seconds)
		if r.Seconds > 0 {
			rateSum += float64(c.cfg.Size) / r.Seconds
		}
	}
	slices.Sort(s.times)
	if s.ok > 0 {
		var sum float64
		for _, t := range s.times {
			sum += t
		}
		s.mean = sum / float64(s.ok)
		s.p50, s.p95 = percentile(s.times, 50), percentile(s.times, 95)
		s.max = s.times[len(s.times)-1]
		s.perClient = rateSum / float64(s.ok)
	}
	if w := c.wall.Seconds(); w > 0 {
		s.aggregate = float64(c.cfg.Size) * float64(s.ok) / w
	}
	return s
}

// percentile is the nearest-rank percentile of sorted values: the
// smallest value with at least p% of the values at or below it.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// csvRow lays a cell out in csvHeader's columns. A figure that does not
// exist is empty, not zero: no successful worker has no time, list moves
// no volume, and a server without STATS has no counts.
func (c cell) csvRow(no int) []string {
	s := summarize(c)
	secs := func(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }
	rate := func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	var volumeBytes, perClient, aggregate, mean, p50, p95, maxT string
	if s.hasVolume {
		volumeBytes, aggregate = strconv.FormatInt(c.cfg.Size, 10), rate(s.aggregate)
	}
	if s.ok > 0 {
		mean, p50, p95, maxT = secs(s.mean), secs(s.p50), secs(s.p95), secs(s.max)
		if s.hasVolume {
			perClient = rate(s.perClient)
		}
	}
	var serverWorkers, serverMode, serverOK, serverFail string
	if mode, workers, ok := c.server.identity(); ok {
		serverMode, serverWorkers = mode, strconv.Itoa(workers)
	}
	if ok, failed, known := c.server.counts(c.cfg.Op); known {
		serverOK, serverFail = strconv.FormatUint(ok, 10), strconv.FormatUint(failed, 10)
	}
	return []string{
		strconv.Itoa(no),
		c.timestamp.Format(time.RFC3339),
		c.cfg.Op,
		volumeLabel(c.cfg),
		volumeBytes,
		strconv.Itoa(c.cfg.Workers),
		c.cfg.Pool,
		serverWorkers,
		serverMode,
		mean,
		perClient,
		strconv.Itoa(s.ok),
		strconv.Itoa(s.failed),
		serverOK,
		serverFail,
		secs(c.wall.Seconds()),
		aggregate,
		p50,
		p95,
		maxT,
		formatKinds(s.kinds),
	}
}
