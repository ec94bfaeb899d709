//go:build !linux

package testkit

import "testing"

// Tmpfs skips the test: mounting a tmpfs is Linux's.
func Tmpfs(t *testing.T, size string) string {
	t.Helper()
	t.Skip("a small tmpfs needs Linux")
	return ""
}
