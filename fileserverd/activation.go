package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"syscall"
)

// Socket activation: with fileserverd.socket, systemd opens the port
// itself, before fileserverd starts, and hands it over as fd 3 with
// LISTEN_FDS=1 and LISTEN_PID=<our pid>. The port then stays open across
// restarts (clients wait in the listen queue instead of being refused) and
// the service can start late or on the first connection.
const (
	envListenPID     = "LISTEN_PID"
	envListenFDs     = "LISTEN_FDS"
	envListenFDNames = "LISTEN_FDNAMES"
	fdListenStart    = 3 // SD_LISTEN_FDS_START
)

// listen returns the socket systemd passed, if any, or else a new one on
// addr.
func listen(addr string, log *slog.Logger) (net.Listener, error) {
	ln, n, err := systemdListener()
	if err != nil {
		return nil, err
	}
	if ln != nil {
		log.Info("listening socket from systemd (socket activation); -addr ignored", "addr", ln.Addr().String(), "fds", n)
		return ln, nil
	}
	return net.Listen("tcp", addr)
}

// systemdListener returns fd 3 as a listener when LISTEN_PID names this
// process and LISTEN_FDS is at least 1, and n, the LISTEN_FDS count (only
// the first socket is served). It removes the LISTEN_ variables in every
// case, as sd_listen_fds(1) does, so that no process started later (worker
// children, which get the listener as fd 3 of their own) takes them for
// itself.
func systemdListener() (ln net.Listener, n int, err error) {
	pid, fds := os.Getenv(envListenPID), os.Getenv(envListenFDs)
	for _, v := range []string{envListenPID, envListenFDs, envListenFDNames} {
		os.Unsetenv(v)
	}
	if pid == "" || pid != strconv.Itoa(os.Getpid()) {
		return nil, 0, nil // not socket-activated, or meant for another process
	}
	if n, err = strconv.Atoi(fds); err != nil || n < 1 {
		return nil, 0, fmt.Errorf("socket activation: %s=%q: want a count of 1 or more", envListenFDs, fds)
	}
	// Accept=yes in the .socket unit would pass a connection, not a
	// listening socket: say so rather than fail on the first Accept.
	if v, err := syscall.GetsockoptInt(fdListenStart, syscall.SOL_SOCKET, syscall.SO_ACCEPTCONN); err != nil || v == 0 {
		return nil, 0, fmt.Errorf("socket activation: fd %d is not a listening socket (Accept=yes in the .socket unit?)", fdListenStart)
	}
	f := os.NewFile(fdListenStart, "systemd-socket")
	ln, err = net.FileListener(f) // a close-on-exec duplicate
	f.Close()
	if err != nil {
		return nil, 0, fmt.Errorf("socket activation: fd %d: %w", fdListenStart, err)
	}
	if _, ok := ln.(*net.TCPListener); !ok {
		ln.Close()
		return nil, 0, fmt.Errorf("socket activation: fd %d is a %s socket; fileserverd serves TCP (ListenStream=port or address:port)", fdListenStart, ln.Addr().Network())
	}
	return ln, n, nil
}
