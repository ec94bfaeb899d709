package report

import (
	"hash/fnv"
	"math"
	"math/bits"
	"slices"
)

// The statistics of the report: medians and ranges of a cell's repeats,
// and a percentile bootstrap for the 95% interval of a ratio of medians.

const (
	// bootstrapResamples is how many times each sample is resampled.
	bootstrapResamples = 2000
	// bootstrapSeed fixes the resampling, so the same CSV always renders
	// the same report. Each sample draws from its own stream, seeded from
	// this and the sample's name (side label and cell), so adding a side to
	// a report leaves the other sides' intervals as they were.
	bootstrapSeed = 13
	// confidence is the interval's coverage: its ends are the 2.5th and
	// 97.5th percentiles.
	confidence = 0.95
)

// median is the middle value of xs, the mean of the two middle ones for an
// even count; NaN for none. xs is not modified.
func median(xs []float64) float64 {
	return linearQuantile(sortedCopy(xs), 0.5)
}

func sortedCopy(xs []float64) []float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s
}

// linearQuantile is the p-th quantile (0 <= p <= 1) of sorted values, linear
// between the closest ranks: rank h = (n-1)p from 0, value
// s[floor h] + (h - floor h)(s[floor h + 1] - s[floor h]) (type 7 of
// Hyndman and Fan, R's and NumPy's default). NaN for no values.
func linearQuantile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := float64(len(sorted)-1) * p
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// geomean is the geometric mean of xs; NaN for none or for a value that is
// not positive.
func geomean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	sum := 0.0
	for _, x := range xs {
		if !(x > 0) {
			return math.NaN()
		}
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}

// splitMix64 is Steele, Lea and Flood's SplitMix64 generator, written out
// so the report's resampling does not depend on a library's choice of
// algorithm: the same seed gives the same draws with every Go version.
type splitMix64 struct{ state uint64 }

func (g *splitMix64) next() uint64 {
	g.state += 0x9e3779b97f4a7c15
	z := g.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn is a draw from 0 to n-1: the high word of next() × n (Lemire's
// multiply-shift; its bias, below n / 2^64, does not matter here).
func (g *splitMix64) intn(n int) int {
	hi, _ := bits.Mul64(g.next(), uint64(n))
	return int(hi)
}

// streamSeed derives a sample's own seed from the report's seed and the
// sample's name.
func streamSeed(seed uint64, name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return seed ^ h.Sum64()
}

// bootMedians resamples xs with replacement b times, drawing from a
// SplitMix64 stream seeded with seed, and returns each resample's median,
// in the order drawn. A single value gives b copies of itself.
func bootMedians(xs []float64, seed uint64, b int) []float64 {
	g := splitMix64{state: seed}
	out := make([]float64, b)
	re := make([]float64, len(xs))
	for i := range out {
		for j := range re {
			re[j] = xs[g.intn(len(xs))]
		}
		slices.Sort(re)
		out[i] = linearQuantile(re, 0.5)
	}
	return out
}

// interval is the central confidence interval of the values a bootstrap
// produced: their 2.5th and 97.5th percentiles.
func interval(values []float64) (lo, hi float64) {
	s := sortedCopy(values)
	tail := (1 - confidence) / 2
	return linearQuantile(s, tail), linearQuantile(s, 1-tail)
}

// ratioInterval is the 95% bootstrap interval of num / den from the two
// samples' resampled medians, paired draw by draw (the draws are
// independent, so pairing them by index pairs independent resamples).
func ratioInterval(num, den []float64) (lo, hi float64) {
	ratios := make([]float64, len(num))
	for i := range ratios {
		ratios[i] = num[i] / den[i]
	}
	return interval(ratios)
}
