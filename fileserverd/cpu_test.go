package main

import (
	"strconv"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
)

// TestStatsCPU moves 32 MB through the server and checks that STATS
// reports the CPU time of the whole server: close to what /proc says of
// all its processes, and, in process mode, keeping the time of a child
// that was killed and replaced.
func TestStatsCPU(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2)
		start := d.Stats(t).CPUMicros
		const size = 16 << 20
		d.upload(t, "cpu.bin", newPattern(3, size))
		if n, _ := d.get(t, "cpu.bin"); n != size {
			t.Fatalf("GET: %d bytes", n)
		}
		before := treeCPU(t, d.Cmd.Process.Pid)
		s := d.Stats(t)
		after := treeCPU(t, d.Cmd.Process.Pid)
		used := time.Duration(s.CPUMicros-start) * time.Microsecond
		t.Logf("STATS cpu_us %d (32 MB moved: %v); the tree's, from /proc: %v to %v", s.CPUMicros, used, before, after)
		if used <= 0 {
			t.Errorf("STATS CPU went from %d to %d us over 32 MB of transfers", start, s.CPUMicros)
		}
		got := time.Duration(s.CPUMicros) * time.Microsecond
		// /proc counts in clock ticks (10 ms), and an idle child's
		// runtime may run a little between its requests.
		if slack := 50*time.Millisecond + before/10; got < before-slack || got > after+slack {
			t.Errorf("STATS CPU %v, want the tree's %v to %v (within %v)", got, before, after, slack)
		}
		if mode != "process" {
			return
		}
		pids := treePids(d.Cmd.Process.Pid)
		syscall.Kill(pids[1], syscall.SIGKILL)
		d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.WorkerRestarts == 1 })
		if s2 := d.Stats(t); s2.CPUMicros < s.CPUMicros {
			t.Errorf("STATS CPU fell from %d to %d us when a child died: its time was lost", s.CPUMicros, s2.CPUMicros)
		}
	})
}

// treeCPU sums utime and stime of a process and its children, and of
// the children they waited for (cutime, cstime), from /proc.
func treeCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	var ticks int64
	for _, p := range treePids(pid) {
		// After the command: state is field 3, utime 14, stime 15,
		// cutime 16, cstime 17 (proc(5)), so f[11] to f[14].
		f := statFields(p)
		if len(f) < 15 {
			continue
		}
		for _, v := range f[11:15] {
			n, _ := strconv.ParseInt(v, 10, 64)
			ticks += n
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}
