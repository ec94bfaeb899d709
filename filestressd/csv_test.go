package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"fileserver/filestressd/results"
)

// TestCSVAppendAndNumbering checks the CSV: the header once, exactly the
// 30 columns in order, one row appended per run (-quiet too), rows
// numbered one past the last unless -no says otherwise, repeat 1 and an
// empty run_id unless -repeat and -run-id say otherwise, and an empty
// file given a header.
func TestCSVAppendAndNumbering(t *testing.T) {
	s := startServer(t, "thread", 2)
	dir := t.TempDir()
	path := filepath.Join(dir, "matrix.csv")
	cell := func(extra ...string) stressRun {
		return mustRun(t, append([]string{"-addr", s.Addr, "-op", "list", "-workers", "2", "-csv", path}, extra...)...)
	}
	cell()
	r := cell()
	if !strings.Contains(r.stdout, "row 2 appended") {
		t.Errorf("stdout does not name the row:\n%s", r.stdout)
	}
	cell("-no", "7", "-repeat", "3", "-run-id", "20261130T163700Z-42")
	if r := cell("-quiet"); r.stdout != "" || r.stderr != "" {
		t.Errorf("-quiet printed stdout %q, stderr %q", r.stdout, r.stderr)
	}
	header, rows := readRows(t, path)
	wantHeader := []string{"no", "timestamp", "operation", "volume", "volume_bytes",
		"client_workers", "client_pool", "server_workers", "server_mode", "time_per_client_s",
		"throughput_per_client_Bps", "client_ok", "client_fail", "server_ok", "server_fail", "wall_s",
		"aggregate_Bps", "p50_s", "p95_s", "max_s", "errors", "verified", "server_cpu_s", "client_cpu_s",
		"repeat", "run_id", "host", "request_form", "server_peak_rss_bytes", "server_peak_rss_scope"}
	if !slices.Equal(header, wantHeader) {
		t.Errorf("header %q,\nwant %q", header, wantHeader)
	}
	var nos, repeats, runIDs []string
	for _, row := range rows {
		nos = append(nos, row["no"])
		repeats = append(repeats, row["repeat"])
		runIDs = append(runIDs, row["run_id"])
	}
	if want := []string{"1", "2", "7", "8"}; !slices.Equal(nos, want) {
		t.Errorf("row numbers %v, want %v", nos, want)
	}
	if want := []string{"1", "1", "3", "1"}; !slices.Equal(repeats, want) {
		t.Errorf("repeats %v, want %v", repeats, want)
	}
	if want := []string{"", "", "20261130T163700Z-42", ""}; !slices.Equal(runIDs, want) {
		t.Errorf("run ids %q, want %q", runIDs, want)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "no,timestamp,"); n != 1 {
		t.Errorf("header written %d times:\n%s", n, b)
	}

	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	mustRun(t, "-addr", s.Addr, "-op", "list", "-csv", empty)
	if header, rows := readRows(t, empty); !slices.Equal(header, wantHeader) || len(rows) != 1 || rows[0]["no"] != "1" {
		t.Errorf("empty file: header %q and %d rows, want the header and row 1", header, len(rows))
	}
}

// TestCSVForeignFileRefused checks that a CSV with another header is left
// alone: exit 1, one line, nothing appended, no transfer made.
func TestCSVForeignFileRefused(t *testing.T) {
	s := startServer(t, "thread", 2)
	path := filepath.Join(t.TempDir(), "other.csv")
	const content = "a,b,c\n1,2,3\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runStress(t, "-addr", s.Addr, "-op", "upload", "-size", "64KB", "-csv", path)
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "header") {
		t.Errorf("exit %d, stderr %q: want exit 1 and one line about the header", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != content {
		t.Errorf("the foreign CSV changed:\n%s", b)
	}
	if st := s.Stats(t); st.Requests["upload"].OK+st.Requests["upload"].Failed != 0 {
		t.Errorf("uploads were made: %+v", st.Requests["upload"])
	}
}

// TestCSVRepeatLegacyAppend runs real cells with -repeat and -run-id
// against a CSV written before those columns (its header ends with
// client_cpu_s): the row is appended without them, stdout names them as
// left out, and the file keeps its header and column count.
func TestCSVRepeatLegacyAppend(t *testing.T) {
	s := startServer(t, "thread", 2)
	header := results.Header()
	n := slices.Index(header, "repeat")
	path := filepath.Join(t.TempDir(), "old.csv")
	if err := os.WriteFile(path, []byte(strings.Join(header[:n], ",")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, "-addr", s.Addr, "-op", "list", "-csv", path, "-repeat", "2", "-run-id", "r1")
	if !strings.Contains(r.stdout, "predates the column(s) repeat, run_id, host") {
		t.Errorf("stdout does not name the columns left out:\n%s", r.stdout)
	}
	mustRun(t, "-addr", s.Addr, "-op", "list", "-csv", path, "-quiet")
	got, rows := readRows(t, path)
	if !slices.Equal(got, header[:n]) || len(rows) != 2 || rows[1]["no"] != "2" || rows[0]["client_ok"] != "1" {
		t.Errorf("header %q, rows %v: want the old header and rows 1 and 2", got, rows)
	}
}
