package main

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestCSVAppendAndNumbering checks the CSV: the header once, exactly the
// 22 columns in order, one row appended per run (-quiet too), rows
// numbered one past the last unless -no says otherwise, and an empty file
// given a header.
func TestCSVAppendAndNumbering(t *testing.T) {
	s := startServer(t, "thread", 2)
	dir := t.TempDir()
	path := filepath.Join(dir, "matrix.csv")
	cell := func(extra ...string) stressRun {
		return mustRun(t, append([]string{"-addr", s.addr, "-op", "list", "-workers", "2", "-csv", path}, extra...)...)
	}
	cell()
	r := cell()
	if !strings.Contains(r.stdout, "row 2 appended") {
		t.Errorf("stdout does not name the row:\n%s", r.stdout)
	}
	cell("-no", "7")
	if r := cell("-quiet"); r.stdout != "" || r.stderr != "" {
		t.Errorf("-quiet printed stdout %q, stderr %q", r.stdout, r.stderr)
	}
	header, rows := readRows(t, path)
	wantHeader := []string{"no", "timestamp", "operation", "volume", "volume_bytes",
		"client_workers", "client_pool", "server_workers", "server_mode", "time_per_client_s",
		"throughput_per_client_Bps", "client_ok", "client_fail", "server_ok", "server_fail", "wall_s",
		"aggregate_Bps", "p50_s", "p95_s", "max_s", "errors", "verified"}
	if !slices.Equal(header, wantHeader) {
		t.Errorf("header %q,\nwant %q", header, wantHeader)
	}
	var nos []string
	for _, row := range rows {
		nos = append(nos, row["no"])
	}
	if want := []string{"1", "2", "7", "8"}; !slices.Equal(nos, want) {
		t.Errorf("row numbers %v, want %v", nos, want)
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
	mustRun(t, "-addr", s.addr, "-op", "list", "-csv", empty)
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
	r := runStress(t, "-addr", s.addr, "-op", "upload", "-size", "64KB", "-csv", path)
	if r.code != 1 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "header") {
		t.Errorf("exit %d, stderr %q: want exit 1 and one line about the header", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(path); string(b) != content {
		t.Errorf("the foreign CSV changed:\n%s", b)
	}
	if st := s.stats(t); st.Requests["upload"].OK+st.Requests["upload"].Failed != 0 {
		t.Errorf("uploads were made: %+v", st.Requests["upload"])
	}
}

// TestCSVLegacyHeader checks that a CSV written before the "verified"
// column, whose header is every column before it, is still appended to,
// rows cut to its columns and the rest named as left out; the count of
// its columns follows the header, not a number kept beside it.
func TestCSVLegacyHeader(t *testing.T) {
	header := csvHeader()
	n := slices.Index(header, "verified")
	if n < 1 || legacyColumns != n {
		t.Fatalf("legacyColumns = %d, want %d, the columns before \"verified\" in %q", legacyColumns, n, header)
	}
	path := filepath.Join(t.TempDir(), "old.csv")
	old := strings.Join(header[:n], ",") + "\n" + "4" + strings.Repeat(",x", n-1) + "\n"
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	st, err := readCSV(path)
	if err != nil || st.columns != n || st.next != 5 {
		t.Fatalf("readCSV = %+v, %v; want %d columns, next row 5", st, err, n)
	}
	no, left, err := appendRow(path, 0, func(no int) []string {
		row := make([]string, len(header))
		for i := range row {
			row[i] = "v"
		}
		row[0] = strconv.Itoa(no)
		return row
	})
	if err != nil || no != 5 || !slices.Equal(left, header[n:]) {
		t.Fatalf("appendRow = %d, %q, %v; want row 5, left out %q", no, left, err, header[n:])
	}
	got, _ := readRows(t, path)
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if !slices.Equal(got, header[:n]) || len(lines) != 3 || strings.Count(lines[2], ",") != n-1 {
		t.Errorf("after the append:\n%s", b)
	}
}
