package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"fileserver/filestressd/stress"
)

// TestUploadWorkersSendOwnContent checks that every upload worker sends
// content of its own, and is checked against it: a server that stores
// every upload under one name (and serves that file for any GET) keeps
// one worker's bytes, so the read-back of every other worker fails with
// kind integrity, in both pools and with -verify auto or readback.
func TestUploadWorkersSendOwnContent(t *testing.T) {
	s := startCourseServer(t, "one_name.py")
	for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
		for _, verify := range []string{stress.VerifyAuto, stress.VerifyReadback} {
			r, row := runRow(t, "-addr", s.addr, "-op", "upload", "-size", "64KB", "-workers", "4", "-pool", pool, "-verify", verify, "-timeout", "30s", "-v")
			ok, _ := strconv.Atoi(row["client_ok"])
			fail, _ := strconv.Atoi(row["client_fail"])
			if ok > 1 || fail < 3 || row["errors"] != fmt.Sprintf("integrity=%d", fail) {
				t.Errorf("%s pool, -verify %s: %d ok, %d failed (%s); want at most one worker ok (the last stored), the others integrity failures",
					pool, verify, ok, fail, row["errors"])
			}
			if n := strings.Count(r.stderr, "read back after the upload"); n != fail {
				t.Errorf("%s pool, -verify %s: -v names the read-back %d times, want %d:\n%s", pool, verify, n, fail, r.stderr)
			}
		}
	}
}
