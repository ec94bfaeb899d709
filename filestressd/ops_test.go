package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"fileserver/filestressd/stress"
)

// TestOpsBothPools runs upload, download and list in both client pools
// against a real fileserverd: every worker succeeds, the server counts
// exactly the workers' requests, uploads are deleted afterwards and the
// download file holds the generated content.
func TestOpsBothPools(t *testing.T) {
	s := startServer(t, "thread", 5)
	for _, op := range []stress.CellOp{stress.CellUpload, stress.CellDownload, stress.CellList} {
		for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
			t.Run(string(op)+"/"+pool, func(t *testing.T) {
				r, row := runRow(t, "-addr", s.Addr, "-op", string(op), "-size", "1MB", "-workers", "3", "-pool", pool, "-timeout", "30s")
				want := map[string]string{
					"operation": string(op), "client_workers": "3", "client_pool": pool,
					"client_ok": "3", "client_fail": "0", "errors": "",
					"server_ok": "3", "server_fail": "0", "server_mode": "thread", "server_workers": "5",
					"volume": "1MB", "volume_bytes": "1048576",
				}
				if op == stress.CellList {
					want["volume"], want["volume_bytes"], want["throughput_per_client_Bps"], want["aggregate_Bps"] = "", "", "", ""
				}
				expect(t, row, want)
				for _, col := range []string{"time_per_client_s", "p50_s", "p95_s", "max_s", "wall_s"} {
					if v, err := strconv.ParseFloat(row[col], 64); err != nil || v <= 0 {
						t.Errorf("column %s = %q, want a positive number of seconds", col, row[col])
					}
				}
				if op != stress.CellList {
					if v, err := strconv.ParseFloat(row["throughput_per_client_Bps"], 64); err != nil || v <= 0 {
						t.Errorf("throughput_per_client_Bps = %q, want positive", row["throughput_per_client_Bps"])
					}
				}
				if !strings.Contains(r.stdout, "clients:          3 ok, 0 failed") {
					t.Errorf("summary does not report 3 ok:\n%s", r.stdout)
				}
				names, _ := filepath.Glob(filepath.Join(s.Dir, "stress-up-*"))
				if len(names) != 0 {
					t.Errorf("uploaded files left on the server: %v", names)
				}
			})
		}
	}
	n, sum := fileSHA(t, filepath.Join(s.Dir, "stress-1mb.bin"))
	h := sha256.New()
	io.Copy(h, stress.TestFileContent(1<<20))
	want := hex.EncodeToString(h.Sum(nil))
	if n != 1<<20 || sum != want {
		t.Errorf("server's stress-1mb.bin: %d bytes sha256 %s, want %d bytes sha256 %s", n, sum, 1<<20, want)
	}
}

// TestServerCountDeltas checks that the server columns are the server's
// own counts during the window only: the download setup (a failed GET and
// an upload) and earlier cells are not in them, and mode and workers come
// from the server.
func TestServerCountDeltas(t *testing.T) {
	s := startServer(t, "process", 2)
	_, up := runRow(t, "-addr", s.Addr, "-op", "upload", "-size", "256KB", "-workers", "4")
	expect(t, up, map[string]string{"server_ok": "4", "server_fail": "0", "server_mode": "process", "server_workers": "2"})
	_, down := runRow(t, "-addr", s.Addr, "-op", "download", "-size", "256KB", "-workers", "3", "-pool", "process")
	expect(t, down, map[string]string{"server_ok": "3", "server_fail": "0", "server_mode": "process", "server_workers": "2"})
	_, again := runRow(t, "-addr", s.Addr, "-op", "download", "-size", "256KB", "-workers", "2")
	expect(t, again, map[string]string{"server_ok": "2", "server_fail": "0"})

	// The server's totals: the cells, plus the setups the deltas left
	// out: the upload's probe (an upload, its read-back and its delete),
	// the first download's (a GET of the missing file, which fails, then
	// a probe and an upload) and the second's (a GET that finds the file).
	st := s.Stats(t)
	if got := st.Requests["upload"]; got.OK != 4+2+1 || got.Failed != 0 {
		t.Errorf("server's upload totals %+v, want 7 ok (4 workers + 2 probes + setup)", got)
	}
	if got := st.Requests["get"]; got.OK != 3+2+2+1 || got.Failed != 1 {
		t.Errorf("server's get totals %+v, want 8 ok (5 workers + 2 probes + a setup check) and 1 failed (the first setup check)", got)
	}
	if got := st.Requests["delete"]; got.OK != 4+2 {
		t.Errorf("server's delete totals %+v, want 6 ok (the uploads, deleted after the window, and 2 probes)", got)
	}
}

// TestFileOption uploads and downloads a real file: its size is the
// volume, the server ends up with the same bytes, and -keep keeps them.
func TestFileOption(t *testing.T) {
	s := startServer(t, "thread", 3)
	path := filepath.Join(t.TempDir(), "real data.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(f, rand.Reader, 300_001); err != nil {
		t.Fatal(err)
	}
	f.Close()
	wantN, wantSum := fileSHA(t, path)

	r, row := runRow(t, "-addr", s.Addr, "-op", "upload", "-file", path, "-workers", "2", "-keep", "-v")
	expect(t, row, map[string]string{"client_ok": "2", "volume_bytes": "300001", "server_ok": "2"})
	for w := 1; w <= 2; w++ {
		kept := filepath.Join(s.Dir, fmt.Sprintf("stress-up-%d-%d-real data.bin", r.pid, w))
		if n, sum := fileSHA(t, kept); n != wantN || sum != wantSum {
			t.Errorf("%s: %d bytes sha256 %s, want %d bytes sha256 %s", kept, n, sum, wantN, wantSum)
		}
	}

	_, row = runRow(t, "-addr", s.Addr, "-op", "download", "-file", path, "-workers", "2", "-pool", "process")
	expect(t, row, map[string]string{"client_ok": "2", "client_fail": "0", "server_ok": "2"})
	if n, sum := fileSHA(t, filepath.Join(s.Dir, "real data.bin")); n != wantN || sum != wantSum {
		t.Errorf("server's copy: %d bytes sha256 %s, want %d bytes sha256 %s", n, sum, wantN, wantSum)
	}
}
