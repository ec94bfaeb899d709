package report

import (
	"flag"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fileserver/filestressd/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/report/golden from the current output")

var fixedMachine = Machine{CPU: "Test CPU @ 2.0GHz", Cores: 2, MemoryBytes: 24 << 30, OS: "Debian GNU/Linux 12 (linux/amd64)", GoVersion: "go1.26.8", Date: "2026-11-23 10:05 UTC"}

// TestGolden renders testdata/report/matrix.csv, an old CSV with one
// sample a cell, and compares the report and every chart with the golden
// files. After a deliberate change, run go test ./filestressd/report
// -update and review the diff.
func TestGolden(t *testing.T) {
	rows := readFixture(t, "matrix.csv")
	files, err := Render(rows, Options{Source: "matrix.csv", Machine: fixedMachine, WallTime: 83 * time.Second})
	checkGolden(t, "golden", files, err)
}

// TestGoldenRepeats renders testdata/report/repeats.csv, committed-style:
// 3 repeats of 4 cells in both modes, interleaved, and a row of an older
// run that the newest run replaces.
func TestGoldenRepeats(t *testing.T) {
	rows := readFixture(t, "repeats.csv")
	files, err := Render(rows, Options{Source: "repeats.csv", Machine: fixedMachine, WallTime: 2 * time.Second, Performance: "performance.md"})
	checkGolden(t, "golden-repeats", files, err)
}

// TestGoldenRuns renders labelled runs side by side, as
// -run thread=repeats.csv -run process=repeats.csv -run student=student.csv
// -baseline thread: the student's server has no STATS, so its cells match
// the baseline's whatever its server workers.
func TestGoldenRuns(t *testing.T) {
	var runs []Side
	for _, arg := range []string{"thread=repeats.csv", "process=repeats.csv", "student=student.csv"} {
		spec, err := ParseRunSpec(arg)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, spec.Select(readFixture(t, spec.File), spec.File))
	}
	files, err := RenderRuns(runs, Options{Machine: fixedMachine, Baseline: "thread"})
	checkGolden(t, "golden-runs", files, err)
}

// TestGoldenServers renders two servers' matrices with both modes, as
// -server fileserverd=servers/fileserverd.csv -server student=servers/student.csv:
// thread versus process for each, the student's against fileserverd mode
// by mode, and both servers' CPU per MB and peak memory (reset before
// each window for fileserverd, since the start for the student's).
func TestGoldenServers(t *testing.T) {
	var ss []Server
	for _, label := range []string{"fileserverd", "student"} {
		name := "servers/" + label + ".csv"
		ss = append(ss, Server{Label: label, Source: name, Rows: readFixture(t, name)})
	}
	files, err := RenderServers(ss, Options{Machine: fixedMachine})
	checkGolden(t, "golden-servers", files, err)
	md := string(files["README.md"])
	for _, want := range []string{
		"## fileserverd: thread versus process", "## student: thread versus process",
		"## fileserverd versus student, thread mode", "## fileserverd versus student, process mode",
		"Peak memory was reset before each cell's window.", "Peak memory is since the server started",
		"| server peak memory (8) | 2.17× |", "![Server cost per mode and worker count](server-cost.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("the servers' report lacks %q", want)
		}
	}
	for _, name := range []string{"verdict-fileserverd-process-vs-fileserverd-thread.svg", "verdict-student-thread-vs-fileserverd-thread.svg"} {
		if files[name] == nil {
			t.Errorf("no %s", name)
		}
	}
}

