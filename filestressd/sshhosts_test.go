//go:build linux

// Linux only: network namespaces (ip netns), sshd, and Pdeathsig.

package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/filestressd/report"
	"fileserver/filestressd/results"
	"fileserver/protocol/testkit"
)

// TestClientHostsOverSSH runs run_matrix.sh's CLIENT_HOSTS path over real
// ssh: two network namespaces made by the test, joined by a veth pair
// (nothing in this machine's own namespace), one the client host, running
// sshd with a host key and an authorized client key made here, the other
// the server host, running fileserverd and run_matrix.sh itself, whose
// RSH is ssh with that key. CLIENT_HOSTS names the client host twice
// (10.98.0.2 and root@10.98.0.2), so that each cell's 3 workers split
// 2 + 1 over two "hosts": the copy of filestressd, the -start-at release,
// the rows with their host column and the report's merge all run. Then
// a second run, with a REMOTE_BIN that hangs after its part on one of
// the two, must end with that host's workers failed, kind host, HOST_GRACE
// after the cell's deadline. It needs root, ip and bash, and openssh-server, which it installs with
// apt-get when sshd is missing; it skips, saying what is missing,
// otherwise.
func TestClientHostsOverSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the ssh lab test builds the binaries, starts sshd and runs two small matrices (about a minute)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces and sshd")
	}
	for _, tool := range []string{"ip", "bash", "ssh", "ssh-keygen", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s, which is not on PATH", tool)
		}
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		t.Skipf("no network namespaces here (ip netns list: %v: %s)", err, bytes.TrimSpace(out))
	}
	sshd := findSSHD(t)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	t.Cleanup(cancel)
	dir := t.TempDir()
	cli := fmt.Sprintf("fslab-%d-sshc", os.Getpid()) // the client host
	srv := fmt.Sprintf("fslab-%d-sshs", os.Getpid()) // the server host
	const cliIP, srvIP = "10.98.0.2", "10.98.0.1"
	for _, ns := range []string{cli, srv} {
		mustCmd(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { deleteNamespace(t, ns) })
	}
	mustCmd(t, "ip", "link", "add", "eth0", "netns", cli, "type", "veth", "peer", "name", "eth0", "netns", srv)
	for _, h := range []struct{ ns, ip string }{{cli, cliIP}, {srv, srvIP}} {
		mustCmd(t, "ip", "-n", h.ns, "addr", "add", h.ip+"/24", "dev", "eth0")
		mustCmd(t, "ip", "-n", h.ns, "link", "set", "eth0", "up")
		mustCmd(t, "ip", "-n", h.ns, "link", "set", "lo", "up")
	}

	// Keys: the sshd's host key, and the client's key it authorizes.
	hostKey, clientKey := filepath.Join(dir, "host_key"), filepath.Join(dir, "client_key")
	for _, k := range []string{hostKey, clientKey} {
		mustCmd(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "fslab-test", "-f", k)
	}
	pub, err := os.ReadFile(hostKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	knownHosts := filepath.Join(dir, "known_hosts")
	writeFile(t, knownHosts, cliIP+" "+string(pub))
	authorized := filepath.Join(dir, "authorized_keys")
	clientPub, err := os.ReadFile(clientKey + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, authorized, string(clientPub))
	config := filepath.Join(dir, "sshd_config")
	writeFile(t, config, strings.Join([]string{
		"ListenAddress " + cliIP + ":22",
		"HostKey " + hostKey,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + authorized,
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"MaxStartups 50",
		"",
	}, "\n"))
	// sshd wants its privilege separation directory; a machine without
	// the service running may not have it.
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		t.Skipf("sshd needs /run/sshd: %v", err)
	}
	startInNamespace(t, cli, filepath.Join(dir, "sshd.log"), sshd, "-D", "-e", "-f", config)
	waitForPort(ctx, t, cli, cliIP+":22")

	// The server host: fileserverd, and run_matrix.sh beside it.
	srvLog := filepath.Join(dir, "fileserverd.log")
	startInNamespace(t, srv, srvLog, testkit.ServerBin(), "-addr", srvIP+":0", "-dir", t.TempDir(), "-allow", "10.98.0.0/24")
	addr := waitForListening(ctx, t, srvLog)

	out := filepath.Join(dir, "m.csv")
	rsh := fmt.Sprintf("ssh -i %s -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -o ConnectTimeout=5 -o LogLevel=ERROR", clientKey, knownHosts)
	script, err := filepath.Abs("../run_matrix.sh")
	if err != nil {
		t.Fatal(err)
	}
	// matrix is run_matrix.sh on the server host, over both client hosts.
	matrix := func(env ...string) *exec.Cmd {
		cmd := groupCommand(ctx, "ip", "netns", "exec", srv, "bash", script)
		cmd.Env = append(os.Environ(), "SERVER="+addr, "CLIENT_HOSTS="+cliIP+" root@"+cliIP, "RSH="+rsh,
			"SIZES=1MB", "REPEAT=1", "BIN="+filepath.Join(dir, "bin"), "SEED=1")
		cmd.Env = append(cmd.Env, env...)
		return cmd
	}
	cmd := matrix("OPS=upload download", "CLIENTS=3", "TIMEOUT=30s", "HOST_GRACE=10", "OUT="+out)
	got, err := cmd.CombinedOutput()
	t.Logf("run_matrix.sh:\n%s", got)
	if err != nil {
		t.Fatalf("run_matrix.sh with CLIENT_HOSTS over ssh: %v", err)
	}
	first := got

	read, err := results.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rows := report.MergeHosts(read)
	if len(rows) != 2 {
		t.Fatalf("%d merged rows, want 2 (upload and download): %+v", len(rows), rows)
	}
	for _, r := range rows {
		if r.ClientWorkers != 3 || r.ClientOK != 3 || r.ClientFail != 0 || r.Host != cliIP+"+root@"+cliIP || r.ServerMode == "" || r.Wall <= 0 {
			t.Errorf("merged %s row: %d workers, %d ok, %d failed, hosts %q, server mode %q, wall %v; want 3 ok over both hosts",
				r.Operation, r.ClientWorkers, r.ClientOK, r.ClientFail, r.Host, r.ServerMode, r.Wall)
		}
	}
	raw, _ := os.ReadFile(out)
	if n := strings.Count(string(raw), "\n"); n != 5 {
		t.Errorf("the CSV has %d lines, want the header and 2 hosts x 2 cells:\n%s", n, raw)
	}
	// A host that hangs costs its workers, never the run: the second host
	// name runs a filestressd (REMOTE_BIN, a wrapper) that does its part
	// and then never returns; it is cut HOST_GRACE after the cell's
	// deadline, and its workers are counted failed, kind host.
	wrapper := filepath.Join(dir, "hanging-filestressd")
	writeFile(t, wrapper, "#!/bin/sh\n"+filepath.Join(dir, "bin", "filestressd")+` "$@"
case " $* " in *" -host root@"*) exec sleep 600 ;; esac
`)
	if err := os.Chmod(wrapper, 0o755); err != nil {
		t.Fatal(err)
	}
	hung := filepath.Join(dir, "hung.csv")
	cmd = matrix("REMOTE_BIN="+wrapper, "OPS=upload", "CLIENTS=4", "TIMEOUT=5s", "HOST_GRACE=2", "OUT="+hung)
	began := time.Now()
	got, err = cmd.CombinedOutput()
	took := time.Since(began)
	t.Logf("run_matrix.sh with a hanging host (%s):\n%s", took.Round(time.Millisecond), got)
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("run_matrix.sh with a hanging host: exit %d (%v), want 1: the run ends, its cell counted failed", code, err)
	}
	if !strings.Contains(string(got), "failed: root@"+cliIP) {
		t.Errorf("the progress line does not name the failed host")
	}
	// 3 s of lead, 5 s of TIMEOUT, 2 s of HOST_GRACE, the build and the
	// copy's check: well under a minute.
	if took > time.Minute {
		t.Errorf("the hanging host held the run %s", took)
	}
	read, err = results.ReadFile(hung)
	if rows := report.MergeHosts(read); err != nil || len(rows) != 1 {
		t.Errorf("rows of the cell with a hanging host: %+v, %v; want one merged row", rows, err)
	} else if r := rows[0]; r.ClientWorkers != 4 || r.ClientOK != 2 || r.ClientFail != 2 || r.Errors != "host=2" {
		t.Errorf("merged row: %d workers, %d ok, %d failed, errors %q; want 4 workers, 2 ok, 2 failed of kind host", r.ClientWorkers, r.ClientOK, r.ClientFail, r.Errors)
	}

	// The first run's copy of filestressd is gone from the client host.
	m := regexp.MustCompile(`filestressd at (/tmp/fslab-filestressd-[0-9]+), copied`).FindSubmatch(first)
	if m == nil {
		t.Fatalf("run_matrix.sh did not say where it copied filestressd")
	}
	if _, err := os.Stat(string(m[1])); !os.IsNotExist(err) {
		t.Errorf("the copy of filestressd %s is left behind (stat: %v)", m[1], err)
	}
}

