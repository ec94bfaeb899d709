package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fileserver/filestressd/results"
)

// TestReportCommand renders a real CSV written by filestressd itself, with
// a performance section, through the built binary.
func TestReportCommand(t *testing.T) {
	srv := startServer(t, "thread", 2)
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "matrix.csv")
	for _, op := range []string{"upload", "download"} {
		mustRun(t, "-addr", srv.Addr, "-op", string(op), "-size", "1MB", "-workers", "2", "-csv", csvPath, "-quiet")
	}
	os.WriteFile(filepath.Join(dir, "performance.md"), []byte("GET 0.8 of the plain copy."), 0o644)
	r := mustRun(t, "report", "-csv", csvPath, "-wall", "7s")
	if !strings.Contains(r.stdout, "(2 rows)") {
		t.Errorf("stdout %q", r.stdout)
	}
	md, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Thread mode", "| 1 | upload | 1 MB | 2 | 2 |", "| 2 | download | 1 MB | 2 | 2 |",
		"Matrix wall time | 7s (as measured by run_matrix.sh)", "## Performance against the machine\n\n", "[performance.md](performance.md)",
		"throughput-upload-1MB.svg", "Server CPU (ms/MB) | Client CPU (ms/MB) |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, chart := range []string{"throughput-upload-1MB.svg", "throughput-download-1MB.svg", "server-cost.svg"} {
		if b, err := os.ReadFile(filepath.Join(dir, chart)); err != nil || !strings.HasPrefix(string(b), "<svg") {
			t.Errorf("%s: %v", chart, err)
		}
	}
}

func TestReportCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1,2\n"), 0o644)
	short := filepath.Join(dir, "short.csv")
	os.WriteFile(short, []byte(strings.Join(results.Header(), ",")+"\n1,2026-12-01T10:00:00Z,upload,1MB,1048576\n"), 0o644)
	negative := filepath.Join(dir, "negative.csv")
	os.WriteFile(negative, []byte("no,operation,volume_bytes,client_workers,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail\n"+
		"1,upload,1048576,1,1,thread,-0.5,1000,1,0\n"), 0o644)
	expectReportErrors(t, dir, []reportErrorCase{
		{[]string{"report", "-csv", short}, 1, "short.csv: line 2: 5 fields where the header has 30 columns (no client_workers)"},
		{[]string{"report", "-csv", negative}, 1, "negative.csv: line 2, column time_per_client_s: -0.5 is negative"},
		{[]string{"report", "-csv", filepath.Join(dir, "missing.csv")}, 1, "no such file"},
		{[]string{"report", "-csv", bad}, 1, "not a matrix CSV"},
		{[]string{"report", "-bogus"}, 2, "flag provided but not defined"},
		{[]string{"report", "-csv", filepath.Join("..", "testdata", "report", "matrix.csv"), "-out", dir, "-perf", filepath.Join(dir, "nope.md")}, 1, "-perf"},
	})
}

// TestReportCommandRuns renders labelled runs side by side: two modes of
// one CSV and a server without STATS from another, against a baseline.
func TestReportCommandRuns(t *testing.T) {
	dir := t.TempDir()
	fixtures := filepath.Join("..", "testdata", "report")
	rep, student := filepath.Join(fixtures, "repeats.csv"), filepath.Join(fixtures, "student.csv")
	r := mustRun(t, "report", "-run", "thread="+rep, "-run", "process="+rep, "-run", "student="+student+":none", "-baseline", "thread", "-out", dir)
	if !strings.Contains(r.stdout, "3 runs (thread="+rep+": 13 rows, process="+rep+": 12 rows, student="+student+": 12 rows) -> "+dir) {
		t.Errorf("stdout %q", r.stdout)
	}
	md, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## thread versus process", "## thread versus student",
		"**Verdict: run thread is faster** than run student", "| run student: the floor, 4.3% |", "## Run student: rows of server mode none in",
		"| 4, 13, 24 | upload | 10 MB | 1 | 1 | 3 | 0.050 (0.048–0.053) | 200.0 (190.0–210.0) |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	// The default report of the same CSV is thread versus process.
	r = mustRun(t, "report", "-csv", rep, "-out", dir)
	if md, _ := os.ReadFile(filepath.Join(dir, "README.md")); !strings.Contains(r.stdout, "(25 rows)") || !strings.Contains(string(md), "# Stress matrix results\n\n**Verdict: no significant difference (~)**") {
		t.Errorf("default report: stdout %q\n%s", r.stdout, md)
	}
}

