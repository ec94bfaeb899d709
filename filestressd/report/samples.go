package report

import (
	"cmp"
	"fmt"
	"slices"
)

// sample is one cell of a side: the rows of its repeats.
type sample struct {
	id    string // side label and cell, naming its resampling stream
	k     key
	rows  []Row     // one per repeat, by repeat number
	tput  []float64 // throughput per client of the rows that measured one
	times []float64 // time per client of the same rows
	agg   []float64 // the aggregate (the whole cell's bytes per second) of the same rows that have one
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

// cpuValues is the server's (or the client's) CPU milliseconds per MB of
// the sample's rows that recorded it.
func (s *sample) cpuValues(server bool) []float64 {
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
	return vs
}

// cpuPerMB is the median over the sample's rows of the server's (or the
// client's) CPU milliseconds per MB, over the rows that recorded it.
func (s *sample) cpuPerMB(server bool) (float64, bool) {
	vs := s.cpuValues(server)
	if len(vs) == 0 {
		return 0, false
	}
	return median(vs), true
}

// peakRSS is the server's peak resident memory, in bytes, of the rows
// that recorded it.
func (s *sample) peakRSS() []float64 {
	var vs []float64
	for _, r := range s.rows {
		if r.ServerPeakRSS >= 0 {
			vs = append(vs, float64(r.ServerPeakRSS))
		}
	}
	return vs
}

// samples groups a side's rows into one sample per cell, in matrix order. A
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
				if r.Aggregate > 0 {
					s.agg = append(s.agg, r.Aggregate)
				}
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
	return cmp.Or(cmp.Compare(a.servers, b.servers), opOrder(a.op, b.op),
		cmp.Compare(a.volume, b.volume), cmp.Compare(a.clients, b.clients))
}

// opOrder orders operations: upload, download, then the others by name.
func opOrder(a, b string) int {
	rank := func(op string) int {
		switch op {
		case "upload":
			return 0
		case "download":
			return 1
		}
		return 2
	}
	return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a, b))
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
