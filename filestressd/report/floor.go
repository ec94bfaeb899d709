package report

import (
	"math"
	"slices"
)

// The A/A noise floor: how far a comparison moves when nothing changes
// but the repeat. A difference within it is not declared.

// aaCheck is the A/A comparison of a side with itself: in each cell with
// two repeats, the first repeat's throughput over the second's. Nothing
// differs between them but the machine, so how far they stray from 1 is
// the noise floor any other comparison stands on.
type aaCheck struct {
	cells   int
	geomean float64 // over the cells of repeat 1 / repeat 2
	lo, hi  float64 // the lowest and highest single cell's ratio
}

func aaOf(ss []*sample) aaCheck {
	var ratios []float64
	for _, s := range ss {
		if s.n() >= 2 {
			ratios = append(ratios, s.tput[0]/s.tput[1])
		}
	}
	return aaOfRatios(ratios)
}

func aaOfRatios(ratios []float64) aaCheck {
	if len(ratios) == 0 {
		return aaCheck{}
	}
	return aaCheck{cells: len(ratios), geomean: geomean(ratios), lo: slices.Min(ratios), hi: slices.Max(ratios)}
}

// floor is the A/A check's distance from 1, as a fraction: 0.018 for a
// geometric mean of 0.982 or 1.018.
func (a aaCheck) floor() float64 { return math.Abs(a.geomean - 1) }

// interleavedAAOf is the A/A check of a comparison whose two sides were
// measured interleaved, cell by cell in one run_matrix.sh invocation: in
// each cell with two repeats in both, the ratio other/baseline in the
// first repeat over the same ratio in the second. A drift between the
// repeats (the whole second pass slower, say) hits both sides alike and
// divides out, as it does from the comparison itself. What is left is how
// far the compared ratio moves when nothing changes but the repeat.
func interleavedAAOf(ps []pair) aaCheck {
	var ratios []float64
	for _, p := range ps {
		b1, b2, okb := firstTwoRepeats(p.base)
		o1, o2, oko := firstTwoRepeats(p.other)
		if !okb || !oko || b1.RunID == "" || b1.RunID != o1.RunID || b1.Repeat != o1.Repeat || b2.Repeat != o2.Repeat {
			continue
		}
		ratios = append(ratios, (o1.ThroughputPerClient/b1.ThroughputPerClient)/(o2.ThroughputPerClient/b2.ThroughputPerClient))
	}
	return aaOfRatios(ratios)
}

// firstTwoRepeats returns a sample's first two rows that measured a
// throughput, by repeat number.
func firstTwoRepeats(s *sample) (Row, Row, bool) {
	var got []Row
	for _, r := range s.rows {
		if r.ThroughputPerClient > 0 {
			got = append(got, r)
			if len(got) == 2 {
				return got[0], got[1], true
			}
		}
	}
	return Row{}, Row{}, false
}

// floor is the comparison's A/A noise floor, and whether it has one. For
// sides measured interleaved it is the interleaved A/A check's: the drift
// between repeats divides out of it as it does out of the comparison.
// Otherwise it is the larger of the two sides' own A/A floors, drift and
// all, since a drift between sides measured apart lands on one of them.
func (c *comparison) floor() (float64, bool) {
	if c.interleaved.cells > 0 {
		return c.interleaved.floor(), true
	}
	f, ok := 0.0, false
	for _, r := range []*side{c.base, c.other} {
		if r.aa.cells > 0 {
			f, ok = max(f, r.aa.floor()), true
		}
	}
	return f, ok
}
