package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
)

// Run is a set of rows the report shows as one: a server mode of a CSV in
// the default report, or one labelled -run.
type Run struct {
	Label  string // what the report calls it: "thread", "student"
	Source string // the CSV's name, as the report cites it
	// Mode is the server mode the rows were selected by; empty when they
	// are all the rows of Source.
	Mode string
	Rows []Row
}

// run is a Run as the report works on it.
type run struct {
	Run
	name    string    // in a sentence: "thread mode", "run student"
	title   string    // its table's heading
	samples []*sample // one per cell, in matrix order
	aa      aaCheck
}

// sample is one cell of a run: the rows of its repeats.
type sample struct {
	id    string // run label and cell, naming its resampling stream
	k     key
	rows  []Row     // one per repeat, by repeat number
	tput  []float64 // throughput per client of the rows that measured one
	times []float64 // time per client of the same rows
	boot  []float64 // resampled medians of tput, made on first use
}

// n is how many measurements of throughput the sample has.
func (s *sample) n() int { return len(s.tput) }

func (s *sample) median() float64 { return median(s.tput) }

// bootstrap is the sample's resampled medians of throughput.
func (s *sample) bootstrap() []float64 {
	if s.boot == nil {
		s.boot = bootMedians(s.tput, streamSeed(bootstrapSeed, s.id), bootstrapResamples)
	}
	return s.boot
}

