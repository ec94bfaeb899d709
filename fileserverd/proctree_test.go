package main

// Helpers for the fault tests: running the daemon under resource limits,
// and watching its process tree's descriptors, memory and liveness
// through /proc.

import (
	"bytes"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// startUlimited is startDaemon with fileserverd run through sh after
// limits, shell commands such as "ulimit -n 64". sh execs fileserverd, so
// the daemon keeps the pid d.Cmd knows.
func startUlimited(t *testing.T, limits, mode string, workers int, extra ...string) *daemon {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("no sh to run fileserverd under %q: %v", limits, err)
	}
	if out, err := exec.Command(sh, "-c", limits).CombinedOutput(); err != nil {
		t.Skipf("sh cannot set %q here: %v %s", limits, err, out)
	}
	return newDaemon(t, testkit.ServerOptions{Mode: mode, Workers: workers, Args: extra, Setup: func(cmd *exec.Cmd) {
		cmd.Path = sh
		cmd.Args = append([]string{"sh", "-c", limits + ` && exec "$0" "$@"`, serverBin}, cmd.Args[1:]...)
	}})
}

// procLimit returns the soft limit named (as in /proc/<pid>/limits, e.g.
// "Max open files") of a process, -1 when unlimited.
func procLimit(t testing.TB, pid int, name string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/limits")
	if err != nil {
		t.Skipf("cannot read process limits: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			f := strings.Fields(rest)
			if len(f) > 0 && f[0] == "unlimited" {
				return -1
			}
			if len(f) > 0 {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n
				}
			}
		}
	}
	t.Fatalf("no %q in /proc/%d/limits:\n%s", name, pid, b)
	return 0
}

// treePids returns pid and its children: the daemon and, in process mode,
// its worker children.
func treePids(pid int) []int {
	pids := []int{pid}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil || p == pid {
			continue
		}
		// After the command: state, then the parent's pid.
		if f := statFields(p); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			pids = append(pids, p)
		}
	}
	return pids
}

// statFields is /proc/<pid>/stat's fields after the command, the state
// first, or nil when it cannot be read.
func statFields(pid int) []string { return statFileFields("/proc/" + strconv.Itoa(pid) + "/stat") }

// statFileFields is statFields of a stat file, a thread's too.
func statFileFields(path string) []string {
	b, err := os.ReadFile(path)
	i := bytes.LastIndexByte(b, ')')
	if err != nil || i < 0 {
		return nil
	}
	return strings.Fields(string(b[i+1:]))
}

// fdNumbers returns a process's open file descriptors, nil if it is gone.
func fdNumbers(pid int) []int {
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		return nil
	}
	fds := make([]int, 0, len(entries))
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil {
			fds = append(fds, fd)
		}
	}
	return fds
}

// fdCount counts a process's open file descriptors.
func fdCount(pid int) int { return len(fdNumbers(pid)) }

// rssBytes returns the resident memory of each process of the tree under
// pid.
func rssBytes(t testing.TB, pid int) map[int]int64 {
	t.Helper()
	rss := map[int]int64{}
	for _, p := range treePids(pid) {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/status")
		if err != nil {
			t.Fatalf("process %d: %v", p, err)
		}
		m := regexp.MustCompile(`(?m)^VmRSS:\s+(\d+) kB`).FindSubmatch(b)
		if m == nil {
			t.Fatalf("no VmRSS in /proc/%d/status", p)
		}
		kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
		rss[p] = kb << 10
	}
	return rss
}

// fdSampler records the most file descriptors each process of a daemon's
// tree held, sampling every few milliseconds until stopped. Descriptors
// at or above the limit that a process already had when first seen are
// left out: they were inherited from whoever ran the test (a descriptor
// without close-on-exec passes through exec), and the limit only stops
// new ones.
type fdSampler struct {
	limit     int
	mu        sync.Mutex
	max       map[int]int
	inherited map[int][]int
	stop      chan struct{}
	done      chan struct{}
}

func sampleFDs(t testing.TB, pid, limit int) *fdSampler {
	s := &fdSampler{limit: limit, max: map[int]int{}, inherited: map[int][]int{}, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, p := range treePids(pid) {
				fds := fdNumbers(p)
				if fds == nil {
					continue
				}
				s.mu.Lock()
				inh, seen := s.inherited[p]
				if !seen {
					for _, fd := range fds {
						if fd >= limit {
							inh = append(inh, fd)
						}
					}
					s.inherited[p] = inh
				}
				n := 0
				for _, fd := range fds {
					if !slices.Contains(inh, fd) {
						n++
					}
				}
				s.max[p] = max(s.max[p], n)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(s.end)
	return s
}

// end stops sampling; it may be called more than once.
func (s *fdSampler) end() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

// check fails t if any process held more descriptors than the limit.
func (s *fdSampler) check(t testing.TB) {
	t.Helper()
	s.end()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.max) == 0 {
		t.Fatal("no file descriptor samples")
	}
	for p, n := range s.max {
		if n > s.limit {
			t.Errorf("process %d held %d file descriptors, over its limit of %d", p, n, s.limit)
		}
	}
	t.Logf("most file descriptors held per process: %v (limit %d; inherited from the test's environment and not counted: %v)", s.max, s.limit, s.inherited)
}

// alive fails t if the daemon or any of its children died.
func (d *daemon) alive(t testing.TB, pids []int) {
	t.Helper()
	select {
	case <-d.Done():
		t.Fatalf("fileserverd exited: %v\n%s", d.Err(), d.Log)
	default:
	}
	for _, p := range pids {
		if !processAlive(p) {
			t.Errorf("process %d of the server died", p)
		}
	}
}
