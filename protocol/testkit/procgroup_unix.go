//go:build unix

package testkit

import (
	"os/exec"
	"syscall"
)

// This file exists because process groups are a Unix notion;
// procgroup_windows.go kills the one process instead.

// OwnGroup makes cmd, before it starts, the leader of a process group of
// its own, so that KillGroup stops it with every child it forked (a
// Python server's pool, say).
func OwnGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// KillGroup sends SIGKILL to the process group OwnGroup gave cmd.
func KillGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
