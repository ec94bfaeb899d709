// What the server's process tree cost over the window, measured from
// this machine's process table (see proctree_linux.go): its CPU time and
// its peak memory, for any server whose process filestressd knows, ours
// or a student's.

package stress

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// What a peak memory figure covers (the CSV's server_peak_rss_scope).
const (
	scopeWindow = "window" // reset just before the window
	scopeStart  = "start"  // since the process started: the reset was not possible
)

// treeCost is what a process tree used between two readings.
type treeCost struct {
	procs  int // processes in the tree at the end, zombies left out
	exited int // processes of the tree at the start that were gone at the end
	cpu    time.Duration
	// cpuLost is true when the tree's CPU time went down: a process
	// that ended was reaped by a process outside the tree, and took its
	// time with it.
	cpuLost bool
	// peak is the sum over the tree's processes at the end of each one's
	// VmHWM, in bytes; scope says from when (scopeWindow, scopeStart).
	peak     int64
	scope    string
	resetErr error // why some peak could not be reset
}

// serverCost is the server's cost as a cell reports it.
type serverCost struct {
	measured bool   // false: see why
	why      string // why it was not measured
	pid      int    // the tree's root
	source   string // how filestressd knows it: "-server-pid", "the process listening on ..."
	tree     treeCost
}

// costMeter is the reading before the window, or why there is none.
type costMeter struct {
	pid    int
	source string
	tree   *treeMeter
	why    string
}

// startServerCost finds the server's process (-server-pid, or the one
// process listening on a local -addr) and starts measuring its tree: the
// peaks reset, the CPU times read. It runs after the setup, before the
// window, and costs a few milliseconds (the listener's search reads every
// process's descriptors).
func startServerCost(cfg Config) costMeter {
	if err := procAvailable(); err != nil {
		return costMeter{why: err.Error()}
	}
	pid, source, err := serverProcess(cfg)
	if err != nil {
		return costMeter{why: err.Error()}
	}
	m := costMeter{pid: pid, source: source}
	if m.tree, err = startTree(pid); err != nil {
		m.why = err.Error()
	}
	return m
}

// stop reads the tree after the window.
func (m costMeter) stop() serverCost {
	c := serverCost{pid: m.pid, source: m.source, why: m.why}
	if m.tree == nil {
		return c
	}
	t, err := m.tree.stop()
	if err != nil {
		c.why = err.Error()
		return c
	}
	c.measured, c.tree = true, t
	return c
}

// serverProcess is the pid whose tree is the server: -server-pid, or the
// process listening on -addr when that is an address of this machine.
func serverProcess(cfg Config) (int, string, error) {
	if cfg.ServerPID > 0 {
		return cfg.ServerPID, "-server-pid", nil
	}
	addr, err := localAddr(cfg.Addr)
	if err != nil {
		return 0, "", err
	}
	pid, err := findListener(addr)
	if err != nil {
		return 0, "", err
	}
	return pid, "the process listening on " + addr.String(), nil
}

// localAddr resolves -addr, and says so when it is not an address of
// this machine (loopback, unspecified, or an interface's).
func localAddr(hostport string) (netip.AddrPort, error) {
	host, portText, err := net.SplitHostPort(hostport)
	if err != nil {
		return netip.AddrPort{}, err
	}
	port, err := net.LookupPort("tcp", portText)
	if err != nil {
		return netip.AddrPort{}, err
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		ips, lerr := net.LookupIP(host)
		if lerr != nil || len(ips) == 0 {
			return netip.AddrPort{}, fmt.Errorf("%s does not resolve here: give -server-pid if the server runs on this machine", host)
		}
		ip, _ = netip.AddrFromSlice(ips[0])
	}
	ip = ip.Unmap()
	if ip.IsLoopback() || ip.IsUnspecified() || isInterfaceAddr(ip) {
		return netip.AddrPortFrom(ip, uint16(port)), nil
	}
	return netip.AddrPort{}, fmt.Errorf("the server %s is not on this machine (give -server-pid if it is)", hostport)
}

// isInterfaceAddr reports whether ip is one of this machine's addresses.
func isInterfaceAddr(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if x, ok := netip.AddrFromSlice(n.IP); ok && x.Unmap() == ip {
				return true
			}
		}
	}
	return false
}

// findListener returns the one process listening on addr. Several that
// share the listening socket (a pre-fork pool's children inherit it) are
// one server when one of them is the ancestor of the others: that one.
func findListener(addr netip.AddrPort) (int, error) {
	pids, listening, err := listenerPIDs(addr)
	switch {
	case err != nil:
		return 0, fmt.Errorf("find the process listening on %s: %w", addr, err)
	case !listening:
		return 0, fmt.Errorf("nothing listens on %s on this machine (in this network namespace)", addr)
	case len(pids) == 0:
		return 0, fmt.Errorf("no process this user can see holds the socket listening on %s: give -server-pid", addr)
	}
	if root, ok := ancestorOfAll(pids, parentOf); ok {
		return root, nil
	}
	return 0, fmt.Errorf("%d processes listen on %s (pids %s) and none is the others' ancestor: give -server-pid", len(pids), addr, joinInts(pids))
}

// ancestorOfAll returns the one of pids that is an ancestor of every
// other, following parent (0 once there is none).
func ancestorOfAll(pids []int, parent func(int) int) (int, bool) {
	for _, cand := range pids {
		all := true
		for _, p := range pids {
			if p != cand && !descends(p, cand, parent) {
				all = false
				break
			}
		}
		if all {
			return cand, true
		}
	}
	return 0, false
}

// descends reports whether ancestor is among pid's ancestors (bounded:
// a loop in a changing process table cannot hold it).
func descends(pid, ancestor int, parent func(int) int) bool {
	for range 1000 {
		pid = parent(pid)
		if pid == ancestor {
			return true
		}
		if pid <= 1 {
			return false
		}
	}
	return false
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// cpuUnknown says why the tree's CPU time is not known.
func (c serverCost) cpuUnknown() string {
	if !c.measured {
		return "its process tree not measured: " + c.why
	}
	return "its process tree's CPU time went down during the window"
}

// line is the summary's "server cost:" line: what was measured, how,
// and what the figures leave out.
func (c serverCost) line(statsCPU time.Duration, statsCPUKnown bool) string {
	if !c.measured {
		return "not measured (" + c.why + ")"
	}
	t := c.tree
	who := fmt.Sprintf("pid %d (%s)", c.pid, c.source)
	if t.procs > 1 {
		who += fmt.Sprintf(" and %d more processes of its tree", t.procs-1)
	}
	cpu := fmt.Sprintf("cpu %.2fs (user+system, reaped children included)", t.cpu.Seconds())
	if t.cpuLost {
		cpu = "cpu not known (the tree's CPU time went down: a process that ended was reaped outside it)"
	}
	mem := fmt.Sprintf("peak RSS %.1f MiB (the sum of each process's peak", float64(t.peak)/mb)
	if t.scope == scopeWindow {
		mem += ", reset before the window)"
	} else {
		mem += fmt.Sprintf(", since it started: the peak could not be reset: %v)", t.resetErr)
	}
	s := who + ": " + cpu + ", " + mem
	if statsCPUKnown {
		s += fmt.Sprintf("; the row's cpu is STATS's (%.3fs)", statsCPU.Seconds())
	}
	if t.exited > 0 {
		s += fmt.Sprintf("; %d processes of the tree ended during the window: their memory is not in the peak", t.exited)
	}
	return s
}
