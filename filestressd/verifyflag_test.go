package main

import (
	"io"
	"strings"
	"testing"

	"fileserver/filestressd/stress"
)

// TestVerifyIgnoredOutsideUploads checks that -verify, an upload setting,
// is accepted and ignored by download and list cells, so that
// run_matrix.sh can pass one STRESS_FLAGS="-verify readback" to every
// cell, and that -h says so.
func TestVerifyIgnoredOutsideUploads(t *testing.T) {
	for _, op := range []stress.CellOp{stress.CellDownload, stress.CellList} {
		for _, verify := range []string{stress.VerifyAuto, stress.VerifyReply, stress.VerifyReadback, stress.VerifyNone} {
			if _, err := parseFlags([]string{"-op", string(op), "-size", "1KB", "-verify", verify}, io.Discard); err != nil {
				t.Errorf("-op %s -verify %s: %v", op, verify, err)
			}
		}
	}
	if _, err := parseFlags([]string{"-op", string(stress.CellDownload), "-verify", "sometimes"}, io.Discard); err == nil {
		t.Error("-verify sometimes accepted")
	}
	s := startServer(t, "thread", 2)
	for _, op := range []stress.CellOp{stress.CellDownload, stress.CellList} {
		r, row := runRow(t, "-addr", s.Addr, "-op", string(op), "-size", "64KB", "-workers", "2", "-verify", stress.VerifyReadback)
		expect(t, row, map[string]string{"operation": string(op), "client_ok": "2", "client_fail": "0"})
		if op == stress.CellDownload {
			expect(t, row, map[string]string{"verified": stress.VerifyReply})
		}
		if t.Failed() {
			t.Fatalf("stdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
		}
	}
	if h := runStress(t, "-h"); !strings.Contains(h.stdout, "download and list accept it and ignore it") {
		t.Errorf("-h does not say download and list ignore -verify:\n%s", h.stdout)
	}
}
