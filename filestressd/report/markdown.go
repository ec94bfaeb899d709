package report

import (
	"fmt"
	"slices"
	"strings"
)

// The report's layout: the verdict first (a sentence, its chart, the
// widest gaps), then the charts, the tables, the machine, and the method
// last. Each section only writes what the statistics and the chart
// builders give it.

func (rep *report) render() (map[string][]byte, error) {
	rep.files = map[string][]byte{}
	for _, c := range rep.comps {
		rep.sums = append(rep.sums, summarize(c))
	}
	var b strings.Builder
	b.WriteString("# Stress matrix results\n\n")
	rep.writeVerdicts(&b)
	rep.writeThroughput(&b)
	rep.writeCost(&b)
	timelines, err := rep.writeTimelines(&b)
	if err != nil {
		return nil, err
	}
	for i, c := range rep.comps {
		rep.writeComparison(&b, c, rep.sums[i])
	}
	for _, r := range rep.sides {
		writeSideTable(&b, r)
	}
	b.WriteString("## Machine and run\n\n")
	machineTable(rep).write(&b)
	if p := rep.opt.Performance; p != "" {
		fmt.Fprintf(&b, "## Performance against the machine\n\nBenchmarks beside a plain TCP copy of the same bytes, measured apart from the matrix: [%s](%s).\n\n", md(p), linkTarget(p))
	}
	rep.writeHowToRead(&b, timelines)
	files := rep.files
	files["README.md"] = []byte(b.String())
	return files, nil
}

// linkTarget is a relative path as a Markdown link target.
func linkTarget(p string) string {
	return strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E").Replace(oneLine(p))
}

func paragraph(b *strings.Builder, s string) {
	if s != "" {
		b.WriteString(s + "\n\n")
	}
}

func writeImage(b *strings.Builder, alt, name string) {
	fmt.Fprintf(b, "![%s](%s)\n\n", md(alt), name)
}

func (rep *report) writeVerdicts(b *strings.Builder) {
	if len(rep.comps) == 0 {
		what := "There is one run, so there is nothing to compare."
		if rep.kind == modesOfOneCSV {
			what = "The matrix has no cell measured in both modes, so there is nothing to compare."
		}
		paragraph(b, what)
		return
	}
	for i, s := range rep.sums {
		if len(rep.sums) > 1 {
			fmt.Fprintf(b, "## %s\n\n", comparisonTitle(s.c, true))
		}
		paragraph(b, verdictSentence(s, rep.both()))
		if s.outcome == noCells {
			continue
		}
		name := rep.verdictFile(i)
		rep.files[name] = verdictChartSVG(verdictChartOf(s))
		alt := "Verdict chart: " + s.c.other.Label + " / " + s.c.base.Label + " in each cell, with its 95% interval; the noise floor shaded"
		if s.all.withInterval == 0 {
			alt = "Verdict chart: " + s.c.other.Label + " / " + s.c.base.Label + " in each cell; the ±5% band shaded"
		}
		writeImage(b, alt, name)
		if s.all.withInterval == 0 {
			paragraph(b, singleSampleNote(s, rep.both()))
		}
		paragraph(b, bandNote(s))
		if t := gapsTable(s, 5); len(t.rows) > 0 {
			t.write(b)
		} else {
			paragraph(b, "No cell differs significantly.")
		}
		opTable(s).write(b)
		if s.hasFloor {
			aaTable(s).write(b)
		}
	}
}

// verdictFile names the verdict chart of the i-th comparison.
func (rep *report) verdictFile(i int) string {
	if len(rep.comps) == 1 {
		return "verdict.svg"
	}
	c := rep.comps[i]
	return "verdict-" + fileWord(c.other.Label) + "-vs-" + fileWord(c.base.Label) + ".svg"
}

func (rep *report) writeThroughput(b *strings.Builder) {
	charts := rep.throughputCharts()
	if len(charts) == 0 {
		return
	}
	b.WriteString("## Throughput\n\n")
	for _, ch := range charts {
		rep.files[ch.file] = lineChartSVG(ch.chart)
		writeImage(b, ch.chart.title, ch.file)
	}
}

