//go:build linux

// Linux only: it finds the children through /proc (isStressProcess).

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// releasedRE is the line filestressd's -v prints once the process pool's
// children may start their transfers.
var releasedRE = regexp.MustCompile(`children released`)

// TestChildrenDieWithParent stops filestressd in the middle of a process
// pool's window: killed with SIGKILL, its children die with it
// (Pdeathsig); stopped with SIGTERM, it kills them itself, writes no row
// and says so on one line.
func TestChildrenDieWithParent(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			// A server that never reads an upload: the children block
			// until something kills them.
			f := startFakeServer(t, fakeStall, 0)
			csvPath := filepath.Join(t.TempDir(), "m.csv")
			cmd := exec.Command(stressBin, "-addr", f.addr, "-op", "upload", "-size", "1GB", "-workers", "4",
				"-pool", "process", "-timeout", "60s", "-v", "-csv", csvPath)
			cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
			stderr := testkit.StartLogged(t, cmd)

			// The children are reported, then released.
			if _, err := stderr.WaitFor(releasedRE, 30*time.Second); err != nil {
				t.Fatalf("filestressd did not release its children: %v\nstderr:\n%s", err, stderr)
			}
			var pids []int
			for _, m := range childPidRE.FindAllStringSubmatch(stderr.String(), -1) {
				pid, _ := strconv.Atoi(m[2])
				pids = append(pids, pid)
			}
			if len(pids) != 4 {
				t.Fatalf("filestressd reported %d child pids before releasing them, want 4:\n%s", len(pids), stderr)
			}
			// Wait until every child is inside its upload.
			timeout := time.After(10 * time.Second)
			for range 4 {
				select {
				case <-f.stalled:
				case <-timeout:
					t.Fatal("the children's uploads did not reach the server within 10s")
				}
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()

			// Children are not ours to wait for: watch them go, for at
			// most five seconds.
			deadline := time.Now().Add(5 * time.Second)
			for _, pid := range pids {
				for isStressProcess(pid) && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
				}
				if isStressProcess(pid) {
					syscall.Kill(pid, syscall.SIGKILL)
					t.Errorf("child %d outlived filestressd (%s) by 5s", pid, sig)
				}
			}
			if sig != syscall.SIGTERM {
				return
			}
			ee, ok := err.(*exec.ExitError)
			if !ok || ee.ExitCode() != exitFailed {
				t.Errorf("after SIGTERM: %v, want exit %d", err, exitFailed)
			}
			select {
			case <-stderr.EOF():
				// What it said after releasing the children.
				lines := strings.Split(stderr.String(), "\n")
				i := slices.IndexFunc(lines, releasedRE.MatchString)
				if msg := strings.TrimSpace(strings.Join(lines[i+1:], "\n")); !strings.Contains(msg, "interrupted") || strings.Contains(msg, "\n") {
					t.Errorf("after SIGTERM, stderr %q: want one line saying it was interrupted", msg)
				}
			case <-time.After(5 * time.Second):
				t.Error("stderr still open 5s after filestressd exited")
			}
			if _, err := os.Stat(csvPath); err == nil {
				t.Error("a row was written for an interrupted cell")
			}
		})
	}
}
