package stress

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// rssOf is a process's current resident set (VmRSS), in bytes.
func rssOf(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS for %d", pid)
	return 0
}

// TestTreeCost measures a real tree of helper processes with known memory
// and CPU use: a root and two children holding 8, 16 and 16 MiB. Before
// the window one child's peak goes 100 MiB up and back (the reset must
// leave it out); in the window the other's goes 64 MiB up and back, and a
// third child is started, uses 300 ms of CPU and is reaped by the root,
// which uses 200 ms itself. The peak must be the tree's resident set at
// the start plus the 64 MiB, and the CPU time at least the 500 ms.
func TestTreeCost(t *testing.T) {
	root := treeHelperRoot(t)
	root.must(t, "hold 8")
	c0, _ := strconv.Atoi(root.must(t, "spawn"))
	c1, _ := strconv.Atoi(root.must(t, "spawn"))
	root.must(t, "child 0 hold 16")
	root.must(t, "child 1 hold 16")
	root.must(t, "child 1 peak 100")
	pids := []int{root.cmd.Process.Pid, c0, c1}

	m, err := startTree(pids[0])
	if err != nil {
		t.Fatal(err)
	}
	var resident int64
	for _, p := range pids {
		resident += rssOf(t, p)
	}
	root.must(t, "child 0 peak 64")
	root.must(t, "spawn")
	root.must(t, "child 2 spin 300")
	root.must(t, "reap 2")
	root.must(t, "spin 200")
	cost, err := m.stop()
	if err != nil {
		t.Fatal(err)
	}

	if cost.procs != 3 || cost.exited != 0 || cost.scope != scopeWindow || cost.cpuLost || cost.resetErr != nil {
		t.Errorf("cost %+v: want 3 processes, none exited, scope window", cost)
	}
	want := resident + 64<<20
	if d := cost.peak - want; d < -8<<20 || d > 8<<20 {
		t.Errorf("peak %.1f MiB, want %.1f (the tree's %.1f MiB resident at the start, plus 64), within 8 MiB",
			float64(cost.peak)/mb, float64(want)/mb, float64(resident)/mb)
	}
	if cost.peak >= resident+100<<20 {
		t.Errorf("peak %.1f MiB holds the 100 MiB peak from before the window: not reset", float64(cost.peak)/mb)
	}
	// 500 ms of spinning, less a tick of rounding in each of the three
	// readings; the helpers do little else (a Go process starting).
	if cost.cpu < 470*time.Millisecond || cost.cpu > 1500*time.Millisecond {
		t.Errorf("cpu %s, want the 500 ms the tree spun (300 of them a reaped child's)", cost.cpu)
	}
}

