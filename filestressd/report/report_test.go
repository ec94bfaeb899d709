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
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/report/golden from the current output")

var fixedMachine = Machine{CPU: "Test CPU @ 2.0GHz", Cores: 2, MemoryBytes: 24 << 30, OS: "Debian GNU/Linux 12 (linux/amd64)", GoVersion: "go1.26.8", Date: "2026-11-23 10:05 UTC"}

// TestGolden renders testdata/report/matrix.csv and compares the report
// and every chart with the golden files. After a deliberate change, run
// go test ./filestressd/report -update and review the diff.
func TestGolden(t *testing.T) {
	dir := filepath.Join("..", "..", "testdata", "report")
	f, err := os.Open(filepath.Join(dir, "matrix.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadRows(f)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(rows, Options{Source: "matrix.csv", Machine: fixedMachine, WallTime: 83 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join(dir, "golden")
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
			t.Errorf("%s differs from its golden file (run with -update after a deliberate change); got:\n%s", name, got)
		}
	}
}

// TestReportContent checks what the report must say, independent of layout.
func TestReportContent(t *testing.T) {
	f, err := os.Open(filepath.Join("..", "..", "testdata", "report", "matrix.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := ReadRows(f)
	if err != nil {
		t.Fatal(err)
	}
	files, err := Render(rows, Options{Source: "matrix.csv", Machine: fixedMachine})
	if err != nil {
		t.Fatal(err)
	}
	md := string(files["README.md"])
	for _, want := range []string{
		"## Thread mode", "## Process mode", "## Verdict: thread versus process",
		"| 4 | download | 10 MB | 5 | 1 | 0.075 | 133.3 | 4 / 1 | 4 / 1 |", // a failed worker shows
		"| 10 | download | 10 MB | 5 | 1 | 0.070 | 142.9 | 5 / 0 | n/a |",  // no STATS
		"| 13 | upload | 10 MB | 1 | 1 |",                                  // the re-run replaces row 7
		"Failed client workers | 1 |",
		"Matrix wall time | 1s (the sum of the cells' wall times)",
		"Test CPU @ 2.0GHz, 2 cores", "24.0 GiB", "go1.26.8",
		"![upload 10 MB: throughput per client](chart-upload-10MB.svg)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(md, "| 7 | upload") {
		t.Error("report shows row 7, which row 13 re-measured")
	}
	if len(files) != 3 {
		t.Errorf("%d files, want README.md and 2 charts", len(files))
	}
}

func TestJudge(t *testing.T) {
	mk := func(ratio float64) pair { return pair{ratio: ratio} }
	v := judge([]pair{mk(2), mk(0.5), mk(1.01), mk(math.NaN())})
	if v.cells != 3 || v.processWins != 1 || v.threadWins != 1 || v.ties != 1 {
		t.Errorf("judge = %+v", v)
	}
	if math.Abs(v.geomean-math.Cbrt(1.01)) > 1e-9 {
		t.Errorf("geomean = %v, want %v", v.geomean, math.Cbrt(1.01))
	}
	if v.best.ratio != 2 || v.worst.ratio != 0.5 {
		t.Errorf("best %v worst %v", v.best.ratio, v.worst.ratio)
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

func TestReadRowsErrors(t *testing.T) {
	for _, in := range []string{
		"",
		"a,b,c\n1,2,3\n",
		"no,operation,volume_bytes,client_workers,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail\n1,upload,x,1,1,thread,1,1,1,0\n",
	} {
		if _, err := ReadRows(strings.NewReader(in)); err == nil {
			t.Errorf("ReadRows(%q) succeeded", in)
		}
	}
}

// TestReadRowsVerified reads the verified column, and old CSVs without it.
func TestReadRowsVerified(t *testing.T) {
	const head = "no,operation,volume_bytes,client_workers,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail"
	for _, tc := range []struct{ csv, want string }{
		{head + "\n1,upload,1,1,,,1,1,1,0\n", ""},
		{head + ",verified\n1,upload,1,1,,,1,1,1,0,readback\n", "readback"},
	} {
		rows, err := ReadRows(strings.NewReader(tc.csv))
		if err != nil || len(rows) != 1 || rows[0].Verified != tc.want || rows[0].ServerWorkers != 0 {
			t.Errorf("ReadRows(%q) = %+v, %v; want one row verified %q", tc.csv, rows, err, tc.want)
		}
	}
}
