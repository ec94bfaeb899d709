package stress

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"fileserver/protocol/childproc"
	"fileserver/protocol/testkit"
)

// Environment of the test binary re-executed as a stand-in parent
// (runStandInParent), for TestChildSeesParentDeathByPipe.
const (
	envStandInParent = "FILESTRESSD_TEST_STAND_IN_PARENT" // the child's binary
	envStandInSpec   = "FILESTRESSD_TEST_STAND_IN_SPEC"   // the child's childSpec, as JSON
)

// standInPidRE is the line the stand-in parent prints once its child is
// released.
var standInPidRE = regexp.MustCompile(`^released child (\d+)$`)

// TestChildSeesParentDeathByPipe checks the way a process-pool child
// learns of its parent's death where there is no Pdeathsig (macOS,
// Windows), and which backs Pdeathsig up on Linux: the end of its stdin.
// A stand-in parent (this test binary) starts a real filestressd child
// as startChild does but without Pdeathsig, releases it into a LIST
// against a server that accepts and never answers, and is then killed
// with SIGKILL. The child must exit within a few seconds, saying why,
// long before its own one-minute deadline, and its connection must close.
func TestChildSeesParentDeathByPipe(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- c
		}
	}()
	spec := childSpec{
		Job:     job{Worker: 1, Op: CellList, Addr: ln.Addr().String()},
		StartBy: time.Now().Add(time.Minute),
		Timeout: time.Minute,
	}
	b, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}

	// The child's stderr is a pipe of the test's, through the stand-in:
	// its end (every writer gone) is the child's exit.
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), envStandInParent+"="+stressBin, envStandInSpec+"="+string(b))
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := testkit.StartLogged(t, parent)

	line, _ := bufio.NewReader(out).ReadString('\n')
	m := standInPidRE.FindStringSubmatch(strings.TrimSpace(line))
	if m == nil {
		t.Fatalf("stand-in parent said %q, want %q\nstderr:\n%s", line, standInPidRE, stderr)
	}
	pid, _ := strconv.Atoi(m[1])
	t.Cleanup(func() {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill() // a child that outlived the test
		}
	})
	var conn net.Conn
	select {
	case conn = <-accepted:
		defer conn.Close()
	case <-time.After(30 * time.Second):
		t.Fatalf("the released child did not connect within 30s\nstderr:\n%s", stderr)
	}

	// The child now waits for a reply that never comes. Kill its parent.
	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	parent.Wait()
	killed := time.Now()
	select {
	case <-stderr.EOF():
	case <-time.After(10 * time.Second):
		t.Fatalf("child %d still running 10s after its parent was killed\nstderr:\n%s", pid, stderr)
	}
	t.Logf("child %d exited %s after its parent was killed", pid, time.Since(killed).Round(time.Millisecond))
	if !strings.Contains(stderr.String(), "the parent is gone") {
		t.Errorf("child's stderr %q: want it to say the parent is gone", stderr)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, conn); err != nil { // its LIST, then the end
		t.Errorf("the child's connection after its exit: %v, want its end", err)
	}
}

// runStandInParent is the test binary as TestChildSeesParentDeathByPipe's
// stand-in parent: it starts the child as startChild would, but arms no
// parent-death signal, so that only the pipe can tell the child; it
// waits for the child's ready line, releases it, says so, and waits to
// be killed (for two minutes at most).
func runStandInParent(bin, spec string) int {
	cmd := exec.Command(bin)
	cmd.Env = append(childproc.WithoutEnv(os.Environ(), envStandInParent+"=", envStandInSpec+"="), envChild+"="+spec)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err == nil {
		var stdout io.Reader
		if stdout, err = cmd.StdoutPipe(); err == nil {
			if err = cmd.Start(); err == nil {
				lines := bufio.NewScanner(stdout)
				if !lines.Scan() || !strings.Contains(lines.Text(), `"ready":true`) {
					err = fmt.Errorf("child's first line %q, want ready", lines.Text())
				} else if _, err = stdin.Write([]byte("go\n")); err == nil {
					fmt.Printf("released child %d\n", cmd.Process.Pid)
					go io.Copy(io.Discard, stdout)
					time.Sleep(2 * time.Minute)
				}
			}
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "stand-in parent:", err)
		return 1
	}
	return 0
}
