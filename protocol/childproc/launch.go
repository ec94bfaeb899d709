package childproc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"syscall"
)

// FirstFD is the number a child's first inherited file gets: the files
// given to Command are fds FirstFD, FirstFD+1, ... in the child, in
// order (os/exec ExtraFiles; 0 to 2 are its stdin, stdout and stderr).
const FirstFD = 3

// Launcher starts children of the running binary, re-executed without
// arguments. A child is handed its configuration as one value: the JSON
// of the parent's own struct, in the environment variable Var, so that
// every field reaches it with nothing rebuilt flag by flag. Config is the
// child's side.
type Launcher struct {
	// Var names the environment variable that carries the config.
	Var string
	// Exe is the binary to run; "" is this process's own (os.Executable).
	Exe string
	// Drop are prefixes ("NAME=", or a family such as "APP_") of the
	// parent's variables a child must not inherit, besides Var.
	Drop []string
	// DeathSignal, when not 0, is sent to a child when the thread that
	// started it exits (DieWithParent, on Linux only).
	DeathSignal syscall.Signal
	// StartProcess starts a prepared command; nil is (*exec.Cmd).Start.
	// A test replaces it to see the command without forking, as
	// tableflip's env.newProc does.
	StartProcess func(*exec.Cmd) error
}

// Command prepares a child with config and files, killed when ctx ends.
// The caller may add pipes, streams or variables, then calls Start.
func (l Launcher) Command(ctx context.Context, config any, files ...*os.File) (*exec.Cmd, error) {
	b, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("encode the child's %s: %w", l.Var, err)
	}
	exe := l.Exe
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("find own executable: %w", err)
		}
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(WithoutEnv(os.Environ(), append(slices.Clip(l.Drop), l.Var+"=")...), l.Var+"="+string(b))
	cmd.ExtraFiles = files
	return cmd, nil
}

// Start starts cmd, made by Command, armed to die with its parent.
func (l Launcher) Start(cmd *exec.Cmd) error {
	if l.DeathSignal != 0 {
		DieWithParent(cmd, l.DeathSignal)
	}
	if l.StartProcess != nil {
		return l.StartProcess(cmd)
	}
	return cmd.Start()
}

// Config tells whether this process is a child a Launcher started with
// variable name, and decodes the configuration it was handed into config.
func Config(name string, config any) (isChild bool, err error) {
	v, ok := os.LookupEnv(name)
	if !ok {
		return false, nil
	}
	if err := json.Unmarshal([]byte(v), config); err != nil {
		return true, fmt.Errorf("child: bad %s: %w", name, err)
	}
	return true, nil
}
