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

// TestReadRowsCPU reads the CPU columns: seconds when recorded, -1 when
// empty (a server without cpu_us) or missing (a CSV written before them).
func TestReadRowsCPU(t *testing.T) {
	const head = "no,operation,volume_bytes,client_workers,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail,verified"
	for _, tc := range []struct {
		csv            string
		server, client float64
	}{
		{head + "\n1,upload,1,1,,,1,1,1,0,reply\n", -1, -1},
		{head + ",server_cpu_s,client_cpu_s\n1,upload,1,1,,,1,1,1,0,reply,,0.250000\n", -1, 0.25},
		{head + ",server_cpu_s,client_cpu_s\n1,upload,1,1,1,thread,1,1,1,0,reply,1.100000,0.000000\n", 1.1, 0},
	} {
		rows, err := ReadRows(strings.NewReader(tc.csv))
		if err != nil || len(rows) != 1 || rows[0].ServerCPU != tc.server || rows[0].ClientCPU != tc.client {
			t.Errorf("ReadRows(%q) = %+v, %v; want server CPU %v, client CPU %v", tc.csv, rows, err, tc.server, tc.client)
		}
	}
	if _, err := ReadRows(strings.NewReader(head + ",server_cpu_s\n1,upload,1,1,,,1,1,1,0,reply,lots\n")); err == nil || !strings.Contains(err.Error(), "server_cpu_s") {
		t.Errorf("a server_cpu_s that is not a number: error %v", err)
	}
}

// TestReportCPU checks the CPU per MB in the mode tables (per MB the cell
// moved: client workers x volume), "not recorded" where a row has none,
// and the server's CPU per MB compared between the modes.
func TestReportCPU(t *testing.T) {
	row := func(no int, mode string, clients int, serverCPU, clientCPU float64) Row {
		return Row{No: no, Operation: "upload", Volume: "10MB", VolumeBytes: 10 * mb, ClientWorkers: clients, ClientPool: "thread",
			ServerWorkers: 5, ServerMode: mode, TimePerClient: 0.1, ThroughputPerClient: 100 * mb, ClientOK: clients,
			ServerOK: clients, Wall: 0.1, Aggregate: 100 * mb, ServerCPU: serverCPU, ClientCPU: clientCPU}
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
		"| 1 | upload | 10 MB | 5 | 5 | 0.100 | 100.0 | 5 / 0 | 5 / 0 | 2.00 | 0.40 |",
		"| 2 | upload | 10 MB | 1 | 5 | 0.100 | 100.0 | 1 / 0 | 1 / 0 | 3.00 | 0.50 |",
		"| 4 | upload | 10 MB | 1 | 5 | 0.100 | 100.0 | 1 / 0 | 1 / 0 | not recorded | 0.40 |",
		"It was not recorded for 1 of these cells",
		"### Server CPU per MB, thread versus process",
		"process mode uses **1.50×** thread mode's CPU per MB",
		"1 cell measured in both modes is left out",
		"| upload | 10 MB | 5 | 5 | 2.00 | 3.00 | 1.50 |",
		"- **server CPU per MB**: process / thread 1.50× (geometric mean of 1 cells",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "| 0.00 |") {
		t.Errorf("a CPU figure shows as zero:\n%s", md)
	}
}
