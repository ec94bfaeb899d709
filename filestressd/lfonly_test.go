package main

import (
	"path/filepath"
	"strings"
	"testing"

	"fileserver/filestressd/stress"
)

// TestCourseServerLFOnly uploads to a server that reads a request per
// line, driven with the default terminator: it answers each request, then
// the blank line after it with an ERROR. The cleanup's connection must
// not take that ERROR for the reply to the next DELETE: every upload is
// deleted, and nothing is said to be left.
func TestCourseServerLFOnly(t *testing.T) {
	s := startCourseServer(t, "lf_only.py")
	for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
		r, row := runRow(t, "-addr", s.addr, "-op", "upload", "-size", "64KB", "-workers", "8", "-pool", pool, "-timeout", "30s")
		expect(t, row, map[string]string{"client_ok": "8", "client_fail": "0", "verified": stress.VerifyReadback})
		left, _ := filepath.Glob(filepath.Join(s.dir, "stress-up-*"))
		if len(left) != 0 || strings.Contains(r.stderr, "warning") {
			t.Errorf("%s pool: uploads left on the server: %v\nstderr:\n%s", pool, left, r.stderr)
		}
	}
}

// TestCleanupWarnsOfRefusedDeletes checks that a DELETE refused for any
// reason but a missing file is not taken for done: the cell still runs,
// one line on stderr says how many uploaded files may be left, and the
// summary names the upload probe's file, which is left too.
func TestCleanupWarnsOfRefusedDeletes(t *testing.T) {
	s := startCourseServer(t, "lf_only.py", "--refuse-delete")
	r, row := runRow(t, "-addr", s.addr, "-op", "upload", "-size", "16KB", "-workers", "3", "-timeout", "30s")
	expect(t, row, map[string]string{"client_ok": "3", "client_fail": "0"})
	left, _ := filepath.Glob(filepath.Join(s.dir, "stress-up-*"))
	if len(left) != 3 {
		t.Errorf("%d uploads left on the server, want all 3 (the server refuses DELETE): %v", len(left), left)
	}
	var warnings []string
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.Contains(l, "warning") {
			warnings = append(warnings, l)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "3 uploaded files may be left on the server") || !strings.Contains(warnings[0], "akses ditolak") {
		t.Errorf("want one warning line naming 3 files left and the server's reason, got:\n%s", r.stderr)
	}
	// The upload probe's file is left too, and the summary says so.
	probes, _ := filepath.Glob(filepath.Join(s.dir, "stress-probe-*"))
	if len(probes) != 1 || !strings.Contains(r.stdout, "note: the probe file "+filepath.Base(probes[0])+" may be left on the server: its DELETE failed (ERROR \"akses ditolak\")") {
		t.Errorf("probe files left %v; the summary does not name it:\n%s", probes, r.stdout)
	}
}
