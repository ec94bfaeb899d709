package testkit

import (
	"os"
	"syscall"
	"testing"
)

// Tmpfs mounts a tmpfs of size (as mount's size= takes it, e.g. "1m") on
// a fresh temporary directory, unmounted when the test ends, and returns
// the directory: a small file system for a test to fill. Without root, or
// where the mount fails, the test is skipped, saying why.
func Tmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(dir, syscall.MNT_DETACH) })
	return dir
}
