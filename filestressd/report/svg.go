package report

import (
	"fmt"
	"math"
	"strings"
)

// The SVG toolkit every chart draws with: a canvas that grows to hold all
// of its text (so nothing is clipped), axes on a log or linear scale, and
// legends. Text goes through xmlText, so the output is well-formed XML
// whatever a label holds.

// Fonts and colours shared by the charts.
const (
	fontSize  = 12.0
	titleSize = 15.0
	// charWidth is an upper estimate of a sans-serif character's advance,
	// in ems: the canvas is sized from it, so a wider font than expected
	// must still fit.
	charWidth = 0.62
	gridColor = "#e3e3e3"
	axisColor = "#333333"
	sameColor = "#8c8c8c" // "~": no significant difference
	bandColor = "#d9d9d9"
	pad       = 8.0
)

// sidePalette gives each side of a report its colour, in order: thread blue
// and process orange in the default report.
var sidePalette = []string{"#1f77b4", "#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#a6761d", "#666666"}

// dashes tell series of one colour apart (server worker counts).
var dashes = []string{"", "7 4", "2 3", "9 3 2 3"}

// canvas is an SVG drawing whose bounds grow to hold every text and shape
// drawn on it.
type canvas struct {
	body                   strings.Builder
	minX, minY, maxX, maxY float64
	title                  string
}

func newCanvas(w, h float64, title string) *canvas {
	return &canvas{maxX: w, maxY: h, title: title}
}

// grow widens the bounds to hold the box [x0, x1] × [y0, y1].
func (c *canvas) grow(x0, y0, x1, y1 float64) {
	c.minX, c.minY = min(c.minX, x0-pad), min(c.minY, y0-pad)
	c.maxX, c.maxY = max(c.maxX, x1+pad), max(c.maxY, y1+pad)
}

// textWidth estimates the width of s at size.
func textWidth(s string, size float64) float64 {
	return float64(len([]rune(s))) * size * charWidth
}

// textStyle is how a text is drawn: its anchor ("start", "middle",
// "end"), size, weight and colour; rotate -90 draws it upwards.
type textStyle struct {
	anchor string
	size   float64
	bold   bool
	color  string
	rotate bool
}

// text draws s with its baseline at (x, y).
func (c *canvas) text(x, y float64, s string, st textStyle) {
	size := st.size
	if size == 0 {
		size = fontSize
	}
	w := textWidth(s, size)
	if st.bold {
		w *= 1.1
	}
	x0 := x
	switch st.anchor {
	case "middle":
		x0 -= w / 2
	case "end":
		x0 -= w
	}
	attrs := fmt.Sprintf(`x="%.1f" y="%.1f"`, x, y)
	if st.anchor != "" && st.anchor != "start" {
		attrs += fmt.Sprintf(` text-anchor="%s"`, st.anchor)
	}
	if size != fontSize {
		attrs += fmt.Sprintf(` font-size="%g"`, size)
	}
	if st.bold {
		attrs += ` font-weight="bold"`
	}
	if st.color != "" {
		attrs += fmt.Sprintf(` fill="%s"`, st.color)
	}
	if st.rotate {
		attrs += fmt.Sprintf(` transform="rotate(-90 %.1f %.1f)"`, x, y)
		// Turned upwards about (x, y): the text runs from y-(x0-x) up.
		c.grow(x-size, y-(x0-x)-w, x+size*0.3, y-(x0-x))
	} else {
		c.grow(x0, y-size, x0+w, y+size*0.3)
	}
	fmt.Fprintf(&c.body, "<text %s>%s</text>\n", attrs, xmlText(s))
}

// lineStyle is a stroke: colour, width and dash pattern.
type lineStyle struct {
	color string
	width float64
	dash  string
}

func (l lineStyle) attrs() string {
	w := l.width
	if w == 0 {
		w = 1
	}
	s := fmt.Sprintf(`stroke="%s" stroke-width="%g"`, l.color, w)
	if l.dash != "" {
		s += fmt.Sprintf(` stroke-dasharray="%s"`, l.dash)
	}
	return s
}

