package main

import (
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"fileserver/filestressd/stress"
)

// startPoolServer runs testdata/course/servers/pool_server.py in a mode
// with a worker count, on a free port, serving a fresh directory.
func startPoolServer(t *testing.T, mode string, workers int) courseServer {
	t.Helper()
	dir := t.TempDir()
	return startPythonServer(t, "pool_server.py", dir, "--port", "0", "--mode", mode, "--workers", strconv.Itoa(workers), "--dir", dir)
}

// TestServerCostOfACourseServer runs cells against the Python pool
// server in both modes, finding its process by the port it listens on
// (no -server-pid; the process pool's children share the listener): the
// rows carry the mode and worker count of -server-mode and
// -server-workers, the tree's CPU time, and its peak memory, reset for
// the window; a process pool's tree is its parent and 3 children.
func TestServerCostOfACourseServer(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the server's cost is measured from Linux's /proc")
	}
	for _, mode := range []string{"thread", "process"} {
		s := startPoolServer(t, mode, 3)
		for _, op := range []string{"upload", "download"} {
			r, row := runRow(t, "-addr", s.addr, "-op", op, "-size", "2MB", "-workers", "3", "-timeout", "30s",
				"-server-mode", mode, "-server-workers", "3")
			expect(t, row, map[string]string{"client_ok": "3", "client_fail": "0", "server_mode": mode, "server_workers": "3",
				"server_ok": "", "server_peak_rss_scope": "window"})
			peak, err := strconv.ParseInt(row["server_peak_rss_bytes"], 10, 64)
			// Each Python process holds about 10 MiB; a 2 MB transfer
			// costs a few times its base64 in one of them.
			if err != nil || peak < 12<<20 || peak > 1<<30 {
				t.Errorf("%s %s: server_peak_rss_bytes %q, want a Python tree's few tens of MiB", mode, op, row["server_peak_rss_bytes"])
			}
			if cpu, err := strconv.ParseFloat(row["server_cpu_s"], 64); err != nil || cpu <= 0 || cpu > 30 {
				t.Errorf("%s %s: server_cpu_s %q, want the tree's CPU seconds (above 0: 3 x 2 MB of base64 in Python)", mode, op, row["server_cpu_s"])
			}
			wantProcs := "pid "
			if mode == "process" {
				wantProcs = "and 3 more processes of its tree"
			}
			if !strings.Contains(r.stdout, "server cost:      pid ") || !strings.Contains(r.stdout, "(the process listening on "+s.addr+")") ||
				!strings.Contains(r.stdout, wantProcs) || !strings.Contains(r.stdout, "reset before the window") ||
				!strings.Contains(r.stdout, "server:           "+mode+" mode, 3 workers (from -server-mode and -server-workers") {
				t.Errorf("%s %s: the summary does not give the server's identity and cost:\n%s", mode, op, r.stdout)
			}
		}
	}
}

// TestServerCostOfFileserverd: fileserverd's rows get the tree's peak
// memory, with STATS still the source of their CPU time and identity;
// -server-mode and -server-workers that disagree with STATS lose, and
// stderr says so even with -quiet.
func TestServerCostOfFileserverd(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the server's cost is measured from Linux's /proc")
	}
	srv := startServer(t, "process", 2)
	r, row := runRow(t, "-addr", srv.Addr, "-op", "download", "-size", "1MB", "-workers", "2",
		"-server-pid", strconv.Itoa(srv.Cmd.Process.Pid), "-server-mode", "thread", "-server-workers", "2")
	expect(t, row, map[string]string{"client_ok": "2", "server_mode": "process", "server_workers": "2", "server_ok": "2", "server_peak_rss_scope": "window"})
	if peak, err := strconv.ParseInt(row["server_peak_rss_bytes"], 10, 64); err != nil || peak < 3<<20 {
		t.Errorf("server_peak_rss_bytes %q, want the parent's and 2 children's few MiB each", row["server_peak_rss_bytes"])
	}
	if row["server_cpu_s"] == "" || !strings.Contains(r.stdout, "the row's cpu is STATS's") || !strings.Contains(r.stdout, "and 2 more processes") {
		t.Errorf("server_cpu_s %q; the summary should give the tree of 3 and take STATS's CPU:\n%s", row["server_cpu_s"], r.stdout)
	}
	if !strings.Contains(r.stderr, "warning: the server's STATS says process mode with 2 workers, where -server-mode thread: the row takes STATS's") {
		t.Errorf("stderr does not warn that -server-mode disagrees with STATS:\n%s", r.stderr)
	}
	quiet := runStress(t, "-addr", srv.Addr, "-op", "download", "-size", "1MB", "-server-mode", "thread", "-quiet")
	if quiet.stdout != "" || !strings.Contains(quiet.stderr, "the row takes STATS's") {
		t.Errorf("-quiet: stdout %q, stderr %q; want the warning on stderr only", quiet.stdout, quiet.stderr)
	}
}

// TestServerCostNotMeasured: a -server-pid that names no process, and an
// address that is not this machine's, leave the memory columns empty and
// say why in the summary.
func TestServerCostNotMeasured(t *testing.T) {
	srv := startServer(t, "thread", 1)
	r, row := runRow(t, "-addr", srv.Addr, "-op", "list", "-server-pid", "999999999")
	expect(t, row, map[string]string{"server_peak_rss_bytes": "", "server_peak_rss_scope": ""})
	if !strings.Contains(r.stdout, "server cost:      not measured (") {
		t.Errorf("the summary does not say the cost was not measured:\n%s", r.stdout)
	}
	if r := runStress(t, "-addr", srv.Addr, "-server-pid", "-3"); r.code != exitUsage || !strings.Contains(r.stderr, "-server-pid -3") {
		t.Errorf("-server-pid -3: exit %d, %q", r.code, r.stderr)
	}
	if r := runStress(t, "-addr", srv.Addr, "-server-mode", "asyncio"); r.code != exitUsage || !strings.Contains(r.stderr, "want thread or process") {
		t.Errorf("-server-mode asyncio: exit %d, %q", r.code, r.stderr)
	}
}

// TestTestfileForAServerWithoutUpload puts a download's test file
// straight into the storage of the course's reference server, which has
// no working UPLOAD: the download cell finds it there and every worker
// gets it.
func TestTestfileForAServerWithoutUpload(t *testing.T) {
	s := startCourseServer(t, "reference.py")
	r := mustRun(t, "testfile", "-size", "300KB", "-dir", s.dir)
	if want := filepath.Join(s.dir, "stress-300kb.bin") + "\n"; r.stdout != want {
		t.Errorf("testfile printed %q, want %q", r.stdout, want)
	}
	r, row := runRow(t, "-addr", s.addr, "-op", "download", "-size", "300KB", "-workers", "3", "-timeout", "30s")
	expect(t, row, map[string]string{"client_ok": "3", "client_fail": "0", "verified": stress.VerifyReply})
	if strings.Contains(r.stdout, "uploaded it") {
		t.Errorf("the setup uploaded the test file instead of finding it:\n%s", r.stdout)
	}
	if left, _ := filepath.Glob(filepath.Join(s.dir, ".*")); len(left) != 0 {
		t.Errorf("testfile left %v", left)
	}
	for _, bad := range [][]string{{"testfile", "-dir", s.dir}, {"testfile", "-size", "1MB"}, {"testfile", "-size", "1MB", "-dir", filepath.Join(s.dir, "missing")}} {
		if r := runStress(t, bad...); r.code == 0 {
			t.Errorf("%q: exit 0, want an error", bad)
		}
	}
}
