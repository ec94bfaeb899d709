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

// writeCharts draws one chart per operation and volume, a panel per server
// mode side by side on one scale, and links them from the report.
func writeCharts(b *strings.Builder, rows []Row, files map[string][]byte) {
	type opVol struct {
		op  string
		vol int64
	}
	var groups []opVol
	for _, r := range rows {
		g := opVol{r.Operation, r.VolumeBytes}
		if !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	slices.SortFunc(groups, func(a, c opVol) int { return cmp.Or(cmp.Compare(a.op, c.op), cmp.Compare(a.vol, c.vol)) })
	fmt.Fprintf(b, "## Charts\n\nThroughput per client (MB/s) against client workers, one line per server worker count, thread and process mode side by side on the same scale.\n\n")
	for _, g := range groups {
		var sel []Row
		for _, r := range rows {
			if r.Operation == g.op && r.VolumeBytes == g.vol {
				sel = append(sel, r)
			}
		}
		name := fmt.Sprintf("chart-%s-%s.svg", g.op, strings.ReplaceAll(volumeLabel(g.vol), " ", ""))
		title := fmt.Sprintf("%s %s: throughput per client", g.op, volumeLabel(g.vol))
		files[name] = chartSVG(title, sel)
		fmt.Fprintf(b, "![%s](%s)\n\n", title, name)
	}
}

// chartSVG draws the panels of one operation and volume.
func chartSVG(title string, rows []Row) []byte {
	ms := modes(rows)
	var xs []int
	var series []int
	top := 0.0
	for _, r := range rows {
		if !slices.Contains(xs, r.ClientWorkers) {
			xs = append(xs, r.ClientWorkers)
		}
		if !slices.Contains(series, r.ServerWorkers) {
			series = append(series, r.ServerWorkers)
		}
		top = max(top, r.ThroughputPerClient/mb)
	}
	slices.Sort(xs)
	slices.Sort(series)
	yMax, yStep := niceScale(top)
	width := marginL + len(ms)*(panelW+gap)
	height := marginT + panelH + marginB
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&s, `<rect width="100%%" height="100%%" fill="#ffffff"/>`+"\n")
	fmt.Fprintf(&s, `<text x="%d" y="18" font-size="15" font-weight="bold">%s</text>`+"\n", marginL, html.EscapeString(title))
	for i, mode := range ms {
		x0 := marginL + i*(panelW+gap)
		panel(&s, x0, mode, rowsOf(rows, mode), xs, series, yMax, yStep)
	}
	// Legend, below the panels.
	ly := marginT + panelH + 44
	fmt.Fprintf(&s, `<text x="%d" y="%d">server workers:</text>`+"\n", marginL, ly)
	for i, sw := range series {
		lx := marginL + 110 + i*90
		fmt.Fprintf(&s, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2.5"/>`, lx, ly-4, lx+24, ly-4, lineColors[i%len(lineColors)])
		fmt.Fprintf(&s, `<text x="%d" y="%d">%s</text>`+"\n", lx+30, ly, workers(sw))
	}
	s.WriteString("</svg>\n")
	return []byte(s.String())
}

// panel draws one mode's axes and lines at x0.
func panel(s *strings.Builder, x0 int, mode string, rows []Row, xs, series []int, yMax, yStep float64) {
	y0 := marginT + panelH
	xAt := func(i int) float64 {
		if len(xs) == 1 {
			return float64(x0) + panelW/2
		}
		return float64(x0) + 20 + float64(i)*(panelW-40)/float64(len(xs)-1)
	}
	yAt := func(v float64) float64 { return float64(y0) - v/yMax*panelH }
	fmt.Fprintf(s, `<text x="%d" y="%d" font-weight="bold">%s mode</text>`+"\n", x0+panelW/2-30, marginT-8, html.EscapeString(mode))
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
			for _, r := range rows {
				if r.ServerWorkers == sw && r.ClientWorkers == x {
					v := r.ThroughputPerClient / mb
					pts = append(pts, fmt.Sprintf("%.1f,%.1f", xAt(i), yAt(v)))
					fmt.Fprintf(s, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"><title>%s mode, %d client / %s server workers: %.1f MB/s</title></circle>`+"\n",
						xAt(i), yAt(v), color, html.EscapeString(mode), x, workers(sw), v)
				}
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
