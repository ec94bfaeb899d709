package stress

// A process tree with known memory and CPU use, for the tests of the
// server's cost: this test binary, re-executed as a helper
// (treeHelperEnv set), takes commands on stdin and answers each with one
// line on stdout.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// treeHelperEnv marks the test binary run as a helper process.
const treeHelperEnv = "FILESTRESSD_TREE_HELPER"

// treeHelperMain is the helper's main: a loop over its commands.
//
//	hold N      map N MiB, touch every page, keep it
//	peak N      map N MiB, touch every page, unmap it: the peak rises, the RSS does not stay
//	spin MS     use MS milliseconds of CPU time
//	spawn       start a child helper (its stdin and stdout piped to this one): "ok PID"
//	child I C   pass command C to child I, answer its answer
//	reap I      end child I and wait for it (its CPU time goes to this one's cutime)
//	listen      listen on 127.0.0.1:0: "ok PORT"
//	share       start a child helper that inherits the listener as fd 3: "ok PID"
//
// It ends when stdin does, ending its children first.
func treeHelperMain() int {
	h := &treeHelper{}
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		fmt.Println(h.do(strings.Fields(in.Text())))
	}
	for i := range h.children {
		h.reap(i)
	}
	return 0
}

type treeHelper struct {
	held     [][]byte
	children []*helperChild
	listener *os.File
}

type helperChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func (h *treeHelper) do(f []string) string {
	if len(f) == 0 {
		return "error: empty command"
	}
	arg := func(i int) int {
		if len(f) <= i {
			return 0
		}
		n, _ := strconv.Atoi(f[i])
		return n
	}
	switch f[0] {
	case "hold":
		h.held = append(h.held, touched(arg(1)))
	case "peak":
		m := touched(arg(1))
		if err := syscall.Munmap(m); err != nil {
			return "error: " + err.Error()
		}
	case "spin":
		spin(time.Duration(arg(1)) * time.Millisecond)
	case "spawn", "share":
		var extra []*os.File
		if f[0] == "share" {
			extra = []*os.File{h.listener}
		}
		c, err := startHelper(extra)
		if err != nil {
			return "error: " + err.Error()
		}
		h.children = append(h.children, c)
		return fmt.Sprintf("ok %d", c.cmd.Process.Pid)
	case "child":
		i := arg(1)
		if i >= len(h.children) || h.children[i] == nil || len(f) < 3 {
			return "error: no such child"
		}
		return h.children[i].ask(strings.Join(f[2:], " "))
	case "reap":
		if !h.reap(arg(1)) {
			return "error: no such child"
		}
	case "listen":
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "error: " + err.Error()
		}
		if h.listener, err = l.(*net.TCPListener).File(); err != nil {
			return "error: " + err.Error()
		}
		l.Close() // the descriptor's copy keeps the socket listening
		_, port, _ := net.SplitHostPort(l.Addr().String())
		return "ok " + port
	default:
		return "error: unknown command " + f[0]
	}
	return "ok"
}

// reap ends child i (its stdin closed) and waits for it.
func (h *treeHelper) reap(i int) bool {
	if i >= len(h.children) || h.children[i] == nil {
		return false
	}
	c := h.children[i]
	c.in.Close()
	c.cmd.Wait()
	h.children[i] = nil
	return true
}

// touched maps n MiB of anonymous memory and writes every page of it.
func touched(n int) []byte {
	m, err := syscall.Mmap(-1, 0, n<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		panic(err)
	}
	for i := 0; i < len(m); i += 4096 {
		m[i] = 1
	}
	return m
}

// spin uses d of this process's CPU time (getrusage), not of the wall
// clock, so that a loaded machine does not change it.
func spin(d time.Duration) {
	start, _ := processCPUTime()
	x := uint64(1)
	for i := 0; ; i++ {
		x = x*6364136223846793005 + 1442695040888963407
		if i%(1<<16) == 0 {
			if now, _ := processCPUTime(); now-start >= d {
				break
			}
		}
	}
	if x == 0 {
		fmt.Fprintln(os.Stderr, x)
	}
}

// startHelper starts this binary as a helper, extra as its fd 3 onwards;
// it dies with its parent.
func startHelper(extra []*os.File) (*helperChild, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), treeHelperEnv+"=1")
	cmd.Stderr = os.Stderr
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return &helperChild{cmd: cmd, in: in, out: bufio.NewScanner(out)}, nil
}

// ask sends one command and returns the answer.
func (c *helperChild) ask(command string) string {
	if _, err := fmt.Fprintln(c.in, command); err != nil {
		return "error: " + err.Error()
	}
	if !c.out.Scan() {
		return "error: the helper ended"
	}
	return c.out.Text()
}

// treeHelperRoot starts a helper from a test, ended by t.Cleanup.
func treeHelperRoot(t *testing.T, extra ...*os.File) *helperChild {
	t.Helper()
	c, err := startHelper(extra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.in.Close()
		done := make(chan struct{})
		go func() { c.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.cmd.Process.Kill()
			<-done
		}
	})
	return c
}

// must sends a command and fails the test unless it answers ok; it
// returns what follows "ok".
func (c *helperChild) must(t *testing.T, command string) string {
	t.Helper()
	a := c.ask(command)
	rest, ok := strings.CutPrefix(a, "ok")
	if !ok {
		t.Fatalf("helper %q: %s", command, a)
	}
	return strings.TrimSpace(rest)
}
