package main

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
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
		op         cellOp
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

// TestChildReportsCPU checks a process-pool child's side: its result line
// carries the CPU time it used over its transfer, which the parent takes
// as reported (and adds to client_cpu_s).
func TestChildReportsCPU(t *testing.T) {
	s := startServer(t, "thread", 1)
	cfg := config{Op: cellUpload, Addr: s.Addr, Size: 4 << 20, Workers: 1, Pool: poolProcess, Verify: verifyReply}
	src := newSource(cfg)
	sums, err := uploadSums(context.Background(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	spec := childSpec{Job: makeJobs(cfg, src, "", sums)[0], Timeout: 30 * time.Second}
	var out bytes.Buffer
	if err := runChildJob(context.Background(), spec, &out); err != nil {
		t.Fatal(err)
	}
	var m childMessage
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], &m); err != nil || m.Result == nil {
		t.Fatalf("child's line %q: %v", out.String(), err)
	}
	if !m.Result.OK || m.Result.CPUMicros <= 0 {
		t.Errorf("child's result %+v: want ok with cpu_us above 0", *m.Result)
	}
	r := childResult(context.Background(), spec.Job, m.Result, "", "exit 0")
	if !r.cpuReported || r.CPUMicros != m.Result.CPUMicros {
		t.Errorf("the parent's view %+v: want its CPU taken as reported", r)
	}
	if killed := childResult(context.Background(), spec.Job, nil, stageAwaitReply, "signal: killed"); killed.cpuReported {
		t.Errorf("a child without a result counted as having reported its CPU")
	}
}

// TestWaitReady checks that the release waits for every child to say it
// is ready (or to be gone), and no longer than the setup's budget.
func TestWaitReady(t *testing.T) {
	children := []*child{{ready: make(chan struct{})}, {ready: make(chan struct{})}}
	children[0].isReady()
	returned := make(chan struct{})
	go func() {
		waitReady(context.Background(), children)
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("waitReady returned while a child was not ready")
	default:
	}
	children[1].isReady()
	children[1].isReady() // once only
	<-returned

	setup, cancel := context.WithCancel(context.Background())
	cancel()
	waitReady(setup, []*child{{ready: make(chan struct{})}}) // returns: the budget is spent
}