// cpuPerMB is the median over the sample's rows of the server's (or the
// client's) CPU milliseconds per MB, over the rows that recorded it.
func (s *sample) cpuPerMB(server bool) (float64, bool) {
	var vs []float64
	for _, r := range s.rows {
		sec := r.ClientCPU
		if server {
			sec = r.ServerCPU
		}
		if v, ok := cpuPerMB(r, sec); ok {
			vs = append(vs, v)
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	return median(vs), true
}

// samples groups a run's rows into one sample per cell, in matrix order. A
// cell's sample is the rows of the newest run_matrix.sh invocation that
// measured it (the run_id of its last row), the newest row of each repeat:
// a re-run appends rows, and the report shows what the last run measured.
// In a CSV without repeat and run_id columns that is the newest row.
func samples(label string, rows []Row) []*sample {
	byKey := map[key][]int{}
	var keys []key
	for i, r := range rows {
		if _, ok := byKey[keyOf(r)]; !ok {
			keys = append(keys, keyOf(r))
		}
		byKey[keyOf(r)] = append(byKey[keyOf(r)], i)
	}
	var out []*sample
	for _, k := range keys {
		idx := byKey[k]
		newest := idx[0]
		for _, i := range idx {
			if rows[i].No >= rows[newest].No {
				newest = i
			}
		}
		id := rows[newest].RunID
		perRepeat := map[int]int{}
		for _, i := range idx {
			if rows[i].RunID != id {
				continue
			}
			if j, ok := perRepeat[rows[i].Repeat]; !ok || rows[j].No <= rows[i].No {
				perRepeat[rows[i].Repeat] = i
			}
		}
		s := &sample{id: fmt.Sprintf("%s\x00%s\x00%d\x00%d\x00%d", label, k.op, k.volume, k.clients, k.servers), k: k}
		for _, i := range perRepeat {
			s.rows = append(s.rows, rows[i])
		}
		slices.SortFunc(s.rows, func(a, b Row) int { return cmp.Or(cmp.Compare(a.Repeat, b.Repeat), cmp.Compare(a.No, b.No)) })
		for _, r := range s.rows {
			if r.ThroughputPerClient > 0 {
				s.tput = append(s.tput, r.ThroughputPerClient)
				s.times = append(s.times, r.TimePerClient)
			}
		}
		out = append(out, s)
	}
	slices.SortStableFunc(out, func(a, b *sample) int { return matrixOrder(a.k, b.k) })
	return out
}

// matrixOrder orders cells as run_matrix.sh runs them: by server workers,
// operation (upload, download, then the others), volume and client workers.
func matrixOrder(a, b key) int {
	opRank := func(op string) int {
		switch op {
		case "upload":
			return 0
		case "download":
			return 1
		}
		return 2
	}
	return cmp.Or(cmp.Compare(a.servers, b.servers), cmp.Compare(opRank(a.op), opRank(b.op)), cmp.Compare(a.op, b.op),
		cmp.Compare(a.volume, b.volume), cmp.Compare(a.clients, b.clients))
}

// modes lists the server modes present, thread and process first.
func modes(rows []Row) []string {
	var ms []string
	for _, r := range rows {
		if !slices.Contains(ms, r.ServerMode) {
			ms = append(ms, r.ServerMode)
		}
	}
	order := map[string]int{"thread": 0, "process": 1}
	slices.SortStableFunc(ms, func(a, b string) int {
		oa, ok := order[a]
		if !ok {
			oa = 2
		}
		ob, ok := order[b]
		if !ok {
			ob = 2
		}
		return cmp.Compare(oa, ob)
	})
	return ms
}

func rowsOf(rows []Row, mode string) []Row {
	var out []Row
	for _, r := range rows {
		if r.ServerMode == mode {
			out = append(out, r)
		}
	}
	return out
}

// aaCheck is the A/A comparison of a run with itself: in each cell with
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
	if len(ratios) == 0 {
		return aaCheck{}
	}
	return aaCheck{cells: len(ratios), geomean: geomean(ratios), lo: slices.Min(ratios), hi: slices.Max(ratios)}
}

// floor is the A/A check's distance from 1, as a fraction: 0.018 for a
// geometric mean of 0.982 or 1.018.
func (a aaCheck) floor() float64 { return math.Abs(a.geomean - 1) }

// interleavedAAOf is the A/A check of a comparison whose two runs were
// measured interleaved, cell by cell in one run_matrix.sh invocation: in
// each cell with two repeats in both, the ratio other/baseline in the
// first repeat over the same ratio in the second. A drift between the
// repeats (the whole second pass slower, say) hits both runs alike and
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
	if len(ratios) == 0 {
		return aaCheck{}
	}
	return aaCheck{cells: len(ratios), geomean: geomean(ratios), lo: slices.Min(ratios), hi: slices.Max(ratios)}
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

// pair is one cell measured in a run and in the baseline it is compared
// with.
type pair struct {
	k           key
	base, other *sample
	// ratio is the other run's median throughput per client over the
	// baseline's (above 1: the other run is faster); NaN if unknown.
	ratio float64
	// lo and hi are the ratio's 95% bootstrap interval; NaN when a side
	// has a single sample.
	lo, hi float64
	// cpuRatio is other / baseline median server CPU per MB; NaN when
	// either was not recorded.
	cpuRatio float64
}

func (p *pair) hasInterval() bool { return !math.IsNaN(p.lo) }

// class says whether the other run is faster (1), slower (-1) or neither
// (0) in the cell. With an interval: only when it excludes 1 and the
// difference is beyond the noise floor. Without: by the ±tieBand band.
func (p *pair) class(floor float64) int {
	switch {
	case math.IsNaN(p.ratio):
		return 0
	case !p.hasInterval():
		if p.ratio > 1+tieBand {
			return 1
		}
		if p.ratio < 1-tieBand {
			return -1
		}
		return 0
	}
	return beyond(p.ratio, p.lo, p.hi, floor)
}

// beyond says which way a ratio with its interval [lo, hi] goes: 1 or -1
// when the interval excludes 1 and the ratio is beyond the noise floor,
// 0 otherwise. A cell's class and the overall verdict both judge by it.
func beyond(ratio, lo, hi, floor float64) int {
	switch {
	case lo > 1 && ratio-1 > floor:
		return 1
	case hi < 1 && 1-ratio > floor:
		return -1
	}
	return 0
}

func (p *pair) verdictWord(floor float64) string {
	if !p.hasInterval() {
		return "no interval"
	}
	switch p.class(floor) {
	case 1:
		return "faster"
	case -1:
		return "slower"
	}
	return "~"
}

// comparison is a run against the baseline, cell by cell.
type comparison struct {
	base, other *run
	pairs       []pair
	// interleaved is the A/A check of the pairs measured interleaved (see
	// interleavedAAOf); no cells when the runs were measured apart.
	interleaved aaCheck
}

// floor is the comparison's A/A noise floor, and whether it has one. For
// runs measured interleaved it is the interleaved A/A check's: the drift
// between repeats divides out of it as it does out of the comparison.
// Otherwise it is the larger of the two runs' own A/A floors, drift and
// all, since a drift between runs measured apart lands on one of them.
func (c *comparison) floor() (float64, bool) {
	if c.interleaved.cells > 0 {
		return c.interleaved.floor(), true
	}
	f, ok := 0.0, false
	for _, r := range []*run{c.base, c.other} {
		if r.aa.cells > 0 {
			f, ok = max(f, r.aa.floor()), true
		}
	}
	return f, ok
}

// compare matches the other run's cells with the baseline's: the same
// operation, volume, client and server workers, where unknown server
// workers (a server without STATS) match any count, so a server of one
// configuration is compared with each of the baseline's.
func compare(base, other *run) *comparison {
	c := &comparison{base: base, other: other}
	for _, b := range base.samples {
		var exact, wild []*sample
		for _, o := range other.samples {
			if o.k.op != b.k.op || o.k.volume != b.k.volume || o.k.clients != b.k.clients {
				continue
			}
			switch {
			case o.k.servers == b.k.servers:
				exact = append(exact, o)
			case o.k.servers == 0 || b.k.servers == 0:
				wild = append(wild, o)
			}
		}
		if len(exact) == 0 {
			exact = wild
		}
		for _, o := range exact {
			c.pairs = append(c.pairs, newPair(b, o))
		}
	}
	slices.SortStableFunc(c.pairs, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.k.op, b.k.op), cmp.Compare(a.k.volume, b.k.volume),
			cmp.Compare(a.k.servers, b.k.servers), cmp.Compare(a.k.clients, b.k.clients))
	})
	c.interleaved = interleavedAAOf(c.pairs)
	return c
}

