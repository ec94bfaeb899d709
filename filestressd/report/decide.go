package report

import (
	"cmp"
	"math"
	"slices"
)

// The decisions of the report, as data: whether a cell, an operation or
// the whole comparison is faster, slower or "~", and which verdict the
// comparison comes to. Prose and charts only format these.

// decision is which way a ratio other/baseline goes.
type decision int

const (
	same        decision = 0  // "~": no significant difference, or within the floor (or the ±5% band)
	otherFaster decision = 1  // the other side is faster
	otherSlower decision = -1 // the baseline is faster
)

// tieBand is how close two single measurements must be to count as a tie:
// without repeats there is no interval, and the machine is shared and
// noisy, so a few percent decide nothing.
const tieBand = 0.05

// beyond says which way a ratio with its interval [lo, hi] goes: faster
// or slower when the interval excludes 1 and the ratio is beyond the
// noise floor, same otherwise. A cell's class and the overall verdict both
// judge by it.
func beyond(ratio, lo, hi, floor float64) decision {
	switch {
	case lo > 1 && ratio-1 > floor:
		return otherFaster
	case hi < 1 && 1-ratio > floor:
		return otherSlower
	}
	return same
}

// byBand judges a ratio without an interval by the ±tieBand band.
func byBand(ratio float64) decision {
	switch {
	case ratio > 1+tieBand:
		return otherFaster
	case ratio < 1-tieBand:
		return otherSlower
	}
	return same
}

// class says whether the other side is faster, slower or neither in the
// cell. With an interval: only when it excludes 1 and the difference is
// beyond the noise floor. Without: by the ±tieBand band.
func (p *pair) class(floor float64) decision {
	switch {
	case math.IsNaN(p.ratio):
		return same
	case !p.hasInterval():
		return byBand(p.ratio)
	}
	return beyond(p.ratio, p.lo, p.hi, floor)
}

// verdict sums up a side against the baseline over a set of pairs.
type verdict struct {
	cells int // with a ratio
	// Cells with an interval: the other side faster, slower, and neither
	// (no significant difference, or within the noise floor).
	withInterval, faster, slower, same int
	// Cells without: beyond +tieBand, below -tieBand, and within.
	bandFaster, bandSlower, bandTies int
	geomean                          float64 // of the ratios
	// lo and hi are the geometric mean's 95% interval: each bootstrap
	// draw's geometric mean over the cells of the ratio of the resampled
	// medians. NaN unless every cell has an interval.
	lo, hi      float64
	best, worst *pair // highest and lowest ratio
}

func judge(ps []pair, floor float64) verdict {
	v := verdict{lo: math.NaN(), hi: math.NaN()}
	var ratios []float64
	var with []*pair
	for i := range ps {
		p := &ps[i]
		if math.IsNaN(p.ratio) {
			continue
		}
		v.cells++
		ratios = append(ratios, p.ratio)
		c := p.class(floor)
		if p.hasInterval() {
			with = append(with, p)
			v.withInterval++
			v.faster += b2i(c == otherFaster)
			v.slower += b2i(c == otherSlower)
			v.same += b2i(c == same)
		} else {
			v.bandFaster += b2i(c == otherFaster)
			v.bandSlower += b2i(c == otherSlower)
			v.bandTies += b2i(c == same)
		}
		if v.best == nil || p.ratio > v.best.ratio {
			v.best = p
		}
		if v.worst == nil || p.ratio < v.worst.ratio {
			v.worst = p
		}
	}
	if v.cells == 0 {
		return v
	}
	v.geomean = geomean(ratios)
	if len(with) == v.cells {
		draws := make([]float64, bootstrapResamples)
		for i := range draws {
			sum := 0.0
			for _, p := range with {
				sum += math.Log(p.other.bootstrap()[i] / p.base.bootstrap()[i])
			}
			draws[i] = math.Exp(sum / float64(len(with)))
		}
		v.lo, v.hi = interval(draws)
	}
	return v
}

