package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// peakRSSKiB is this process's peak resident set in KiB, VmHWM of
// /proc/self/status, or 0 if it cannot be read. getrusage's ru_maxrss
// will not do for a process started by another: Go starts processes with
// vfork, and the kernel counts the parent's resident set at the exec in
// the child's ru_maxrss (a test binary's hundreds of MiB, or a process
// pool's parent's in each child). VmHWM belongs to the process's own
// memory since its exec.
func peakRSSKiB() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kib
		}
	}
	return 0
}
