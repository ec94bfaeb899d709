package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const unitExecStart = "ExecStart=/usr/local/bin/fileserverd "

// TestUnitFilesHardening checks that the unit keeps what the daemon
// depends on (Type=notify, a state directory, KillMode=mixed so only the
// parent gets SIGTERM) and the hardening a reviewer expects.
func TestUnitFilesHardening(t *testing.T) {
	svc, err := os.ReadFile("fileserverd.service")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(svc), "\n")
	for _, want := range []string{
		"Type=notify", "DynamicUser=yes", "StateDirectory=fileserverd", "ProtectSystem=strict",
		"ProtectHome=yes", "NoNewPrivileges=yes", "PrivateTmp=yes", "LimitNOFILE=65536",
		"RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "KillMode=mixed", "Restart=on-failure",
		"CapabilityBoundingSet=", "MemoryDenyWriteExecute=yes", "SystemCallArchitectures=native",
	} {
		if !contains(lines, want) {
			t.Errorf("fileserverd.service lacks the line %q", want)
		}
	}
	execStart := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "ExecStart=") {
			execStart = l
		}
	}
	if !strings.HasPrefix(execStart, unitExecStart) {
		t.Errorf("fileserverd.service: ExecStart %q does not start %q (README-systemd.md and TestUnitFilesVerify expect it)", execStart, unitExecStart)
	}
	if strings.Contains(execStart, "-dir") {
		t.Error("fileserverd.service passes -dir: the storage must come from StateDirectory=")
	}
	sock, err := os.ReadFile("fileserverd.socket")
	if err != nil {
		t.Fatal(err)
	}
	if !contains(strings.Split(string(sock), "\n"), "ListenStream=8889") {
		t.Error("fileserverd.socket lacks ListenStream=8889")
	}
}

func contains(lines []string, line string) bool {
	return slices.ContainsFunc(lines, func(l string) bool { return strings.TrimSpace(l) == line })
}

// TestUnitFilesVerify runs `systemd-analyze verify` on copies of the unit
// files whose ExecStart names the binary built for the tests (systemd
// checks it exists). Any complaint about them fails the test, warnings
// included: systemd ignores a misspelt key with only a warning.
func TestUnitFilesVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze not found, unit files not verified (apt-get install systemd to check them)")
	}
	dir := t.TempDir()
	for _, name := range []string{"fileserverd.service", "fileserverd.socket"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		s := strings.ReplaceAll(string(b), unitExecStart, "ExecStart="+serverBin+" ")
		must(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
	}
	cmd := exec.Command(analyze, "verify", "--man=no", filepath.Join(dir, "fileserverd.service"), filepath.Join(dir, "fileserverd.socket"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if strings.Contains(l, "fileserverd.") {
			t.Errorf("systemd-analyze verify: %s", l)
		} else if l != "" {
			t.Logf("systemd-analyze verify (not about our units): %s", l)
		}
	}
}
