package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	expectReportErrors(t, dir, []reportErrorCase{
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
