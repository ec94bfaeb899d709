package report

// timelineChart is a cell's queue waves: for each mode side by side,
// every client worker as a horizontal bar from its connect, split into
// its phases (waiting, transferring), seconds from the release.
type timelineChart struct {
	title    string
	subtitle string
	legend   []legendEntry
	panels   []timelinePanel
	// end is the x axis's end, in seconds: the latest last byte of any
	// panel, so the panels share one scale.
	end float64
}

type timelinePanel struct {
	title string
	bars  []timelineBar
}

// timelineBar is one worker: its phases in order, and a tooltip.
type timelineBar struct {
	phases []phase
	failed bool
	tip    string
}

type phase struct {
	from, to float64 // seconds from the release
	color    string
}

// Timeline geometry.
const (
	timelinePanelW = 360.0
	timelineGap    = 60.0
	timelineLeft   = 40.0
	timelineMaxH   = 420.0 // a panel's bars at most this tall together
	timelineMinH   = 200.0 // and the panel at least this tall, for its axis label
)

func timelineChartSVG(d timelineChart) []byte {
	width := timelineLeft + float64(len(d.panels))*(timelinePanelW+timelineGap) - timelineGap
	c := newCanvas(width, 0, d.title)
	c.text(0, 18, d.title, textStyle{size: titleSize, bold: true})
	c.text(0, 38, d.subtitle, textStyle{})
	y := c.legend(0, 62, width, d.legend) + 24
	rows := 0
	for _, p := range d.panels {
		rows = max(rows, len(p.bars))
	}
	n := float64(max(rows, 1))
	rowH := min(timelineMaxH/n, max(14, (timelineMinH-4)/n), 24)
	end, step := niceScale(d.end)
	for i, p := range d.panels {
		x0 := timelineLeft + float64(i)*(timelinePanelW+timelineGap)
		a := axis{lo: 0, hi: end, p0: x0, p1: x0 + timelinePanelW}
		h := max(float64(rows)*rowH+4, timelineMinH)
		bottom := y + h
		c.text(x0+timelinePanelW/2, y-8, p.title, textStyle{anchor: "middle", bold: true})
		for v := 0.0; v <= end*1.0001; v += step {
			c.line(a.at(v), y, a.at(v), bottom, lineStyle{color: gridColor})
			c.text(a.at(v), bottom+15, trimFloat(v), textStyle{anchor: "middle", size: 11})
		}
		c.line(x0, bottom, x0+timelinePanelW, bottom, lineStyle{color: axisColor})
		c.line(x0, y, x0, bottom, lineStyle{color: axisColor})
		c.text(x0+timelinePanelW/2, bottom+32, "seconds since the workers' release", textStyle{anchor: "middle"})
		c.text(x0-10, y+h/2, "client workers, in the order served", textStyle{anchor: "middle", rotate: true, size: 11})
		for j, b := range p.bars {
			by := y + 2 + float64(j)*rowH
			for _, ph := range b.phases {
				if ph.to > ph.from {
					c.rect(a.at(ph.from), by, a.at(ph.to)-a.at(ph.from), rowH*0.8, ph.color, b.tip)
				}
			}
			if b.failed && len(b.phases) > 0 {
				last := b.phases[len(b.phases)-1]
				c.text(a.at(last.to)+2, by+rowH*0.8, "×", textStyle{color: "#c00000", size: rowH + 2})
			}
		}
	}
	return c.bytes()
}