func TestReportCommandRunErrors(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join("..", "testdata", "report", "repeats.csv")
	expectReportErrors(t, dir, []reportErrorCase{
		{[]string{"report", "-csv", rep, "-run", "thread=" + rep, "-out", dir}, 2, "-csv and -run do not go together"},
		{[]string{"report", "-run", rep, "-out", dir}, 2, "want LABEL=FILE or LABEL=FILE:MODE"},
		{[]string{"report", "-run", "thread=" + rep}, 2, "-run needs -out"},
		{[]string{"report", "-run", "fs=" + rep, "-out", dir}, 1, "several server modes (thread, process); select one, e.g. fs=" + rep + ":thread"},
		{[]string{"report", "-run", "thread=" + rep, "-baseline", "process", "-out", dir}, 1, `baseline "process" is none of the runs (thread)`},
		{[]string{"report", "-run", "a=" + rep + ":list", "-out", dir}, 1, `no rows of server mode "list"`},
		{[]string{"report", "-run", "a=" + filepath.Join(dir, "missing.csv"), "-out", dir}, 1, "-run a: open"},
		{[]string{"report", "-csv", rep, "-baseline", "student", "-out", dir}, 1, `baseline "student": the CSV has no rows of that server mode`},
	})
}

// TestReportHelp checks that report -h writes its usage to stdout and
// exits 0, as filestressd -h does, and that a bad flag is one line on
// stderr with exit status 2.
func TestReportHelp(t *testing.T) {
	r := runStress(t, "report", "-h")
	if r.code != exitOK || r.stderr != "" {
		t.Errorf("report -h: exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	for _, want := range []string{"filestressd report [flags]", "Examples:", "-baseline", "-run LABEL=FILE"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("report -h does not mention %q:\n%s", want, r.stdout)
		}
	}
	r = runStress(t, "report", "-bogus")
	if r.code != exitUsage || r.stdout != "" || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "-bogus") {
		t.Errorf("report -bogus: exit %d, stdout %q, stderr %q; want 2 and one line naming the flag", r.code, r.stdout, r.stderr)
	}
}

// reportErrorCase is a report command line that must fail with code, its
// stderr holding want.
type reportErrorCase struct {
	args []string
	code int
	want string
}

// expectReportErrors runs each case and checks its exit status and
// message, and that no report was written to dir.
func expectReportErrors(t *testing.T, dir string, cases []reportErrorCase) {
	t.Helper()
	for _, tc := range cases {
		r := runStress(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "README.md")); err == nil {
			t.Errorf("%v wrote a report", tc.args)
		}
	}
}

