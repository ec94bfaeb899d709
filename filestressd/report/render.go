package report

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// mb is the report's megabyte, as in the course's reports; mib is memory's.
const (
	mb  = 1 << 20
	mib = 1 << 20
)

// Options are what the report says besides the rows.
type Options struct {
	Source  string // the CSV's name, as the default report cites it
	Machine Machine
	// WallTime is the whole matrix's wall time as its runner measured it;
	// zero means the sum of the cells' wall times.
	WallTime time.Duration
	// Performance is the path, relative to the report, of the Markdown of
	// benchmarks measured apart from the matrix (performance.md), which
	// the report links to; empty for none.
	Performance string
	// Baseline is the label of the side (a mode, -run or -server) every
	// other is compared with: by default thread in Render, the first run
	// in RenderRuns, the first server in RenderServers.
	Baseline string
	// Notes are more lines of the "Machine and run" table, each a name
	// and its text (report -note NAME=TEXT): run_matrix.sh LAB=1 names the
	// network profile and the hosts.
	Notes [][2]string
	// Workers are per-worker JSON lines (-json), for the queue-wave
	// timelines; Timelines the cells to draw, by default the largest
	// cells of each file.
	Workers   []Workers
	Timelines []CellSpec
}

// reportKind is what the report puts side by side.
type reportKind int

const (
	modesOfOneCSV reportKind = iota // Render: the server modes of one CSV
	labelledRuns                    // RenderRuns: -run
	servers                         // RenderServers: -server
)

// report is what Render, RenderRuns and RenderServers have gathered to
// write.
type report struct {
	kind  reportKind
	sides []*side
	comps []*comparison
	sums  []summary
	opt   Options
	files map[string][]byte // the charts drawn, by file name
}

// Render builds the default report of one CSV, each server mode a side and
// every mode compared with thread mode (or opt.Baseline): README.md and
// the charts it shows, by file name.
func Render(all []Row, opt Options) (map[string][]byte, error) {
	if len(all) == 0 {
		return nil, fmt.Errorf("no rows to report")
	}
	all = MergeHosts(all)
	rep := &report{opt: opt, kind: modesOfOneCSV}
	for _, mode := range modes(all) {
		rep.add(newSide(Side{Label: mode, Source: opt.Source, Mode: mode, Rows: rowsOf(all, mode)}, modesOfOneCSV, ""))
	}
	base := rep.labelled(or(opt.Baseline, "thread"))
	if base == nil && opt.Baseline != "" {
		return nil, fmt.Errorf("baseline %q: the CSV has no rows of that server mode (it has %s)", opt.Baseline, rep.labels())
	}
	return rep.compareTo(base, func(r *side) bool { return r.Mode != "" })
}

// compareTo compares base with each other side that want keeps, and
// renders the report; with no base, it compares nothing.
func (rep *report) compareTo(base *side, want func(*side) bool) (map[string][]byte, error) {
	for _, r := range rep.sides {
		if base != nil && r != base && want(r) {
			rep.comps = append(rep.comps, compare(base, r))
		}
	}
	return rep.render()
}

// RenderRuns builds a report of labelled runs side by side, each compared
// with the baseline (opt.Baseline, or the first run).
func RenderRuns(runs []Side, opt Options) (map[string][]byte, error) {
	if len(runs) == 0 {
		return nil, fmt.Errorf("no runs to report")
	}
	rep := &report{opt: opt, kind: labelledRuns}
	for _, r := range runs {
		r.Rows = MergeHosts(r.Rows)
		switch {
		case r.Label == "":
			return nil, fmt.Errorf("a run without a label (%s)", r.Source)
		case rep.labelled(r.Label) != nil:
			return nil, fmt.Errorf("two runs labelled %q", r.Label)
		case len(r.Rows) == 0 && r.Mode != "":
			return nil, fmt.Errorf("run %s: %s has no rows of server mode %q", r.Label, r.Source, r.Mode)
		case len(r.Rows) == 0:
			return nil, fmt.Errorf("run %s: %s has no rows", r.Label, r.Source)
		}
		if ms := modes(r.Rows); len(ms) > 1 {
			return nil, fmt.Errorf("run %s: %s holds rows of several server modes (%s); select one, e.g. %s=%s:%s", r.Label, r.Source, modeList(ms), r.Label, r.Source, or(ms[0], "none"))
		}
		rep.add(newSide(r, labelledRuns, ""))
	}
	base := rep.sides[0]
	if opt.Baseline != "" {
		if base = rep.labelled(opt.Baseline); base == nil {
			return nil, fmt.Errorf("baseline %q is none of the runs (%s)", opt.Baseline, rep.labels())
		}
	}
	return rep.compareTo(base, func(*side) bool { return true })
}