// findSSHD returns sshd's path, installing openssh-server with apt-get
// (bounded) when it is missing, or skips.
func findSSHD(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("sshd"); err == nil {
		return p
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err == nil {
		return "/usr/sbin/sshd"
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("needs sshd (openssh-server), and there is no apt-get to install it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "--no-install-recommends", "openssh-server")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("needs sshd: apt-get install openssh-server failed (%v): %s", err, lastLines(out, 3))
	}
	if _, err := os.Stat("/usr/sbin/sshd"); err != nil {
		t.Skip("needs sshd: openssh-server installed, but no /usr/sbin/sshd")
	}
	return "/usr/sbin/sshd"
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], " / ")
}

func mustCmd(t *testing.T, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
}

// deleteNamespace stops what still runs in ns (SIGTERM, so that a host
// script removes its directory; SIGKILL after 3 s) and deletes it, with
// its veth end.
func deleteNamespace(t *testing.T, ns string) {
	signal := func(sig syscall.Signal) bool {
		out, _ := exec.Command("ip", "netns", "pids", ns).Output()
		found := false
		for _, f := range strings.Fields(string(out)) {
			var pid int
			if _, err := fmt.Sscan(f, &pid); err == nil && pid > 1 {
				syscall.Kill(pid, sig)
				found = true
			}
		}
		return found
	}
	if signal(syscall.SIGTERM) {
		for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); { // bounded: 3 s
			if out, _ := exec.Command("ip", "netns", "pids", ns).Output(); len(bytes.TrimSpace(out)) == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		signal(syscall.SIGKILL)
	}
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
		t.Errorf("ip netns del %s: %v: %s", ns, err, bytes.TrimSpace(out))
	}
}

