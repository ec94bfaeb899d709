package main

import (
	"syscall"
	"time"
)

// processCPUTime is this process's CPU time so far, user and system, of all its
// threads (getrusage RUSAGE_SELF; children not included), and whether it
// could be read.
func processCPUTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}

// cpuMeter measures this process's CPU time from its start to stop.
type cpuMeter struct {
	start time.Duration
	ok    bool
}

func startCPU() cpuMeter {
	t, ok := processCPUTime()
	return cpuMeter{start: t, ok: ok}
}

// stop returns the CPU time used since startCPU, and whether both
// readings were possible.
func (m cpuMeter) stop() (time.Duration, bool) {
	t, ok := processCPUTime()
	if !ok || !m.ok || t < m.start {
		return 0, false
	}
	return t - m.start, true
}
