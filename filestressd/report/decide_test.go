package report

import (
	"math"
	"testing"
)

// constSide is a run of one upload cell per throughput, each measured
// twice at the same value, so that every bootstrap draw's median is that
// value and the intervals are exact.
func constSide(label, runID string, mbps ...float64) *side {
	var rows []Row
	for i, v := range mbps {
		for rep := 1; rep <= 2; rep++ {
			rows = append(rows, Row{No: len(rows) + 1, Operation: "upload", VolumeBytes: 10 * mb, ClientWorkers: i + 1, ServerWorkers: 1,
				ServerMode: label, ThroughputPerClient: v * mb, ServerCPU: -1, ClientCPU: -1, ServerPeakRSS: -1, Repeat: rep, RunID: runID})
		}
	}
	return newSide(Side{Label: label, Mode: label, Rows: rows}, modesOfOneCSV, "")
}

func TestBeyond(t *testing.T) {
	for _, tc := range []struct {
		ratio, lo, hi, floor float64
		want                 decision
	}{
		{1.10, 1.02, 1.20, 0.05, otherFaster}, // excludes 1, 10% beyond a 5% floor
		{1.04, 1.01, 1.10, 0.05, same},        // excludes 1, but 4% is within the floor
		{0.90, 0.85, 0.99, 0.02, otherSlower}, // 10% slower, beyond 2%
		{0.97, 0.90, 1.03, 0.00, same},        // the interval includes 1
		{1.00, 1.00, 1.00, 0.00, same},        // exactly 1 is not beyond it
	} {
		if got := beyond(tc.ratio, tc.lo, tc.hi, tc.floor); got != tc.want {
			t.Errorf("beyond(%v, %v–%v, floor %v) = %d, want %d", tc.ratio, tc.lo, tc.hi, tc.floor, got, tc.want)
		}
	}
	for _, tc := range []struct {
		ratio float64
		want  decision
	}{{1.051, otherFaster}, {1.05, same}, {0.95, same}, {0.949, otherSlower}} {
		if got := byBand(tc.ratio); got != tc.want {
			t.Errorf("byBand(%v) = %d, want %d", tc.ratio, got, tc.want)
		}
	}
}

// TestSummarize decides whole comparisons by hand. Every cell's two
// repeats are equal, so a cell's interval is its ratio, and the overall
// ratio's interval the geometric mean: cells 110/100 and 90/100 give
// sqrt(1.1 × 0.9) = 0.99499, an interval of that one value, which
// excludes 1 but lies within any floor above 0.5%.
func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name       string
		base, othr *side
		want       outcome
		geo        float64
		faster     int
		slower     int
	}{
		{"faster", constSide("thread", "r", 100, 50), constSide("process", "r", 120, 60), otherWins, 1.2, 2, 0},
		{"slower", constSide("thread", "r", 100, 50), constSide("process", "r", 80, 40), baseWins, 0.8, 0, 2},
		{"within the floor", constSide("thread", "r", 100, 100), constSide("process", "r", 110, 90), withinFloor, math.Sqrt(1.1 * 0.9), 1, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := summarize(compare(tc.base, tc.othr))
			// Measured interleaved, both repeats alike: the A/A check is 1
			// in every cell, so the floor is 0 and within-floor needs one.
			if tc.want == withinFloor {
				s.floor = 0.01
				s.outcome = s.decide()
			}
			if s.outcome != tc.want || !near(s.all.geomean, tc.geo) || !near(s.all.lo, tc.geo) || !near(s.all.hi, tc.geo) {
				t.Errorf("outcome %d, geomean %v (%v–%v); want %d, %v", s.outcome, s.all.geomean, s.all.lo, s.all.hi, tc.want, tc.geo)
			}
			if s.all.faster != tc.faster || s.all.slower != tc.slower || !s.hasFloor || s.c.interleaved.cells != 2 {
				t.Errorf("faster %d slower %d, floor %v (%d cells); want %d, %d and an interleaved floor", s.all.faster, s.all.slower, s.hasFloor, s.c.interleaved.cells, tc.faster, tc.slower)
			}
		})
	}
	// The widest gaps: 0.5 is as far from 1 as 2, and wider than 1.5;
	// 1.01 is within a 2% floor.
	s := summarize(compare(constSide("thread", "r", 100, 100, 100, 100), constSide("process", "r", 150, 50, 101, 200)))
	s.floor = 0.02
	var gaps []float64
	for _, p := range s.gaps(2) {
		gaps = append(gaps, p.ratio)
	}
	if len(gaps) != 2 || !near(gaps[0], 0.5) || !near(gaps[1], 2) || len(s.gaps(9)) != 3 {
		t.Errorf("gaps %v (of %d), want 0.5 and 2, then 1.5; 1.01 is within the floor", gaps, len(s.gaps(9)))
	}
	// One sample a cell: the band decides, cell by cell, and the verdict
	// is the band's.
	one := func(label string, mbps ...float64) *side {
		r := constSide(label, "r", mbps...)
		for _, s := range r.samples {
			s.rows, s.tput, s.times = s.rows[:1], s.tput[:1], s.times[:1]
		}
		r.aa = aaOf(r.samples)
		return r
	}
	s = summarize(compare(one("thread", 100, 100, 100), one("process", 110, 96, 90)))
	if s.outcome != bandOnly || s.hasFloor || s.all.bandFaster != 1 || s.all.bandTies != 1 || s.all.bandSlower != 1 || !math.IsNaN(s.all.lo) {
		t.Errorf("one sample a cell: %+v", s)
	}
	// A floor beyond ±5% declares no winner, however clear the cells.
	s = summarize(compare(constSide("thread", "r", 100), constSide("process", "r", 150)))
	s.floor = 0.06
	if s.decide() != floorTooHigh {
		t.Errorf("a 6%% floor: outcome %d, want no winner", s.decide())
	}
}
