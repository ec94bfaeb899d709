package testkit

import (
	"os/exec"
	"strings"
	"testing"
)

// Python returns the real python3 executable, which runs the course's
// clients and servers (testdata/course), and skips the test without one.
// A shim (pyenv's is a shell script) would cost every run a few hundred
// milliseconds, so it is resolved to the program it runs.
func Python(t testing.TB) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found: the course's clients and servers are Python scripts: ", err)
	}
	out, err := exec.Command(python, "-c", "import sys; print(sys.executable)").Output()
	if exe := strings.TrimSpace(string(out)); err == nil && exe != "" {
		return exe
	}
	return python
}