// startInNamespace starts a program in ns, its output to logPath, killed
// and waited for by t.Cleanup (and with the test binary, by Pdeathsig).
func startInNamespace(t *testing.T, ns, logPath, prog string, args ...string) {
	t.Helper()
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns, prog}, args...)...)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		t.Fatalf("start %s in %s: %v", prog, ns, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		log.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("%s's log:\n%s", filepath.Base(prog), lastLines(b, 20))
		}
	})
}

// waitForPort polls until addr accepts a connection from inside ns.
func waitForPort(ctx context.Context, t *testing.T, ns, addr string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(addr)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil { // bounded: 15 s
		probe := exec.CommandContext(ctx, "ip", "netns", "exec", ns, "bash", "-c", `exec 3<>"/dev/tcp/$0/$1"`, host, port)
		if probe.Run() == nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s in %s does not accept connections after 15 s", addr, ns)
}

// waitForListening polls fileserverd's log for its listening line.
func waitForListening(ctx context.Context, t *testing.T, logPath string) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil { // bounded: 15 s
		b, _ := os.ReadFile(logPath)
		if m := testkit.ListeningRE.FindSubmatch(b); m != nil {
			return string(m[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, _ := os.ReadFile(logPath)
	t.Fatalf("fileserverd did not say it listens within 15 s:\n%s", b)
	return ""
}
