package childproc

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"fileserver/protocol/childproc/childtest"
)

type testConfig struct {
	Name  string
	Seed  uint64
	Wait  time.Duration
	At    time.Time
	On    bool
	Ratio float64
	Inner struct{ Port uint16 }
}

// TestLauncher checks, without forking (StartProcess), the command a child
// gets: this binary's path, no arguments, its file, no dropped variable,
// and the config variable once, which Config decodes whole. The commands'
// tests start real children.
func TestLauncher(t *testing.T) {
	var want testConfig
	childtest.Fill(t, &want)
	const name = "CHILDPROC_TEST_CONFIG"
	t.Setenv(name, "the parent's own")
	t.Setenv("CHILDPROC_TEST_DROP", "the parent's only")
	var started *exec.Cmd
	l := Launcher{Var: name, Exe: "/bin/true", Drop: []string{"CHILDPROC_TEST_DROP="}, StartProcess: func(c *exec.Cmd) error { started = c; return nil }}
	cmd, err := l.Command(context.Background(), want, os.Stdin)
	if err == nil {
		err = l.Start(cmd)
	}
	if err != nil || started != cmd {
		t.Fatalf("Start: %v, started %v", err, started)
	}
	var vars []string
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, name+"=") || strings.HasPrefix(kv, "CHILDPROC_TEST_DROP=") {
			vars = append(vars, kv)
		}
	}
	if cmd.Path != "/bin/true" || len(cmd.Args) != 1 || !slices.Equal(cmd.ExtraFiles, []*os.File{os.Stdin}) || len(vars) != 1 {
		t.Fatalf("command %s %q, files %v, variables %q", cmd.Path, cmd.Args, cmd.ExtraFiles, vars)
	}
	t.Setenv(name, strings.TrimPrefix(vars[0], name+"="))
	var got testConfig
	if isChild, err := Config(name, &got); !isChild || err != nil {
		t.Fatalf("Config: child %v, %v", isChild, err)
	}
	childtest.Compare(t, want, got)
}
