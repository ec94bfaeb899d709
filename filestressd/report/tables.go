package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// The report's tables. Each takes what the statistics decided and lays
// it out; text from the CSV is escaped by the time it gets here.

// Markdown column alignments.
const (
	left  = "---"
	right = "---:"
)

// tableCol is a column of a Markdown table: its heading, its alignment,
// and whether the table has it.
type tableCol struct {
	name, align string
	show        bool
}

// table is a Markdown table being written: its columns, then rows of
// cells, one per column shown.
type table struct {
	cols []tableCol
	rows [][]string
}

func newTable(cols ...tableCol) *table { return &table{cols: cols} }

// row adds a row: one cell per column, shown or not (those of hidden
// columns are dropped).
func (t *table) row(cells ...string) {
	var shown []string
	for i, c := range t.cols {
		switch {
		case c.show && i < len(cells):
			shown = append(shown, cells[i])
		case c.show:
			shown = append(shown, "")
		}
	}
	t.rows = append(t.rows, shown)
}

func (t *table) write(b *strings.Builder) {
	if len(t.rows) == 0 {
		return
	}
	var names, aligns []string
	for _, c := range t.cols {
		if c.show {
			names, aligns = append(names, c.name), append(aligns, c.align)
		}
	}
	for _, r := range append([][]string{names, aligns}, t.rows...) {
		b.WriteString("| " + strings.Join(r, " | ") + " |\n")
	}
	b.WriteString("\n")
}

func col(name, align string) tableCol { return tableCol{name, align, true} }

// spread is a sample's median with its range in brackets when it has more
// than one value, each in format f.
func spread(f string, scale float64, vs []float64) string {
	if len(vs) == 0 {
		return "n/a"
	}
	med := fmt.Sprintf(f, median(vs)/scale)
	if len(vs) == 1 {
		return med
	}
	return fmt.Sprintf("%s ("+f+"–"+f+")", med, slices.Min(vs)/scale, slices.Max(vs)/scale)
}

func ratioCell(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", v)
}

func intervalCell(lo, hi float64) string {
	if math.IsNaN(lo) {
		return "none"
	}
	return fmt.Sprintf("%.2f–%.2f", lo, hi)
}

// gapsTable lists the widest significant gaps of a comparison, at most
// most of them.
func gapsTable(s summary, most int) *table {
	gaps := s.gaps(most)
	withInterval := slices.ContainsFunc(gaps, func(p pair) bool { return p.hasInterval() })
	title := "Widest significant gaps"
	if s.all.withInterval == 0 {
		title = "Widest gaps beyond the ±5% band"
	}
	t := newTable(col(title, left), col(ratioName(s.c), right), tableCol{"95% interval", right, withInterval}, col("Faster", left))
	for _, p := range gaps {
		t.row(cellName(p.k), ratioCell(p.ratio), intervalCell(p.lo, p.hi), fasterName(s.c, p.class(s.floor)))
	}
	return t
}

// fasterName is the label of the side a decision favours.
func fasterName(c *comparison, d decision) string {
	switch d {
	case otherFaster:
		return md(c.other.Label)
	case otherSlower:
		return md(c.base.Label)
	}
	return "~"
}

// opTable sums up a comparison per operation and over all cells, with
// the server's cost ratios.
func opTable(s summary) *table {
	c := s.c
	intervals := s.all.withInterval > 0
	banded := s.all.withInterval < s.all.cells
	t := newTable(col("Cells", left), col(ratioName(c), right), tableCol{"95% interval", right, intervals},
		tableCol{md(c.other.Label) + " faster", right, intervals}, tableCol{md(c.base.Label) + " faster", right, intervals}, tableCol{"~", right, intervals},
		tableCol{"by the ±5% band: " + md(c.other.Label) + " / " + md(c.base.Label) + " / within", right, banded})
	add := func(name string, v verdict) {
		t.row(fmt.Sprintf("%s (%d)", name, v.cells), ratioCell(v.geomean), intervalCell(v.lo, v.hi),
			fmt.Sprint(v.faster), fmt.Sprint(v.slower), fmt.Sprint(v.same), fmt.Sprintf("%d / %d / %d", v.bandFaster, v.bandSlower, v.bandTies))
	}
	for _, o := range s.ops {
		add(md(o.op), o.v)
	}
	add("all", s.all)
	if s.cpu.cells > 0 {
		t.row(fmt.Sprintf("server CPU per MB (%d)", s.cpu.cells), ratioCell(s.cpu.geo))
	}
	if s.rss.cells > 0 {
		t.row(fmt.Sprintf("server peak memory (%d)", s.rss.cells), ratioCell(s.rss.geo))
	}
	return t
}

