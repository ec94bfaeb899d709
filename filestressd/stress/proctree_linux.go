// The server's process tree as Linux's /proc shows it: its processes,
// their CPU time (reaped children's included) and peak memory, the reset
// of those peaks, and which process listens on a local address.

package stress

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unsafe"
)

// procInfo is one process of the tree, as /proc/PID/stat and status give
// it.
type procInfo struct {
	pid, ppid int
	// start is the process's start time in clock ticks since boot: with
	// the pid, it tells a process from a later one that reused its pid.
	start uint64
	// ticks is utime + stime + cutime + cstime: the CPU the process used,
	// all its threads, dead ones included, plus that of the children it
	// waited for (and theirs, recursively).
	ticks uint64
	// zombie is true for a process that has ended and waits for its
	// parent to reap it: its times are final, its memory gone.
	zombie bool
	// hwm is VmHWM, the peak resident set since the process started or
	// since its peak was last reset, in bytes; hasMM is false for a
	// zombie, which has no memory left to report.
	hwm   int64
	hasMM bool
}

// readProc reads a process's stat and, with withMemory, its VmHWM.
func readProc(pid int, withMemory bool) (procInfo, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, err
	}
	p, err := parseStat(pid, b)
	if err != nil || !withMemory {
		return p, err
	}
	status, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return p, err
	}
	p.hwm, p.hasMM = parseHWM(status)
	return p, nil
}

// parseStat reads /proc/PID/stat: the command (field 2) is in
// parentheses and may hold spaces or parentheses itself, so the fields
// are counted from the last ")".
func parseStat(pid int, b []byte) (procInfo, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: no command field", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	// f[0] is field 3 (state): field n is f[n-3].
	if len(f) < 20 {
		return procInfo{}, fmt.Errorf("/proc/%d/stat: %d fields after the command, want 20 or more", pid, len(f))
	}
	num := func(field int) uint64 {
		n, _ := strconv.ParseUint(f[field-3], 10, 64)
		return n
	}
	return procInfo{pid: pid, ppid: int(num(4)), start: num(22), ticks: num(14) + num(15) + num(16) + num(17), zombie: f[0] == "Z" || f[0] == "X"}, nil
}

// parseHWM finds VmHWM in /proc/PID/status, in bytes.
func parseHWM(status []byte) (int64, bool) {
	for line := range strings.SplitSeq(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest) // "12345 kB"
			if len(f) == 2 && f[1] == "kB" {
				if n, err := strconv.ParseInt(f[0], 10, 64); err == nil {
					return n << 10, true
				}
			}
		}
	}
	return 0, false
}

// treePIDs returns root and its descendants, root first, through each
// thread's children file (/proc/PID/task/TID/children), or, on a kernel
// without it, by the parent pid of every process. A process that ends
// while the tree is walked is left out.
func treePIDs(root int) ([]int, error) {
	if _, err := os.Stat("/proc/" + strconv.Itoa(root)); err != nil {
		return nil, err
	}
	if _, err := os.Stat("/proc/self/task/" + strconv.Itoa(os.Getpid()) + "/children"); err != nil {
		return treeByParent(root)
	}
	pids := []int{root}
	for i := 0; i < len(pids) && len(pids) < maxTree; i++ {
		tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pids[i]) + "/task")
		for _, t := range tasks {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(pids[i]) + "/task/" + t.Name() + "/children")
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(b)) {
				if c, err := strconv.Atoi(f); err == nil && !slices.Contains(pids, c) {
					pids = append(pids, c)
				}
			}
		}
	}
	return pids, nil
}

// maxTree bounds the processes of one tree that are read: a server of
// more is measured on its first maxTree.
const maxTree = 4096

// treeByParent finds root's descendants from every process's parent pid.
func treeByParent(root int) ([]int, error) {
	parent := map[int]int{}
	for _, pid := range allPIDs() {
		if p, err := readProc(pid, false); err == nil {
			parent[pid] = p.ppid
		}
	}
	pids := []int{root}
	for i := 0; i < len(pids) && len(pids) < maxTree; i++ {
		for pid, pp := range parent {
			if pp == pids[i] && pid != root {
				pids = append(pids, pid)
			}
		}
	}
	return pids, nil
}

// allPIDs lists every process in /proc.
func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

// readTree reads every process of root's tree; root must be there.
func readTree(root int, withMemory bool) (map[int]procInfo, error) {
	pids, err := treePIDs(root)
	if err != nil {
		return nil, fmt.Errorf("the server's process %d: %w", root, err)
	}
	procs := make(map[int]procInfo, len(pids))
	for _, pid := range pids {
		p, err := readProc(pid, withMemory)
		if err != nil {
			if pid == root {
				return nil, fmt.Errorf("the server's process %d: %w", root, err)
			}
			continue // ended meanwhile
		}
		procs[pid] = p
	}
	return procs, nil
}

