package stress

import "time"

// processCPUTime (cpu_unix.go, cpu_windows.go) is this process's CPU time
// so far, user and system, of all its threads (children not included),
// and whether it could be read: each platform's own call.

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
