package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// envFchdirRoot makes the test binary open the directory it inherited as
// fd 3 with rootByFchdir and store a file named by the variable there
// (runFchdirRoot), in a process of its own, as rootByFchdir changes the
// working directory.
const envFchdirRoot = "FILESERVERD_TEST_FCHDIR_ROOT"

// TestRootByFchdirKeepsTheDirectory checks how a worker child opens its
// inherited storage directory where there is no /proc (macOS): through
// the descriptor, not a path. The directory is renamed and another made
// at its path before the child opens it: the child's file must land in
// the inherited directory, under its new name.
func TestRootByFchdirKeepsTheDirectory(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "files")
	must(t, os.Mkdir(dir, 0o755))
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	moved := filepath.Join(base, "moved")
	must(t, os.Rename(dir, moved))
	must(t, os.Mkdir(dir, 0o755))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envFchdirRoot+"=probe.bin")
	cmd.ExtraFiles = []*os.File{d}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rootByFchdir in a child: %v\n%s", err, out)
	}
	if b, err := os.ReadFile(filepath.Join(moved, "probe.bin")); err != nil || string(b) != "stored" {
		t.Errorf("the inherited directory, renamed: probe.bin %q, %v; want it stored there", b, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "probe.bin")); err == nil {
		t.Error("the file landed in the directory now at the inherited one's old path")
	}
}

// runFchdirRoot is the test binary as TestRootByFchdirKeepsTheDirectory's
// child.
func runFchdirRoot(name string) int {
	root, err := rootByFchdir(3)
	if err == nil {
		err = root.WriteFile(name, []byte("stored"), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "rootByFchdir:", err)
		return 1
	}
	return 0
}
