package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/childproc"
	"fileserver/protocol/testkit"
)

// stressBin is filestressd itself, built once for the whole run (with the
// race detector when the tests have it): the tests run it, and its process
// pool re-executes it. TestMain builds fileserverd too, for startServer.
var stressBin string

func TestMain(m *testing.M) {
	testkit.Main(m,
		testkit.Binary{Pkg: testkit.ServerPkg},
		testkit.Binary{Pkg: ".", Flags: testkit.RaceFlags(), Path: &stressBin})
}

// startServer runs fileserverd on a free loopback port with a fresh
// directory (testkit.StartServer). Cleanup stops it with SIGTERM and fails
// the test unless it exits 0.
func startServer(t *testing.T, mode string, workers int) *testkit.Server {
	t.Helper()
	return testkit.StartServer(t, testkit.ServerOptions{Mode: mode, Workers: workers, WantCleanExit: true})
}

// stressRun is one finished filestressd process.
type stressRun struct {
	code           int
	stdout, stderr string
	elapsed        time.Duration // from the start of the process to its exit
	exited         time.Time
	pid            int
}

// runStress runs filestressd to the end (at most two minutes).
func runStress(t *testing.T, args ...string) stressRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, stressBin, args...)
	childproc.DieWithParent(cmd, syscall.SIGKILL)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	err := cmd.Wait()
	r := stressRun{elapsed: time.Since(start), exited: time.Now(), pid: cmd.Process.Pid, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.code = ee.ExitCode()
	default:
		t.Fatalf("filestressd %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, r.stdout, r.stderr)
	}
	if strings.Contains(r.stderr, "DATA RACE") {
		t.Errorf("the race detector found a race in filestressd or a child:\n%s", r.stderr)
	}
	return r
}

// mustRun runs filestressd and fails the test unless it exits 0.
func mustRun(t *testing.T, args ...string) stressRun {
	t.Helper()
	r := runStress(t, args...)
	if r.code != 0 {
		t.Fatalf("filestressd %q: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

// readRows reads a CSV written by filestressd: its header, and its rows
// as maps by column.
func readRows(t *testing.T, path string) ([]string, []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(recs) == 0 {
		t.Fatalf("%s is empty", path)
	}
	var rows []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, col := range recs[0] {
			row[col] = rec[i]
		}
		rows = append(rows, row)
	}
	return recs[0], rows
}

// lastRow runs filestressd with a fresh CSV and returns its one row.
func runRow(t *testing.T, args ...string) (stressRun, map[string]string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "cell.csv")
	r := mustRun(t, append(args, "-csv", path)...)
	_, rows := readRows(t, path)
	if len(rows) != 1 {
		t.Fatalf("want 1 row, got %d", len(rows))
	}
	return r, rows[0]
}

// expect checks columns of a row.
func expect(t *testing.T, row map[string]string, want map[string]string) {
	t.Helper()
	for col, v := range want {
		if row[col] != v {
			t.Errorf("column %s = %q, want %q (row %v)", col, row[col], v, row)
		}
	}
}

// fileSHA streams a file through SHA-256.
func fileSHA(t *testing.T, path string) (int64, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := protocol.NewHash()
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return n, fmt.Sprintf("%x", h.Sum(nil))
}