// aaTable gives the A/A checks behind a comparison's noise floor.
func aaTable(s summary) *table {
	c := s.c
	t := newTable(col("A/A check: repeat 1 over repeat 2", left), col("Cells", right), col("Geometric mean", right), col("Single cells", right))
	add := func(what string, a aaCheck) {
		t.row(what, fmt.Sprint(a.cells), fmt.Sprintf("%.3f×", a.geomean), fmt.Sprintf("%.2f–%.2f", a.lo, a.hi))
	}
	if a := c.interleaved; a.cells > 0 {
		add(fmt.Sprintf("%s, measured interleaved: the floor, %.1f%%", ratioName(c), s.floor*100), a)
		for _, r := range []*side{c.base, c.other} {
			if r.aa.cells > 0 {
				add(r.name+": the machine's drift", r.aa)
			}
		}
		return t
	}
	for _, r := range []*side{c.base, c.other} {
		if r.aa.cells > 0 {
			what := r.name
			if math.Abs(r.aa.floor()-s.floor) < 1e-12 {
				what += fmt.Sprintf(": the floor, %.1f%%", s.floor*100)
			}
			add(what, r.aa)
		}
	}
	return t
}

// sideTable is the assignment's table of one side: a row per cell.
func sideTable(r *side) (*table, []string) {
	showCPU := slices.ContainsFunc(r.Rows, func(r Row) bool { return r.ServerCPU >= 0 || r.ClientCPU >= 0 })
	showRSS := slices.ContainsFunc(r.Rows, func(r Row) bool { return r.ServerPeakRSS >= 0 })
	showErrors := slices.ContainsFunc(r.Rows, func(r Row) bool { return r.Errors != "" })
	t := newTable(col("No", right), col("Operation", left), col("Volume", right), col("Client workers", right), col("Server workers", right),
		tableCol{"Repeats", right, r.repeated()},
		col("Time per client (s)", right), col("Throughput per client (MB/s)", right), col("Aggregate (MB/s)", right),
		col("Client workers ok / failed", right), col("Server workers ok / failed", right),
		tableCol{"Failures", left, showErrors},
		tableCol{"Server CPU (ms/MB)", right, showCPU}, tableCol{"Client CPU (ms/MB)", right, showCPU},
		tableCol{"Server peak memory (MiB)", right, showRSS})
	unrecorded, window, start := 0, 0, 0
	for _, s := range r.samples {
		var nos, errs []string
		clientOK, clientFail, serverOK, serverFail, known := 0, 0, 0, 0, 0
		for _, row := range s.rows {
			nos = append(nos, fmt.Sprint(row.No))
			clientOK += row.ClientOK
			clientFail += row.ClientFail
			if row.ServerOK >= 0 && row.ServerFail >= 0 {
				serverOK += row.ServerOK
				serverFail += row.ServerFail
				known++
			}
			if row.Errors != "" {
				errs = append(errs, md(row.Errors))
			}
			window += b2i(row.ServerPeakRSS >= 0 && row.ServerPeakRSSScope == "window")
			start += b2i(row.ServerPeakRSS >= 0 && row.ServerPeakRSSScope != "window")
		}
		server := "n/a"
		if known > 0 {
			server = fmt.Sprintf("%d / %d", serverOK, serverFail)
		}
		if known > 0 && known < len(s.rows) {
			server += fmt.Sprintf(" (%d of %d repeats)", known, len(s.rows))
		}
		first := s.rows[0]
		times, tputs, aggs := s.times, s.tput, s.agg
		if len(tputs) == 0 { // no worker succeeded: the row's (empty) figures
			times, tputs, aggs = []float64{first.TimePerClient}, []float64{first.ThroughputPerClient}, []float64{first.Aggregate}
		}
		t.row(strings.Join(nos, ", "), md(first.Operation), volumeWords(first.VolumeBytes), fmt.Sprint(first.ClientWorkers), workers(first.ServerWorkers),
			fmt.Sprint(len(s.rows)), spread("%.3f", 1, times), spread("%.1f", mb, tputs), spread("%.1f", mb, aggs),
			fmt.Sprintf("%d / %d", clientOK, clientFail), server, strings.Join(errs, "; "),
			sampleCPUCell(s, true), sampleCPUCell(s, false), spread("%.1f", mib, s.peakRSS()))
		if slices.ContainsFunc(s.rows, func(r Row) bool { return r.ServerCPU < 0 || r.ClientCPU < 0 }) {
			unrecorded++
		}
	}
	var notes []string
	if showCPU {
		notes = append(notes, cpuNote(unrecorded, len(r.samples)))
	} else {
		notes = append(notes, cpuNote(len(r.samples), len(r.samples)))
	}
	notes = append(notes, rssScopeNote(window, start))
	return t, notes
}

