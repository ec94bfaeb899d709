package main

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestListenerStaysWithParent starts process mode with 8 children and
// checks where the listening socket is: only the parent holds it, still
// non-blocking (no Fd() call flipped it), and no child can accept on it,
// so no child wakes for a connection that is not handed to it. Then 40
// connections at once are all served.
func TestListenerStaysWithParent(t *testing.T) {
	const children = 8
	d := startDaemon(t, "process", children)
	_, port, _ := net.SplitHostPort(d.Addr)
	inode := listenerInode(t, port)
	pids := treePids(d.Cmd.Process.Pid)
	if len(pids) != children+1 {
		t.Fatalf("server processes %v, want the parent and %d children", pids, children)
	}
	for i, pid := range pids {
		fds := socketFDs(t, pid, inode)
		if i > 0 {
			if len(fds) != 0 {
				t.Errorf("child %d holds the listening socket as fd %v", pid, fds)
			}
			continue
		}
		if len(fds) != 1 {
			t.Fatalf("the parent holds the listening socket as fds %v, want one", fds)
		}
		if flags := fdFlags(t, pid, fds[0]); flags&0o4000 == 0 {
			t.Errorf("the parent's listening socket has flags %#o: blocking, want O_NONBLOCK", flags)
		}
	}
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			c := d.Client(t)
			defer c.Close()
			if _, err := c.List(ctxTimeout(t, 20*time.Second)); err != nil {
				t.Errorf("LIST: %v", err)
			}
		})
	}
	wg.Wait()
}

// listenerInode finds the socket inode of the TCP listener on port.
func listenerInode(t *testing.T, port string) string {
	t.Helper()
	p, _ := strconv.Atoi(port)
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		b, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n")[1:] {
			f := strings.Fields(line)
			// local_address rem_address st ... inode (the 10th field)
			if len(f) > 9 && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", p)) && f[3] == "0A" {
				return f[9]
			}
		}
	}
	t.Fatalf("no listener on port %s in /proc/net/tcp", port)
	return ""
}

// socketFDs lists the descriptors of pid that are the socket inode.
func socketFDs(t *testing.T, pid int, inode string) []int {
	t.Helper()
	var fds []int
	for _, fd := range fdNumbers(pid) {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd)); err == nil && l == "socket:["+inode+"]" {
			fds = append(fds, fd)
		}
	}
	return fds
}

// fdFlags reads a descriptor's file status flags from /proc.
func fdFlags(t *testing.T, pid, fd int) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, fd))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatal(err)
			}
			return flags
		}
	}
	t.Fatalf("no flags in /proc/%d/fdinfo/%d", pid, fd)
	return 0
}
