//go:build race

package main

// raceEnabled builds filestressd for the tests with the race detector when
// the tests themselves run with it, so that -race covers the code the
// tests run as processes.
const raceEnabled = true
