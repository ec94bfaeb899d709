package report

import (
	"math"
	"strings"
	"testing"
)

// cellRows makes one row per throughput (MB/s), repeats 1, 2, ... of one
// upload cell of 10 MB.
func cellRows(mode string, clients, servers int, mbps ...float64) []Row {
	var rows []Row
	for i, v := range mbps {
		rows = append(rows, Row{No: i + 1, Operation: "upload", Volume: "10MB", VolumeBytes: 10 * mb, ClientWorkers: clients, ClientPool: "thread",
			ServerWorkers: servers, ServerMode: mode, TimePerClient: 10 / v, ThroughputPerClient: v * mb, ClientOK: clients,
			ServerOK: -1, ServerFail: -1, Wall: 10 / v, Aggregate: v * mb * float64(clients), ServerCPU: -1, ClientCPU: -1, ServerPeakRSS: -1, Repeat: i + 1, RunID: "r"})
	}
	return rows
}

func concat(parts ...[]Row) []Row {
	var out []Row
	for _, p := range parts {
		out = append(out, p...)
	}
	for i := range out {
		out[i].No = i + 1
	}
	return out
}

func TestPairClass(t *testing.T) {
	for _, tc := range []struct {
		ratio, lo, hi, floor float64
		want                 decision
	}{
		{1.10, math.NaN(), math.NaN(), 0, 1}, // no interval: the ±5% band
		{1.04, math.NaN(), math.NaN(), 0, 0},
		{0.90, math.NaN(), math.NaN(), 0.2, -1}, // the band ignores the floor
		{1.10, 1.02, 1.20, 0.02, 1},
		{1.10, 0.98, 1.20, 0, 0}, // the interval includes 1
		{0.90, 0.85, 0.95, 0.02, -1},
		{1.03, 1.01, 1.05, 0.04, 0}, // excludes 1, but within the noise floor
		{math.NaN(), 1, 1, 0, 0},
	} {
		p := pair{ratio: tc.ratio, lo: tc.lo, hi: tc.hi}
		if got := p.class(tc.floor); got != tc.want {
			t.Errorf("class(%+v, floor %v) = %d, want %d", p, tc.floor, got, tc.want)
		}
	}
}

// TestJudgeInterval checks that one cell's overall interval is the cell's
// own (the geometric mean of one ratio is the ratio, draw by draw), and
// that with 3 repeats a side the interval is the ranges' ratio.
func TestJudgeInterval(t *testing.T) {
	base := newSide(Side{Label: "thread", Mode: "thread", Rows: cellRows("thread", 1, 1, 200, 210, 190)}, modesOfOneCSV, "")
	other := newSide(Side{Label: "process", Mode: "process", Rows: cellRows("process", 1, 1, 230, 240, 225)}, modesOfOneCSV, "")
	c := compare(base, other)
	if len(c.pairs) != 1 {
		t.Fatalf("%d pairs", len(c.pairs))
	}
	p := c.pairs[0]
	if !near(p.ratio, 230.0/200) || !near(p.lo, 225.0/210) || !near(p.hi, 240.0/190) {
		t.Errorf("pair ratio %v, interval %v-%v; want 1.15, 225/210-240/190", p.ratio, p.lo, p.hi)
	}
	v := judge(c.pairs, 0)
	if v.withInterval != 1 || v.faster != 1 || !near(v.geomean, p.ratio) || !near(v.lo, p.lo) || !near(v.hi, p.hi) || v.overall(0) != 1 {
		t.Errorf("judge = %+v", v)
	}
	if v.overall(0.2) != 0 {
		t.Error("a 15% difference declared under a 20% noise floor")
	}
}

// TestWildcardServers compares a server without STATS (workers unknown)
// with each of the baseline's server worker counts.
func TestWildcardServers(t *testing.T) {
	base := newSide(Side{Label: "thread", Rows: concat(cellRows("thread", 1, 1, 100), cellRows("thread", 1, 5, 120), cellRows("thread", 5, 5, 50))}, labelledRuns, "")
	other := newSide(Side{Label: "student", Rows: cellRows("", 1, 0, 90)}, labelledRuns, "")
	c := compare(base, other)
	if len(c.pairs) != 2 {
		t.Fatalf("%d pairs, want the 1-client cell against 1 and 5 server workers", len(c.pairs))
	}
	for i, want := range []struct {
		servers int
		ratio   float64
	}{{1, 0.9}, {5, 0.75}} {
		if p := c.pairs[i]; p.k.servers != want.servers || !near(p.ratio, want.ratio) {
			t.Errorf("pair %d: %+v, want %d server workers, ratio %v", i, p.k, want.servers, want.ratio)
		}
	}
}

