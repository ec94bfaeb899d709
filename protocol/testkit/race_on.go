//go:build race

package testkit

// race is whether the test binary was built with the race detector.
const race = true
