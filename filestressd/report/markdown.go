package report

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// mb is the report's megabyte, as in the course's reports.
const mb = 1 << 20

// Options are what the report says besides the rows.
type Options struct {
	Source  string // the CSV's name, as the default report cites it
	Machine Machine
	// WallTime is the whole matrix's wall time as its runner measured it;
	// zero means the sum of the cells' wall times.
	WallTime time.Duration
	// Performance is Markdown measured apart from the matrix (benchmarks
	// against a plain TCP copy), shown in its own section when not empty.
	Performance string
	// Baseline is the label of the run every other run is compared with:
	// by default thread in Render, the first run in RenderRuns.
	Baseline string
	// Notes are more lines of the "Machine and run" table, each a name
	// and its text (report -note NAME=TEXT): run_matrix.sh LAB=1 names the
	// network profile and the hosts.
	Notes [][2]string
}

// report is what Render and RenderRuns have gathered to write.
type report struct {
	runs     []*run
	comps    []*comparison
	labelled bool // runs given with -run: the prose says "runs", not "modes"
	opt      Options
}

// Render builds the default report of one CSV, each server mode a run and
// every mode compared with thread mode (or opt.Baseline): README.md and
// the charts it shows, by file name.
func Render(all []Row, opt Options) (map[string][]byte, error) {
	if len(all) == 0 {
		return nil, fmt.Errorf("no rows to report")
	}
	all = MergeHosts(all)
	rep := &report{opt: opt}
	for _, mode := range modes(all) {
		rep.runs = append(rep.runs, newRun(Run{Label: mode, Source: opt.Source, Mode: mode, Rows: rowsOf(all, mode)}, false))
	}
	base := rep.run(or(opt.Baseline, "thread"))
	if base == nil && opt.Baseline != "" {
		return nil, fmt.Errorf("baseline %q: the CSV has no rows of that server mode (it has %s)", opt.Baseline, rep.labels())
	}
	for _, r := range rep.runs {
		if base != nil && r != base && r.Mode != "" {
			rep.comps = append(rep.comps, compare(base, r))
		}
	}
	return rep.render()
}

// RenderRuns builds a report of labelled runs side by side, each compared
// with the baseline (opt.Baseline, or the first run).
func RenderRuns(runs []Run, opt Options) (map[string][]byte, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("no runs to report")
	}
	rep := &report{opt: opt, labelled: true}
	for _, r := range runs {
		r.Rows = MergeHosts(r.Rows)
		switch {
		case r.Label == "":
			return nil, fmt.Errorf("a run without a label (%s)", r.Source)
		case rep.run(r.Label) != nil:
			return nil, fmt.Errorf("two runs labelled %q", r.Label)
		case len(r.Rows) == 0 && r.Mode != "":
			return nil, fmt.Errorf("run %s: %s has no rows of server mode %q", r.Label, r.Source, r.Mode)
		case len(r.Rows) == 0:
			return nil, fmt.Errorf("run %s: %s has no rows", r.Label, r.Source)
		}
		if ms := modes(r.Rows); len(ms) > 1 {
			return nil, fmt.Errorf("run %s: %s holds rows of several server modes (%s); select one, e.g. %s=%s:%s", r.Label, r.Source, modeList(ms), r.Label, r.Source, or(ms[0], "none"))
		}
		rep.runs = append(rep.runs, newRun(r, true))
	}
	base := rep.runs[0]
	if opt.Baseline != "" {
		if base = rep.run(opt.Baseline); base == nil {
			return nil, fmt.Errorf("baseline %q is none of the runs (%s)", opt.Baseline, rep.labels())
		}
	}
	for _, r := range rep.runs {
		if r != base {
			rep.comps = append(rep.comps, compare(base, r))
		}
	}
	return rep.render()
}

