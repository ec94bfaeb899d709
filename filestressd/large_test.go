package main

import (
	"testing"

	"fileserver/filestressd/stress"
)

// TestLargeTransfersBoundedMemory moves 100 MB per worker, both ways and
// in both pools, and checks that no filestressd process came near holding
// a payload: the peak resident set of filestressd and of its largest child
// stays far below one file. It uses 4 workers to keep the test light;
// the full figure of the goal, 50 workers x 100 MB in both pools against
// 128 MiB per process, comes from rss.sh (see README.md).
func TestLargeTransfersBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 1.6 GB; skipped with -short")
	}
	const limitKiB = 64 << 10 // 64 MiB, against 100 MB files
	s := startServer(t, "thread", 4)
	for _, c := range []struct {
		op   stress.CellOp
		pool string
	}{
		{stress.CellUpload, stress.PoolThread}, {stress.CellDownload, stress.PoolThread}, {stress.CellUpload, stress.PoolProcess}, {stress.CellDownload, stress.PoolProcess},
	} {
		t.Run(string(c.op)+"/"+c.pool, func(t *testing.T) {
			r, row := runRow(t, "-addr", s.Addr, "-op", string(c.op), "-size", "100MB", "-workers", "4", "-pool", c.pool, "-timeout", "100s")
			expect(t, row, map[string]string{"client_ok": "4", "client_fail": "0", "server_ok": "4", "volume_bytes": "104857600"})
			if r.maxRSSKiB <= 0 || r.maxRSSKiB > limitKiB {
				t.Errorf("peak RSS %d KiB, want at most %d KiB", r.maxRSSKiB, limitKiB)
			}
			t.Logf("peak RSS of filestressd and its children: %.1f MiB", float64(r.maxRSSKiB)/1024)
		})
	}
}
