package childproc

import (
	"os/exec"
	"reflect"
	"testing"
)

func TestExitStatus(t *testing.T) {
	for _, tc := range []struct {
		script, want string
	}{
		{"exit 0", "exit 0"},
		{"exit 3", "exit 3"},
		{"kill -TERM $$", "signal: terminated"},
		{"kill -KILL $$", "signal: killed"},
	} {
		err := exec.Command("/bin/sh", "-c", tc.script).Run()
		if got := ExitStatus(err); got != tc.want {
			t.Errorf("sh -c %q: ExitStatus = %q, want %q", tc.script, got, tc.want)
		}
	}
	err := exec.Command("/nonexistent/binary").Run()
	if got := ExitStatus(err); got == "exit 0" || got == "" {
		t.Errorf("a child that never started: ExitStatus = %q, want the start error", got)
	}
}

func TestWithoutEnv(t *testing.T) {
	env := []string{"PATH=/bin", "FILESERVERD_CHILD=1", "NOTIFY_SOCKET=/run/x", "HOME=/root", "FILESTRESSD_CHILD=2"}
	got := WithoutEnv(env, "FILESERVERD_", "NOTIFY_SOCKET=")
	want := []string{"PATH=/bin", "HOME=/root", "FILESTRESSD_CHILD=2"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("WithoutEnv = %q, want %q", got, want)
	}
	if env[1] != "FILESERVERD_CHILD=1" {
		t.Errorf("WithoutEnv changed its input: %q", env)
	}
}
