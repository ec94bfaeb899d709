//go:build !race

package testkit

// race: see race_on.go.
const race = false
