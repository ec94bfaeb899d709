package childproc

import (
	"os/exec"
	"syscall"
)

// This file exists because only Linux has a parent-death signal
// (prctl PR_SET_PDEATHSIG, SysProcAttr.Pdeathsig); parentdeath_other.go
// is the same call where there is none.

// DieWithParent arms cmd, before it starts, to get sig when the thread
// that starts it exits: the kernel's guarantee that the child does not
// outlive its parent, even one killed with SIGKILL. forkExec arms it in
// the child before the exec and, if the parent already died by then,
// signals the child itself (syscall/exec_linux.go). The caller keeps
// the starting goroutine on one thread (runtime.LockOSThread) for as
// long as the child should live. It reports whether the platform has
// the signal; where it does not, the child must learn of its parent's
// death another way (a pipe from the parent reaching EOF).
func DieWithParent(cmd *exec.Cmd, sig syscall.Signal) bool {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = sig
	return true
}