// withRunID sets every row's run_id: rows with different ones were
// measured apart, not interleaved.
func withRunID(rows []Row, id string) []Row {
	for i := range rows {
		rows[i].RunID = id
	}
	return rows
}

// TestNoiseFloorTooHigh: when a run's repeats differ by 10% from each
// other, the report says so and declares no winner, however the cells'
// intervals fall. Measured interleaved, the floor is the comparison's own
// A/A check: (120/100)/(121/110) = 1.091 and (60/50)/(61/55) = 1.082,
// geometric mean 1.086. Measured apart, it is the larger of the runs' own
// floors: thread's 100/110 and 50/55, 0.909.
func TestNoiseFloorTooHigh(t *testing.T) {
	for _, tc := range []struct {
		name, processRunID string
		want               []string
	}{
		{"interleaved", "r", []string{
			"**Verdict: no winner declared.** The machine's noise floor is 8.6%: differences below it are not declared",
			"| process / thread, measured interleaved: the floor, 8.6% | 2 | 1.086× | 1.08–1.09 |",
			"| thread mode: the machine's drift | 2 | 0.909× | 0.91–0.91 |",
			"| process mode: the machine's drift | 2 | 0.988× | 0.98–0.99 |",
		}},
		{"apart", "other", []string{
			"**Verdict: no winner declared.** The machine's noise floor is 9.1%: differences below it are not declared",
			"| thread mode: the floor, 9.1% | 2 | 0.909× | 0.91–0.91 |",
			"| process mode | 2 | 0.988× | 0.98–0.99 |",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			testNoiseFloorTooHigh(t, tc.processRunID, tc.want)
		})
	}
}

func testNoiseFloorTooHigh(t *testing.T, processRunID string, wants []string) {
	rows := concat(
		cellRows("thread", 1, 1, 100, 110, 105), cellRows("thread", 5, 1, 50, 55, 52),
		withRunID(cellRows("process", 1, 1, 120, 121, 122), processRunID), withRunID(cellRows("process", 5, 1, 60, 61, 62), processRunID),
	)
	files, err := Render(rows, Options{Source: "m.csv", Machine: fixedMachine})
	if err != nil {
		t.Fatal(err)
	}
	md := string(files["README.md"])
	for _, want := range append(wants,
		"| all (2) | 1.16× | 1.10–1.22 | 2 | 0 | 0 |", // 1.15× and 1.17×: beyond 9.1%
		"| upload | 10 MB | 1 | 1 | 105.0 (100.0–110.0) | 121.0 (120.0–122.0) | 1.15 | 1.09–1.22 | process faster |",
		"- **The A/A noise floor** is the comparison made between two repeats of the same thing.",
	) {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "**Verdict: process mode is faster**") {
		t.Error("a winner declared above the noise floor")
	}
}

// TestInterleavedFloorCancelsDrift: both modes 10% slower in the second
// repeat, measured interleaved. Each run's own A/A check is 1.111, but
// the drift hit both alike: the comparison's A/A check is 1.000, so the
// 20% difference is declared. Measured apart, the same numbers declare
// nothing, since the drift could have landed on one run only.
func TestInterleavedFloorCancelsDrift(t *testing.T) {
	for _, tc := range []struct {
		processRunID, want string
	}{
		{"r", "**Verdict: process mode is faster** than thread mode: process / thread 1.20×"},
		{"other", "**Verdict: no winner declared.** The machine's noise floor is 11.1%"},
	} {
		rows := concat(
			cellRows("thread", 1, 1, 100, 90), cellRows("thread", 5, 1, 50, 45),
			withRunID(cellRows("process", 1, 1, 120, 108), tc.processRunID), withRunID(cellRows("process", 5, 1, 60, 54), tc.processRunID),
		)
		files, err := Render(rows, Options{Source: "m.csv", Machine: fixedMachine})
		if err != nil {
			t.Fatal(err)
		}
		if md := string(files["README.md"]); !strings.Contains(md, tc.want) {
			t.Errorf("process run_id %q: report lacks %q:\n%s", tc.processRunID, tc.want, md)
		}
	}
}

