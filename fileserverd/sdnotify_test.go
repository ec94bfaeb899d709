//go:build linux

// Linux only: systemd's notify socket, with the sender's credentials
// (SO_PASSCRED), as systemd reads it.

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// TestSdNotify plays systemd's side of Type=notify: it listens on a unix
// datagram socket, starts fileserverd with NOTIFY_SOCKET naming it, and
// expects READY=1 from the main process once it serves, then STOPPING=1
// when SIGTERM starts the shutdown, and nothing from worker children.
func TestSdNotify(t *testing.T) {
	forModesInTurn(t, func(t *testing.T, mode string) {
		path := filepath.Join(t.TempDir(), "notify")
		testSdNotify(t, mode, path, listenNotify(t, path))
	})
	// systemd's own NOTIFY_SOCKET is a path; containers and test managers
	// use abstract names, which start with '@'.
	t.Run("abstract", func(t *testing.T) {
		name := fmt.Sprintf("@fileserverd-test-%d-%d", os.Getpid(), time.Now().UnixNano())
		testSdNotify(t, "thread", name, listenNotify(t, name))
	})
}

func testSdNotify(t *testing.T, mode, path string, sock *net.UnixConn) {
	d := newDaemon(t, testkit.ServerOptions{Mode: mode, Workers: 2, Env: []string{envNotifySocket + "=" + path}})
	state, pid := readNotify(t, sock, 10*time.Second)
	if !hasLine(state, "READY=1") || pid != d.Cmd.Process.Pid {
		t.Fatalf("first notification %q from pid %d; want READY=1 from the daemon, pid %d", state, pid, d.Cmd.Process.Pid)
	}
	if !strings.Contains(state, "STATUS=serving on "+d.Addr) {
		t.Errorf("READY notification %q has no STATUS naming %s", state, d.Addr)
	}
	if mode == "process" {
		for _, pid := range workerPIDs(t, d, 2) {
			if env := processEnv(t, pid); strings.Contains(env, envNotifySocket+"=") {
				t.Errorf("worker child %d has %s in its environment", pid, envNotifySocket)
			}
		}
	}
	d.list(t) // it serves

	d.Cmd.Process.Signal(syscall.SIGTERM)
	state, pid = readNotify(t, sock, 10*time.Second)
	if !hasLine(state, "STOPPING=1") || pid != d.Cmd.Process.Pid {
		t.Fatalf("notification after SIGTERM %q from pid %d; want STOPPING=1 from pid %d", state, pid, d.Cmd.Process.Pid)
	}
	if err := d.Stop(10 * time.Second); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, d.Log)
	}
	// Everything sent is queued by now: anything more is one too many.
	sock.SetReadDeadline(time.Now())
	if n, _, err := sock.ReadFrom(make([]byte, 4096)); err == nil {
		t.Errorf("unexpected extra notification after exit (%d bytes)", n)
	}
}

// listenNotify opens the socket a service manager reads notifications
// on, asking the kernel for each sender's credentials as systemd does to
// tell the main process from others.
func listenNotify(t *testing.T, path string) *net.UnixConn {
	t.Helper()
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	raw, err := conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PASSCRED, 1)
	}); err != nil || serr != nil {
		t.Fatalf("SO_PASSCRED: %v %v", err, serr)
	}
	return conn
}

// readNotify returns the next notification and the pid that sent it.
func readNotify(t *testing.T, conn *net.UnixConn, timeout time.Duration) (string, int) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(timeout))
	buf, oob := make([]byte, 4096), make([]byte, syscall.CmsgSpace(syscall.SizeofUcred))
	n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("notification without credentials: %v", err)
	}
	cred, err := syscall.ParseUnixCredentials(&msgs[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n]), int(cred.Pid)
}

func hasLine(s, line string) bool { return slices.Contains(strings.Split(s, "\n"), line) }