// copyFixture copies testdata/report/<from> to dir/<to>.
func copyFixture(t *testing.T, from, dir, to string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "report", from))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, to)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestReportCommandServers renders two servers' matrices with -server,
// the report beside the first CSV, the JSON lines beside it drawn as
// that server's timelines, and the charts of an older report there
// removed (other files left alone).
func TestReportCommandServers(t *testing.T) {
	dir := t.TempDir()
	fs := copyFixture(t, "servers/fileserverd.csv", dir, "fileserverd.csv")
	st := copyFixture(t, "servers/student.csv", dir, "student.csv")
	copyFixture(t, "timeline/matrix-workers.jsonl", dir, "fileserverd-workers.jsonl")
	for _, old := range []string{"chart-upload-10MB.svg", "notes.txt"} {
		os.WriteFile(filepath.Join(dir, old), []byte("old"), 0o644)
	}
	r := mustRun(t, "report", "-server", "fileserverd="+fs, "-server", "student="+st)
	for _, want := range []string{"2 servers (fileserverd=" + fs + ": 32 rows, student=" + st + ": 32 rows) -> " + dir,
		"removed 1 charts no longer drawn: chart-upload-10MB.svg"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	md, err := os.ReadFile(filepath.Join(dir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## fileserverd: thread versus process", "## fileserverd versus student, process mode",
		"(timeline-fileserverd-download-4MB-8x2.svg)", "From `fileserverd-workers.jsonl`, run 20261203T115928Z-166201358, a run of its own"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "chart-upload-10MB.svg")); err == nil {
		t.Error("an old chart is left beside the new report")
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Errorf("a file that is not the report's was removed: %v", err)
	}
}

// TestReportCommandTimelines: the JSON lines beside the CSV are read by
// default, -timeline chooses the cells, and -workers-json "" draws none.
func TestReportCommandTimelines(t *testing.T) {
	dir := t.TempDir()
	csvPath := copyFixture(t, "timeline/matrix.csv", dir, "matrix.csv")
	copyFixture(t, "timeline/matrix-workers.jsonl", dir, "matrix-workers.jsonl")
	timelines := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "timeline-*.svg"))
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m
	}
	mustRun(t, "report", "-csv", csvPath)
	if got := strings.Join(timelines(), " "); got != "timeline-download-4MB-8x2.svg timeline-upload-4MB-8x2.svg" {
		t.Errorf("default timelines: %s", got)
	}
	mustRun(t, "report", "-csv", csvPath, "-timeline", "upload-4MB-8x2")
	if got := strings.Join(timelines(), " "); got != "timeline-upload-4MB-8x2.svg" {
		t.Errorf("-timeline upload-4MB-8x2: %s", got)
	}
	mustRun(t, "report", "-csv", csvPath, "-workers-json", "")
	if md, _ := os.ReadFile(filepath.Join(dir, "README.md")); len(timelines()) != 0 || strings.Contains(string(md), "Queue waves") {
		t.Errorf("-workers-json \"\": timelines %v", timelines())
	}
}

func TestReportCommandServerErrors(t *testing.T) {
	dir := t.TempDir()
	fs := filepath.Join("..", "testdata", "report", "servers", "fileserverd.csv")
	rep := filepath.Join("..", "testdata", "report", "repeats.csv")
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte("{\n"), 0o644)
	expectReportErrors(t, dir, []reportErrorCase{
		{[]string{"report", "-csv", fs, "-server", "a=" + fs, "-out", dir}, 2, "-csv and -server do not go together"},
		{[]string{"report", "-run", "thread=" + rep, "-server", "a=" + fs, "-out", dir}, 2, "-run and -server do not go together"},
		{[]string{"report", "-server", fs, "-out", dir}, 2, "want LABEL=FILE"},
		{[]string{"report", "-server", "a=" + fs, "-timeline", "upload-10MB", "-out", dir}, 2, "want OP-VOLUME-CLIENTSxSERVERS"},
		{[]string{"report", "-server", "a=" + filepath.Join(dir, "none.csv"), "-out", dir}, 1, "-server a: open"},
		{[]string{"report", "-server", "a=" + fs, "-workers-json", filepath.Join(dir, "none.jsonl"), "-out", dir}, 1, "-workers-json: open"},
		{[]string{"report", "-server", "a=" + fs, "-workers-json", bad, "-out", dir}, 1, "-workers-json: bad.jsonl line 1: not a -json line"},
		{[]string{"report", "-server", "a=" + fs, "-baseline", "b", "-out", dir}, 1, `baseline "b" is none of the servers (a)`},
		{[]string{"report", "-csv", filepath.Join("..", "testdata", "report", "timeline", "matrix.csv"), "-timeline", "upload-9MB-1x1", "-out", dir}, 1,
			"-timeline upload-9MB-1x1: no such cell in the per-worker JSON lines (they hold download-4MB-8x2, upload-4MB-8x2)"},
	})
}
