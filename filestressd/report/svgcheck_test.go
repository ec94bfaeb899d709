package report

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// viewBox is an SVG's view box.
type viewBox struct{ x, y, w, h float64 }

// parseSVG reads an SVG document to its end with encoding/xml, as any XML
// reader would, and returns its view box and every text element's
// estimated box: an error for XML that is not well-formed, a root that
// is not svg, or a text outside the view box.
func parseSVG(b []byte) (viewBox, error) {
	d := xml.NewDecoder(bytes.NewReader(b))
	var vb viewBox
	depth, texts := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return vb, fmt.Errorf("not well-formed XML: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			attrs := map[string]string{}
			for _, a := range t.Attr {
				attrs[a.Name.Local] = a.Value
			}
			if depth == 1 {
				if t.Name.Local != "svg" || t.Name.Space != "http://www.w3.org/2000/svg" {
					return vb, fmt.Errorf("root %v, not an SVG svg element", t.Name)
				}
				if _, err := fmt.Sscanf(attrs["viewBox"], "%g %g %g %g", &vb.x, &vb.y, &vb.w, &vb.h); err != nil {
					return vb, fmt.Errorf("viewBox %q: %v", attrs["viewBox"], err)
				}
			}
			if t.Name.Local == "text" {
				texts++
				var content string
				if err := d.DecodeElement(&content, &t); err != nil {
					return vb, err
				}
				depth--
				if err := textInside(vb, attrs, content); err != nil {
					return vb, err
				}
			}
		case xml.EndElement:
			depth--
		}
	}
	if texts == 0 {
		return vb, fmt.Errorf("no text: a chart has at least a title")
	}
	return vb, nil
}

var rotateRE = regexp.MustCompile(`^rotate\(-90 ([-0-9.]+) ([-0-9.]+)\)$`)

// textInside checks, by a width estimate of its own (0.6 em a
// character), that a text lies within the view box.
func textInside(vb viewBox, attrs map[string]string, s string) error {
	num := func(name string, def float64) float64 {
		v, err := strconv.ParseFloat(attrs[name], 64)
		if err != nil {
			return def
		}
		return v
	}
	x, y, size := num("x", 0), num("y", 0), num("font-size", fontSize)
	w := float64(len([]rune(s))) * size * 0.6
	x0 := x
	switch attrs["text-anchor"] {
	case "middle":
		x0 -= w / 2
	case "end":
		x0 -= w
	}
	x1, y0, y1 := x0+w, y-size, y
	if m := rotateRE.FindStringSubmatch(attrs["transform"]); m != nil {
		// Upwards about (x, y): the run along x becomes a run up from y.
		x0, x1, y0, y1 = x-size, x, y-(x1-x), y-(x0-x)
	}
	if x0 < vb.x || y0 < vb.y || x1 > vb.x+vb.w || y1 > vb.y+vb.h {
		return fmt.Errorf("text %q at (%.0f, %.0f)-(%.0f, %.0f) is outside the view box %+v", s, x0, y0, x1, y1, vb)
	}
	return nil
}

// checkSVGs parses every SVG of files (see parseSVG).
func checkSVGs(t *testing.T, files map[string][]byte) {
	t.Helper()
	for name, b := range files {
		if strings.HasSuffix(name, ".svg") {
			if _, err := parseSVG(b); err != nil {
				t.Errorf("%s: %v", name, err)
			}
		}
	}
}

// TestParseSVGRefuses checks that the checker itself catches what it is
// there for: broken XML, and text beyond the view box.
func TestParseSVGRefuses(t *testing.T) {
	head := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 50">`
	for _, bad := range []string{
		head + `<text x="5" y="20">a & b</text></svg>`,
		head + `<text x="5" y="20">fine</text>`,
		head + `<text x="90" y="20">far too long for the box</text></svg>`,
		head + `<text x="20" y="40" transform="rotate(-90 20 40)">up and out of the top</text></svg>`,
		`<svg viewBox="0 0 100 50"><text x="5" y="20">no namespace</text></svg>`,
	} {
		if _, err := parseSVG([]byte(bad)); err == nil {
			t.Errorf("parseSVG accepted %q", bad)
		}
	}
	c := newCanvas(100, 50, "t")
	c.text(0, 10, "a label & <its> \"quote\"\x01", textStyle{})
	c.text(-30, 40, "up", textStyle{rotate: true})
	c.text(100, 45, "past the right edge, and grown to fit", textStyle{anchor: "start"})
	if _, err := parseSVG(c.bytes()); err != nil {
		t.Errorf("the canvas drew an SVG its checker refuses: %v\n%s", err, c.bytes())
	}
}

