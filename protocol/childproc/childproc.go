// Package childproc is the one way both commands run child processes of
// their own binary: it starts one with its configuration and descriptors,
// tied to the parent's life (Launcher), decodes that configuration on the
// child's side (Config), and words how a child ended.
package childproc

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
)

// ExitStatus words how a child ended, the same way in both commands'
// logs: "exit 0", "exit 3", "signal: killed", "signal: terminated".
// An error that is not an exit (the child never started) is its text.
func ExitStatus(err error) string {
	if err == nil {
		return "exit 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return "signal: " + ws.Signal().String()
		}
		return fmt.Sprintf("exit %d", ee.ExitCode())
	}
	return err.Error()
}

// WithoutEnv returns env without the variables whose "NAME=" starts with
// one of prefixes: a child must not inherit a marker meant for its parent
// (another command's child marker, systemd's NOTIFY_SOCKET).
func WithoutEnv(env []string, prefixes ...string) []string {
	out := env[:0:0]
next:
	for _, kv := range env {
		for _, p := range prefixes {
			if strings.HasPrefix(kv, p) {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
