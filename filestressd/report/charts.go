package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// The chart builders: from what the statistics decided to the small data
// type each chart function draws.

// verdictChartOf lays a comparison out for its verdict chart.
func verdictChartOf(s summary) verdictChart {
	c := s.c
	var ops []string
	var vols []int64
	for _, p := range c.pairs {
		if !slices.Contains(ops, p.k.op) {
			ops = append(ops, p.k.op)
		}
		if !slices.Contains(vols, p.k.volume) {
			vols = append(vols, p.k.volume)
		}
	}
	slices.SortFunc(ops, opOrder)
	slices.Sort(vols)
	d := verdictChart{
		title:     fmt.Sprintf("%s / %s: throughput per client, cell by cell", c.other.Label, c.base.Label),
		subtitle:  "A mark is a cell (client / server workers), its bar the 95% interval of the ratio; log scale, centred on 1.",
		axisLabel: fmt.Sprintf("%s / %s (above 1: %s is faster)", c.other.Label, c.base.Label, c.other.Label),
		columns:   ops,
		floor:     s.floor,
		bandLabel: fmt.Sprintf("A/A noise floor ±%.1f%%", s.floor*100),
	}
	switch {
	case s.all.withInterval == 0:
		d.subtitle = "A mark is a cell (client / server workers); one sample a cell, so no interval; log scale, centred on 1."
		d.floor, d.bandLabel = tieBand, fmt.Sprintf("±%.0f%% band (one sample a cell)", tieBand*100)
	case !s.hasFloor:
		d.floor, d.bandLabel = 0, "no A/A noise floor measured"
	}
	v := s.all
	d.legend = []legendEntry{
		{text: fmt.Sprintf("%s faster (%d)", c.other.Label, v.faster+v.bandFaster), color: c.other.color, kind: swatchDot},
		{text: fmt.Sprintf("%s faster (%d)", c.base.Label, v.slower+v.bandSlower), color: c.base.color, kind: swatchDot},
		{text: fmt.Sprintf("~ no significant difference (%d)", v.same+v.bandTies), color: sameColor, kind: swatchDot},
	}
	for _, vol := range vols {
		d.rows = append(d.rows, volumeWords(vol))
		row := make([]*verdictGroup, len(ops))
		for ci, op := range ops {
			for _, p := range c.pairs {
				if p.k.op != op || p.k.volume != vol {
					continue
				}
				if row[ci] == nil {
					row[ci] = &verdictGroup{}
				}
				cls := p.class(s.floor)
				color := map[decision]string{otherFaster: c.other.color, otherSlower: c.base.color, same: sameColor}[cls]
				tip := fmt.Sprintf("%s %s, %d client / %s server workers: %.2f×", op, volumeWords(vol), p.k.clients, workers(p.k.servers), p.ratio)
				if p.hasInterval() {
					tip += fmt.Sprintf(" (%.2f–%.2f)", p.lo, p.hi)
				}
				g := row[ci]
				g.breaks = append(g.breaks, len(g.marks) > 0 && g.lastServers != p.k.servers)
				g.lastServers = p.k.servers
				row[ci].marks = append(row[ci].marks, verdictMark{
					label: fmt.Sprintf("%d / %s", p.k.clients, workers(p.k.servers)), ratio: p.ratio, lo: p.lo, hi: p.hi, color: color,
					tip: tip + ", " + map[decision]string{otherFaster: c.other.Label + " faster", otherSlower: c.base.Label + " faster", same: "~"}[cls],
				})
			}
		}
		d.groups = append(d.groups, row)
	}
	return d
}

// namedChart is a line chart with its file name.
type namedChart struct {
	file  string
	chart lineChart
}

// opVolume is an operation and a volume: one throughput chart.
type opVolume struct {
	op  string
	vol int64
}

// sideLabel is a side as a chart's legend names it.
func (rep *report) sideLabel(r *side) string {
	if rep.kind == modesOfOneCSV && r.Mode != "" {
		return r.Mode + " mode"
	}
	return r.Label
}