func newRun(r Run, labelled bool) *run {
	out := &run{Run: r, samples: samples(r.Label, r.Rows)}
	out.aa = aaOf(out.samples)
	if labelled {
		out.name = "run " + r.Label
		what := "all rows of `" + r.Source + "`"
		if r.Mode != "" {
			what = "rows of server mode " + r.Mode + " in `" + r.Source + "`"
		}
		out.title = "Run " + r.Label + ": " + what
		return out
	}
	out.name = r.Mode + " mode"
	if r.Mode == "" {
		out.name = "the server without STATS"
	}
	out.title = map[string]string{
		"thread":  "Thread mode: the server's workers are goroutines",
		"process": "Process mode: the server's workers are child processes",
		"":        "Server without STATS (mode and workers unknown)",
	}[r.Mode]
	if out.title == "" {
		out.title = "Mode " + r.Mode
	}
	return out
}

func (rep *report) run(label string) *run {
	for _, r := range rep.runs {
		if r.Label == label {
			return r
		}
	}
	return nil
}

func (rep *report) labels() string {
	var ls []string
	for _, r := range rep.runs {
		ls = append(ls, r.Label)
	}
	return modeList(ls)
}

func modeList(ms []string) string {
	var out []string
	for _, m := range ms {
		out = append(out, or(m, "none"))
	}
	return strings.Join(out, ", ")
}

// usedRows is every row the report's samples hold.
func (rep *report) usedRows() []Row {
	var rows []Row
	for _, r := range rep.runs {
		for _, s := range r.samples {
			rows = append(rows, s.rows...)
		}
	}
	return rows
}

// repeated says whether any cell of the report has more than one sample.
func (rep *report) repeated() bool {
	for _, r := range rep.runs {
		if r.repeated() {
			return true
		}
	}
	return false
}

func (r *run) repeated() bool {
	return slices.ContainsFunc(r.samples, func(s *sample) bool { return len(s.rows) > 1 })
}

func (rep *report) render() (map[string][]byte, error) {
	files := map[string][]byte{}
	var b strings.Builder
	fmt.Fprintf(&b, "# Stress matrix results\n\n")
	rep.writeIntro(&b)
	writeMachine(&b, rep.usedRows(), rep.opt)
	rep.writeVerdicts(&b)
	for _, r := range rep.runs {
		writeRunTable(&b, r)
	}
	for _, c := range rep.comps {
		rep.writeComparison(&b, c)
	}
	if rep.opt.Performance != "" {
		fmt.Fprintf(&b, "## Performance against the machine\n\n%s\n\n", strings.TrimSpace(rep.opt.Performance))
	}
	rep.writeCharts(&b, files)
	files["README.md"] = []byte(b.String())
	return files, nil
}

