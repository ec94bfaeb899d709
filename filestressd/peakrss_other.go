//go:build !linux

package main

// peakRSSKiB is 0, not known, where there is no /proc/self/status: the
// callers fall back to getrusage.
func peakRSSKiB() int64 { return 0 }
