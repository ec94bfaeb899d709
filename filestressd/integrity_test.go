package main

import (
	"strings"
	"testing"

	"fileserver/filestressd/stress"
	"fileserver/protocol"
)

// TestIntegrityFailuresDetected runs cells against a server that corrupts
// one byte, sends short content, sends a period of the content twice or
// two periods swapped, cuts the reply off in the middle of the content or
// right before it, resets the connection in the middle of the content,
// reports the wrong SHA-256 for an upload, or no usable size: every
// worker must fail with kind integrity, none may succeed, and -v must
// name the cause (for wrong bytes, the first offset that differs). The
// same server, honest, gives successes, so the checks are not just
// failing. It has no STATS, so the server columns are empty and stdout
// says why.
func TestIntegrityFailuresDetected(t *testing.T) {
	cases := []struct {
		fault  string
		op     stress.CellOp
		pool   string
		wantOK bool
		why    string // what -v says of each failed worker
		size   string // 1MB if empty
	}{
		{fakeHonest, stress.CellDownload, stress.PoolThread, true, "", ""},
		{fakeHonest, stress.CellDownload, stress.PoolProcess, true, "", "3MB"},
		{fakeHonest, stress.CellUpload, stress.PoolProcess, true, "", ""},
		{fakeCorruptGet, stress.CellDownload, stress.PoolThread, false, "content differs from the expected from byte 524288 of 1048576 on", ""},
		{fakeCorruptGet, stress.CellDownload, stress.PoolProcess, false, "content differs from the expected from byte 524288 of 1048576 on", ""},
		{fakeShortGet, stress.CellDownload, stress.PoolThread, false, "received 950272 bytes, want 1048576", ""},
		{fakeDupPeriod, stress.CellDownload, stress.PoolThread, false, "content differs from the expected from byte 1572864 of 3145728 on", "3MB"},
		{fakeDupPeriod, stress.CellDownload, stress.PoolProcess, false, "content differs from the expected from byte 1572864 of 3145728 on", "3MB"},
		{fakeSwapPeriod, stress.CellDownload, stress.PoolThread, false, "content differs from the expected from byte 786432 of 3145728 on", "3MB"},
		{fakeSwapPeriod, stress.CellDownload, stress.PoolProcess, false, "content differs from the expected from byte 786432 of 3145728 on", "3MB"},
		{fakeCutGet, stress.CellDownload, stress.PoolThread, false, "truncated", ""},
		{fakeCutGet, stress.CellDownload, stress.PoolProcess, false, "truncated", ""},
		{fakePrefixGet, stress.CellDownload, stress.PoolThread, false, "truncated: the server closed or reset the connection after 0 of 1048576 bytes", ""},
		{fakePrefixGet, stress.CellDownload, stress.PoolProcess, false, "truncated: the server closed or reset the connection after 0 of 1048576 bytes", ""},
		{fakeResetGet, stress.CellDownload, stress.PoolThread, false, "connection reset by peer", ""},
		{fakeResetGet, stress.CellDownload, stress.PoolProcess, false, "connection reset by peer", ""},
		{fakeBadUpload, stress.CellUpload, stress.PoolThread, false, "server stored", ""},
		{fakeBadUpload, stress.CellUpload, stress.PoolProcess, false, "server stored", ""},
		{fakeNoSize, stress.CellUpload, stress.PoolThread, false, "no usable size", ""},
		{fakeBadSize, stress.CellUpload, stress.PoolProcess, false, "no usable size", ""},
	}
	for _, c := range cases {
		if c.size == "" {
			c.size = "1MB"
		}
		t.Run(c.fault+"/"+string(c.op)+"/"+c.pool+"/"+c.size, func(t *testing.T) {
			size, err := protocol.ParseSize(c.size)
			if err != nil {
				t.Fatal(err)
			}
			f := startFakeServer(t, c.fault, size)
			r, row := runRow(t, "-addr", f.addr, "-op", string(c.op), "-size", c.size, "-workers", "3", "-pool", c.pool, "-timeout", "30s", "-v")
			want := map[string]string{"client_ok": "0", "client_fail": "3", "errors": "integrity=3"}
			if c.wantOK {
				want = map[string]string{"client_ok": "3", "client_fail": "0", "errors": ""}
			}
			for _, col := range []string{"server_ok", "server_fail", "server_mode", "server_workers"} {
				want[col] = ""
			}
			expect(t, row, want)
			if n := strings.Count(r.stderr, c.why); c.why != "" && n != 3 {
				t.Errorf("-v names the cause %q %d times, want once per worker", c.why, n)
			}
			if !strings.Contains(r.stdout, "does not answer STATS") {
				t.Errorf("stdout does not say the server has no STATS:\n%s", r.stdout)
			}
			if t.Failed() {
				t.Logf("stderr:\n%s", r.stderr)
			}
		})
	}
}
