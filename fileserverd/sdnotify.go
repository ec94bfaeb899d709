package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
)

// envNotifySocket names the socket of systemd's notify protocol: a unit
// with Type=notify counts as started only once the service sends READY=1
// on it, so units ordered after fileserverd, and `systemctl start`, wait
// until it really serves. Only the daemon's main process speaks: worker
// children are started without the variable.
const envNotifySocket = "NOTIFY_SOCKET"

// sdNotify sends state ("READY=1", "STOPPING=1", ...) to the service
// manager, and does nothing when not run by one. A failure is logged, not
// returned: serving matters more than the manager's view of it.
func sdNotify(log *slog.Logger, state string) {
	if err := notify(os.Getenv(envNotifySocket), state); err != nil {
		log.Warn("cannot notify systemd", "state", state, "error", err)
	}
}

// notify sends one datagram to the unix socket at path; a path starting
// with '@' is an abstract socket, which package syscall handles by turning
// the '@' into the leading NUL byte of the kernel's name.
func notify(path, state string) error {
	if path == "" {
		return nil
	}
	if path[0] != '/' && path[0] != '@' {
		return fmt.Errorf("%s=%q: want an absolute path or an @abstract name", envNotifySocket, path)
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("%s: %w", envNotifySocket, err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("%s: %w", envNotifySocket, err)
	}
	return nil
}

// readyState is READY=1 with a STATUS= line for `systemctl status`.
func readyState(cfg config, ln net.Listener) string {
	return fmt.Sprintf("READY=1\nSTATUS=serving on %s with %d %s workers", ln.Addr(), cfg.Workers, cfg.Mode)
}
