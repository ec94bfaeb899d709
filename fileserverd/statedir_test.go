package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"fileserver/protocol/testkit"
)

func TestStateDirectoryFlagDefault(t *testing.T) {
	cases := []struct {
		env  string
		args []string
		want string
	}{
		{"", nil, "files"},
		{"/var/lib/fileserverd", nil, "/var/lib/fileserverd"},
		{"/var/lib/fileserverd:/var/lib/other", nil, "/var/lib/fileserverd"},
		{"/var/lib/fileserverd", []string{"-dir", "/srv/files"}, "/srv/files"},
		{"/var/lib/fileserverd", []string{"-dir=files"}, "files"},
	}
	for _, tc := range cases {
		t.Setenv("STATE_DIRECTORY", tc.env)
		cfg, err := parseFlags(tc.args, io.Discard, io.Discard)
		if err != nil || cfg.Dir != tc.want {
			t.Errorf("STATE_DIRECTORY=%q %q: dir %q, %v; want %q", tc.env, tc.args, cfg.Dir, err, tc.want)
		}
	}
}

// TestStateDirectory runs the daemon as systemd does with StateDirectory=
// and no -dir: files go to the first directory in $STATE_DIRECTORY.
func TestStateDirectory(t *testing.T) {
	forModesInTurn(t, func(t *testing.T, mode string) {
		state, other := t.TempDir(), t.TempDir()
		d := newDaemon(t, testkit.ServerOptions{Mode: mode, Workers: 2, Setup: func(cmd *exec.Cmd) {
			i := slices.Index(cmd.Args, "-dir")
			cmd.Args = slices.Delete(cmd.Args, i, i+2)
			cmd.Env = append(os.Environ(), "STATE_DIRECTORY="+state+":"+other)
		}})
		d.Dir = state
		if !regexp.MustCompile(`msg=listening .* dir=` + regexp.QuoteMeta(state) + ` `).MatchString(d.Log.String()) {
			t.Errorf("listening line does not name %s:\n%s", state, d.Log)
		}
		d.upload(t, "kept.txt", strings.NewReader("in the state directory"))
		if _, err := os.Stat(filepath.Join(state, "kept.txt")); err != nil {
			t.Errorf("upload not in $STATE_DIRECTORY: %v", err)
		}
		if names := d.list(t); len(names) != 1 {
			t.Errorf("LIST: %q", names)
		}
		if entries, _ := os.ReadDir(other); len(entries) != 0 {
			t.Errorf("second state directory used: %v", entries)
		}
	})
}

// TestStateDirectoryExplicitDir: -dir on the command line wins.
func TestStateDirectoryExplicitDir(t *testing.T) {
	state := t.TempDir()
	d := newDaemon(t, testkit.ServerOptions{Env: []string{"STATE_DIRECTORY=" + state}})
	d.upload(t, "a.txt", strings.NewReader("x"))
	if _, err := os.Stat(filepath.Join(d.Dir, "a.txt")); err != nil {
		t.Errorf("upload not in -dir: %v", err)
	}
	if entries, _ := os.ReadDir(state); len(entries) != 0 {
		t.Errorf("$STATE_DIRECTORY used despite -dir: %v", entries)
	}
}
