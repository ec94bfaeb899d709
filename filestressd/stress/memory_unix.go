//go:build unix

package stress

import (
	"os"
	"runtime"
	"syscall"
)

// This file exists because getrusage's ru_maxrss is Unix's peak resident
// set, and its unit differs: KiB on Linux and the BSDs, bytes on macOS.
// memory_windows.go has Windows's peak working set.

// peakRSSUnknown says why selfPeakRSS has no figure.
const peakRSSUnknown = "getrusage failed"

// selfPeakRSS is this process's peak resident set so far, in KiB.
func selfPeakRSS() (int64, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return maxrssKiB(&ru), true
}

// childPeakRSS is an exited child's peak resident set over its whole
// life, in KiB, as the kernel kept it for wait4.
func childPeakRSS(ps *os.ProcessState) (int64, bool) {
	if ps == nil {
		return 0, false
	}
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		return maxrssKiB(ru), true
	}
	return 0, false
}

// maxrssKiB is ru_maxrss in KiB (an int32 on 32-bit Linux).
func maxrssKiB(ru *syscall.Rusage) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return int64(ru.Maxrss) / 1024
	}
	return int64(ru.Maxrss)
}