// sampleCPUCell is a cell's server (or client) CPU per MB as the tables
// show it: the median over its repeats that recorded it.
func sampleCPUCell(s *sample, server bool) string {
	recorded := slices.ContainsFunc(s.rows, func(r Row) bool {
		if server {
			return r.ServerCPU >= 0
		}
		return r.ClientCPU >= 0
	})
	if !recorded {
		return "not recorded"
	}
	v, ok := s.cpuPerMB(server)
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

// pairsTable is a comparison cell by cell.
func pairsTable(c *comparison, floor float64) *table {
	withInterval := slices.ContainsFunc(c.pairs, func(p pair) bool { return p.hasInterval() })
	t := newTable(col("Operation", left), col("Volume", right), col("Client workers", right), col("Server workers", right),
		col(c.base.heading, right), col(c.other.heading, right), col(c.other.heading+" / "+md(c.base.Label), right),
		tableCol{"95% interval", right, withInterval}, tableCol{"Verdict", left, withInterval})
	for _, p := range c.pairs {
		ratio := "n/a"
		if !math.IsNaN(p.ratio) {
			ratio = fmt.Sprintf("%.2f", p.ratio)
		}
		iv, word := "none: a single sample", "—"
		if p.hasInterval() {
			iv = fmt.Sprintf("%.2f–%.2f", p.lo, p.hi)
			word = fasterName(c, p.class(floor))
			if word != "~" {
				word += " faster"
			}
		}
		t.row(md(p.k.op), volumeWords(p.k.volume), fmt.Sprint(p.k.clients), workers(p.k.servers),
			spread("%.1f", mb, p.base.tput), spread("%.1f", mb, p.other.tput), ratio, iv, word)
	}
	return t
}

// costTable compares the server's CPU per MB and peak memory of two sides,
// cell by cell, where both recorded one of them.
func costTable(c *comparison) (*table, int) {
	var with []pair
	for _, p := range c.pairs {
		if !math.IsNaN(p.cpuRatio) || !math.IsNaN(p.rssRatio) {
			with = append(with, p)
		}
	}
	cpu := slices.ContainsFunc(with, func(p pair) bool { return !math.IsNaN(p.cpuRatio) })
	rss := slices.ContainsFunc(with, func(p pair) bool { return !math.IsNaN(p.rssRatio) })
	base, other := c.base.heading, c.other.heading
	t := newTable(col("Operation", left), col("Volume", right), col("Client workers", right), col("Server workers", right),
		tableCol{base + " CPU (ms/MB)", right, cpu}, tableCol{other + " CPU (ms/MB)", right, cpu}, tableCol{"CPU " + ratioName(c), right, cpu},
		tableCol{base + " peak (MiB)", right, rss}, tableCol{other + " peak (MiB)", right, rss}, tableCol{"Peak " + ratioName(c), right, rss})
	for _, p := range with {
		t.row(md(p.k.op), volumeWords(p.k.volume), fmt.Sprint(p.k.clients), workers(p.k.servers),
			sampleCPUCell(p.base, true), sampleCPUCell(p.other, true), fixed(p.cpuRatio),
			spread("%.1f", mib, p.base.peakRSS()), spread("%.1f", mib, p.other.peakRSS()), fixed(p.rssRatio))
	}
	return t, len(c.pairs) - len(with)
}

func fixed(v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

// machineTable describes the machine and the run.
func machineTable(rep *report) *table {
	m, opt, rows := rep.opt.Machine, rep.opt, rep.usedRows()
	wall, how := opt.WallTime, "as measured by run_matrix.sh"
	if wall == 0 {
		for _, r := range rows {
			wall += time.Duration(r.Wall * float64(time.Second))
		}
		how = "the sum of the cells' wall times"
	}
	failedClients, failedServer := 0, 0
	for _, r := range rows {
		failedClients += r.ClientFail
		failedServer += max(r.ServerFail, 0)
	}
	t := newTable(col("", left), col("", left))
	for _, r := range rep.sources() {
		t.row(r[0], r[1])
	}
	t.row("CPU", fmt.Sprintf("%s, %d cores", md(or(m.CPU, "unknown")), m.Cores))
	t.row("Memory", m.memory())
	t.row("OS", md(or(m.OS, "unknown")))
	t.row("Go", md(or(m.GoVersion, "unknown")))
	t.row("Rendered", md(or(m.Date, "unknown")))
	if when, ok := measured(rows); ok {
		t.row("Measured", when)
	}
	for _, n := range opt.Notes {
		t.row(md(n[0]), md(n[1]))
	}
	t.row("Matrix wall time", fmt.Sprintf("%s (%s)", wall.Round(time.Second), how))
	t.row("Failed client workers", fmt.Sprint(failedClients))
	t.row("Failed server requests", fmt.Sprint(failedServer))
	return t
}

// measured is when the rows were measured: from the earliest timestamp
// to the latest, in UTC, the date said once.
func measured(rows []Row) (string, bool) {
	var first, last time.Time
	for _, r := range rows {
		t, err := time.Parse(time.RFC3339, r.Timestamp)
		if err != nil {
			continue
		}
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	if first.IsZero() {
		return "", false
	}
	from, to := first.UTC().Format("2006-01-02 15:04"), last.UTC().Format("2006-01-02 15:04")
	switch {
	case from == to:
		return from + " UTC", true
	case from[:10] == to[:10]:
		return from + " to " + to[11:] + " UTC", true
	}
	return from + " to " + to + " UTC", true
}

// sources says what the report was rendered from, as rows of the machine
// table: the CSV (or each run) and how many cells and rows it gave.
func (rep *report) sources() [][2]string {
	cells, used, read := 0, 0, 0
	minRep, maxRep := math.MaxInt, 0
	for _, r := range rep.sides {
		read += len(r.Rows)
		for _, s := range r.samples {
			cells++
			used += len(s.rows)
			minRep, maxRep = min(minRep, len(s.rows)), max(maxRep, len(s.rows))
		}
	}
	what := fmt.Sprintf("%d cells", cells)
	switch {
	case used == cells && read > used:
		what += fmt.Sprintf(" (the newest of %d rows for each cell)", read)
	case used > cells:
		times := fmt.Sprint(maxRep)
		if minRep != maxRep {
			times = fmt.Sprintf("%d to %d", minRep, maxRep)
		}
		what += fmt.Sprintf(", each measured %s times (%d rows", times, used)
		if read > used {
			what += fmt.Sprintf(" of %d: the newest run's repeats of each cell", read)
		}
		what += ")"
	}
	if rep.kind == modesOfOneCSV {
		return [][2]string{{"Source", code(rep.opt.Source) + ": " + what}}
	}
	out := [][2]string{{"Source", what}}
	for _, r := range rep.sides {
		how := "all rows of " + code(r.Source)
		if r.Mode != "" {
			how = "server mode " + md(r.Mode) + " in " + code(r.Source)
		}
		out = append(out, [2]string{"Run " + md(r.Label), how})
	}
	return out
}