func newPair(b, o *sample) pair {
	k := b.k
	k.servers = max(b.k.servers, o.k.servers)
	p := pair{k: k, base: b, other: o, ratio: math.NaN(), lo: math.NaN(), hi: math.NaN(), cpuRatio: math.NaN()}
	if b.n() > 0 && o.n() > 0 {
		p.ratio = o.median() / b.median()
	}
	if b.n() >= 2 && o.n() >= 2 {
		p.lo, p.hi = ratioInterval(o.bootstrap(), b.bootstrap())
	}
	bc, bok := b.cpuPerMB(true)
	oc, ook := o.cpuPerMB(true)
	if bok && ook && bc > 0 && oc > 0 {
		p.cpuRatio = oc / bc
	}
	return p
}

// tieBand is how close two single measurements must be to count as a tie:
// without repeats there is no interval, and the machine is shared and
// noisy, so a few percent decide nothing.
const tieBand = 0.05

// verdict sums up a run against the baseline over a set of pairs.
type verdict struct {
	cells int // with a ratio
	// Cells with an interval: the other run faster, slower, and neither
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
			v.faster += b2i(c == 1)
			v.slower += b2i(c == -1)
			v.same += b2i(c == 0)
		} else {
			v.bandFaster += b2i(c == 1)
			v.bandSlower += b2i(c == -1)
			v.bandTies += b2i(c == 0)
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

// overall says which way the verdict goes: 1 when the other run is faster
// overall, -1 slower, 0 not declared: there must be an interval, it must
// exclude 1, and the difference must be beyond the noise floor.
func (v verdict) overall(floor float64) int {
	if math.IsNaN(v.lo) {
		return 0
	}
	return beyond(v.geomean, v.lo, v.hi, floor)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// judgeCPU sums up the pairs' server CPU per MB ratios: how many cells
// and their geometric mean.
func judgeCPU(ps []pair) (cells int, geo float64) {
	var ratios []float64
	for _, p := range ps {
		if !math.IsNaN(p.cpuRatio) {
			ratios = append(ratios, p.cpuRatio)
		}
	}
	return len(ratios), geomean(ratios)
}