func (c *canvas) line(x1, y1, x2, y2 float64, st lineStyle) {
	c.grow(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
	fmt.Fprintf(&c.body, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" %s/>`+"\n", x1, y1, x2, y2, st.attrs())
}

// polyline joins the points, in order.
func (c *canvas) polyline(pts [][2]float64, st lineStyle) {
	if len(pts) < 2 {
		return
	}
	var ps []string
	for _, p := range pts {
		c.grow(p[0], p[1], p[0], p[1])
		ps = append(ps, fmt.Sprintf("%.1f,%.1f", p[0], p[1]))
	}
	fmt.Fprintf(&c.body, `<polyline points="%s" fill="none" %s/>`+"\n", strings.Join(ps, " "), st.attrs())
}

// rect draws a filled rectangle, with a tooltip when tip is not empty.
func (c *canvas) rect(x, y, w, h float64, fill, tip string) {
	if w < 0 {
		x, w = x+w, -w
	}
	c.grow(x, y, x+w, y+h)
	if tip == "" {
		fmt.Fprintf(&c.body, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`+"\n", x, y, w, h, fill)
		return
	}
	fmt.Fprintf(&c.body, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s</title></rect>`+"\n", x, y, w, h, fill, xmlText(tip))
}

// dot draws a marker: filled, or hollow (white inside) when hollow.
func (c *canvas) dot(x, y, r float64, color string, hollow bool, tip string) {
	c.grow(x-r, y-r, x+r, y+r)
	fill := color
	if hollow {
		fill = "#ffffff"
	}
	fmt.Fprintf(&c.body, `<circle cx="%.1f" cy="%.1f" r="%g" fill="%s" stroke="%s" stroke-width="1.5"><title>%s</title></circle>`+"\n", x, y, r, fill, color, xmlText(tip))
}

// errorBar draws a bar from a to b across the axis at pos, with caps;
// vertical when vertical, else horizontal.
func (c *canvas) errorBar(pos, a, b float64, vertical bool, color string) {
	const cap = 3.5
	if vertical {
		c.line(pos, a, pos, b, lineStyle{color: color, width: 1.5})
		c.line(pos-cap, a, pos+cap, a, lineStyle{color: color, width: 1.5})
		c.line(pos-cap, b, pos+cap, b, lineStyle{color: color, width: 1.5})
		return
	}
	c.line(a, pos, b, pos, lineStyle{color: color, width: 1.5})
	c.line(a, pos-cap, a, pos+cap, lineStyle{color: color, width: 1.5})
	c.line(b, pos-cap, b, pos+cap, lineStyle{color: color, width: 1.5})
}

// bytes is the finished SVG document, its view box the drawing's bounds.
func (c *canvas) bytes() []byte {
	var b strings.Builder
	w, h := c.maxX-c.minX, c.maxY-c.minY
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="%.0f %.0f %.0f %.0f" font-family="DejaVu Sans, Verdana, sans-serif" font-size="%g">`+"\n",
		math.Ceil(w), math.Ceil(h), math.Floor(c.minX), math.Floor(c.minY), math.Ceil(w), math.Ceil(h), fontSize)
	fmt.Fprintf(&b, "<title>%s</title>\n", xmlText(c.title))
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="#ffffff"/>`+"\n", math.Floor(c.minX), math.Floor(c.minY), math.Ceil(w)+1, math.Ceil(h)+1)
	b.WriteString(c.body.String())
	b.WriteString("</svg>\n")
	return []byte(b.String())
}

// legendEntry is one item of a legend: a swatch (a line of a colour and
// dash, a dot, or a filled box) and its text.
type legendEntry struct {
	text  string
	color string
	dash  string
	kind  swatch
}

type swatch int

const (
	swatchLine swatch = iota
	swatchDot
	swatchBox
	swatchBar // a dot on a bar: how the charts draw a median and a range
)

// legend draws entries in a row from (x, y), wrapping before maxW, and
// returns the y below it.
func (c *canvas) legend(x, y, maxW float64, entries []legendEntry) float64 {
	cx := x
	for _, e := range entries {
		w := 30 + textWidth(e.text, fontSize) + 18
		if cx > x && cx+w > x+maxW {
			cx, y = x, y+18
		}
		switch e.kind {
		case swatchDot:
			c.dot(cx+12, y-4, 4, e.color, false, e.text)
		case swatchBox:
			c.rect(cx, y-10, 24, 12, e.color, "")
		case swatchBar:
			c.errorBar(cx+12, y-11, y+3, true, e.color)
			c.dot(cx+12, y-4, 3.5, e.color, false, e.text)
		default:
			c.line(cx, y-4, cx+24, y-4, lineStyle{color: e.color, width: 2.5, dash: e.dash})
		}
		c.text(cx+30, y, e.text, textStyle{})
		cx += w
	}
	return y + 18
}

// axis maps values to pixels along one direction, on a log or a linear
// scale: lo to p0, hi to p1.
type axis struct {
	lo, hi, p0, p1 float64
	log            bool
}

func (a axis) at(v float64) float64 {
	if a.log {
		if v <= 0 {
			v = a.lo
		}
		return a.p0 + (math.Log(v)-math.Log(a.lo))/(math.Log(a.hi)-math.Log(a.lo))*(a.p1-a.p0)
	}
	return a.p0 + (v-a.lo)/(a.hi-a.lo)*(a.p1-a.p0)
}

// clamp keeps v within the axis, reporting whether it had to.
func (a axis) clamp(v float64) (float64, bool) {
	switch {
	case v < a.lo:
		return a.lo, true
	case v > a.hi:
		return a.hi, true
	}
	return v, false
}

// logRange is a log axis's ends around the values from lo to hi: each
// widened to the next 1, 2 or 5 times a power of ten.
func logRange(lo, hi float64) (float64, float64) {
	if !(lo > 0) || !(hi > 0) {
		return 1, 10
	}
	down, up := niceStep(lo, false), niceStep(hi, true)
	if down == up {
		down, up = niceStep(lo/1.5, false), niceStep(hi*1.5, true)
	}
	return down, up
}

// niceStep is the nearest 1, 2 or 5 times a power of ten at or below v
// (or at or above it, with up).
func niceStep(v float64, up bool) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	steps := []float64{1, 2, 5, 10}
	if up {
		for _, m := range steps {
			if m*p >= v*(1-1e-9) {
				return m * p
			}
		}
	}
	for i := len(steps) - 1; i >= 0; i-- {
		if steps[i]*p <= v*(1+1e-9) {
			return steps[i] * p
		}
	}
	return p
}

// logTicks are the 1, 2 and 5 times powers of ten from lo to hi (more
// over a decade or less, fewer when they are many).
func logTicks(lo, hi float64) []float64 {
	mantissas := []float64{1, 2, 5}
	if hi/lo <= 10.0001 {
		mantissas = []float64{1, 1.5, 2, 3, 4, 5, 6, 8}
	}
	var ticks []float64
	for p := math.Pow(10, math.Floor(math.Log10(lo))); p <= hi*1.0001; p *= 10 {
		for _, m := range mantissas {
			if v := m * p; v >= lo*0.9999 && v <= hi*1.0001 {
				ticks = append(ticks, v)
			}
		}
	}
	if len(ticks) > 10 {
		var tens []float64
		for _, v := range ticks {
			if l := math.Log10(v); math.Abs(l-math.Round(l)) < 1e-9 {
				tens = append(tens, v)
			}
		}
		ticks = tens
	}
	return ticks
}

// niceScale picks a linear axis top and a step of 1, 2, 2.5 or 5 times a
// power of ten that cover v in at most six steps.
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

// trimFloat is v with at most two decimals and no trailing zeros.
func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}

// tickLabel is a tick value as the axes print it: 1k, 2k for thousands.
func tickLabel(v float64) string {
	if v >= 1000 && math.Mod(v, 1000) == 0 {
		return trimFloat(v/1000) + "k"
	}
	return trimFloat(v)
}
