package report

import (
	"cmp"
	"math"
	"slices"
)

// Side is a set of rows the report puts beside the others: a server mode
// of a CSV in the default report, one labelled -run, or a mode of one
// -server.
type Side struct {
	Label  string // what the report calls it: "thread", "student"
	Source string // the CSV's name, as the report cites it
	// Mode is the server mode the rows were selected by; empty when they
	// are all the rows of Source.
	Mode string
	Rows []Row
}

// side is a Side as the report works on it.
type side struct {
	Side
	server  string    // the -server label it belongs to; empty otherwise
	name    string    // in a sentence, as Markdown: "thread mode", "run student"
	title   string    // its table's heading
	heading string    // its label as a column heading, Markdown
	color   string    // its colour in every chart
	samples []*sample // one per cell, in matrix order
	aa      aaCheck
}

// repeated says whether any cell of the side has more than one sample.
func (r *side) repeated() bool {
	return slices.ContainsFunc(r.samples, func(s *sample) bool { return len(s.rows) > 1 })
}

// pair is one cell measured in a side and in the baseline it is compared
// with.
type pair struct {
	k           key
	base, other *sample
	// ratio is the other side's median throughput per client over the
	// baseline's (above 1: the other side is faster); NaN if unknown.
	ratio float64
	// lo and hi are the ratio's 95% bootstrap interval; NaN when a side
	// has a single sample.
	lo, hi float64
	// cpuRatio and rssRatio are other / baseline median server CPU per MB
	// and peak memory; NaN when either was not recorded.
	cpuRatio, rssRatio float64
}

func (p *pair) hasInterval() bool { return !math.IsNaN(p.lo) }

// comparison is a side against the baseline, cell by cell.
type comparison struct {
	base, other *side
	pairs       []pair
	// interleaved is the A/A check of the pairs measured interleaved (see
	// interleavedAAOf); no cells when the sides were measured apart.
	interleaved aaCheck
}

// compare matches the other side's cells with the baseline's: the same
// operation, volume, client and server workers, where unknown server
// workers (a server without STATS) match any count, so a server of one
// configuration is compared with each of the baseline's.
func compare(base, other *side) *comparison {
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
	p := pair{k: k, base: b, other: o, ratio: math.NaN(), lo: math.NaN(), hi: math.NaN(), cpuRatio: math.NaN(), rssRatio: math.NaN()}
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
	if br, orss := b.peakRSS(), o.peakRSS(); len(br) > 0 && len(orss) > 0 && median(br) > 0 {
		p.rssRatio = median(orss) / median(br)
	}
	return p
}