// TestChartsRender converts every chart of the golden reports and of
// results/ to PNG with rsvg-convert (Debian's librsvg2-bin), and checks
// that each image is not blank and that nothing is drawn outside its
// view box: rendered again on a canvas with a margin around the view box,
// the margin must stay empty, with the real font's widths.
func TestChartsRender(t *testing.T) {
	rsvg, err := exec.LookPath("rsvg-convert")
	if err != nil {
		t.Skip("rsvg-convert not found: install Debian's librsvg2-bin (apt-get install librsvg2-bin) to render the charts to PNG")
	}
	var charts []string
	for _, pattern := range []string{"../../testdata/report/golden*/*.svg", "../../results/*.svg", "../../results/*/*.svg"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		charts = append(charts, m...)
	}
	if len(charts) < 10 {
		t.Fatalf("%d charts found, want the golden reports' and results'", len(charts))
	}
	dir := t.TempDir()
	for i, path := range charts {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		vb, err := parseSVG(b)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			continue
		}
		img := renderPNG(t, rsvg, filepath.Join(dir, fmt.Sprintf("%d.svg", i)), b)
		if inked, colours := ink(img, img.Bounds()); inked < img.Bounds().Dx()*img.Bounds().Dy()/200 || colours < 3 {
			t.Errorf("%s: the PNG is blank: %d pixels drawn, %d colours", path, inked, colours)
		}
		const margin = 40
		wide := widen(b, vb, margin)
		img = renderPNG(t, rsvg, filepath.Join(dir, fmt.Sprintf("%d-wide.svg", i)), wide)
		inner := image.Rect(margin, margin, img.Bounds().Dx()-margin, img.Bounds().Dy()-margin)
		all, _ := ink(img, img.Bounds())
		if in, _ := ink(img, inner); all != in {
			t.Errorf("%s: %d pixels drawn outside the view box: clipped in the chart", path, all-in)
		}
	}
}

// widen makes an SVG's view box and size margin units larger on every
// side, its background left where it was.
func widen(b []byte, vb viewBox, margin float64) []byte {
	s := string(b)
	end := strings.Index(s, ">")
	root := s[:end]
	root = regexp.MustCompile(`viewBox="[^"]*"`).ReplaceAllString(root, fmt.Sprintf(`viewBox="%g %g %g %g"`, vb.x-margin, vb.y-margin, vb.w+2*margin, vb.h+2*margin))
	root = regexp.MustCompile(` width="[^"]*"`).ReplaceAllString(root, fmt.Sprintf(` width="%g"`, vb.w+2*margin))
	root = regexp.MustCompile(` height="[^"]*"`).ReplaceAllString(root, fmt.Sprintf(` height="%g"`, vb.h+2*margin))
	return []byte(root + s[end:])
}

func renderPNG(t *testing.T, rsvg, path string, svg []byte) image.Image {
	t.Helper()
	if err := os.WriteFile(path, svg, 0o644); err != nil {
		t.Fatal(err)
	}
	out := strings.TrimSuffix(path, ".svg") + ".png"
	if msg, err := exec.Command(rsvg, "-f", "png", "-o", out, path).CombinedOutput(); err != nil {
		t.Fatalf("rsvg-convert %s: %v: %s", path, err, msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	return img
}

// ink counts the pixels within r that are drawn (not transparent, not
// white), and how many colours they have (up to 64).
func ink(img image.Image, r image.Rectangle) (drawn, colours int) {
	seen := map[uint32]bool{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, ca := img.At(x, y).RGBA()
			if ca == 0 || cr > 0xf000 && cg > 0xf000 && cb > 0xf000 {
				continue
			}
			drawn++
			if len(seen) < 64 {
				seen[cr>>12<<8|cg>>12<<4|cb>>12] = true
			}
		}
	}
	return drawn, len(seen)
}