// serverWorkerStyles gives each server worker count of the report its
// dash, in increasing order, and the legend entries that name them.
func (rep *report) serverWorkerStyles() (map[int]string, []legendEntry) {
	var counts []int
	for _, r := range rep.sides {
		for _, s := range r.samples {
			if !slices.Contains(counts, s.k.servers) {
				counts = append(counts, s.k.servers)
			}
		}
	}
	slices.Sort(counts)
	style := map[int]string{}
	var legend []legendEntry
	for i, n := range counts {
		style[n] = dashes[i%len(dashes)]
		text := fmt.Sprintf("%d server workers", n)
		switch n {
		case 0:
			text = "server workers unknown"
		case 1:
			text = "1 server worker"
		}
		legend = append(legend, legendEntry{text: text, color: axisColor, dash: style[n]})
	}
	return style, legend
}

func (rep *report) throughputCharts() []namedChart {
	var groups []opVolume
	for _, r := range rep.sides {
		for _, s := range r.samples {
			if g := (opVolume{s.k.op, s.k.volume}); s.n() > 0 && !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	slices.SortFunc(groups, func(a, b opVolume) int { return cmp.Or(opOrder(a.op, b.op), cmp.Compare(a.vol, b.vol)) })
	styles, swLegend := rep.serverWorkerStyles()
	var legend []legendEntry
	for _, r := range rep.sides {
		legend = append(legend, legendEntry{text: rep.sideLabel(r), color: r.color})
	}
	legend = append(legend, swLegend...)
	if rep.repeated() {
		legend = append(legend, legendEntry{text: "point: median of the repeats; bar: their range", color: axisColor, kind: swatchBar})
	}
	var out []namedChart
	for _, g := range groups {
		perClient := linePanel{title: "Per client", xLabel: "client workers (log scale)", yLabel: "MB/s per client (log scale)", logY: true}
		aggregate := linePanel{title: "Whole cell", xLabel: "client workers (log scale)", yLabel: "MB/s, all clients together (log scale)", logY: true}
		for ri, r := range rep.sides {
			shift := (float64(ri) - float64(len(rep.sides)-1)/2) * 5
			bySW := map[int][]*sample{}
			var sws []int
			for _, s := range r.samples {
				if s.k.op == g.op && s.k.volume == g.vol && s.n() > 0 {
					if bySW[s.k.servers] == nil {
						sws = append(sws, s.k.servers)
					}
					bySW[s.k.servers] = append(bySW[s.k.servers], s)
				}
			}
			slices.Sort(sws)
			for _, sw := range sws {
				pc := series{color: r.color, dash: styles[sw], shift: shift}
				ag := pc
				for _, s := range bySW[sw] {
					x := float64(s.k.clients)
					perClient.xs = addX(perClient.xs, x)
					aggregate.xs = addX(aggregate.xs, x)
					where := fmt.Sprintf("%s, %d client / %s server workers", rep.sideLabel(r), s.k.clients, workers(sw))
					pc.points = append(pc.points, spreadPoint(x, s.tput, where))
					if len(s.agg) > 0 {
						ag.points = append(ag.points, spreadPoint(x, s.agg, where))
					}
				}
				perClient.series = append(perClient.series, pc)
				aggregate.series = append(aggregate.series, ag)
			}
		}
		title := fmt.Sprintf("%s %s: throughput per client and of the whole cell", g.op, volumeWords(g.vol))
		out = append(out, namedChart{
			file:  fmt.Sprintf("throughput-%s-%s.svg", fileWord(g.op), volumeFileWord(g.vol)),
			chart: lineChart{title: title, legend: legend, panels: []linePanel{perClient, aggregate}},
		})
	}
	return out
}

func volumeFileWord(v int64) string {
	if v%mb == 0 {
		return strconv.FormatInt(v/mb, 10) + "MB"
	}
	return strconv.FormatInt(v, 10) + "B"
}

func addX(xs []float64, x float64) []float64 {
	if slices.Contains(xs, x) {
		return xs
	}
	xs = append(xs, x)
	slices.Sort(xs)
	return xs
}

// spreadPoint is the median of vs (bytes per second) in MB/s at x, its
// bar their range.
func spreadPoint(x float64, vs []float64, where string) point {
	med, lo, hi := median(vs)/mb, slices.Min(vs)/mb, slices.Max(vs)/mb
	tip := fmt.Sprintf("%s: %.1f MB/s", where, med)
	if len(vs) > 1 {
		tip = fmt.Sprintf("%s: median %.1f MB/s of %d repeats, %.1f to %.1f", where, med, len(vs), lo, hi)
	}
	return point{x: x, y: med, lo: lo, hi: hi, tip: tip}
}

// costChart draws the server's CPU per MB, per operation, and its peak
// memory, against server workers, a line per side: each point the median
// over the side's cells of that operation and worker count, its bar from
// the lowest cell to the highest. False when neither was recorded.
func (rep *report) costChart() (lineChart, bool) {
	type panelDef struct {
		title, yLabel string
		op            string // "" for every operation
		logY          bool
		value         func(*sample) (float64, bool)
	}
	cpu := func(s *sample) (float64, bool) { return s.cpuPerMB(true) }
	rss := func(s *sample) (float64, bool) {
		vs := s.peakRSS()
		if len(vs) == 0 {
			return 0, false
		}
		return median(vs) / mib, true
	}
	defs := []panelDef{
		{"Server CPU per MB, upload", "ms of CPU per MB moved", "upload", false, cpu},
		{"Server CPU per MB, download", "ms of CPU per MB moved", "download", false, cpu},
		{"Server peak memory", "MiB, whole process tree (log scale)", "", true, rss},
	}
	var legend []legendEntry
	for _, r := range rep.sides {
		legend = append(legend, legendEntry{text: rep.sideLabel(r), color: r.color})
	}
	legend = append(legend, legendEntry{text: "point: median over the cells; bar: lowest to highest cell", color: axisColor, kind: swatchBar})
	ch := lineChart{title: "Server cost per mode and worker count", legend: legend}
	for _, def := range defs {
		p := linePanel{title: def.title, xLabel: "server workers (log scale)", yLabel: def.yLabel, logY: def.logY}
		for ri, r := range rep.sides {
			byWorkers := map[int][]float64{}
			var ws []int
			for _, s := range r.samples {
				if s.k.servers <= 0 || def.op != "" && s.k.op != def.op {
					continue
				}
				if v, ok := def.value(s); ok {
					if byWorkers[s.k.servers] == nil {
						ws = append(ws, s.k.servers)
					}
					byWorkers[s.k.servers] = append(byWorkers[s.k.servers], v)
				}
			}
			slices.Sort(ws)
			sr := series{color: r.color, shift: (float64(ri) - float64(len(rep.sides)-1)/2) * 5}
			for _, w := range ws {
				vs := byWorkers[w]
				x := float64(w)
				p.xs = addX(p.xs, x)
				tip := fmt.Sprintf("%s, %d server workers: median %.2f over %d cells, %.2f to %.2f", rep.sideLabel(r), w, median(vs), len(vs), slices.Min(vs), slices.Max(vs))
				sr.points = append(sr.points, point{x: x, y: median(vs), lo: slices.Min(vs), hi: slices.Max(vs), tip: tip})
			}
			if len(sr.points) > 0 {
				p.series = append(p.series, sr)
			}
		}
		if len(p.series) > 0 {
			ch.panels = append(ch.panels, p)
		}
	}
	return ch, len(ch.panels) > 0
}

// sideOf finds the report's side of a server (its -server label, empty
// otherwise) and mode.
func (rep *report) sideOf(server, mode string) *side {
	for _, r := range rep.sides {
		if r.server == server && r.Mode == mode {
			return r
		}
	}
	return nil
}

// timelineChartOf lays out the queue waves of one cell, a panel per mode,
// and returns each mode's name and figures for the sentence under it.
func (rep *report) timelineChartOf(ws Workers, spec CellSpec, windows []*workerCell) (timelineChart, []string, []queue) {
	k := windows[0].k
	d := timelineChart{
		title: fmt.Sprintf("%s %s, %d clients / %s server workers: each client worker's wait and transfer", k.op, volumeWords(k.volume), k.clients, workers(k.servers)),
	}
	var names []string
	var qs []queue
	var runs []string
	for i, w := range windows {
		color := sidePalette[i%len(sidePalette)]
		name := or(w.mode, "no mode") + " mode"
		if r := rep.sideOf(ws.Server, w.mode); r != nil {
			color, name = r.color, rep.sideLabel(r)
		} else if ws.Server != "" {
			name = ws.Server + " " + w.mode
		}
		names = append(names, md(name))
		q := queueOf(w)
		qs = append(qs, q)
		d.end = max(d.end, q.end)
		runs = append(runs, fmt.Sprintf("run %s, repeat %d", or(w.runID, "unnamed"), w.repeat))
		p := timelinePanel{title: name}
		spans := slices.Clone(w.workers)
		order := func(s workerSpan) float64 {
			v := s.first
			if k.op == "upload" {
				v = s.sent
			}
			if math.IsNaN(v) {
				return math.Inf(1)
			}
			return v
		}
		slices.SortStableFunc(spans, func(a, b workerSpan) int {
			return cmp.Or(cmp.Compare(order(a), order(b)), cmp.Compare(a.worker, b.worker))
		})
		for _, s := range spans {
			p.bars = append(p.bars, timelineBar{phases: phasesOf(k.op, s, color), failed: !s.ok, tip: spanTip(s)})
		}
		d.panels = append(d.panels, p)
		if k.op == "upload" {
			d.legend = append(d.legend,
				legendEntry{text: "sending, waiting included: " + name, color: tint(color), kind: swatchBox},
				legendEntry{text: "storing and replying: " + name, color: color, kind: swatchBox})
		} else {
			d.legend = append(d.legend, legendEntry{text: "transferring: " + name, color: color, kind: swatchBox})
		}
	}
	if k.op != "upload" {
		d.legend = append([]legendEntry{{text: "waiting: connect to first byte", color: waitColor, kind: swatchBox}}, d.legend...)
	}
	if runs = compact(runs); len(runs) > 1 {
		for i := range runs {
			runs[i] = d.panels[i].title + ": " + runs[i]
		}
	}
	d.subtitle = "One bar a client worker, in the order served; " + joinAnd(runs) + "."
	return d, names, qs
}

const waitColor = "#c4c4c4"

// phasesOf is a worker's bar: for a download, waiting from connect to
// the first byte, then transferring; for an upload, sending (its wait
// included) to the last byte sent, then the server storing and replying.
func phasesOf(op string, s workerSpan, color string) []phase {
	from := s.connect
	if math.IsNaN(from) {
		from = s.start
	}
	var cuts []float64
	var colors []string
	if op == "upload" {
		cuts, colors = []float64{s.sent, s.last}, []string{tint(color), color}
	} else {
		cuts, colors = []float64{s.first, s.last}, []string{waitColor, color}
	}
	var out []phase
	for i, to := range cuts {
		if math.IsNaN(from) || math.IsNaN(to) {
			break
		}
		out = append(out, phase{from: from, to: to, color: colors[i]})
		from = to
	}
	return out
}

func spanTip(s workerSpan) string {
	tip := fmt.Sprintf("worker %d: connect %.3f s, first byte %.3f s, last byte %.3f s", s.worker, s.connect, s.first, s.last)
	if !s.ok {
		tip += ", failed"
		if s.kind != "" {
			tip += " (" + s.kind + ")"
		}
	}
	return tip
}

// tint is color mixed half with white.
func tint(color string) string {
	v, err := strconv.ParseUint(color[1:], 16, 32)
	if len(color) != 7 || err != nil {
		return color
	}
	mix := func(shift uint) uint64 { return ((v>>shift)&0xff + 0xff) / 2 }
	return fmt.Sprintf("#%02x%02x%02x", mix(16), mix(8), mix(0))
}

// compact is parts without repeats, in order.
func compact(parts []string) []string {
	var out []string
	for _, p := range parts {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	out := ""
	for i, p := range parts {
		switch {
		case i == 0:
			out = p
		case i == len(parts)-1:
			out += " and " + p
		default:
			out += ", " + p
		}
	}
	return out
}