func (rep *report) writeIntro(b *strings.Builder) {
	cells, used, read := 0, 0, 0
	minRep, maxRep := math.MaxInt, 0
	for _, r := range rep.runs {
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
	if rep.labelled {
		var rs []string
		for _, r := range rep.runs {
			how := "all rows of `" + r.Source + "`"
			if r.Mode != "" {
				how = "server mode " + r.Mode + " in `" + r.Source + "`"
			}
			rs = append(rs, fmt.Sprintf("**%s** (%s)", r.Label, how))
		}
		fmt.Fprintf(b, "Rendered by `filestressd report` from %d runs, %s: %s.", len(rep.runs), strings.Join(rs, ", "), what)
	} else {
		fmt.Fprintf(b, "Rendered by `filestressd report` from `%s`: %s.", rep.opt.Source, what)
	}
	fmt.Fprintf(b, " A megabyte is 1,048,576 bytes. Time per client is the mean, over the client workers that succeeded, of the seconds from connecting to the last byte (waiting in the server's listen queue included); throughput per client is the mean of their volume divided by that time. Server workers ok / failed are the server's own counts of requests for the operation during the measured window, read with STATS.")
	if rep.repeated() {
		fmt.Fprintf(b, " A cell measured more than once (its repeats, the `repeat` column) shows the median of its repeats and, in brackets, their range from the lowest to the highest.")
	}
	fmt.Fprintf(b, "\n\n")
}

func writeMachine(b *strings.Builder, rows []Row, opt Options) {
	m := opt.Machine
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
	fmt.Fprintf(b, "## Machine and run\n\n| | |\n| --- | --- |\n")
	fmt.Fprintf(b, "| CPU | %s, %d cores |\n", or(m.CPU, "unknown"), m.Cores)
	fmt.Fprintf(b, "| Memory | %s |\n", m.memory())
	fmt.Fprintf(b, "| OS | %s |\n", or(m.OS, "unknown"))
	fmt.Fprintf(b, "| Go | %s |\n", or(m.GoVersion, "unknown"))
	fmt.Fprintf(b, "| Date | %s |\n", or(m.Date, "unknown"))
	for _, n := range opt.Notes {
		fmt.Fprintf(b, "| %s | %s |\n", n[0], n[1])
	}
	fmt.Fprintf(b, "| Matrix wall time | %s (%s) |\n", wall.Round(time.Second), how)
	fmt.Fprintf(b, "| Failed client workers | %d |\n", failedClients)
	fmt.Fprintf(b, "| Failed server requests | %d |\n\n", failedServer)
}

// both is how the report says "measured in both": modes or runs.
func (rep *report) both() string {
	if rep.labelled {
		return "runs"
	}
	return "modes"
}

func (rep *report) writeVerdicts(b *strings.Builder) {
	switch {
	case len(rep.comps) == 0 && !rep.labelled:
		fmt.Fprintf(b, "## Verdict: thread versus process\n\n")
		fmt.Fprintf(b, "The matrix has no cell measured in both modes, so there is nothing to compare.\n\n")
		return
	case len(rep.comps) == 0:
		fmt.Fprintf(b, "## Verdict\n\nThere is one run, so there is nothing to compare.\n\n")
		return
	case len(rep.comps) == 1:
		c := rep.comps[0]
		fmt.Fprintf(b, "## Verdict: %s versus %s\n\n", c.base.Label, c.other.Label)
		rep.writeVerdict(b, c)
	default:
		fmt.Fprintf(b, "## Verdict: each run against %s\n\n", rep.comps[0].base.Label)
		for _, c := range rep.comps {
			fmt.Fprintf(b, "### %s versus %s\n\n", c.base.Label, c.other.Label)
			rep.writeVerdict(b, c)
		}
	}
	var withInterval []pair
	for _, c := range rep.comps {
		for _, p := range c.pairs {
			if p.hasInterval() {
				withInterval = append(withInterval, p)
			}
		}
	}
	if len(withInterval) > 0 {
		writeMethod(b, withInterval)
	}
}

// writeVerdict sums up one comparison: without intervals (one sample a
// cell) as the report always has, by a ±5% band; with them, by
// significance, the A/A noise floor beside.
func (rep *report) writeVerdict(b *strings.Builder, c *comparison) {
	floor, hasFloor := c.floor()
	v := judge(c.pairs, floor)
	base, other := c.base, c.other
	if v.cells == 0 {
		fmt.Fprintf(b, "The matrix has no cell measured in both %s, so there is nothing to compare.\n\n", rep.both())
		return
	}
	ratioName := other.Label + " / " + base.Label
	if v.withInterval == 0 {
		fmt.Fprintf(b, "Over the %d cells measured in both %s, %s moves **%.2f×** the per-client throughput of %s (geometric mean of the %s ratios). ",
			v.cells, rep.both(), other.name, v.geomean, base.name, ratioName)
		fmt.Fprintf(b, "%s is faster by more than %.0f%% in %d cells, %s in %d, and %d are within ±%.0f%%, which is within this machine's noise.\n\n",
			capital(base.name), tieBand*100, v.bandSlower, other.name, v.bandFaster, v.bandTies, tieBand*100)
		rep.writeOpBullets(b, c, floor)
		fmt.Fprintf(b, "No interval: no cell has more than one sample in both %s (a CSV written before the `repeat` column, or a matrix run once, has one per cell), so these ratios carry no 95%% interval, and cells are judged by the ±%.0f%% band instead.", rep.both(), tieBand*100)
		if !hasFloor {
			fmt.Fprintf(b, " Nor is there an A/A noise floor, which needs a cell measured twice.")
		}
		fmt.Fprintf(b, " Run the matrix with repeats (`REPEAT=2` or more) for medians, intervals and the A/A check.\n\n")
		if hasFloor {
			writeFloor(b, c, floor, hasFloor)
		}
		return
	}

	figure := fmt.Sprintf("%s %.2f×", ratioName, v.geomean)
	if !math.IsNaN(v.lo) {
		figure += fmt.Sprintf(" (95%% interval %.2f–%.2f)", v.lo, v.hi)
	}
	beyond := fmt.Sprintf("beyond the %.1f%% noise floor", floor*100)
	if !hasFloor {
		beyond = "with no A/A noise floor measured"
	}
	switch o := v.overall(floor); {
	case hasFloor && floor > tieBand:
		fmt.Fprintf(b, "**Verdict: no winner declared.** The machine's noise floor is %.1f%%: differences below it are not declared, and a floor beyond ±%.0f%% leaves the comparison to a quieter machine (%s).\n\n", floor*100, tieBand*100, figure)
	case math.IsNaN(v.lo):
		fmt.Fprintf(b, "**Verdict: not declared.** %d of the %d cells %s a single sample in one run, so the overall ratio, %s, has no interval.\n\n", v.cells-v.withInterval, v.cells, plural(v.cells-v.withInterval, "has", "have"), figure)
	case o == 1:
		fmt.Fprintf(b, "**Verdict: %s is faster** than %s: %s, %s.\n\n", other.name, base.name, figure, beyond)
	case o == -1:
		fmt.Fprintf(b, "**Verdict: %s is faster** than %s: %s, %s.\n\n", base.name, other.name, figure, beyond)
	case v.lo <= 1 && v.hi >= 1:
		fmt.Fprintf(b, "**Verdict: no significant difference (~)**: %s, an interval that includes 1.\n\n", figure)
	default:
		fmt.Fprintf(b, "**Verdict: no significant difference (~)**: %s is within the %.1f%% noise floor.\n\n", figure, floor*100)
	}
	writeFloor(b, c, floor, hasFloor)
	fmt.Fprintf(b, "Over the %d cells measured in both %s, %s moves **%.2f×** the per-client throughput of %s: the geometric mean over the cells of the ratio of medians, %s",
		v.cells, rep.both(), other.name, v.geomean, base.name, ratioName)
	if math.IsNaN(v.lo) {
		fmt.Fprintf(b, " (no interval).")
	} else {
		fmt.Fprintf(b, ", 95%% interval %.2f–%.2f.", v.lo, v.hi)
	}
	fmt.Fprintf(b, " Cell by cell, %s is faster in %d, slower in %d, and %d %s no significant difference (~): a cell counts only when its 95%% interval excludes 1 and the difference is beyond the noise floor.",
		other.name, v.faster, v.slower, v.same, plural(v.same, "shows", "show"))
	if left := v.cells - v.withInterval; left > 0 {
		fmt.Fprintf(b, " %d %s a single sample in one run, so no interval: by the ±%.0f%% band %s is faster in %d, slower in %d, and %d within it.",
			left, plural(left, "cell has", "cells have"), tieBand*100, other.name, v.bandFaster, v.bandSlower, v.bandTies)
	}
	fmt.Fprintf(b, "\n\n")
	rep.writeOpBullets(b, c, floor)
}

// writeFloor prints the A/A noise floor next to the verdict.
func writeFloor(b *strings.Builder, c *comparison, floor float64, hasFloor bool) {
	if !hasFloor {
		fmt.Fprintf(b, "**A/A noise floor: not measured.** Neither run has a cell measured twice.\n\n")
		return
	}
	within := "within ±5%"
	if floor > tieBand {
		within = "beyond ±5%"
	}
	if aa := c.interleaved; aa.cells > 0 {
		fmt.Fprintf(b, "**A/A noise floor: %.1f%%** (%s): the runs were measured interleaved, so the floor is the A/A check of the comparison itself: in each of %d cells, the ratio %s / %s in the first repeat over the same ratio in the second gives %.3f× (geometric mean; single cells from %.2f to %.2f).",
			floor*100, within, aa.cells, c.other.Label, c.base.Label, aa.geomean, aa.lo, aa.hi)
		var parts []string
		for _, r := range []*run{c.base, c.other} {
			if r.aa.cells > 0 {
				parts = append(parts, fmt.Sprintf("%.3f× for %s", r.aa.geomean, r.name))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(b, " Each run's first repeat over its own second gives %s: what the machine drifted between the repeats, which hit both runs alike and divides out of the comparison.", strings.Join(parts, " and "))
		}
		if floor > tieBand {
			fmt.Fprintf(b, " The machine's noise floor is %.1f%%: differences below it are not declared.\n\n", floor*100)
		} else {
			fmt.Fprintf(b, " A difference is declared only beyond it.\n\n")
		}
		return
	}
	fmt.Fprintf(b, "**A/A noise floor: %.1f%%** (%s): each run's first repeat over its second, compared as the runs are compared with each other, gives", floor*100, within)
	var parts []string
	for _, r := range []*run{c.base, c.other} {
		if r.aa.cells == 0 {
			parts = append(parts, fmt.Sprintf(" nothing for %s, which has no cell measured twice", r.name))
			continue
		}
		parts = append(parts, fmt.Sprintf(" %.3f× for %s over %d cells (single cells from %.2f to %.2f)", r.aa.geomean, r.name, r.aa.cells, r.aa.lo, r.aa.hi))
	}
	fmt.Fprintf(b, "%s; the floor is the larger distance from 1.", strings.Join(parts, " and"))
	if floor > tieBand {
		fmt.Fprintf(b, " The machine's noise floor is %.1f%%: differences below it are not declared.\n\n", floor*100)
	} else {
		fmt.Fprintf(b, " A difference is declared only beyond it.\n\n")
	}
}

// writeOpBullets sums up each operation, and the server's CPU.
func (rep *report) writeOpBullets(b *strings.Builder, c *comparison, floor float64) {
	ratioName := c.other.Label + " / " + c.base.Label
	for _, op := range []string{"upload", "download"} {
		var sub []pair
		for _, p := range c.pairs {
			if p.k.op == op {
				sub = append(sub, p)
			}
		}
		sv := judge(sub, floor)
		if sv.cells == 0 {
			continue
		}
		if sv.withInterval == 0 {
			fmt.Fprintf(b, "- **%s**: %s %.2f× (geometric mean of %d cells); %s faster in %d, %s in %d, ties %d. ",
				op, ratioName, sv.geomean, sv.cells, c.base.Label, sv.bandSlower, c.other.Label, sv.bandFaster, sv.bandTies)
			fmt.Fprintf(b, "Widest gaps: %s (%.2f×) and %s (%.2f×).\n", cellName(sv.best.k), sv.best.ratio, cellName(sv.worst.k), sv.worst.ratio)
			continue
		}
		fmt.Fprintf(b, "- **%s**: %s %.2f× (geometric mean of %d cells", op, ratioName, sv.geomean, sv.cells)
		if !math.IsNaN(sv.lo) {
			fmt.Fprintf(b, ", 95%% interval %.2f–%.2f", sv.lo, sv.hi)
		}
		fmt.Fprintf(b, "); %s faster in %d, slower in %d, ~ in %d", c.other.Label, sv.faster, sv.slower, sv.same)
		if left := sv.cells - sv.withInterval; left > 0 {
			fmt.Fprintf(b, ", %d without an interval", left)
		}
		fmt.Fprintf(b, ". Widest gaps: %s (%s) and %s (%s).\n", cellName(sv.best.k), ratioWithInterval(sv.best), cellName(sv.worst.k), ratioWithInterval(sv.worst))
	}
	if cells, geo := judgeCPU(c.pairs); cells > 0 {
		fmt.Fprintf(b, "- **server CPU per MB**: %s %.2f× (geometric mean of %d cells recorded in both %s; above 1, %s costs more CPU per MB).\n", ratioName, geo, cells, rep.both(), c.other.name)
	}
	fmt.Fprintln(b)
}

func ratioWithInterval(p *pair) string {
	if !p.hasInterval() {
		return fmt.Sprintf("%.2f×, no interval", p.ratio)
	}
	return fmt.Sprintf("%.2f×, %.2f–%.2f", p.ratio, p.lo, p.hi)
}

// writeMethod says how the intervals are made and how to read them, and
// what they amount to with as few repeats as the pairs have.
func writeMethod(b *strings.Builder, ps []pair) {
	fmt.Fprintf(b, "*How the intervals are made.* A cell's sample in a run is its repeats. A ratio is the median throughput per client of one run over the baseline's. Its 95%% interval is a percentile bootstrap: each run's repeats of the cell resampled with replacement %d times (SplitMix64, seed %d, so the same CSV always gives the same report), the ratio of the two resampled medians each time, and the 2.5th and 97.5th percentiles of those ratios. The overall interval is the same over the geometric mean of every cell's resampled ratio, draw by draw; a cell with a single sample in one run has no interval, and then neither has the overall ratio. ",
		bootstrapResamples, bootstrapSeed)
	if sizes, odds, ok := rangeOdds(ps); ok {
		fmt.Fprintf(b, "With %s repeats a side, as here, a cell's interval runs from the lowest ratio of the two ranges to the highest (lowest over highest, highest over lowest), so a cell counts only when the two ranges do not overlap, which two identical setups do by chance in 1 cell in %d: single cells are weak evidence, and the overall ratio and the A/A noise floor are the firmer figures. ", sizes, odds)
	} else {
		fmt.Fprintf(b, "With a few repeats a side a cell's interval is rough: single cells are weak evidence, and the overall ratio and the A/A noise floor are the firmer figures. ")
	}
	fmt.Fprintf(b, "The A/A noise floor is each run compared with itself: the geometric mean over its cells of the first repeat's throughput over the second's. For two runs measured interleaved (one `run_id`, the cells alternating between them), it is the comparison compared with itself: the geometric mean over the cells of the ratio in the first repeat over the ratio in the second, so that a drift between the repeats, which hits both runs alike, divides out of the floor as it does out of the comparison. A difference within the floor is not declared, and a floor beyond ±%.0f%% declares no winner.\n\n", tieBand*100)
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

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// capital is s with its first letter in upper case.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func cellName(k key) string {
	return fmt.Sprintf("%s %s, %d client / %d server workers", k.op, volumeLabel(k.volume), k.clients, k.servers)
}

func volumeLabel(n int64) string {
	if n%mb == 0 {
		return fmt.Sprintf("%d MB", n/mb)
	}
	return fmt.Sprintf("%.2f MB", float64(n)/mb)
}

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

// writeTableHead writes a table's heading row and alignment row, of the
// columns shown.
func writeTableHead(b *strings.Builder, cols []tableCol) {
	for _, row := range []func(tableCol) string{
		func(c tableCol) string { return c.name },
		func(c tableCol) string { return c.align },
	} {
		b.WriteString("|")
		for _, c := range cols {
			if c.show {
				b.WriteString(" " + row(c) + " |")
			}
		}
		b.WriteString("\n")
	}
}

func writeRunTable(b *strings.Builder, r *run) {
	fmt.Fprintf(b, "## %s\n\n", r.title)
	showCPU := slices.ContainsFunc(r.Rows, func(r Row) bool { return r.ServerCPU >= 0 || r.ClientCPU >= 0 })
	repeated := r.repeated()
	writeTableHead(b, []tableCol{
		{"No", right, true}, {"Operation", left, true}, {"Volume", right, true}, {"Client workers", right, true}, {"Server workers", right, true},
		{"Repeats", right, repeated},
		{"Time per client (s)", right, true}, {"Throughput per client (MB/s)", right, true},
		{"Client workers ok / failed", right, true}, {"Server workers ok / failed", right, true},
		{"Server CPU (ms/MB)", right, showCPU}, {"Client CPU (ms/MB)", right, showCPU},
	})
	unrecorded := 0
	for _, s := range r.samples {
		var nos []string
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
		}
		server := "n/a"
		if known > 0 {
			server = fmt.Sprintf("%d / %d", serverOK, serverFail)
		}
		if known > 0 && known < len(s.rows) {
			server += fmt.Sprintf(" (%d of %d repeats)", known, len(s.rows))
		}
		first := s.rows[0]
		fmt.Fprintf(b, "| %s | %s | %s | %d | %s |", strings.Join(nos, ", "), first.Operation, volumeLabel(first.VolumeBytes), first.ClientWorkers, workers(first.ServerWorkers))
		if repeated {
			fmt.Fprintf(b, " %d |", len(s.rows))
		}
		times, tputs := s.times, s.tput
		if len(tputs) == 0 { // no worker succeeded: the row's (empty) figures, as before
			times, tputs = []float64{first.TimePerClient}, []float64{first.ThroughputPerClient}
		}
		fmt.Fprintf(b, " %s | %s | %d / %d | %s |", spread("%.3f", 1, times), spread("%.1f", mb, tputs), clientOK, clientFail, server)
		if showCPU {
			fmt.Fprintf(b, " %s | %s |", sampleCPUCell(s, true), sampleCPUCell(s, false))
		}
		fmt.Fprintln(b)
		if slices.ContainsFunc(s.rows, func(r Row) bool { return r.ServerCPU < 0 || r.ClientCPU < 0 }) {
			unrecorded++
		}
	}
	fmt.Fprintln(b)
	switch {
	case !showCPU:
		fmt.Fprintf(b, "CPU was not recorded for these cells: the CSV has no `server_cpu_s` or `client_cpu_s` figures (written before those columns, or against a server without `cpu_us` in its STATS).\n\n")
	case unrecorded > 0:
		fmt.Fprintf(b, "CPU per MB is the CPU seconds, user and system, used during the measured window per MB the cell moved (client workers × volume). It was not recorded for %d of these cells: the server's STATS had no `cpu_us` (or the server restarted during the cell), or the row predates the CPU columns.\n\n", unrecorded)
	default:
		fmt.Fprintf(b, "CPU per MB is the CPU seconds, user and system, used during the measured window per MB the cell moved (client workers × volume): the server's whole process tree, and filestressd with its children.\n\n")
	}
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

func workers(n int) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}

func (rep *report) writeComparison(b *strings.Builder, c *comparison) {
	if len(c.pairs) == 0 {
		return
	}
	floor, _ := c.floor()
	base, other := c.base, c.other
	withInterval := slices.ContainsFunc(c.pairs, func(p pair) bool { return p.hasInterval() })
	fmt.Fprintf(b, "## %s versus %s, cell by cell\n\n", capital(base.Label), other.Label)
	fmt.Fprintf(b, "Throughput per client in MB/s; the ratio is %s / %s (above 1: %s is faster).", other.Label, base.Label, other.name)
	if withInterval {
		fmt.Fprintf(b, " Each side is the median of the cell's repeats, their range in brackets; the interval is the ratio's 95%% bootstrap interval, and the verdict names the faster only when the interval excludes 1 and the difference is beyond the noise floor (%.1f%%); ~ is no significant difference.", floor*100)
	}
	for i, r := range []*run{base, other} {
		if slices.ContainsFunc(c.pairs, func(p pair) bool { return []*sample{p.base, p.other}[i].k.servers == 0 && p.k.servers != 0 }) {
			fmt.Fprintf(b, " The server workers of %s are unknown (its server does not answer STATS): its cells are compared with each server worker count of the other.", r.name)
		}
	}
	b.WriteString("\n\n")
	writeTableHead(b, []tableCol{
		{"Operation", left, true}, {"Volume", right, true}, {"Client workers", right, true}, {"Server workers", right, true},
		{capital(base.Label), right, true}, {capital(other.Label), right, true}, {capital(other.Label) + " / " + base.Label, right, true},
		{"95% interval", right, withInterval}, {"Verdict", left, withInterval},
	})
	for _, p := range c.pairs {
		ratio := "n/a"
		if !math.IsNaN(p.ratio) {
			ratio = fmt.Sprintf("%.2f", p.ratio)
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %s |", p.k.op, volumeLabel(p.k.volume), p.k.clients, workers(p.k.servers),
			spread("%.1f", mb, p.base.tput), spread("%.1f", mb, p.other.tput), ratio)
		if withInterval {
			iv, word := "none: a single sample", p.verdictWord(floor)
			if p.hasInterval() {
				iv = fmt.Sprintf("%.2f–%.2f", p.lo, p.hi)
			}
			switch p.class(floor) {
			case 1:
				word = other.Label + " faster"
			case -1:
				word = base.Label + " faster"
			}
			if !p.hasInterval() {
				word = "—"
			}
			fmt.Fprintf(b, " %s | %s |", iv, word)
		}
		fmt.Fprintln(b)
	}
	fmt.Fprintln(b)
	rep.writeCPUComparison(b, c)
}

// writeCPUComparison compares the server's CPU per MB of two runs, cell by
// cell, where both recorded it.
func (rep *report) writeCPUComparison(b *strings.Builder, c *comparison) {
	var withCPU []pair
	for _, p := range c.pairs {
		if !math.IsNaN(p.cpuRatio) {
			withCPU = append(withCPU, p)
		}
	}
	base, other := c.base, c.other
	fmt.Fprintf(b, "### Server CPU per MB, %s versus %s\n\n", base.Label, other.Label)
	if len(withCPU) == 0 {
		fmt.Fprintf(b, "Server CPU was not recorded in both %s for any cell (`server_cpu_s` is empty: a CSV written before the column, or a server without `cpu_us` in its STATS), so the %s' CPU cost cannot be compared.\n\n", rep.both(), rep.both())
		return
	}
	cells, geo := judgeCPU(withCPU)
	fmt.Fprintf(b, "The server's CPU milliseconds, user and system, per MB the cell moved (client workers × volume); the ratio is %s / %s (above 1: %s costs more CPU per MB). Over the %d cells recorded in both %s, %s uses **%.2f×** %s's CPU per MB (geometric mean).",
		other.Label, base.Label, other.name, cells, rep.both(), other.name, geo, base.name)
	switch left := len(c.pairs) - len(withCPU); {
	case left == 1:
		fmt.Fprintf(b, " 1 cell measured in both %s is left out: CPU was not recorded in one of its rows.", rep.both())
	case left > 1:
		fmt.Fprintf(b, " %d cells measured in both %s are left out: CPU was not recorded in one of their rows.", left, rep.both())
	}
	if slices.ContainsFunc(withCPU, func(p pair) bool { return len(p.base.rows) > 1 || len(p.other.rows) > 1 }) {
		fmt.Fprintf(b, " A cell's figure is the median of its repeats.")
	}
	fmt.Fprintf(b, "\n\n| Operation | Volume | Client workers | Server workers | %s (ms/MB) | %s (ms/MB) | %s / %s |\n", capital(base.Label), capital(other.Label), capital(other.Label), base.Label)
	fmt.Fprintf(b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range withCPU {
		fmt.Fprintf(b, "| %s | %s | %d | %s | %s | %s | %.2f |\n", p.k.op, volumeLabel(p.k.volume), p.k.clients, workers(p.k.servers),
			sampleCPUCell(p.base, true), sampleCPUCell(p.other, true), p.cpuRatio)
	}
	fmt.Fprintln(b)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// WriteDir writes the rendered files into dir, each atomically (a
// temporary file renamed into place), so a reader never sees half a report.
func WriteDir(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, files[name], 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}