// overall says which way the verdict goes: there must be an interval, it
// must exclude 1, and the difference must be beyond the noise floor.
func (v verdict) overall(floor float64) decision {
	if math.IsNaN(v.lo) {
		return same
	}
	return beyond(v.geomean, v.lo, v.hi, floor)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// outcome is the verdict a comparison comes to, before any wording.
type outcome int

const (
	noCells      outcome = iota // no cell measured in both
	bandOnly                    // no cell has an interval: the ±5% band judges
	floorTooHigh                // the A/A floor is beyond ±5%: no winner declared
	notDeclared                 // some cells lack an interval, so the overall ratio has none
	otherWins                   // the other side is faster
	baseWins                    // the baseline is faster
	includesOne                 // ~: the overall interval includes 1
	withinFloor                 // ~: the interval excludes 1, the difference is within the floor
)

// summary is everything a comparison decided, for the prose, the tables
// and the charts to show.
type summary struct {
	c        *comparison
	floor    float64
	hasFloor bool
	all      verdict
	outcome  outcome
	// ops are the verdicts of upload and download alone, those measured.
	ops []opVerdict
	// cpu and rss are the geometric means of other/baseline server CPU
	// per MB and peak memory, over the cells recorded in both.
	cpu, rss costRatio
}

type opVerdict struct {
	op string
	v  verdict
}

// costRatio is a geometric mean of cell ratios, and over how many cells.
type costRatio struct {
	cells int
	geo   float64
}

func summarize(c *comparison) summary {
	s := summary{c: c}
	s.floor, s.hasFloor = c.floor()
	s.all = judge(c.pairs, s.floor)
	for _, op := range []string{"upload", "download"} {
		var sub []pair
		for _, p := range c.pairs {
			if p.k.op == op {
				sub = append(sub, p)
			}
		}
		if v := judge(sub, s.floor); v.cells > 0 {
			s.ops = append(s.ops, opVerdict{op, v})
		}
	}
	s.cpu = geoOfRatios(c.pairs, func(p pair) float64 { return p.cpuRatio })
	s.rss = geoOfRatios(c.pairs, func(p pair) float64 { return p.rssRatio })
	s.outcome = s.decide()
	return s
}

func (s summary) decide() outcome {
	v := s.all
	switch o := v.overall(s.floor); {
	case v.cells == 0:
		return noCells
	case v.withInterval == 0:
		return bandOnly
	case s.hasFloor && s.floor > tieBand:
		return floorTooHigh
	case math.IsNaN(v.lo):
		return notDeclared
	case o == otherFaster:
		return otherWins
	case o == otherSlower:
		return baseWins
	case v.lo <= 1 && v.hi >= 1:
		return includesOne
	default:
		return withinFloor
	}
}

// gaps are the comparison's cells judged faster or slower, farthest from
// 1 first (on a log scale, so 0.5 and 2 are as far), at most most.
func (s summary) gaps(most int) []pair {
	var gaps []pair
	for _, p := range s.c.pairs {
		if p.class(s.floor) != same {
			gaps = append(gaps, p)
		}
	}
	slices.SortStableFunc(gaps, func(a, b pair) int {
		return cmp.Compare(math.Abs(math.Log(b.ratio)), math.Abs(math.Log(a.ratio)))
	})
	return gaps[:min(len(gaps), most)]
}

// geoOfRatios is the geometric mean of the pairs' ratios that f gives,
// leaving out NaN.
func geoOfRatios(ps []pair, f func(pair) float64) costRatio {
	var ratios []float64
	for _, p := range ps {
		if r := f(p); !math.IsNaN(r) {
			ratios = append(ratios, r)
		}
	}
	return costRatio{len(ratios), geomean(ratios)}
}

// rangeOdds says, when no side of the pairs has more than 3 samples, what
// their intervals amount to. Then a resample's median is the sample's
// lowest value with probability at least 7/27 (3 samples; 1/4 with 2), so
// the lowest ratio, lowest over highest, has probability above 0.025 and is
// the interval's lower end, and likewise the upper: the interval excludes 1
// exactly when the two ranges do not overlap. Two identical setups'
// samples of n and m are in any order alike, and 2 of the C(n+m, n) orders
// do not overlap: the chance is 1 in C(n+m, n)/2, the worst over the
// pairs returned. sizes names the sample sizes: "2", "3" or "2 or 3".
func rangeOdds(ps []pair) (sizes string, odds int, ok bool) {
	seen := map[int]bool{}
	odds = math.MaxInt
	for _, p := range ps {
		n, m := p.base.n(), p.other.n()
		if n > 3 || m > 3 {
			return "", 0, false
		}
		seen[n], seen[m] = true, true
		odds = min(odds, binomial(n+m, n)/2)
	}
	switch {
	case seen[2] && seen[3]:
		sizes = "2 or 3"
	case seen[2]:
		sizes = "2"
	default:
		sizes = "3"
	}
	return sizes, odds, len(ps) > 0
}

func binomial(n, k int) int {
	r := 1
	for i := 1; i <= k; i++ {
		r = r * (n - k + i) / i
	}
	return r
}
