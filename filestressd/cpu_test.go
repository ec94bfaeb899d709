package main

import (
	"runtime"
	"strconv"
	"strings"
	"testing"

	"fileserver/filestressd/stress"
)

// cpuColumn parses a CPU column of a row, failing the test unless it is
// a number.
func cpuColumn(t *testing.T, row map[string]string, col string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(row[col], 64)
	if err != nil {
		t.Fatalf("column %s = %q, want seconds (row %v)", col, row[col], row)
	}
	return v
}

// TestCPUColumns runs a cell in each pool against the real server, in
// thread and in process mode, and checks that the row has the server's
// CPU time over the window (from STATS cpu_us) and the client's (in the
// process pool, the children's own added to the parent's), both above 0,
// and that the summary prints them per MB with their ratio.
func TestCPUColumns(t *testing.T) {
	for _, tc := range []struct {
		mode, pool string
		op         stress.CellOp
	}{
		{"thread", "thread", "upload"},
		{"thread", "process", "download"},
		{"process", "thread", "download"},
		{"process", "process", "upload"},
	} {
		t.Run(tc.mode+" server, "+tc.pool+" pool, "+string(tc.op), func(t *testing.T) {
			s := startServer(t, tc.mode, 2)
			r, row := runRow(t, "-addr", s.Addr, "-op", string(tc.op), "-size", "4MB", "-workers", "2", "-pool", tc.pool)
			expect(t, row, map[string]string{"client_ok": "2", "server_mode": tc.mode, "client_pool": tc.pool})
			server, client := cpuColumn(t, row, "server_cpu_s"), cpuColumn(t, row, "client_cpu_s")
			if server <= 0 || client <= 0 {
				t.Errorf("server_cpu_s %v, client_cpu_s %v: want both above 0", server, client)
			}
			if !strings.Contains(r.stdout, "cpu:              server ") || !strings.Contains(r.stdout, " ms/MB), client ") || !strings.Contains(r.stdout, "client / server ") {
				t.Errorf("the summary has no CPU line with both figures and their ratio:\n%s", r.stdout)
			}
		})
	}
}

// TestCPUServerWithout checks that server_cpu_s is left empty, and the
// summary says why, against a server whose STATS has no cpu_us (as
// fileserverd's before it) and one without STATS, when its process
// cannot be measured either (a -server-pid that names no process); the
// client's CPU is still recorded. When it can (this test's own process,
// found listening on the fake's port), the row takes its process tree's.
func TestCPUServerWithout(t *testing.T) {
	for _, tc := range []struct{ fake, pool, why string }{
		{fakeOldStats, "thread", "its STATS has no cpu_us"},
		{fakeOldStats, "process", "its STATS has no cpu_us"},
		{fakeHonest, "thread", "no STATS"},
	} {
		t.Run(tc.fake+", "+tc.pool+" pool", func(t *testing.T) {
			f := startFakeServer(t, tc.fake, 1<<20)
			r, row := runRow(t, "-addr", f.addr, "-op", "download", "-size", "1MB", "-workers", "2", "-pool", tc.pool, "-server-pid", "999999999")
			wantMode := ""
			if tc.fake == fakeOldStats {
				wantMode = "thread"
			}
			expect(t, row, map[string]string{"client_ok": "2", "server_mode": wantMode, "server_cpu_s": ""})
			if client := cpuColumn(t, row, "client_cpu_s"); client <= 0 {
				t.Errorf("client_cpu_s %v, want above 0", client)
			}
			if !strings.Contains(r.stdout, "server's not known ("+tc.why+"; its process tree not measured: ") {
				t.Errorf("the summary does not say the server's CPU is not known (%s):\n%s", tc.why, r.stdout)
			}
			if runtime.GOOS != "linux" {
				return
			}
			r, row = runRow(t, "-addr", f.addr, "-op", "download", "-size", "1MB", "-workers", "2", "-pool", tc.pool)
			if cpuColumn(t, row, "server_cpu_s") < 0 || !strings.Contains(r.stdout, " (its process tree in /proc), client ") {
				t.Errorf("the local server's process tree: server_cpu_s %q; want its CPU, and the summary to say where it comes from:\n%s", row["server_cpu_s"], r.stdout)
			}
		})
	}
}
