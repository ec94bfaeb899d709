package stress

import (
	"os"
	"syscall"
	"unsafe"
)

// This file exists because Windows has no getrusage: a process's peak
// memory is its peak working set (K32GetProcessMemoryInfo, in kernel32
// since Windows 7), and what a child used is not kept once it has exited.

// peakRSSUnknown says why selfPeakRSS has no figure.
const peakRSSUnknown = "K32GetProcessMemoryInfo failed"

// getProcessMemoryInfo is K32GetProcessMemoryInfo, loaded on first use
// (kernel32 is one of Windows's known DLLs, always the system's own).
var getProcessMemoryInfo = syscall.NewLazyDLL("kernel32.dll").NewProc("K32GetProcessMemoryInfo")

// processMemoryCounters is PROCESS_MEMORY_COUNTERS.
type processMemoryCounters struct {
	cb                         uint32
	pageFaultCount             uint32
	peakWorkingSetSize         uintptr
	workingSetSize             uintptr
	quotaPeakPagedPoolUsage    uintptr
	quotaPagedPoolUsage        uintptr
	quotaPeakNonPagedPoolUsage uintptr
	quotaNonPagedPoolUsage     uintptr
	pagefileUsage              uintptr
	peakPagefileUsage          uintptr
}

// selfPeakRSS is this process's peak working set so far, in KiB.
func selfPeakRSS() (int64, bool) {
	h, err := syscall.GetCurrentProcess()
	if err != nil || getProcessMemoryInfo.Find() != nil {
		return 0, false
	}
	var pmc processMemoryCounters
	pmc.cb = uint32(unsafe.Sizeof(pmc))
	if r, _, _ := getProcessMemoryInfo.Call(uintptr(h), uintptr(unsafe.Pointer(&pmc)), uintptr(pmc.cb)); r == 0 {
		return 0, false
	}
	return int64(pmc.peakWorkingSetSize / 1024), true
}

// childPeakRSS has nothing to say on Windows, where the exit status of a
// child keeps its times but not its memory: the child's own report (its
// selfPeakRSS when it sent its result) stands instead.
func childPeakRSS(*os.ProcessState) (int64, bool) { return 0, false }
