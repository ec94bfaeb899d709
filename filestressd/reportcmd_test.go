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
		mustRun(t, "-addr", srv.addr, "-op", op, "-size", "1MB", "-workers", "2", "-csv", csvPath, "-quiet")
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
		"Matrix wall time | 7s (as measured by run_matrix.sh)", "## Performance against the machine\n\nGET 0.8 of the plain copy.",
		"chart-upload-1MB.svg", "Server CPU (ms/MB) | Client CPU (ms/MB) |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	for _, chart := range []string{"chart-upload-1MB.svg", "chart-download-1MB.svg"} {
		if b, err := os.ReadFile(filepath.Join(dir, chart)); err != nil || !strings.HasPrefix(string(b), "<svg") {
			t.Errorf("%s: %v", chart, err)
		}
	}
}

func TestReportCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("a,b\n1,2\n"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report", "-csv", filepath.Join(dir, "missing.csv")}, 1, "no such file"},
		{[]string{"report", "-csv", bad}, 1, "not a matrix CSV"},
		{[]string{"report", "-bogus"}, 2, "flag provided but not defined"},
		{[]string{"report", "-csv", filepath.Join("..", "testdata", "report", "matrix.csv"), "-out", dir, "-perf", filepath.Join(dir, "nope.md")}, 1, "-perf"},
	} {
		r := runStress(t, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", tc.args, r.code, r.stderr, tc.code, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "README.md")); err == nil {
			t.Errorf("%v wrote a report", tc.args)
		}
	}
}
