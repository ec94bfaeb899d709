package report

import (
	"math"
	"slices"
)

// lineChart is panels of lines side by side on one canvas, with one
// legend: the throughput charts (per client and aggregate) and the
// server's cost (CPU per MB, peak memory).
type lineChart struct {
	title  string
	legend []legendEntry
	panels []linePanel
}

// linePanel is one panel: series of points against x, each point with
// the spread of its repeats as a bar.
type linePanel struct {
	title, xLabel, yLabel string
	logY                  bool
	// xs are the x values shown, on a log scale (worker counts).
	xs     []float64
	series []series
}

type series struct {
	color, dash string
	// shift moves the series' points sideways, in pixels, so that the
	// bars of series at the same x do not hide each other.
	shift  float64
	points []point
}

// point is a median y at x, its bar from lo to hi (the range of the
// repeats, or of the cells it sums up), and its tooltip.
type point struct {
	x, y, lo, hi float64
	tip          string
}

// Panel geometry of line charts.
const (
	linePanelW, linePanelH = 330.0, 230.0
	linePanelGap           = 90.0
	linePanelLeft          = 64.0 // room for tick labels and the y axis label
)

// lineChartSVG draws a lineChart.
func lineChartSVG(d lineChart) []byte {
	width := linePanelLeft + float64(len(d.panels))*(linePanelW+linePanelGap) - linePanelGap
	c := newCanvas(width, 0, d.title)
	c.text(0, 18, d.title, textStyle{size: titleSize, bold: true})
	y := c.legend(0, 42, width, d.legend)
	top := y + 24
	for i, p := range d.panels {
		x0 := linePanelLeft + float64(i)*(linePanelW+linePanelGap)
		drawLinePanel(c, x0, top, p)
	}
	return c.bytes()
}

func drawLinePanel(c *canvas, x0, top float64, p linePanel) {
	bottom := top + linePanelH
	c.text(x0+linePanelW/2, top-10, p.title, textStyle{anchor: "middle", bold: true})
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range p.series {
		for _, pt := range s.points {
			for _, v := range []float64{pt.y, pt.lo, pt.hi} {
				if v > 0 || !p.logY {
					lo, hi = min(lo, v), max(hi, v)
				}
			}
		}
	}
	ya := axis{p0: bottom, p1: top, log: p.logY}
	var ticks []float64
	switch {
	case math.IsInf(lo, 1):
		ya.lo, ya.hi = 1, 10
		c.text(x0+linePanelW/2, top+linePanelH/2, "no figures recorded", textStyle{anchor: "middle", color: sameColor})
	case p.logY:
		ya.lo, ya.hi = logRange(lo, hi)
		ticks = logTicks(ya.lo, ya.hi)
	default:
		yTop, step := niceScale(hi)
		ya.lo, ya.hi = 0, yTop
		for v := 0.0; v <= yTop+step/2; v += step {
			ticks = append(ticks, v)
		}
	}
	for _, v := range ticks {
		y := ya.at(v)
		c.line(x0, y, x0+linePanelW, y, lineStyle{color: gridColor})
		c.text(x0-5, y+4, tickLabel(v), textStyle{anchor: "end"})
	}
	xa := axis{lo: 1, hi: 10, p0: x0 + 24, p1: x0 + linePanelW - 24, log: true}
	if len(p.xs) > 0 {
		xa.lo, xa.hi = slices.Min(p.xs), slices.Max(p.xs)
	}
	xAt := func(v float64) float64 {
		if xa.lo == xa.hi {
			return x0 + linePanelW/2
		}
		return xa.at(v)
	}
	for _, v := range p.xs {
		c.text(xAt(v), bottom+16, tickLabel(v), textStyle{anchor: "middle"})
	}
	c.line(x0, bottom, x0+linePanelW, bottom, lineStyle{color: axisColor})
	c.line(x0, top, x0, bottom, lineStyle{color: axisColor})
	c.text(x0+linePanelW/2, bottom+34, p.xLabel, textStyle{anchor: "middle"})
	c.text(x0-46, top+linePanelH/2, p.yLabel, textStyle{anchor: "middle", rotate: true})
	for _, s := range p.series {
		var pts [][2]float64
		for _, pt := range s.points {
			x, y := xAt(pt.x)+s.shift, ya.at(pt.y)
			pts = append(pts, [2]float64{x, y})
			if pt.lo != pt.hi {
				c.errorBar(x, ya.at(pt.lo), ya.at(pt.hi), true, s.color)
			}
		}
		c.polyline(pts, lineStyle{color: s.color, width: 2, dash: s.dash})
		for i, pt := range s.points {
			c.dot(pts[i][0], pts[i][1], 3.5, s.color, false, pt.tip)
		}
	}
}
