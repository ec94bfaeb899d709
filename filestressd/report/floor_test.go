package report

import (
	"math"
	"testing"
)

// TestAAOf computes the A/A check by hand: cells of repeats 100, 110 and
// 200, 180 give 100/110 = 0.90909 and 200/180 = 1.11111, geometric mean
// sqrt(1.0101) = 1.00504, a floor of 0.504%.
func TestAAOf(t *testing.T) {
	base := newSide(Side{Label: "thread", Mode: "thread", Rows: concat(cellRows("thread", 1, 1, 100, 110), cellRows("thread", 5, 1, 200, 180))}, modesOfOneCSV, "")
	want := math.Sqrt(100.0 / 110 * 200 / 180)
	if a := base.aa; a.cells != 2 || !near(a.geomean, want) || !near(a.floor(), want-1) || !near(a.lo, 100.0/110) || !near(a.hi, 200.0/180) {
		t.Errorf("aaOf = %+v, want geomean %v", a, want)
	}
	if a := aaOf(newSide(Side{Label: "x", Rows: cellRows("x", 1, 1, 100)}, labelledRuns, "").samples); a.cells != 0 {
		t.Errorf("one repeat gave an A/A check: %+v", a)
	}
}

// TestInterleavedFloor: process / thread is 120/100 = 1.2 in repeat 1
// and 99/90 = 1.1 in repeat 2 in one cell, and 60/50 = 1.2 and 55/50 =
// 1.1 in the other: 1.2/1.1 = 1.0909 in both, a floor of 9.09%. Measured
// apart (another run_id), the floor is the larger of the runs' own:
// thread's 100/90 and 50/50 give sqrt(1.1111) = 1.05409; process's
// 120/99 and 60/55 give sqrt(1.21212 × 1.09091) = 1.14993, a floor of
// 14.99%.
func TestInterleavedFloor(t *testing.T) {
	thread := concat(cellRows("thread", 1, 1, 100, 90), cellRows("thread", 5, 1, 50, 50))
	for _, tc := range []struct {
		runID string
		floor float64
		cells int
	}{{"r", 1.2/1.1 - 1, 2}, {"other", math.Sqrt(120.0/99*60/55) - 1, 0}} {
		process := withRunID(concat(cellRows("process", 1, 1, 120, 99), cellRows("process", 5, 1, 60, 55)), tc.runID)
		c := compare(newSide(Side{Label: "thread", Mode: "thread", Rows: thread}, modesOfOneCSV, ""), newSide(Side{Label: "process", Mode: "process", Rows: process}, modesOfOneCSV, ""))
		f, ok := c.floor()
		if !ok || !near(f, tc.floor) || c.interleaved.cells != tc.cells {
			t.Errorf("run_id %s: floor %v (%v), %d interleaved cells; want %v, %d", tc.runID, f, ok, c.interleaved.cells, tc.floor, tc.cells)
		}
	}
}
