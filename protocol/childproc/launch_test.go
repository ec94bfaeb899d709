package childproc

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol/childproc/childtest"
)

// echoVar marks this test binary re-executed as a child by
// TestLauncherHandsConfig: it writes what it decoded on fd FirstFD.
const echoVar = "CHILDPROC_TEST_ECHO"

type echoConfig struct {
	Name  string
	N     int
	Size  int64
	Seed  uint64
	Wait  time.Duration
	At    time.Time
	On    bool
	Ratio float64
	Inner struct {
		Addr string
		Port uint16
	}
}

// echoed is what the child writes back: its config and the variable the
// parent dropped, which it must not have.
type echoed struct {
	Config  echoConfig
	Dropped string
}

func TestMain(m *testing.M) {
	var e echoed
	if isChild, err := Config(echoVar, &e.Config); isChild {
		if err == nil {
			e.Dropped = os.Getenv("CHILDPROC_TEST_DROP")
			err = json.NewEncoder(os.NewFile(FirstFD, "echo")).Encode(e)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestLauncherHandsConfig starts this binary as a real child and checks
// that every field of its config, and its first file, reach it.
func TestLauncherHandsConfig(t *testing.T) {
	var want echoConfig
	if u := childtest.Fill(t, &want); len(u) > 0 {
		t.Fatalf("unexported fields %q", u)
	}
	t.Setenv("CHILDPROC_TEST_DROP", "parent's only")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	l := Launcher{Var: echoVar, Drop: []string{"CHILDPROC_TEST_DROP="}, DeathSignal: syscall.SIGKILL}
	cmd, err := l.Command(context.Background(), want, w)
	if err == nil {
		cmd.Stderr = os.Stderr
		err = l.Start(cmd)
	}
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got echoed
	if err := json.NewDecoder(r).Decode(&got); err != nil {
		t.Fatalf("the child's echo: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %s", ExitStatus(err))
	}
	childtest.Compare(t, want, got.Config)
	if got.Dropped != "" {
		t.Errorf("the child inherited a dropped variable: %q", got.Dropped)
	}
}

// TestLauncherStartProcess checks, without forking, the command a child
// gets: this binary, no arguments, and the config variable once.
func TestLauncherStartProcess(t *testing.T) {
	t.Setenv(echoVar, "the parent's own")
	var started *exec.Cmd
	l := Launcher{Var: echoVar, Exe: "/bin/true", StartProcess: func(c *exec.Cmd) error { started = c; return nil }}
	cmd, err := l.Command(context.Background(), map[string]int{"n": 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Start(cmd); err != nil || started != cmd {
		t.Fatalf("Start: %v, started %v", err, started)
	}
	var vars []string
	for _, kv := range cmd.Env {
		if strings.HasPrefix(kv, echoVar+"=") {
			vars = append(vars, kv)
		}
	}
	if cmd.Path != "/bin/true" || len(cmd.Args) != 1 || len(vars) != 1 || vars[0] != echoVar+`={"n":1}` {
		t.Errorf("command %s %q, %s: %q", cmd.Path, cmd.Args, echoVar, vars)
	}
}