// resetPeak resets a process's VmHWM to its current resident set
// (clear_refs, value 5: Linux 4.0 and later; the process's owner or
// root).
func resetPeak(pid int) error {
	f, err := os.OpenFile("/proc/"+strconv.Itoa(pid)+"/clear_refs", os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString("5")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// procAvailable says why a server's cost cannot be measured here: no
// /proc mounted.
func procAvailable() error {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		return fmt.Errorf("not measured: no /proc here (%v)", err)
	}
	return nil
}

// treeMeter measures a process tree from start to stop.
type treeMeter struct {
	root    int
	before  map[int]procInfo
	reset   map[int]bool // processes of before whose peak was reset
	resetOK error        // the first reset that failed, if any
}

// startTree resets the peak of every process of root's tree, then reads
// their CPU times.
func startTree(root int) (*treeMeter, error) {
	pids, err := treePIDs(root)
	if err != nil {
		return nil, fmt.Errorf("the server's process %d: %w", root, err)
	}
	m := &treeMeter{root: root, reset: map[int]bool{}}
	for _, pid := range pids {
		if err := resetPeak(pid); err != nil {
			if m.resetOK == nil {
				m.resetOK = fmt.Errorf("pid %d: %w", pid, err)
			}
			continue
		}
		m.reset[pid] = true
	}
	if m.before, err = readTree(root, false); err != nil {
		return nil, err
	}
	return m, nil
}

// stop reads the tree again and returns what it cost since start.
func (m *treeMeter) stop() (treeCost, error) {
	after, err := readTree(m.root, true)
	if err != nil {
		return treeCost{}, fmt.Errorf("%w (it ended during the window)", err)
	}
	switch r := after[m.root]; {
	case r.start != m.before[m.root].start:
		return treeCost{}, fmt.Errorf("the server's process %d ended during the window (its pid now names another process)", m.root)
	case r.zombie:
		return treeCost{}, fmt.Errorf("the server's process %d ended during the window", m.root)
	}
	return m.cost(after), nil
}

// cost compares the tree after the window with the tree before it.
func (m *treeMeter) cost(after map[int]procInfo) treeCost {
	c := treeCost{scope: scopeWindow, resetErr: m.resetOK}
	var before, now uint64
	for _, p := range m.before {
		before += p.ticks
		if a, ok := after[p.pid]; !ok || a.start != p.start {
			c.exited++
		}
	}
	for _, p := range after {
		now += p.ticks // a zombie's too: final, until its parent reaps it into its cutime
		if !p.zombie {
			c.procs++
		}
		if p.hasMM {
			c.peak += p.hwm
		}
		b, old := m.before[p.pid]
		if old && b.start == p.start && !m.reset[p.pid] {
			c.scope = scopeStart // its peak could not be reset: since its start
		}
	}
	if now >= before {
		c.cpu = ticksToDuration(now - before)
	} else {
		c.cpuLost = true
	}
	return c
}

// clockTick is the unit of /proc's CPU times: 1/AT_CLKTCK seconds,
// AT_CLKTCK read from this process's auxiliary vector (100 on every
// common Linux, the value taken when it cannot be read).
var clockTick = func() time.Duration {
	const atClkTck = 17
	b, err := os.ReadFile("/proc/self/auxv")
	word := int(unsafe.Sizeof(uintptr(0)))
	for i := 0; err == nil && i+2*word <= len(b); i += 2 * word {
		var key, val uint64
		if word == 8 {
			key, val = binary.NativeEndian.Uint64(b[i:]), binary.NativeEndian.Uint64(b[i+word:])
		} else {
			key, val = uint64(binary.NativeEndian.Uint32(b[i:])), uint64(binary.NativeEndian.Uint32(b[i+word:]))
		}
		if key == atClkTck && val > 0 {
			return time.Second / time.Duration(val)
		}
	}
	return 10 * time.Millisecond
}()

func ticksToDuration(t uint64) time.Duration { return time.Duration(t) * clockTick }

// listenerPIDs returns the processes that hold a TCP socket listening on
// addr, or on the wildcard address of its family, at its port (from
// /proc/net/tcp and tcp6, then the socket inodes in /proc/*/fd), and
// whether any such socket exists at all.
func listenerPIDs(addr netip.AddrPort) (pids []int, listening bool, err error) {
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if errors.Is(err, fs.ErrNotExist) {
			continue // no IPv6
		}
		if err != nil {
			return nil, false, err
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if l, ok := parseTCPLine(line); ok && l.listening && l.serves(addr) {
				inodes[l.inode] = true
			}
		}
	}
	if len(inodes) == 0 {
		return nil, false, nil
	}
	for _, pid := range allPIDs() {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd/"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue // gone, or another user's
		}
		for _, fd := range fds {
			link, err := os.Readlink(dir + fd.Name())
			if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok && inodes[strings.TrimSuffix(inode, "]")] {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids, true, nil
}

// tcpSocket is a line of /proc/net/tcp or tcp6.
type tcpSocket struct {
	local     netip.AddrPort
	listening bool
	inode     string
}

// parseTCPLine reads one socket line: "sl local_address rem_address st
// ... inode ...", addresses in hex as the kernel keeps them (each 32-bit
// word in the machine's byte order), the port in hex, st 0A for LISTEN.
func parseTCPLine(line string) (tcpSocket, bool) {
	f := strings.Fields(line)
	if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
		return tcpSocket{}, false
	}
	hexAddr, hexPort, ok := strings.Cut(f[1], ":")
	raw, err := hex.DecodeString(hexAddr)
	port, perr := strconv.ParseUint(hexPort, 16, 16)
	if !ok || err != nil || perr != nil || (len(raw) != 4 && len(raw) != 16) {
		return tcpSocket{}, false
	}
	ip := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	a, _ := netip.AddrFromSlice(ip)
	return tcpSocket{local: netip.AddrPortFrom(a, uint16(port)), listening: f[3] == "0A", inode: f[9]}, true
}

// serves reports whether a connection to addr would reach this
// listening socket: the same port, and the same address, or the
// wildcard address (:: takes IPv4 too, unless the socket is IPv6-only,
// which /proc does not say).
func (s tcpSocket) serves(addr netip.AddrPort) bool {
	l := s.local.Addr()
	return s.local.Port() == addr.Port() && (l.IsUnspecified() || l.Unmap() == addr.Addr().Unmap())
}

// parentOf returns a process's parent pid, or 0.
func parentOf(pid int) int {
	p, err := readProc(pid, false)
	if err != nil {
		return 0
	}
	return p.ppid
}
