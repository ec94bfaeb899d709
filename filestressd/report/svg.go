package report

import (
	"cmp"
	"fmt"
	"html"
	"math"
	"slices"
	"strings"
)

// Chart geometry, in SVG user units.
const (
	panelW, panelH = 340, 240
	marginL        = 56
	marginT        = 48
	marginB        = 64
	gap            = 64
)

var lineColors = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

// chartPanel is one run's cells in one chart.
type chartPanel struct {
	title   string
	samples []*sample
}

// writeCharts draws one chart per operation and volume, a panel per run
// (server mode) side by side on one scale, and links them from the report.
func (rep *report) writeCharts(b *strings.Builder, files map[string][]byte) {
	type opVol struct {
		op  string
		vol int64
	}
	var groups []opVol
	for _, r := range rep.runs {
		for _, s := range r.samples {
			g := opVol{s.k.op, s.k.volume}
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	slices.SortFunc(groups, func(a, c opVol) int { return cmp.Or(cmp.Compare(a.op, c.op), cmp.Compare(a.vol, c.vol)) })
	if rep.labelled {
		fmt.Fprintf(b, "## Charts\n\nThroughput per client (MB/s) against client workers, one line per server worker count, one panel per run side by side on the same scale.")
	} else {
		fmt.Fprintf(b, "## Charts\n\nThroughput per client (MB/s) against client workers, one line per server worker count, thread and process mode side by side on the same scale.")
	}
	if rep.repeated() {
		fmt.Fprintf(b, " A point is the median of the cell's repeats; its bar spans their range, from the lowest to the highest.")
	}
	fmt.Fprintf(b, "\n\n")
	for _, g := range groups {
		var panels []chartPanel
		for _, r := range rep.runs {
			p := chartPanel{title: r.Label + " mode"}
			if rep.labelled {
				p.title = r.Label
			}
			for _, s := range r.samples {
				if s.k.op == g.op && s.k.volume == g.vol {
					p.samples = append(p.samples, s)
				}
			}
			if len(p.samples) > 0 {
				panels = append(panels, p)
			}
		}
		name := fmt.Sprintf("chart-%s-%s.svg", g.op, strings.ReplaceAll(volumeLabel(g.vol), " ", ""))
		title := fmt.Sprintf("%s %s: throughput per client", g.op, volumeLabel(g.vol))
		files[name] = chartSVG(title, panels)
		fmt.Fprintf(b, "![%s](%s)\n\n", title, name)
	}
}

// chartSVG draws the panels of one operation and volume.
func chartSVG(title string, panels []chartPanel) []byte {
	var xs []int
	var series []int
	top := 0.0
	bars := false
	for _, p := range panels {
		for _, s := range p.samples {
			if !slices.Contains(xs, s.k.clients) {
				xs = append(xs, s.k.clients)
			}
			if !slices.Contains(series, s.k.servers) {
				series = append(series, s.k.servers)
			}
			if s.n() > 0 {
				top = max(top, slices.Max(s.tput)/mb)
			}
			bars = bars || s.n() > 1
		}
	}
	slices.Sort(xs)
	slices.Sort(series)
	yMax, yStep := niceScale(top)
	width := marginL + len(panels)*(panelW+gap)
	height := marginT + panelH + marginB
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&s, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&s, `<text x="%d" y="18" font-size="15" font-weight="bold">%s</text>`+"\n", marginL, html.EscapeString(title))
	for i, p := range panels {
		x0 := marginL + i*(panelW+gap)
		panel(&s, x0, p, xs, series, yMax, yStep)
	}
	// Legend, below the panels.
	ly := marginT + panelH + 44
	fmt.Fprintf(&s, `<text x="%d" y="%d">server workers:</text>`+"\n", marginL, ly)
	for i, sw := range series {
		lx := marginL + 110 + i*90
		fmt.Fprintf(&s, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"/>`, lx, ly-4, lx+24, ly-4, lineColors[i%len(lineColors)])
		fmt.Fprintf(&s, `<text x="%d" y="%d">%s</text>`+"\n", lx+30, ly, workers(sw))
	}
	if bars {
		fmt.Fprintf(&s, `<text x="%d" y="%d">points: medians of the repeats; bars: their range</text>`+"\n", marginL+110+len(series)*90, ly)
	}
	s.WriteString("</svg>\n")
	return []byte(s.String())
}

// panel draws one run's axes and lines at x0.
func panel(s *strings.Builder, x0 int, p chartPanel, xs, series []int, yMax, yStep float64) {
	y0 := marginT + panelH
	xAt := func(i int) float64 {
		if len(xs) == 1 {
			return float64(x0) + panelW/2
		}
		return float64(x0) + 20 + float64(i)*(panelW-40)/float64(len(xs)-1)
	}
	yAt := func(v float64) float64 { return float64(y0) - v/yMax*panelH }
	fmt.Fprintf(s, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0+panelW/2-30, marginT-8, html.EscapeString(p.title))
	for v := 0.0; v <= yMax+yStep/2; v += yStep {
		y := yAt(v)
		fmt.Fprintf(s, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#dddddd"/>`, x0, y, x0+panelW, y)
		fmt.Fprintf(s, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", x0-4, y+4, trimFloat(v))
	}
	fmt.Fprintf(s, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`, x0, y0, x0+panelW, y0)
	fmt.Fprintf(s, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", x0, marginT, x0, y0)
	for i, x := range xs {
		fmt.Fprintf(s, `<text x="%.1f" y="%d" text-anchor="middle">%d</text>`+"\n", xAt(i), y0+16, x)
	}
	fmt.Fprintf(s, `<text x="%d" y="%d" text-anchor="middle">client workers</text>`+"\n", x0+panelW/2, y0+30)
	fmt.Fprintf(s, `<text x="%d" y="%d" text-anchor="middle" transform="rotate(-90 %d %d)">MB/s per client</text>`+"\n", x0-40, y0-panelH/2, x0-40, y0-panelH/2)
	for si, sw := range series {
		color := lineColors[si%len(lineColors)]
		var pts []string
		for i, x := range xs {
			for _, smp := range p.samples {
				if smp.k.servers != sw || smp.k.clients != x {
					continue
				}
				v := 0.0
				if smp.n() > 0 {
					v = smp.median() / mb
				}
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", xAt(i), yAt(v)))
				what := fmt.Sprintf("%.1f MB/s", v)
				if smp.n() > 1 {
					lo, hi := slices.Min(smp.tput)/mb, slices.Max(smp.tput)/mb
					cx := xAt(i)
					fmt.Fprintf(s, `<path d="M%.1f,%.1fV%.1fM%.1f,%.1fH%.1fM%.1f,%.1fH%.1f" stroke="%s" stroke-width="1.5" fill="none"/>`+"\n",
						cx, yAt(lo), yAt(hi), cx-4, yAt(lo), cx+4, cx-4, yAt(hi), cx+4, color)
					what = fmt.Sprintf("median %.1f MB/s of %d repeats, %.1f to %.1f", v, smp.n(), lo, hi)
				}
				fmt.Fprintf(s, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s, %d client / %s server workers: %s</title></circle>`+"\n",
					xAt(i), yAt(v), color, html.EscapeString(p.title), x, workers(sw), what)
			}
		}
		if len(pts) > 1 {
			fmt.Fprintf(s, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2.5"/>`+"\n", strings.Join(pts, " "), color)
		}
	}
}

// niceScale picks an axis top and a step of 1, 2, 2.5 or 5 times a power
// of ten that cover v in at most six steps.
func niceScale(v float64) (top, step float64) {
	if v <= 0 {
		return 1, 0.2
	}
	raw := v / 6
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		step = m * p
		if step >= raw {
			break
		}
	}
	return math.Ceil(v/step) * step, step
}

func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
