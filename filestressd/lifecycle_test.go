package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

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
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			cmd.Stderr = w
			err = cmd.Start()
			w.Close()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if cmd.ProcessState == nil {
					cmd.Process.Kill()
					cmd.Wait()
				}
			})

			// The children are reported, then released.
			var pids []int
			released := false
			sc := bufio.NewScanner(r)
			for !released && sc.Scan() {
				if m := childPidRE.FindStringSubmatch(sc.Text()); m != nil {
					pid, _ := strconv.Atoi(m[2])
					pids = append(pids, pid)
				}
				released = strings.Contains(sc.Text(), "children released")
			}
			if len(pids) != 4 || !released {
				t.Fatalf("filestressd reported %d child pids (released: %v) before its stderr ended", len(pids), released)
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
			rest := make(chan string, 1)
			go func() { // ends when every holder of the pipe is gone
				var b strings.Builder
				for sc.Scan() {
					b.WriteString(sc.Text() + "\n")
				}
				rest <- b.String()
			}()
			cmd.Process.Signal(sig)
			err = cmd.Wait()

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
			case msg := <-rest:
				if msg = strings.TrimSpace(msg); !strings.Contains(msg, "interrupted") || strings.Contains(msg, "\n") {
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