// RenderServers builds the report of several servers' matrices, each
// with both modes (-server): thread versus process for each server, then
// each server against the baseline server (opt.Baseline, or the first),
// mode by mode, cell by cell.
func RenderServers(ss []Server, opt Options) (map[string][]byte, error) {
	if len(ss) == 0 {
		return nil, fmt.Errorf("no servers to report")
	}
	rep := &report{opt: opt, kind: servers}
	byServer := map[string][]*side{}
	for _, s := range ss {
		switch {
		case s.Label == "":
			return nil, fmt.Errorf("a server without a label (%s)", s.Source)
		case byServer[s.Label] != nil:
			return nil, fmt.Errorf("two servers labelled %q", s.Label)
		case len(s.Rows) == 0:
			return nil, fmt.Errorf("server %s: %s has no rows", s.Label, s.Source)
		}
		rows := MergeHosts(s.Rows)
		for _, mode := range modes(rows) {
			label := s.Label
			if mode != "" {
				label += " " + mode
			}
			r := newSide(Side{Label: label, Source: s.Source, Mode: mode, Rows: rowsOf(rows, mode)}, servers, s.Label)
			rep.add(r)
			byServer[s.Label] = append(byServer[s.Label], r)
		}
	}
	baseLabel := ss[0].Label
	if opt.Baseline != "" {
		if byServer[opt.Baseline] == nil {
			var labels []string
			for _, s := range ss {
				labels = append(labels, s.Label)
			}
			return nil, fmt.Errorf("baseline %q is none of the servers (%s)", opt.Baseline, strings.Join(labels, ", "))
		}
		baseLabel = opt.Baseline
	}
	for _, s := range ss {
		rs := byServer[s.Label]
		if len(rs) == 2 && rs[0].Mode == "thread" && rs[1].Mode == "process" {
			rep.comps = append(rep.comps, compare(rs[0], rs[1]))
		}
	}
	for _, s := range ss {
		if s.Label == baseLabel {
			continue
		}
		for _, o := range byServer[s.Label] {
			for _, b := range byServer[baseLabel] {
				if o.Mode == b.Mode || o.Mode == "" {
					rep.comps = append(rep.comps, compare(b, o))
				}
			}
		}
	}
	return rep.render()
}

// add puts a side in the report, with the next colour of the palette.
func (rep *report) add(r *side) {
	r.color = sidePalette[len(rep.sides)%len(sidePalette)]
	rep.sides = append(rep.sides, r)
}

func newSide(r Side, kind reportKind, server string) *side {
	out := &side{Side: r, server: server, samples: samples(r.Label, r.Rows), heading: md(r.Label)}
	if kind == modesOfOneCSV {
		out.heading = capital(out.heading)
	}
	out.aa = aaOf(out.samples)
	what := "all rows of " + code(r.Source)
	if r.Mode != "" {
		what = "rows of server mode " + md(r.Mode) + " in " + code(r.Source)
	}
	switch {
	case kind == servers && r.Mode != "":
		out.name = md(server) + " in " + md(r.Mode) + " mode"
		out.title = md(server) + ", " + md(r.Mode) + " mode: " + what
	case kind == servers:
		out.name = md(server)
		out.title = md(server) + ": " + what
	case kind == labelledRuns:
		out.name = "run " + md(r.Label)
		out.title = "Run " + md(r.Label) + ": " + what
	case r.Mode == "":
		out.name = "the server without STATS"
		out.title = "Server without STATS (mode and workers unknown)"
	default:
		out.name = md(r.Mode) + " mode"
		out.title = map[string]string{
			"thread":  "Thread mode: the server's workers are goroutines",
			"process": "Process mode: the server's workers are child processes",
		}[r.Mode]
		if out.title == "" {
			out.title = "Mode " + md(r.Mode)
		}
	}
	return out
}

func (rep *report) labelled(label string) *side {
	for _, r := range rep.sides {
		if r.Label == label {
			return r
		}
	}
	return nil
}

func (rep *report) labels() string {
	var ls []string
	for _, r := range rep.sides {
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
	for _, r := range rep.sides {
		for _, s := range r.samples {
			rows = append(rows, s.rows...)
		}
	}
	return rows
}

// repeated says whether any cell of the report has more than one sample.
func (rep *report) repeated() bool {
	return slices.ContainsFunc(rep.sides, (*side).repeated)
}

// both is how the report says "measured in both": modes or sides.
func (rep *report) both() string {
	if rep.kind == modesOfOneCSV {
		return "modes"
	}
	return "runs"
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

// chartPatterns are the names of the charts the report draws, and drew
// before (chart-*.svg): files of these names in a report's directory are
// the report's own.
var chartPatterns = []string{"verdict*.svg", "throughput-*.svg", "server-cost.svg", "timeline-*.svg", "chart-*.svg"}

// RemoveStale removes the report's charts in dir that files no longer
// holds (a cell or a comparison gone, a chart renamed), and returns their
// names. Other files are left alone.
func RemoveStale(dir string, files map[string][]byte) ([]string, error) {
	var removed []string
	for _, pat := range chartPatterns {
		names, err := filepath.Glob(filepath.Join(dir, pat))
		if err != nil {
			return removed, err
		}
		for _, path := range names {
			name := filepath.Base(path)
			if _, ok := files[name]; ok || slices.Contains(removed, name) {
				continue
			}
			if err := os.Remove(path); err != nil {
				return removed, err
			}
			removed = append(removed, name)
		}
	}
	return removed, nil
}
