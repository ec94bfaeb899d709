package report

import (
	"fmt"
	"math"
)

// verdictChart is the report's first picture: a comparison's ratio in
// every cell with its 95% interval, on a log axis centred on 1, the noise
// floor a shaded band around 1, cells grouped by operation and volume.
type verdictChart struct {
	title     string
	subtitle  string // how to read a mark
	axisLabel string // "process / thread (log scale; above 1, process is faster)"
	// floor is the band's half-width around 1, as a fraction, and
	// bandLabel what it is ("A/A noise floor ±2.3%").
	floor     float64
	bandLabel string
	// legend names the three colours with their counts.
	legend []legendEntry
	// columns are the operations, rows the volumes: groups[row][col],
	// nil where no cell was measured.
	columns, rows []string
	groups        [][]*verdictGroup
}

type verdictGroup struct {
	marks []verdictMark
	// breaks[i] is true where mark i starts a new server worker count,
	// which the chart sets apart with a gap.
	breaks      []bool
	lastServers int // while the group is built
}

const verdictBreak = 7.0

// offset is the y of mark i's centre from the group's top.
func (g *verdictGroup) offset(i int) float64 {
	y := 4 + (float64(i)+0.5)*verdictRowH
	for j := 1; j <= i; j++ {
		if g.breaks[j] {
			y += verdictBreak
		}
	}
	return y
}

// height is the group's plot height.
func (g *verdictGroup) height() float64 {
	return g.offset(len(g.marks)-1) + verdictRowH/2 + 4
}

// verdictMark is one cell: its label (client / server workers), ratio,
// interval (NaN without one) and colour.
type verdictMark struct {
	label         string
	ratio, lo, hi float64
	color         string
	tip           string
}

// Verdict chart geometry.
const (
	verdictPlotW  = 300.0
	verdictLabelW = 64.0 // the cell labels left of each plot
	verdictRowH   = 15.0
	verdictGapX   = 40.0
	verdictGapY   = 46.0
	verdictMaxR   = 4.0 // the axis ends at most at 1/4 and 4
)

// ratioTicks are the ticks a verdict axis may have, symmetric about 1 on
// a log scale.
var ratioTicks = []float64{0.25, 1.0 / 3, 0.5, 2.0 / 3, 0.8, 0.9, 1, 1.0 / 0.9, 1.25, 1.5, 2, 3, 4}

func verdictChartSVG(d verdictChart) []byte {
	// The axis: symmetric about 1 in log, to the farthest mark or
	// interval end, at most verdictMaxR (marks beyond it are drawn at the
	// edge, as a triangle).
	reach := 1 + max(d.floor, 0.05)
	for _, row := range d.groups {
		for _, g := range row {
			if g == nil {
				continue
			}
			for _, m := range g.marks {
				for _, v := range []float64{m.ratio, m.lo, m.hi} {
					if v > 0 {
						reach = max(reach, v, 1/v)
					}
				}
			}
		}
	}
	reach = min(reach*1.08, verdictMaxR)
	colW := verdictLabelW + verdictPlotW + verdictGapX
	width := float64(len(d.columns))*colW - verdictGapX
	c := newCanvas(width, 0, d.title)
	c.text(0, 18, d.title, textStyle{size: titleSize, bold: true})
	c.text(0, 38, d.subtitle, textStyle{})
	legend := append([]legendEntry{{text: d.bandLabel, color: bandColor, kind: swatchBox}}, d.legend...)
	y := c.legend(0, 62, width, legend) + 22
	for ri, row := range d.groups {
		rowH := 0.0
		for _, g := range row {
			if g != nil {
				rowH = max(rowH, g.height())
			}
		}
		if rowH == 0 {
			continue
		}
		for ci, g := range row {
			if g == nil {
				continue
			}
			x0 := float64(ci)*colW + verdictLabelW
			drawVerdictPanel(c, x0, y, reach, d, d.columns[ci]+" "+d.rows[ri], g)
		}
		y += rowH + 20 + verdictGapY
	}
	return c.bytes()
}

func drawVerdictPanel(c *canvas, x0, top, reach float64, d verdictChart, title string, g *verdictGroup) {
	a := axis{lo: 1 / reach, hi: reach, p0: x0, p1: x0 + verdictPlotW, log: true}
	h := g.height()
	bottom := top + h
	c.text(x0+verdictPlotW/2, top-8, title, textStyle{anchor: "middle", bold: true})
	// The band: the floor around 1.
	if d.floor > 0 {
		bl, _ := a.clamp(1 - d.floor)
		bh, _ := a.clamp(1 + d.floor)
		c.rect(a.at(bl), top, a.at(bh)-a.at(bl), h, bandColor, d.bandLabel)
	}
	lastX := math.Inf(-1)
	for _, v := range ratioTicks {
		if v < a.lo*0.999 || v > a.hi*1.001 || a.at(v)-lastX < 30 && v != 1 {
			continue
		}
		if v > 1 && a.at(v)-a.at(1) < 30 {
			continue
		}
		x := a.at(v)
		lastX = x
		st := lineStyle{color: gridColor}
		if v == 1 {
			st = lineStyle{color: axisColor, width: 1.2}
		}
		c.line(x, top, x, bottom, st)
		c.text(x, bottom+14, trimFloat(v), textStyle{anchor: "middle", size: 11})
	}
	c.line(x0, bottom, x0+verdictPlotW, bottom, lineStyle{color: axisColor})
	c.text(x0+verdictPlotW/2, bottom+30, d.axisLabel, textStyle{anchor: "middle", size: 11})
	for i, m := range g.marks {
		y := top + g.offset(i)
		c.text(x0-6, y+4, m.label, textStyle{anchor: "end", size: 11})
		if math.IsNaN(m.ratio) {
			continue
		}
		if !math.IsNaN(m.lo) {
			lo, _ := a.clamp(m.lo)
			hi, _ := a.clamp(m.hi)
			c.errorBar(y, a.at(lo), a.at(hi), false, m.color)
		}
		v, clipped := a.clamp(m.ratio)
		if clipped {
			c.arrow(a.at(v), y, v > 1, m.color, m.tip)
			continue
		}
		c.dot(a.at(v), y, 4, m.color, math.IsNaN(m.lo), m.tip)
	}
}

// arrow is a mark beyond the axis: a triangle at its edge, pointing out.
func (c *canvas) arrow(x, y float64, right bool, color, tip string) {
	dx := 7.0
	if !right {
		dx = -7
	}
	c.grow(min(x, x+dx), y-5, max(x, x+dx), y+5)
	fmt.Fprintf(&c.body, `<path d="M%.1f,%.1fL%.1f,%.1fL%.1f,%.1fZ" fill="%s"><title>%s</title></path>`+"\n",
		x, y-5, x+dx, y, x, y+5, color, xmlText(tip))
}