// TestSingleSampleNote: a CSV without repeats says its ratios carry no
// interval, and says nothing of intervals, repeats or floors besides.
func TestSingleSampleNote(t *testing.T) {
	rows := concat(cellRows("thread", 1, 1, 100), cellRows("process", 1, 1, 120))
	files, err := Render(rows, Options{Source: "m.csv", Machine: fixedMachine})
	if err != nil {
		t.Fatal(err)
	}
	md := string(files["README.md"])
	if !strings.Contains(md, "**Verdict: no interval** (one sample a cell): process / thread 1.20× (geometric mean of 1 cell); thread mode is faster by more than 5% in 0 cells, process mode in 1, and 0 are within ±5%.") ||
		!strings.Contains(md, "No cell has more than one sample in both modes, so no ratio has a 95% interval and there is no A/A noise floor") {
		t.Errorf("no single-sample note:\n%s", md)
	}
	if strings.Contains(md, "**Ratios.**") || strings.Contains(md, "95% interval |") || strings.Contains(md, "| Repeats |") || strings.Contains(md, "A/A check") {
		t.Errorf("a single-sample report speaks of intervals or repeats:\n%s", md)
	}
}

func TestParseRunSpec(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want RunSpec
	}{
		{"thread=a.csv", RunSpec{"thread", "a.csv", ""}},
		{"fs=results/m.csv:process", RunSpec{"fs", "results/m.csv", "process"}},
		{"student=b.csv:none", RunSpec{"student", "b.csv", "none"}},
		{"x=/tmp/a:b/m.csv", RunSpec{"x", "/tmp/a:b/m.csv", ""}}, // a colon in the path
		{"x=m.csv:", RunSpec{"x", "m.csv:", ""}},
		{"lab vm=m.csv", RunSpec{"lab vm", "m.csv", ""}},
	} {
		got, err := ParseRunSpec(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseRunSpec(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"a.csv", "=a.csv", "x=", "x=:thread", "a|b=m.csv"} {
		if _, err := ParseRunSpec(bad); err == nil {
			t.Errorf("ParseRunSpec(%q) succeeded", bad)
		}
	}
}

func TestRunSpecSelect(t *testing.T) {
	both := concat(cellRows("thread", 1, 1, 100, 101), cellRows("process", 1, 1, 110))
	noStats := concat(cellRows("", 1, 0, 90), cellRows("thread", 1, 1, 95))
	for _, tc := range []struct {
		spec string
		rows []Row
		mode string
		n    int
	}{
		{"thread=m.csv", both, "thread", 2},         // the label names a mode of the file
		{"process=m.csv", both, "process", 1},       //
		{"fs=m.csv:thread", both, "thread", 2},      // an explicit mode
		{"fs=m.csv", both, "", 3},                   // all rows (RenderRuns refuses the mix)
		{"student=m.csv:none", noStats, "none", 1},  // rows without a mode
		{"student=m.csv", noStats[:1], "", 1},       // all rows
		{"fs=m.csv:process", noStats, "process", 0}, // none: RenderRuns says so
	} {
		spec, err := ParseRunSpec(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		r := spec.Select(tc.rows, "m.csv")
		if r.Label != spec.Label || r.Mode != tc.mode || len(r.Rows) != tc.n || r.Source != "m.csv" {
			t.Errorf("%s: %+v; want mode %q and %d rows", tc.spec, r, tc.mode, tc.n)
		}
	}
}

func TestRenderRunsErrors(t *testing.T) {
	thread := cellRows("thread", 1, 1, 100)
	both := concat(cellRows("thread", 1, 1, 100), cellRows("process", 1, 1, 110))
	for _, tc := range []struct {
		runs     []Side
		baseline string
		want     string
	}{
		{nil, "", "no runs"},
		{[]Side{{Label: "a", Source: "m.csv", Rows: thread}, {Label: "a", Source: "n.csv", Rows: thread}}, "", `two runs labelled "a"`},
		{[]Side{{Label: "a", Source: "m.csv", Rows: both}}, "", "several server modes (thread, process); select one, e.g. a=m.csv:thread"},
		{[]Side{{Label: "a", Source: "m.csv", Mode: "process"}}, "", `no rows of server mode "process"`},
		{[]Side{{Label: "a", Source: "m.csv", Rows: thread}}, "b", `baseline "b" is none of the runs (a)`},
	} {
		if _, err := RenderRuns(tc.runs, Options{Baseline: tc.baseline}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RenderRuns(%+v): %v, want %q", tc.runs, err, tc.want)
		}
	}
	if _, err := Render(both, Options{Baseline: "student"}); err == nil || !strings.Contains(err.Error(), `baseline "student"`) {
		t.Errorf("Render with an unknown baseline: %v", err)
	}
}

// TestRangeOdds checks what the report says small samples' intervals
// amount to: the ranges' ratio, and the chance that two identical setups'
// ranges do not overlap, 2 in C(n+m, n).
func TestRangeOdds(t *testing.T) {
	mk := func(n, m int) pair {
		return pair{base: &sample{tput: make([]float64, n)}, other: &sample{tput: make([]float64, m)}}
	}
	for _, tc := range []struct {
		ps    []pair
		sizes string
		odds  int
		ok    bool
	}{
		{[]pair{mk(2, 2)}, "2", 3, true},  // C(4,2) = 6
		{[]pair{mk(3, 3)}, "3", 10, true}, // C(6,3) = 20
		{[]pair{mk(3, 3), mk(2, 3)}, "2 or 3", 5, true},
		{[]pair{mk(3, 3), mk(4, 3)}, "", 0, false},
		{nil, "3", math.MaxInt, false},
	} {
		sizes, odds, ok := rangeOdds(tc.ps)
		if ok != tc.ok || (ok && (sizes != tc.sizes || odds != tc.odds)) {
			t.Errorf("rangeOdds(%d pairs) = %q, %d, %v; want %q, %d, %v", len(tc.ps), sizes, odds, ok, tc.sizes, tc.odds, tc.ok)
		}
	}
	// With 2 a side the bootstrap interval is indeed the ranges' ratio.
	lo, hi := ratioInterval(bootMedians([]float64{95, 99}, 5, bootstrapResamples), bootMedians([]float64{100, 104}, 6, bootstrapResamples))
	if !near(lo, 95.0/104) || !near(hi, 99.0/100) {
		t.Errorf("2 against 2: %v-%v, want 95/104-99/100", lo, hi)
	}
}

func TestParseServerSpec(t *testing.T) {
	got, err := ParseServerSpec("student=/tmp/a=b.csv")
	if err != nil || got != (ServerSpec{"student", "/tmp/a=b.csv"}) {
		t.Errorf("ParseServerSpec = %+v, %v", got, err)
	}
	for _, bad := range []string{"m.csv", "=m.csv", "x=", "a|b=m.csv", "a\nb=m.csv"} {
		if _, err := ParseServerSpec(bad); err == nil {
			t.Errorf("ParseServerSpec(%q) succeeded", bad)
		}
	}
}

// TestRenderServers checks which comparisons -server makes: thread versus
// process for each server with both modes, and each other server against
// the baseline mode by mode; a server whose rows have no mode is
// compared with each of the baseline's modes.
func TestRenderServers(t *testing.T) {
	both := concat(cellRows("thread", 1, 1, 100, 101), cellRows("process", 1, 1, 110, 111))
	for _, tc := range []struct {
		servers  []Server
		baseline string
		want     []string // "base / other" of each comparison
	}{
		{[]Server{{Label: "a", Rows: both}}, "", []string{"a thread / a process"}},
		{[]Server{{Label: "a", Rows: both}, {Label: "b", Rows: both}}, "", []string{"a thread / a process", "b thread / b process", "a thread / b thread", "a process / b process"}},
		{[]Server{{Label: "a", Rows: both}, {Label: "b", Rows: both}}, "b", []string{"a thread / a process", "b thread / b process", "b thread / a thread", "b process / a process"}},
		{[]Server{{Label: "a", Rows: both}, {Label: "c", Rows: cellRows("", 1, 0, 90, 91)}}, "", []string{"a thread / a process", "a thread / c", "a process / c"}},
	} {
		files, err := RenderServers(tc.servers, Options{Machine: fixedMachine, Baseline: tc.baseline})
		if err != nil {
			t.Fatal(err)
		}
		md := string(files["README.md"])
		var got []string
		for _, line := range strings.Split(md, "\n") {
			if strings.HasPrefix(line, "| Operation | Volume | Client workers | Server workers | ") && strings.HasSuffix(line, " | 95% interval | Verdict |") {
				cols := strings.Split(line, " | ")
				got = append(got, cols[4]+" / "+cols[5])
			}
		}
		if strings.Join(got, ", ") != strings.Join(tc.want, ", ") {
			t.Errorf("servers %v, baseline %q: comparisons %q, want %q", len(tc.servers), tc.baseline, got, tc.want)
		}
	}
	for _, tc := range []struct {
		servers  []Server
		baseline string
		want     string
	}{
		{nil, "", "no servers"},
		{[]Server{{Label: "a", Source: "m.csv", Rows: both}, {Label: "a", Source: "n.csv", Rows: both}}, "", `two servers labelled "a"`},
		{[]Server{{Label: "a", Source: "m.csv"}}, "", "server a: m.csv has no rows"},
		{[]Server{{Label: "a", Source: "m.csv", Rows: both}}, "z", `baseline "z" is none of the servers (a)`},
	} {
		if _, err := RenderServers(tc.servers, Options{Baseline: tc.baseline}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("RenderServers: %v, want %q", err, tc.want)
		}
	}
}