// TestTreeCostProcessEnds measures a tree one of whose children ends in
// the window: it is counted as exited, its CPU time stays in the tree's
// through the root's cutime, and a root that ends is an error.
func TestTreeCostProcessEnds(t *testing.T) {
	root := treeHelperRoot(t)
	root.must(t, "spawn")
	root.must(t, "child 0 spin 200")
	m, err := startTree(root.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	root.must(t, "reap 0")
	cost, err := m.stop()
	if err != nil {
		t.Fatal(err)
	}
	// The child's 200 ms were spent before the window: they move from
	// its utime to the root's cutime, which is no new CPU time.
	if cost.procs != 1 || cost.exited != 1 || cost.cpu > 100*time.Millisecond || cost.cpuLost {
		t.Errorf("cost %+v: want 1 process left, 1 exited, and next to no CPU time", cost)
	}

	gone := treeHelperRoot(t)
	m, err = startTree(gone.cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	gone.in.Close()
	gone.cmd.Wait()
	if _, err := m.stop(); err == nil || !strings.Contains(err.Error(), "ended during the window") {
		t.Errorf("a root that ended: %v, want an error saying it ended during the window", err)
	}
}

// TestTreeCostScope checks the figures made of two readings: the scope
// is "start" when a process of the tree at the start could not have its
// peak reset, a process new at the end has its whole peak counted, and a
// tree whose CPU time went down says so.
func TestTreeCostScope(t *testing.T) {
	before := map[int]procInfo{1: {pid: 1, start: 5, ticks: 100}, 2: {pid: 2, start: 6, ticks: 50}}
	cases := []struct {
		name   string
		reset  map[int]bool
		after  map[int]procInfo
		scope  string
		exited int
		cpu    time.Duration
		lost   bool
		peak   int64
	}{
		{"all reset", map[int]bool{1: true, 2: true},
			map[int]procInfo{1: {pid: 1, start: 5, ticks: 110, hwm: 10, hasMM: true}, 2: {pid: 2, start: 6, ticks: 60, hwm: 20, hasMM: true}},
			scopeWindow, 0, 20 * clockTick, false, 30},
		{"one not reset", map[int]bool{1: true},
			map[int]procInfo{1: {pid: 1, start: 5, ticks: 110, hwm: 10, hasMM: true}, 2: {pid: 2, start: 6, ticks: 60, hwm: 20, hasMM: true}},
			scopeStart, 0, 20 * clockTick, false, 30},
		{"not reset, but gone; a new one", map[int]bool{1: true},
			map[int]procInfo{1: {pid: 1, start: 5, ticks: 170, hwm: 10, hasMM: true}, 3: {pid: 3, start: 9, ticks: 5, hwm: 7, hasMM: true}},
			scopeWindow, 1, 25 * clockTick, false, 17},
		{"pid reused", map[int]bool{1: true, 2: true},
			map[int]procInfo{1: {pid: 1, start: 5, ticks: 160, hwm: 10, hasMM: true}, 2: {pid: 2, start: 8, ticks: 1, hwm: 3, hasMM: true}},
			scopeWindow, 1, 11 * clockTick, false, 13},
		{"reaped outside the tree", map[int]bool{1: true, 2: true},
			map[int]procInfo{1: {pid: 1, start: 5, ticks: 101, hwm: 10, hasMM: true}, 4: {pid: 4, start: 9, hwm: 0}},
			scopeWindow, 1, 0, true, 10},
	}
	for _, c := range cases {
		m := &treeMeter{root: 1, before: before, reset: c.reset}
		got := m.cost(c.after)
		if got.scope != c.scope || got.exited != c.exited || got.cpu != c.cpu || got.cpuLost != c.lost || got.peak != c.peak {
			t.Errorf("%s: %+v; want scope %s, %d exited, cpu %s (lost %v), peak %d", c.name, got, c.scope, c.exited, c.cpu, c.lost, c.peak)
		}
	}
}

// TestFindListener finds the process that listens on a local address:
// one process; a process and the child that inherited its listener (the
// parent is the server); two siblings sharing one (ambiguous); and an
// address nothing listens on.
func TestFindListener(t *testing.T) {
	root := treeHelperRoot(t)
	port, _ := strconv.Atoi(root.must(t, "listen"))
	addr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	if pid, err := findListener(addr); err != nil || pid != root.cmd.Process.Pid {
		t.Errorf("one listener: pid %d, %v; want %d", pid, err, root.cmd.Process.Pid)
	}
	root.must(t, "share")
	if pid, err := findListener(addr); err != nil || pid != root.cmd.Process.Pid {
		t.Errorf("a listener shared with a child: pid %d, %v; want the parent %d", pid, err, root.cmd.Process.Pid)
	}

	// Two siblings, children of this test, hold one listener that this
	// test no longer does.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f, err := l.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	a, b := treeHelperRoot(t, f), treeHelperRoot(t, f)
	shared := netip.MustParseAddrPort(l.Addr().String())
	l.Close()
	f.Close()
	_, err = findListener(shared)
	if err == nil || !strings.Contains(err.Error(), "none is the others' ancestor") ||
		!strings.Contains(err.Error(), strconv.Itoa(a.cmd.Process.Pid)) || !strings.Contains(err.Error(), strconv.Itoa(b.cmd.Process.Pid)) {
		t.Errorf("two siblings on one listener: %v; want an error naming both and the ambiguity", err)
	}

	// A port nothing listens on: a listener opened and closed.
	l2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := netip.MustParseAddrPort(l2.Addr().String())
	l2.Close()
	if _, err := findListener(closed); err == nil || !strings.Contains(err.Error(), "nothing listens") {
		t.Errorf("a closed port: %v; want \"nothing listens\"", err)
	}
}

// TestParseTCPLine reads lines of /proc/net/tcp and tcp6 as a
// little-endian kernel writes them.
func TestParseTCPLine(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the lines below are a little-endian kernel's")
	}
	cases := []struct {
		line      string
		ok        bool
		addr      string
		listening bool
		inode     string
	}{
		{"   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1 0000000000000000 100 0 0 10 0", true, "127.0.0.1:8080", true, "12345"},
		{"   1: 00000000:22B8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 777 1 0", true, "0.0.0.0:8888", true, "777"},
		{"   2: 0100007F:1F90 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 999 1 0", true, "127.0.0.1:8080", false, "999"},
		{"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 4242 1 0", true, "[::1]:8080", true, "4242"},
		{"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", false, "", false, ""},
		{"   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1 1 0", false, "", false, ""},
	}
	for _, c := range cases {
		s, ok := parseTCPLine(c.line)
		if ok != c.ok || (ok && (s.local.String() != c.addr || s.listening != c.listening || s.inode != c.inode)) {
			t.Errorf("%q: %+v, %v; want %s listening=%v inode %s", c.line, s, ok, c.addr, c.listening, c.inode)
		}
	}
	any4 := tcpSocket{local: netip.MustParseAddrPort("0.0.0.0:80")}
	any6 := tcpSocket{local: netip.MustParseAddrPort("[::]:80")}
	lo := tcpSocket{local: netip.MustParseAddrPort("127.0.0.1:80")}
	for _, c := range []struct {
		s    tcpSocket
		addr string
		want bool
	}{
		{any4, "127.0.0.1:80", true}, {any6, "127.0.0.1:80", true}, {lo, "127.0.0.1:80", true},
		{lo, "127.0.0.2:80", false}, {lo, "127.0.0.1:81", false}, {any6, "[::1]:80", true},
	} {
		if got := c.s.serves(netip.MustParseAddrPort(c.addr)); got != c.want {
			t.Errorf("%s serves %s: %v, want %v", c.s.local, c.addr, got, c.want)
		}
	}
}

// BenchmarkTreeMeter is what a cell spends on the server's cost, outside
// its window: the peaks reset and the CPU read before, the tree read
// after, for fileserverd in process mode with 5 workers (6 processes);
// and finding the process by its listening socket, when -server-pid is
// not given.
func BenchmarkTreeMeter(b *testing.B) {
	srv := testkit.StartServer(b, testkit.ServerOptions{Mode: "process", Workers: 5})
	pid := srv.Cmd.Process.Pid
	b.Run("startTree+stop", func(b *testing.B) {
		for b.Loop() {
			m, err := startTree(pid)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := m.stop(); err != nil {
				b.Fatal(err)
			}
		}
	})
	addr := netip.MustParseAddrPort(srv.Addr)
	b.Run("findListener", func(b *testing.B) {
		for b.Loop() {
			if got, err := findListener(addr); err != nil || got != pid {
				b.Fatal(got, err)
			}
		}
	})
}
