package testkit

import "os/exec"

// This file exists because Windows has no process groups to signal:
// OwnGroup does nothing and KillGroup kills the one process.

// OwnGroup does nothing on Windows.
func OwnGroup(cmd *exec.Cmd) {}

// KillGroup kills cmd's process.
func KillGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		cmd.Process.Kill()
	}
}
