package stress

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fileserver/filestressd/results"
	"fileserver/protocol"
)

// TestCSVCPURoundTrip writes cells' rows through results.Append and reads
// them back with results.ReadRows, the report's reader: the CPU columns as seconds; server_cpu_s
// empty for a server whose STATS has no cpu_us, or that restarted; and,
// appended to a CSV written before the CPU columns, rows without them,
// which the report reads as not recorded.
func TestCSVCPURoundTrip(t *testing.T) {
	stats := func(pid int, cpuMicros uint64) *protocol.Stats {
		return &protocol.Stats{Mode: "thread", Workers: 5, PID: pid, Started: "2026-01-01T10:00:00Z", CPUMicros: cpuMicros,
			Requests: map[string]protocol.OpCount{"upload": {}}}
	}
	cfg := Config{Op: CellUpload, Size: 10 << 20, Workers: 5, Pool: PoolThread, Repeat: 1}
	mk := func(before, after *protocol.Stats, clientCPU time.Duration) Result {
		w := window{start: time.Now(), cpu: clientCPU, cpuKnown: true}
		w.end = w.start.Add(time.Second)
		return newResult(cfg, w, serverView{Before: before, After: after})
	}
	cells := []struct {
		c              Result
		server, client float64
	}{
		{mk(stats(7, 2_000_000), stats(7, 3_250_000), 300*time.Millisecond), 1.25, 0.3},
		{mk(stats(7, 0), stats(7, 0), 200*time.Millisecond), -1, 0.2},               // no cpu_us
		{mk(stats(7, 2_000_000), stats(8, 100_000), 100*time.Millisecond), -1, 0.1}, // restarted
		{mk(nil, nil, 50*time.Millisecond), -1, 0.05},                               // no STATS
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "new.csv")
	for _, tc := range cells {
		if _, left, err := results.Append(path, 0, tc.c.Row); err != nil || len(left) != 0 {
			t.Fatalf("results.Append: %v, left out %q", err, left)
		}
	}
	read := func(path string) []results.Row {
		rows, err := results.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return rows
	}
	rows := read(path)
	if len(rows) != len(cells) {
		t.Fatalf("%d rows read, want %d", len(rows), len(cells))
	}
	for i, tc := range cells {
		if math.Abs(rows[i].ServerCPU-tc.server) > 1e-9 || math.Abs(rows[i].ClientCPU-tc.client) > 1e-9 {
			t.Errorf("row %d: server CPU %v, client CPU %v; want %v, %v", i+1, rows[i].ServerCPU, rows[i].ClientCPU, tc.server, tc.client)
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) != len(cells)+1 {
		t.Fatalf("%s: %d records: %v", path, len(recs), err)
	}
	srv, cli := slices.Index(recs[0], "server_cpu_s"), slices.Index(recs[0], "client_cpu_s")
	if recs[2][srv] != "" || recs[1][srv] != "1.250000" || recs[1][cli] != "0.300000" {
		t.Errorf("CSV cells: %v", recs)
	}

	header := results.Header()
	n := slices.Index(header, "server_cpu_s")
	old := filepath.Join(dir, "old.csv")
	if err := os.WriteFile(old, []byte(strings.Join(header[:n], ",")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, left, err := results.Append(old, 0, cells[0].c.Row); err != nil || !slices.Equal(left, []string{"server_cpu_s", "client_cpu_s", "repeat", "run_id", "host", "request_form", "server_peak_rss_bytes", "server_peak_rss_scope"}) {
		t.Fatalf("results.Append to an old CSV: %v, left out %q", err, left)
	}
	if rows := read(old); len(rows) != 1 || rows[0].ServerCPU != -1 || rows[0].ClientCPU != -1 {
		t.Errorf("old CSV read back as %+v, want CPU not recorded (-1)", rows)
	}
}
