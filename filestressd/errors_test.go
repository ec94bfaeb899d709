package main

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fileserver/filestressd/results"
	"fileserver/filestressd/stress"
)

// freeClosedPort returns a loopback address nothing listens on.
func freeClosedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// assertCleanError checks a run that must not have happened: the exit
// status, a single line on stderr, nothing on stdout, and the CSV as it
// was.
func assertCleanError(t *testing.T, r stressRun, code int, mention, csvPath, csvBefore string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d", r.code, code)
	}
	msg := strings.TrimSuffix(r.stderr, "\n")
	if msg == "" || strings.Contains(msg, "\n") || !strings.Contains(msg, mention) {
		t.Errorf("stderr %q: want one line mentioning %q", r.stderr, mention)
	}
	if r.stdout != "" {
		t.Errorf("stdout %q, want nothing", r.stdout)
	}
	b, err := os.ReadFile(csvPath)
	if csvBefore == "" {
		if err == nil {
			t.Errorf("CSV created:\n%s", b)
		}
	} else if string(b) != csvBefore {
		t.Errorf("CSV changed:\n%s", b)
	}
}

// TestUnreachableServer checks that a server that cannot be reached at
// setup gives a clean error and no CSV row, for each operation.
func TestUnreachableServer(t *testing.T) {
	addr := freeClosedPort(t)
	for _, op := range []stress.CellOp{stress.CellUpload, stress.CellDownload, stress.CellList} {
		for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
			t.Run(string(op)+"/"+pool, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), "m.csv")
				r := runStress(t, "-addr", addr, "-op", string(op), "-size", "64KB", "-pool", pool, "-workers", "2", "-csv", path)
				assertCleanError(t, r, exitFailed, "unreachable", path, "")
			})
		}
	}
	// An existing CSV is left as it was.
	path := filepath.Join(t.TempDir(), "m.csv")
	before := strings.Join(results.Header(), ",") + "\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runStress(t, "-addr", addr, "-op", "upload", "-size", "64KB", "-csv", path)
	assertCleanError(t, r, exitFailed, "unreachable", path, before)
}

// TestBadFlags checks that bad flags, an unparseable size and an
// unreadable -file stop the command before it does anything, with exit
// status 2 and one line.
func TestBadFlags(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "m.csv")
	before := strings.Join(results.Header(), ",") + "\n1,x\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeClosedPort(t)
	cases := []struct {
		args    []string
		mention string
	}{
		{[]string{"-size", "10XB"}, "-size"},
		{[]string{"-size", "-5MB"}, "-size"},
		{[]string{"-op", "copy"}, "-op"},
		{[]string{"-pool", "fiber"}, "-pool"},
		{[]string{"-workers", "0"}, "-workers"},
		{[]string{"-workers", "257"}, "at most 256"},
		{[]string{"-workers", "1025", "-pool", "process"}, "-workers"},
		{[]string{"-timeout", "0s"}, "-timeout"},
		{[]string{"-no", "0"}, "-no"},
		{[]string{"-bogus"}, "bogus"},
		{[]string{"-file", filepath.Join(dir, "missing.bin")}, "-file"},
		{[]string{"-file", dir}, "-file"},
		{[]string{"-file", path, "-size", "1MB"}, "-size"},
		{[]string{"extra"}, "extra"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			r := runStress(t, append([]string{"-addr", addr, "-csv", path}, c.args...)...)
			assertCleanError(t, r, exitUsage, c.mention, path, before)
		})
	}
}

// TestHelp checks that -h describes the command with examples and flags.
func TestHelp(t *testing.T) {
	r := runStress(t, "-h")
	if r.code != 0 {
		t.Errorf("exit %d, want 0", r.code)
	}
	for _, want := range []string{"Examples:", "filestressd -op upload -size 50MB -workers 5 -csv results/matrix.csv", "-timeout", "-pool", "-keep", "-no"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("-h does not mention %q:\n%s", want, r.stdout)
		}
	}
}
