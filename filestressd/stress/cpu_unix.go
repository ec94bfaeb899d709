//go:build unix

package stress

import (
	"syscall"
	"time"
)

// This file exists because getrusage is Unix's call for a process's CPU
// time; cpu_windows.go has Windows's.

// cpuTimeCall names the call behind processCPUTime, for the summary.
const cpuTimeCall = "getrusage"

// processCPUTime is getrusage(RUSAGE_SELF)'s user and system time.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
