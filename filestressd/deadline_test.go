package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"fileserver/filestressd/stress"
)

var childPidRE = regexp.MustCompile(`worker (\d+): child pid (\d+)`)

// TestDeadline gives a one-worker server eight 1 GB uploads and one
// second: the transfers still running at the deadline are counted as
// timeouts, the command returns within a few seconds of it (counted from
// the window's start), and no child
// process is left.
func TestDeadline(t *testing.T) {
	const timeout = time.Second
	for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
		t.Run(pool, func(t *testing.T) {
			s := startServer(t, "thread", 1)
			r, row := runRow(t, "-addr", s.Addr, "-op", "upload", "-size", "1GB", "-workers", "8",
				"-pool", pool, "-timeout", timeout.String(), "-v")
			// From the window's start, not the process's: the setup (the
			// upload probe, the children's start) takes what the machine
			// gives it, and has budgets of its own.
			released, err := time.Parse(time.RFC3339, row["timestamp"])
			if err != nil {
				t.Fatalf("timestamp %q: %v", row["timestamp"], err)
			}
			after := r.exited.Sub(released)
			t.Logf("returned %s after the start, %s after the window began", r.elapsed.Round(time.Millisecond), after.Round(time.Millisecond))
			if after > timeout+5*time.Second {
				t.Errorf("returned %s after the window began (the timestamp, in whole seconds) with -timeout %s", after.Round(time.Millisecond), timeout)
			}
			ok, _ := strconv.Atoi(row["client_ok"])
			fail, _ := strconv.Atoi(row["client_fail"])
			// One worker at a time is served and 1 GB takes the server
			// far longer than a second, so at most one can finish.
			if ok+fail != 8 || fail < 7 || row["errors"] != fmt.Sprintf("timeout=%d", fail) {
				t.Errorf("client_ok %q, client_fail %q, errors %q: want every unfinished worker counted as a timeout", row["client_ok"], row["client_fail"], row["errors"])
			}
			if w, _ := strconv.ParseFloat(row["wall_s"], 64); w > (timeout + time.Second).Seconds() {
				t.Errorf("wall_s %s, want about the %s deadline", row["wall_s"], timeout)
			}
			if pool == stress.PoolProcess {
				pids := childPidRE.FindAllStringSubmatch(r.stderr, -1)
				if len(pids) != 8 {
					t.Fatalf("want 8 child pids reported with -v, got %d:\n%s", len(pids), r.stderr)
				}
				// The parent kills its children at the deadline; their own
				// deadline comes later and is only a backstop.
				if n := strings.Count(r.stderr, "child killed at the deadline"); n != fail {
					t.Errorf("%d workers reported killed at the deadline, want %d:\n%s", n, fail, r.stderr)
				}
				for _, m := range pids {
					pid, _ := strconv.Atoi(m[2])
					if isStressProcess(pid) {
						t.Errorf("child %s of worker %s is still running after filestressd returned", m[2], m[1])
					}
				}
			}
			if left := stressProcesses(); len(left) > 0 {
				t.Errorf("filestressd processes still running: %v", left)
			}
			names, _ := filepath.Glob(filepath.Join(s.Dir, "stress-up-*"))
			if len(names) != 0 {
				t.Errorf("uploaded files left on the server: %v", names)
			}
		})
	}
}

// TestDeadlineCountsFromRelease checks that -timeout runs from the
// workers' release, not from the start of the setup: against a server that
// takes 0.6 s over every GET, the download setup (a GET of the test file)
// and then the workers' GETs take 1.2 s together, yet each GET fits in the
// 1 s of -timeout, so every worker succeeds in both pools.
func TestDeadlineCountsFromRelease(t *testing.T) {
	for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
		t.Run(pool, func(t *testing.T) {
			f := startFakeServer(t, fakeSlowGet, 64<<10)
			r, row := runRow(t, "-addr", f.addr, "-op", "download", "-size", "64KB", "-workers", "3", "-pool", pool, "-timeout", "1s", "-v")
			expect(t, row, map[string]string{"client_ok": "3", "client_fail": "0", "errors": ""})
			if w, _ := strconv.ParseFloat(row["wall_s"], 64); w < slowGetDelay.Seconds() {
				t.Errorf("wall_s %s, want at least the server's %s", row["wall_s"], slowGetDelay)
			}
			if r.elapsed < 2*slowGetDelay {
				t.Errorf("the cell took %s, want at least the setup's and the workers' GETs, %s", r.elapsed, 2*slowGetDelay)
			}
			if t.Failed() {
				t.Logf("stderr:\n%s", r.stderr)
			}
		})
	}
}

// isStressProcess tells whether pid is a live process of the filestressd
// binary under test (a pid reused by anything else does not count).
func isStressProcess(pid int) bool {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false // gone (or a zombie, which holds no resources but its pid)
	}
	return strings.TrimSuffix(exe, " (deleted)") == stressBin
}

// stressProcesses lists the live processes of the filestressd binary
// under test. Tests that use it do not run in parallel with others.
func stressProcesses() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && isStressProcess(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
