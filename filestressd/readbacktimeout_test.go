package main

import (
	"strings"
	"testing"
)

// TestReadBackTimeout checks that uploads whose read-back runs out of its
// budget (-timeout, shared by all read-backs) stay failures of kind
// integrity, never ok, and that their message says the read-back timed
// out, not just "context deadline exceeded". The upload form is named:
// the probe's own read-back would not get its reply in time either.
func TestReadBackTimeout(t *testing.T) {
	s := startCourseServer(t, "slow_get.py", "5")
	r, row := runRow(t, "-addr", s.addr, "-op", "upload", "-size", "16KB", "-workers", "3", "-timeout", "1s", "-v", "-upload-verb", "UPLOAD")
	expect(t, row, map[string]string{"client_ok": "0", "client_fail": "3", "errors": "integrity=3"})
	if n := strings.Count(r.stderr, "read-back timed out after 1s"); n != 3 {
		t.Errorf("-v says %d times that the read-back timed out after 1s, want 3:\n%s", n, r.stderr)
	}
}
