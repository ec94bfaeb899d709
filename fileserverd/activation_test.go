package main

import (
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// TestSocketActivation plays systemd's side of socket activation: the
// test opens the listening socket and passes it as fd 3 with LISTEN_FDS=1
// and LISTEN_PID set to the daemon's pid. That pid is unknown before the
// daemon starts, so a shell sets it to its own and then execs fileserverd,
// which keeps the pid. fileserverd must serve on that socket, not on -addr
// (the harness passes 127.0.0.1:0, another port), and hide the LISTEN_
// variables from its children.
func TestSocketActivation(t *testing.T) {
	forModesInTurn(t, func(t *testing.T, mode string) {
		ln, lf := activationSocket(t)
		d := newDaemon(t, testkit.ServerOptions{Mode: mode, Workers: 2, Setup: func(cmd *exec.Cmd) {
			activateThroughShell(t, cmd, lf)
			cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "LISTEN_FDNAMES=fileserverd.socket")
		}})
		lf.Close()
		ln.Close() // the daemon holds the socket now

		if d.Addr != ln.Addr().String() {
			t.Fatalf("daemon listens on %s, not on the socket passed as fd 3 (%s)\n%s", d.Addr, ln.Addr(), d.Log)
		}
		if !strings.Contains(d.Log.String(), "listening socket from systemd") {
			t.Errorf("the log does not say the socket came from systemd:\n%s", d.Log)
		}
		if names := d.list(t); len(names) != 0 {
			t.Errorf("LIST on the activated socket: %q, want an empty list", names)
		}
		d.upload(t, "a.txt", strings.NewReader("activated"))
		if names := d.list(t); len(names) != 1 || names[0] != "a.txt" {
			t.Errorf("LIST after upload: %q", names)
		}
		if mode == "process" {
			for _, pid := range workerPIDs(t, d, 2) {
				if env := processEnv(t, pid); regexp.MustCompile(`(?m)^LISTEN_`).MatchString(env) {
					t.Errorf("worker child %d inherited LISTEN_ variables:\n%s", pid, env)
				}
			}
		}
		if err := d.Stop(10 * time.Second); err != nil {
			t.Errorf("exit: %v\n%s", err, d.Log)
		}
	})
}

// TestSocketActivationOtherPID passes a socket with LISTEN_PID naming
// another process: the variables are not for fileserverd, which must
// listen on -addr as usual.
func TestSocketActivationOtherPID(t *testing.T) {
	ln, lf := activationSocket(t)
	d := newDaemon(t, testkit.ServerOptions{Mode: "thread", Workers: 1, Setup: func(cmd *exec.Cmd) {
		cmd.ExtraFiles = []*os.File{lf}
		cmd.Env = append(os.Environ(), "LISTEN_FDS=1", "LISTEN_PID=1")
	}})
	lf.Close()
	if d.Addr == ln.Addr().String() || strings.Contains(d.Log.String(), "from systemd") {
		t.Fatalf("daemon took a socket meant for pid 1:\n%s", d.Log)
	}
	d.list(t)
}

// activationSocket opens the socket systemd would, on loopback, and the
// file to hand to the daemon; cleanup closes both.
func activationSocket(t *testing.T) (net.Listener, *os.File) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	lf, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lf.Close() })
	return ln, lf
}

// activateThroughShell makes cmd run fileserverd through
// sh -c 'LISTEN_PID=$$ exec "$0" "$@"', with lf as fd 3.
func activateThroughShell(t *testing.T, cmd *exec.Cmd, lf *os.File) {
	t.Helper()
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh to set LISTEN_PID with:", err)
	}
	cmd.Path = sh
	cmd.Args = append([]string{"sh", "-c", `LISTEN_PID=$$ exec "$0" "$@"`}, cmd.Args...)
	cmd.ExtraFiles = []*os.File{lf}
}
