package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"fileserver/filestressd/stress"
)

// TestStartAt checks -start-at and -host in both pools: the workers wait
// for the instant (the window's timestamp is its second, and the command
// takes at least until then), the row names the host; and a -start-at so
// far in the past that its deadline has passed counts every worker as
// timed out, the deadline running from the instant and not from the
// release.
func TestStartAt(t *testing.T) {
	s := startServer(t, "thread", 4)
	for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
		t.Run(pool, func(t *testing.T) {
			at := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second).Add(time.Second)
			began := time.Now()
			_, row := runRow(t, "-addr", s.Addr, "-op", "upload", "-size", "64KB", "-workers", "3", "-pool", pool,
				"-start-at", at.UTC().Format(time.RFC3339Nano), "-host", "h1")
			if time.Now().Before(at) {
				t.Errorf("the command returned before -start-at (began %s, at %s)", began.Format(time.StampMilli), at.Format(time.StampMilli))
			}
			ts, err := time.Parse(time.RFC3339, row["timestamp"])
			if err != nil || !ts.Equal(at) {
				t.Errorf("timestamp %q, want the -start-at instant %s", row["timestamp"], at.Format(time.RFC3339))
			}
			expect(t, row, map[string]string{"client_ok": "3", "client_fail": "0", "host": "h1"})

			past := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano)
			_, row = runRow(t, "-addr", s.Addr, "-op", "upload", "-size", "64KB", "-workers", "2", "-pool", pool,
				"-start-at", past, "-timeout", "30s")
			expect(t, row, map[string]string{"client_ok": "0", "client_fail": "2", "errors": "timeout=2"})
		})
	}
}

// TestHostFailed checks -host-failed: a row of the host's workers, all
// failed with kind host, written without a server to contact.
func TestHostFailed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.csv")
	r := mustRun(t, "-addr", "127.0.0.1:1", "-op", "download", "-size", "10MB", "-workers", "4", "-csv", path, "-no", "9",
		"-host", "vm2", "-host-failed", "exit 255: connection refused", "-run-id", "r1")
	if !strings.Contains(r.stdout, "host=4") {
		t.Errorf("stdout does not give the failures by kind:\n%s", r.stdout)
	}
	_, rows := readRows(t, path)
	if len(rows) != 1 {
		t.Fatalf("%d rows, want 1", len(rows))
	}
	expect(t, rows[0], map[string]string{"no": "9", "client_workers": "4", "client_ok": "0", "client_fail": "4",
		"errors": "host=4", "host": "vm2", "run_id": "r1", "server_mode": ""})
	if res := runStress(t, "-op", "upload", "-host-failed", "x"); res.code != exitUsage {
		t.Errorf("-host-failed without -host: exit %d, want %d", res.code, exitUsage)
	}
}
