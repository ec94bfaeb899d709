package report

import (
	"cmp"
	"math"
	"slices"
)

// latest keeps the newest row of each cell and mode: a matrix re-run
// appends rows, and the report shows what the last run measured.
func latest(rows []Row) []Row {
	type modeKey struct {
		mode string
		k    key
	}
	last := map[modeKey]int{}
	for i, r := range rows {
		mk := modeKey{r.ServerMode, r.key()}
		if j, ok := last[mk]; !ok || rows[j].No <= r.No {
			last[mk] = i
		}
	}
	var out []Row
	for i, r := range rows {
		if last[modeKey{r.ServerMode, r.key()}] == i {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b Row) int { return cmp.Compare(a.No, b.No) })
	return out
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

// pair is one cell measured in both modes.
type pair struct {
	k               key
	thread, process Row
	ratio           float64 // process / thread throughput per client; NaN if unknown
	// cpuRatio is process / thread server CPU per MB; NaN when either
	// was not recorded.
	cpuRatio float64
}

// pairs matches thread and process rows cell by cell, in matrix order.
func pairs(rows []Row) []pair {
	proc := map[key]Row{}
	for _, r := range rowsOf(rows, "process") {
		proc[r.key()] = r
	}
	var out []pair
	for _, t := range rowsOf(rows, "thread") {
		p, ok := proc[t.key()]
		if !ok {
			continue
		}
		ratio := math.NaN()
		if t.ThroughputPerClient > 0 && p.ThroughputPerClient > 0 {
			ratio = p.ThroughputPerClient / t.ThroughputPerClient
		}
		cpuRatio := math.NaN()
		tc, tok := t.cpuPerMB(t.ServerCPU)
		pc, pok := p.cpuPerMB(p.ServerCPU)
		if tok && pok && tc > 0 && pc > 0 {
			cpuRatio = pc / tc
		}
		out = append(out, pair{k: t.key(), thread: t, process: p, ratio: ratio, cpuRatio: cpuRatio})
	}
	slices.SortStableFunc(out, func(a, b pair) int {
		return cmp.Or(cmp.Compare(a.k.op, b.k.op), cmp.Compare(a.k.volume, b.k.volume),
			cmp.Compare(a.k.servers, b.k.servers), cmp.Compare(a.k.clients, b.k.clients))
	})
	return out
}

// tieBand is how close two throughputs must be to count as a tie: the
// machine is shared and noisy, so a few percent decide nothing.
const tieBand = 0.05

// verdict sums up thread against process over a set of pairs.
type verdict struct {
	cells, processWins, threadWins, ties int
	geomean                              float64 // of process/thread ratios
	best, worst                          *pair   // highest and lowest ratio
}

func judge(ps []pair) verdict {
	v := verdict{}
	logSum := 0.0
	for i := range ps {
		p := &ps[i]
		if math.IsNaN(p.ratio) {
			continue
		}
		v.cells++
		logSum += math.Log(p.ratio)
		switch {
		case p.ratio > 1+tieBand:
			v.processWins++
		case p.ratio < 1-tieBand:
			v.threadWins++
		default:
			v.ties++
		}
		if v.best == nil || p.ratio > v.best.ratio {
			v.best = p
		}
		if v.worst == nil || p.ratio < v.worst.ratio {
			v.worst = p
		}
	}
	if v.cells > 0 {
		v.geomean = math.Exp(logSum / float64(v.cells))
	}
	return v
}

// judgeCPU sums up the pairs' server CPU per MB ratios the way judge does
// throughput's.
func judgeCPU(ps []pair) verdict {
	byCPU := make([]pair, len(ps))
	for i, p := range ps {
		p.ratio = p.cpuRatio
		byCPU[i] = p
	}
	return judge(byCPU)
}
