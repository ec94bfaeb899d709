package stress

import (
	"syscall"
	"time"
)

// This file exists because Windows has no getrusage: a process's CPU
// time comes from GetProcessTimes.

// cpuTimeCall names the call behind processCPUTime, for the summary.
const cpuTimeCall = "GetProcessTimes"

// processCPUTime is GetProcessTimes's kernel and user time of this
// process.
func processCPUTime() (time.Duration, bool) {
	h, err := syscall.GetCurrentProcess()
	if err != nil {
		return 0, false
	}
	var created, exited, kernel, user syscall.Filetime
	if syscall.GetProcessTimes(h, &created, &exited, &kernel, &user) != nil {
		return 0, false
	}
	return filetimeSpan(kernel) + filetimeSpan(user), true
}

// filetimeSpan is a FILETIME that holds a span, not a date: a count of
// 100 ns ticks (Filetime.Nanoseconds would subtract the 1601 epoch).
func filetimeSpan(ft syscall.Filetime) time.Duration {
	return time.Duration(int64(ft.HighDateTime)<<32|int64(ft.LowDateTime)) * 100
}