func (rep *report) writeCost(b *strings.Builder) {
	ch, ok := rep.costChart()
	if !ok {
		return
	}
	b.WriteString("## Server cost\n\n")
	rep.files["server-cost.svg"] = lineChartSVG(ch)
	writeImage(b, ch.title, "server-cost.svg")
	if !slices.ContainsFunc(rep.usedRows(), func(r Row) bool { return r.ServerPeakRSS >= 0 }) {
		paragraph(b, noPeakMemory)
	}
}

// writeTimelines draws the queue waves of the chosen cells, and says
// whether it drew any; a cell chosen with -timeline that no file holds is
// an error.
func (rep *report) writeTimelines(b *strings.Builder) (bool, error) {
	drawn := false
	found := map[CellSpec]bool{}
	for _, ws := range rep.opt.Workers {
		specs := rep.opt.Timelines
		if len(specs) == 0 {
			specs = ws.largest()
		}
		var runIDs []string
		first := true
		for _, spec := range specs {
			windows := ws.windows(spec)
			if len(windows) == 0 {
				continue
			}
			found[spec] = true
			if !drawn {
				b.WriteString("## Queue waves\n\n")
				drawn = true
			}
			ch, names, qs := rep.timelineChartOf(ws, spec, windows)
			file := "timeline-" + fileWord(spec.String()) + ".svg"
			if ws.Server != "" {
				file = "timeline-" + fileWord(ws.Server) + "-" + fileWord(spec.String()) + ".svg"
			}
			rep.files[file] = timelineChartSVG(ch)
			if first {
				for _, w := range windows {
					if !slices.Contains(runIDs, w.runID) && w.runID != "" {
						runIDs = append(runIDs, w.runID)
					}
				}
				paragraph(b, timelineSource(ws, runIDs, rep.hasRunID(runIDs)))
				first = false
			}
			writeImage(b, ch.title, file)
			paragraph(b, queueSentence(spec.Op, names, qs))
		}
	}
	for _, spec := range rep.opt.Timelines {
		if !found[spec] {
			var have []string
			for _, ws := range rep.opt.Workers {
				for _, c := range ws.cells {
					if s := specOf(c).String(); !slices.Contains(have, s) {
						have = append(have, s)
					}
				}
			}
			return false, fmt.Errorf("-timeline %s: no such cell in the per-worker JSON lines (they hold %s)", spec, or(strings.Join(have, ", "), "none"))
		}
	}
	return drawn, nil
}

// hasRunID says whether the report's rows come from one of the runs.
func (rep *report) hasRunID(ids []string) bool {
	for _, r := range rep.usedRows() {
		if slices.Contains(ids, r.RunID) {
			return true
		}
	}
	return len(ids) == 0
}

func (rep *report) writeComparison(b *strings.Builder, c *comparison, s summary) {
	if len(c.pairs) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s, cell by cell\n\n", comparisonTitle(c, true))
	paragraph(b, wildcardNote(c))
	pairsTable(c, s.floor).write(b)
	t, leftOut := costTable(c)
	if len(t.rows) == 0 {
		return
	}
	fmt.Fprintf(b, "### Server cost, %s\n\n", comparisonTitle(c, false))
	t.write(b)
	paragraph(b, costLeftOut(leftOut, rep.both()))
}

func writeSideTable(b *strings.Builder, r *side) {
	fmt.Fprintf(b, "## %s\n\n", r.title)
	t, notes := sideTable(r)
	t.write(b)
	paragraph(b, strings.TrimSpace(strings.Join(notes, " ")))
}

func (rep *report) writeHowToRead(b *strings.Builder, timelines bool) {
	odds := ""
	var ps []pair
	for _, c := range rep.comps {
		for _, p := range c.pairs {
			if p.hasInterval() {
				ps = append(ps, p)
			}
		}
	}
	if sizes, n, ok := rangeOdds(ps); ok {
		odds = oddsNote(sizes, n)
	}
	b.WriteString("## How to read this\n\n")
	for _, item := range howToRead(rep, odds, timelines) {
		b.WriteString("- " + item + "\n")
	}
}