// TestGoldenTimeline renders a real quick matrix, 8 clients against 2
// server workers in both modes, with the JSON lines filestressd -json
// wrote for it (testdata/report/timeline, from run_matrix.sh with
// SIZES=4MB CLIENTS=8 SERVERS=2 STRESS_FLAGS="-json ..."): a queue-wave
// timeline for each operation.
func TestGoldenTimeline(t *testing.T) {
	rows := readFixture(t, "timeline/matrix.csv")
	f, err := os.Open(filepath.Join("..", "..", "testdata", "report", "timeline", "matrix-workers.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ws, err := ReadWorkers(f, "matrix-workers.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(rows, Options{Source: "matrix.csv", Machine: fixedMachine, Workers: []Workers{ws}})
	checkGolden(t, "golden-timeline", files, err)
	md := string(files["README.md"])
	for _, want := range []string{"## Queue waves", "(timeline-download-4MB-8x2.svg)", "(timeline-upload-4MB-8x2.svg)",
		"From `matrix-workers.jsonl`, run 20261203T115928Z-166201358.", "served 2 at once"} {
		if !strings.Contains(md, want) {
			t.Errorf("the timeline report lacks %q", want)
		}
	}
}

func readFixture(t *testing.T, name string) []Row {
	t.Helper()
	rows, err := results.ReadFile(filepath.Join("..", "..", "testdata", "report", name))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// checkGolden compares rendered files with testdata/report/<dir>, or
// rewrites that directory with -update, and parses every chart as XML;
// err, the render's, must be nil.
func checkGolden(t *testing.T, dir string, files map[string][]byte, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	checkSVGs(t, files)
	checkProse(t, dir, string(files["README.md"]))
	golden := filepath.Join("..", "..", "testdata", "report", dir)
	if *update {
		os.RemoveAll(golden)
		if err := WriteDir(golden, files); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(golden)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, e := range entries {
		want = append(want, e.Name())
	}
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
		t.Fatalf("rendered files %v, golden files %v", got, want)
	}
	for name, got := range files {
		exp, err := os.ReadFile(filepath.Join(golden, name))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(exp) {
			t.Errorf("%s/%s differs from its golden file (run with -update after a deliberate change); got:\n%s", dir, name, got)
		}
	}
}

// TestReportContent checks what the report must say, independent of layout.
func TestReportContent(t *testing.T) {
	rows := readFixture(t, "matrix.csv")
	files, err := Render(rows, Options{Source: "matrix.csv", Machine: fixedMachine})
	if err != nil {
		t.Fatal(err)
	}
	md := string(files["README.md"])
	for _, want := range []string{
		"## Thread mode", "## Process mode", "# Stress matrix results\n\n**Verdict: no interval** (one sample a cell)",
		"| 4 | download | 10 MB | 5 | 1 | 0.075 | 133.3 | 307.7 | 4 / 1 | 4 / 1 | timeout=1 |", // a failed worker shows
		"| 10 | download | 10 MB | 5 | 1 | 0.070 | 142.9 | 416.7 | 5 / 0 | n/a |",              // no STATS
		"| 13 | upload | 10 MB | 1 | 1 |",                                                      // the re-run replaces row 7
		"Failed client workers | 1 |",
		"Matrix wall time | 1s (the sum of the cells' wall times)",
		"Test CPU @ 2.0GHz, 2 cores", "24.0 GiB", "go1.26.8",
		"![upload 10 MB: throughput per client and of the whole cell](throughput-upload-10MB.svg)",
		"![Verdict chart: process / thread in each cell; the ±5% band shaded](verdict.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "| 7 | upload") {
		t.Error("report shows row 7, which row 13 re-measured")
	}
	if len(files) != 4 || files["verdict.svg"] == nil {
		t.Errorf("%d files, want README.md, the verdict chart and 2 throughput charts", len(files))
	}
}

func TestJudge(t *testing.T) {
	mk := func(ratio float64) pair { return pair{ratio: ratio, lo: math.NaN(), hi: math.NaN()} }
	v := judge([]pair{mk(2), mk(0.5), mk(1.01), mk(math.NaN())}, 0)
	if v.cells != 3 || v.bandFaster != 1 || v.bandSlower != 1 || v.bandTies != 1 || v.withInterval != 0 {
		t.Errorf("judge = %+v", v)
	}
	if math.Abs(v.geomean-math.Cbrt(1.01)) > 1e-9 {
		t.Errorf("geomean = %v, want %v", v.geomean, math.Cbrt(1.01))
	}
	if v.best.ratio != 2 || v.worst.ratio != 0.5 {
		t.Errorf("best %v worst %v", v.best.ratio, v.worst.ratio)
	}
	if !math.IsNaN(v.lo) {
		t.Errorf("an overall interval %v-%v from cells without one", v.lo, v.hi)
	}
}

func TestNiceScale(t *testing.T) {
	for _, tc := range []struct{ v, top, step float64 }{
		{0, 1, 0.2}, {523, 600, 100}, {95, 100, 20}, {1234, 1250, 250}, {4.2, 5, 1}, {60, 60, 10},
	} {
		top, step := niceScale(tc.v)
		if math.Abs(top-tc.top) > 1e-9 || math.Abs(step-tc.step) > 1e-9 {
			t.Errorf("niceScale(%v) = %v, %v; want %v, %v", tc.v, top, step, tc.top, tc.step)
		}
	}
}

// TestReportCPU checks the CPU per MB in the mode tables (per MB the cell
// moved: client workers x volume), "not recorded" where a row has none,
// and the server's CPU per MB compared between the modes.
func TestReportCPU(t *testing.T) {
	row := func(no int, mode string, clients int, serverCPU, clientCPU float64) Row {
		return Row{No: no, Operation: "upload", Volume: "10MB", VolumeBytes: 10 * mb, ClientWorkers: clients, ClientPool: "thread",
			ServerWorkers: 5, ServerMode: mode, TimePerClient: 0.1, ThroughputPerClient: 100 * mb, ClientOK: clients,
			ServerOK: clients, Wall: 0.1, Aggregate: 100 * mb, ServerCPU: serverCPU, ClientCPU: clientCPU, ServerPeakRSS: -1}
	}
	rows := []Row{
		row(1, "thread", 5, 0.1, 0.02),   // 50 MB: 2.00 and 0.40 ms/MB
		row(2, "thread", 1, 0.03, 0.005), // 10 MB: 3.00 and 0.50 ms/MB
		row(3, "process", 5, 0.15, 0.02), // 3.00 ms/MB, 1.50x thread
		row(4, "process", 1, -1, 0.004),  // a server without cpu_us
	}
	files, err := Render(rows, Options{Source: "m.csv", Machine: fixedMachine})
	if err != nil {
		t.Fatal(err)
	}
	md := string(files["README.md"])
	for _, want := range []string{
		"| Server CPU (ms/MB) | Client CPU (ms/MB) |",
		"| 1 | upload | 10 MB | 5 | 5 | 0.100 | 100.0 | 100.0 | 5 / 0 | 5 / 0 | 2.00 | 0.40 |",
		"| 2 | upload | 10 MB | 1 | 5 | 0.100 | 100.0 | 100.0 | 1 / 0 | 1 / 0 | 3.00 | 0.50 |",
		"| 4 | upload | 10 MB | 1 | 5 | 0.100 | 100.0 | 100.0 | 1 / 0 | 1 / 0 | not recorded | 0.40 |",
		"CPU was not recorded for 1 of these cells.",
		"### Server cost, thread versus process",
		"1 cell measured in both modes is left out",
		"| upload | 10 MB | 5 | 5 | 2.00 | 3.00 | 1.50 |",
		"| server CPU per MB (1) | 1.50× |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| 0.00 |") {
		t.Errorf("a CPU figure shows as zero:\n%s", md)
	}
}

// TestSamples checks which rows make a cell's sample: the newest run's,
// the newest row of each repeat; in an old CSV, the newest row.
func TestSamples(t *testing.T) {
	row := func(no, clients, repeat int, runID string, mbps float64) Row {
		return Row{No: no, Operation: "upload", VolumeBytes: 10 * mb, ClientWorkers: clients, ServerWorkers: 1, ServerMode: "thread",
			ThroughputPerClient: mbps * mb, Repeat: repeat, RunID: runID}
	}
	rows := []Row{
		row(1, 1, 1, "r1", 100), // an older run of the cell
		row(2, 5, 1, "", 50),    // an old CSV's row, re-measured by row 8
		row(5, 1, 1, "r2", 200),
		row(6, 1, 2, "r2", 210),
		row(7, 1, 3, "r2", 190),
		row(8, 5, 1, "", 60),
		row(9, 1, 2, "r2", 220), // repeat 2 re-measured
		row(10, 1, 4, "r2", 0),  // no worker succeeded: a repeat without a throughput
	}
	ss := samples("thread", rows)
	if len(ss) != 2 {
		t.Fatalf("%d samples, want 2", len(ss))
	}
	var nos []int
	for _, r := range ss[0].rows {
		nos = append(nos, r.No)
	}
	if ss[0].k.clients != 1 || !slices.Equal(nos, []int{5, 9, 7, 10}) {
		t.Errorf("cell 1: rows %v, want 5, 9, 7, 10", nos)
	}
	if want := []float64{200 * mb, 220 * mb, 190 * mb}; !slices.Equal(ss[0].tput, want) || ss[0].median() != 200*mb {
		t.Errorf("cell 1: throughputs %v, median %v", ss[0].tput, ss[0].median())
	}
	if len(ss[1].rows) != 1 || ss[1].rows[0].No != 8 {
		t.Errorf("cell 2: rows %+v, want row 8 alone", ss[1].rows)
	}
	// A/A: repeat 1 over repeat 2 in the one cell measured twice.
	if aa := aaOf(ss); aa.cells != 1 || !near(aa.geomean, 200.0/220) || !near(aa.floor(), 1-200.0/220) {
		t.Errorf("A/A %+v", aa)
	}
}
