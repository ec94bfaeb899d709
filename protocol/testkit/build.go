// Package testkit is what the tests of both commands share: building the
// binaries once per test run, starting a real fileserverd on a free
// loopback port with a fresh storage directory (stopped by t.Cleanup),
// reading its log, and finding the address it listens on. It is imported
// by tests only.
package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"testing"
)

// ServerPkg is fileserverd's import path, buildable from anywhere in the
// module.
const ServerPkg = "fileserver/fileserverd"

// Binary is a command that Main builds once for the whole test run.
type Binary struct {
	Pkg   string   // import path (ServerPkg), or "." for the package under test
	Flags []string // go build flags, e.g. RaceFlags()
	Path  *string  // if not nil, set to the built binary's path before the tests run
}

// RaceFlags are the go build flags that give a binary the race detector
// when the tests themselves run with it ("go test -race"), so that -race
// also covers the code the tests run as processes; nil otherwise.
func RaceFlags() []string {
	if race {
		return []string{"-race"}
	}
	return nil
}

// serverBin is the fileserverd that Main built, StartServer's default.
var serverBin string

// ServerBin is the path of the fileserverd that Main built, or "" if it
// built none.
func ServerBin() string { return serverBin }

// Main builds bins into a fresh temporary directory, runs the tests,
// removes the directory and exits with the tests' code: a TestMain's
// whole body, after anything the test binary does in another role. A
// build that fails exits 1 with the compiler's output, before any test.
func Main(m *testing.M, bins ...Binary) {
	dir, err := os.MkdirTemp("", "fileserver-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testkit:", err)
		os.Exit(1)
	}
	if err := build(dir, bins); err != nil {
		fmt.Fprintln(os.Stderr, "testkit:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build builds each binary into dir, named after its package (the
// working directory's name for ".").
func build(dir string, bins []Binary) error {
	for i, b := range bins {
		name := path.Base(b.Pkg)
		if b.Pkg == "." {
			wd, err := os.Getwd()
			if err != nil {
				return fmt.Errorf("build %s: %w", b.Pkg, err)
			}
			name = filepath.Base(wd)
		}
		out := filepath.Join(dir, fmt.Sprintf("%d-%s", i, name), name)
		args := append(append([]string{"build"}, b.Flags...), "-o", out, b.Pkg)
		if msg, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("go %v: %w\n%s", args, err, msg)
		}
		if b.Path != nil {
			*b.Path = out
		}
		if b.Pkg == ServerPkg || (b.Pkg == "." && name == "fileserverd") {
			serverBin = out
		}
	}
	return nil
}
