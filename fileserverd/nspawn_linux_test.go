package main

// A real systemd for the unit tests (systemd_linux_test.go): systemd 252
// booted as PID 1 of a systemd-nspawn container, from a Debian root made
// once with debootstrap and cached outside the clone. This machine has no
// systemd of its own (nor machined), hence --register=no --keep-unit.
//
// What a container is made of, and how each part goes away even when a
// test fails or the test binary dies:
//   - a private mount namespace (unshare -m) holding a tmpfs on /run and
//     an overlay of the cached root (never written) with an upper layer
//     in the test's temporary directory: both vanish with the namespace,
//     and a second boot on the same upper layer is a reboot that keeps
//     what the first wrote;
//   - systemd-nspawn, started with Pdeathsig SIGTERM (nspawn then powers
//     the container off), stopped by cleanup with SIGTERM too;
//   - a cgroup of its own in each hierarchy systemd uses, so that nothing
//     lands in the host's root cgroup; removed by cleanup, and a stale
//     one (its test binary gone) by the next run;
//   - a private network namespace with only a loopback, which the tests
//     reach by dialling from a thread moved into it (setns).

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	// containerCacheEnv overrides containerCacheDir, for a cold run that
	// makes the root again without deleting the shared cache.
	containerCacheEnv = "FILESERVERD_TEST_CACHE"
	containerCacheDir = "/var/cache/fileserverd-test"
	// containerRootName names the cached root after its recipe: change
	// the recipe, change the name, and the next run makes a new root.
	containerRootName = "bookworm-minbase-systemd-dbus"
	containerSuite    = "bookworm"
	containerInclude  = "systemd,systemd-sysv,dbus"
	// containerMount is where the container sees the test's staging
	// directory (read-only): the files an admin would copy to the VM.
	containerMount = "/mnt/fileserverd"
	// cgroupPrefix names the test's cgroups: cgroupPrefix<pid>-<n>.
	cgroupPrefix = "fileserverd-test-"
	// containerPath is the PATH of commands run inside.
	containerPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
)

// container is a booted systemd in systemd-nspawn.
type container struct {
	pid1    int       // the container's systemd, as this machine numbers it
	pidNS   string    // its pid namespace (/proc/PID/ns/pid's link), to find what is left in it
	netns   *os.File  // its network namespace, held open for dial
	nspawn  *exec.Cmd // unshare, exec'd into sh, exec'd into systemd-nspawn
	done    chan struct{}
	waitErr error    // nspawn's exit, once done is closed
	console string   // the file nspawn's output (the boot console) goes to
	cgroups []string // the cgroup directories made for it
	stopped bool
}

// containerSetup is what bootContainer needs: the cached root, and the
// test's directories for the upper layer and the staging files.
type containerSetup struct {
	root  string // the cached root, the overlay's lower layer
	state string // the upper layer and its work directory: reuse it to reboot
	stage string // bound read-only at containerMount
}

// needContainerTools skips the test unless it can boot a container here: root,
// systemd-nspawn (installed with apt-get when missing), util-linux's
// unshare and nsenter, and cgroups it can make.
func needContainerTools(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: boots systemd in systemd-nspawn (mount and network namespaces, cgroups)")
	}
	for _, tool := range []string{"unshare", "nsenter", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s, which is not on PATH", tool)
		}
	}
	if _, ok := setnsTrap[runtime.GOARCH]; !ok {
		t.Skipf("no setns system call number for %s, to reach the container's network", runtime.GOARCH)
	}
	needTool(t, "systemd-nspawn", "systemd-container")
	if _, err := cgroupHierarchies(); err != nil {
		t.Skipf("no cgroups to put the container in: %v", err)
	}
}

// needTool returns the path of tool, installing Debian's pkg with apt-get
// (bounded) when it is missing, or skips saying why.
func needTool(t *testing.T, tool, pkg string) string {
	t.Helper()
	if p, err := exec.LookPath(tool); err == nil {
		return p
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skipf("needs %s (Debian's %s), and there is no apt-get to install it", tool, pkg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "-q", "--no-install-recommends", pkg)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Skipf("needs %s: apt-get install %s failed (%v): %s", tool, pkg, err, tailLines(string(out), 3))
	}
	p, err := exec.LookPath(tool)
	if err != nil {
		t.Skipf("needs %s: %s installed, but %s is not on PATH", tool, pkg, tool)
	}
	return p
}

// containerRoot returns the cached root, making it first when there is
// none (about a minute and 250 MB with Debian's mirror). The cache's lock
// makes parallel tests wait for the one making it. The root is made under
// a temporary name and renamed when debootstrap succeeded, so a half-made
// root (debootstrap killed) is never taken for one; the next run removes
// it. debootstrap runs in a mount namespace of its own, so that the /proc
// and /sys it mounts in the target go away with it. No cached root and no
// way to make one (no network) skips the test.
func containerRoot(t *testing.T) string {
	t.Helper()
	cache := os.Getenv(containerCacheEnv)
	if cache == "" {
		cache = containerCacheDir
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		t.Skipf("no cache directory for the container root: %v", err)
	}
	lock, err := os.OpenFile(filepath.Join(cache, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close() // and with it the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatalf("lock %s: %v", lock.Name(), err)
	}
	root := filepath.Join(cache, containerRootName)
	if _, err := os.Stat(filepath.Join(root, "usr/lib/systemd/systemd")); err == nil {
		return root
	}
	partials, _ := filepath.Glob(root + ".partial-*")
	for _, p := range partials { // left by a run that died: nobody else holds the lock
		if err := os.RemoveAll(p); err != nil {
			t.Fatalf("remove a half-made root: %v", err)
		}
	}
	debootstrap := needTool(t, "debootstrap", "debootstrap")
	partial := fmt.Sprintf("%s.partial-%d", root, os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	cmd := exec.CommandContext(ctx, "unshare", "-m", "--propagation", "private",
		debootstrap, "--variant=minbase", "--include="+containerInclude, containerSuite, partial)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.RemoveAll(partial)
		t.Skipf("no cached container root in %s, and debootstrap could not make one (no network to Debian's mirror?): %v: %s",
			cache, err, tailLines(string(out), 3))
	}
	if err := os.Rename(partial, root); err != nil {
		os.RemoveAll(partial)
		t.Fatal(err)
	}
	t.Logf("made the container root %s in %v (debootstrap %s, cached for later runs)", root, time.Since(start).Round(time.Second), containerSuite)
	return root
}

// cgroupHierarchies returns the mount points of the cgroup hierarchies
// systemd uses: the cgroup2 one (/sys/fs/cgroup on a unified host,
// /sys/fs/cgroup/unified on a hybrid one) and the name=systemd one of a
// hybrid or legacy host.
func cgroupHierarchies() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// id parent major:minor root mountpoint opts... - fstype source superopts
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, after := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(after) < 3 || !strings.HasPrefix(fields[4], "/sys/fs/cgroup") {
			continue
		}
		if after[0] == "cgroup2" || (after[0] == "cgroup" && strings.Contains(","+after[2]+",", ",name=systemd,")) {
			dirs = append(dirs, fields[4])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, errors.New("neither a cgroup2 nor a name=systemd hierarchy is mounted under /sys/fs/cgroup")
	}
	return dirs, nil
}

// makeCgroups makes the cgroup name in every hierarchy, after removing
// the test's cgroups that a dead test binary left.
func makeCgroups(t *testing.T, name string) []string {
	t.Helper()
	hs, err := cgroupHierarchies()
	if err != nil {
		t.Skipf("no cgroups: %v", err)
	}
	var made []string
	for _, h := range hs {
		removeStaleCgroups(t, h)
		dir := filepath.Join(h, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			removeCgroups(made)
			t.Skipf("cannot make a cgroup for the container: %v", err)
		}
		made = append(made, dir)
	}
	return made
}

// removeStaleCgroups removes h's cgroups of earlier test runs whose test
// binary is gone.
func removeStaleCgroups(t *testing.T, h string) {
	dirs, _ := filepath.Glob(filepath.Join(h, cgroupPrefix+"*"))
	for _, d := range dirs {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), cgroupPrefix), "-")
		if _, err := os.Stat("/proc/" + pid); err == nil {
			continue // its test still runs (or the pid is in use again: left for later)
		}
		if err := removeCgroups([]string{d}); err != nil {
			t.Logf("a stale cgroup of an earlier run is still busy: %v", err)
		} else {
			t.Logf("removed the stale cgroup %s of an earlier run", d)
		}
	}
}

// removeCgroups removes each cgroup with the ones systemd made under it,
// deepest first, retrying for a few seconds while processes finish
// exiting.
func removeCgroups(dirs []string) error {
	var errs []error
	for _, top := range dirs {
		deadline := time.Now().Add(5 * time.Second)
		for {
			var tree []string
			filepath.WalkDir(top, func(p string, d os.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					tree = append(tree, p)
				}
				return nil
			})
			var err error
			for i := len(tree) - 1; i >= 0; i-- {
				if e := syscall.Rmdir(tree[i]); e != nil && e != syscall.ENOENT {
					err = fmt.Errorf("rmdir %s: %w (processes: %s)", tree[i], e, cgroupProcs(tree[i]))
				}
			}
			if err == nil || time.Now().After(deadline) {
				if err != nil {
					errs = append(errs, err)
				}
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return errors.Join(errs...)
}

func cgroupProcs(dir string) string {
	b, _ := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
	return strings.Join(strings.Fields(string(b)), " ")
}

// containerBoot starts the boot: the sh that the unshare'd process execs
// moves itself into the cgroups, mounts /run and the overlay in its
// private mount namespace and execs systemd-nspawn.
const containerBoot = `set -e
for cg in $CGROUPS; do echo $$ > "$cg/cgroup.procs"; done
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$STATE/upper" "$STATE/work" "$STATE/merged"
mount -t overlay overlay -o "lowerdir=$ROOT,upperdir=$STATE/upper,workdir=$STATE/work" "$STATE/merged"
exec systemd-nspawn --quiet --boot --register=no --keep-unit --private-network \
	--bind-ro="$STAGE:` + containerMount + `" -D "$STATE/merged"
`

// bootContainer boots systemd and waits until it has finished booting
// (running, or degraded). Cleanup powers it off and checks it left
// nothing.
func bootContainer(t *testing.T, s containerSetup) *container {
	t.Helper()
	name := fmt.Sprintf("%s%d-%d", cgroupPrefix, os.Getpid(), time.Now().UnixNano())
	c := &container{done: make(chan struct{}), cgroups: makeCgroups(t, name), console: filepath.Join(s.state, "console.log")}
	t.Cleanup(func() {
		if err := c.poweroff(); err != nil {
			t.Error(err)
		}
	})
	must(t, os.MkdirAll(s.state, 0o755))
	console, err := os.OpenFile(c.console, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer console.Close()
	c.nspawn = exec.Command("unshare", "-m", "--propagation", "private", "sh", "-c", containerBoot)
	c.nspawn.Env = append(os.Environ(), "CGROUPS="+strings.Join(c.cgroups, " "), "ROOT="+s.root, "STATE="+s.state, "STAGE="+s.stage)
	c.nspawn.Stdout, c.nspawn.Stderr = console, console
	// Should the test binary die, nspawn gets SIGTERM and powers off.
	c.nspawn.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM, Setpgid: true}
	must(t, c.nspawn.Start())
	go func() { c.waitErr = c.nspawn.Wait(); close(c.done) }()

	start := time.Now()
	c.pid1 = c.waitPID1(t, 30*time.Second)
	c.pidNS, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.pid1))
	if c.netns, err = os.Open(fmt.Sprintf("/proc/%d/ns/net", c.pid1)); err != nil {
		t.Fatal(err)
	}
	var state string
	c.waitFor(t, "the boot to finish (systemctl is-system-running)", time.Minute, func() bool {
		out, _ := c.try(10*time.Second, "systemctl is-system-running")
		state = strings.TrimSpace(out)
		return state == "running" || state == "degraded"
	})
	if state == "degraded" {
		failed, _ := c.try(10*time.Second, "systemctl --failed --no-legend --plain")
		t.Logf("container booted degraded; failed units: %s", failed)
	}
	t.Logf("systemd booted in the container in %v (PID 1 is %d here)", time.Since(start).Round(time.Millisecond), c.pid1)
	return c
}

// waitPID1 returns the pid of nspawn's child in another pid namespace:
// the container's PID 1, systemd.
func (c *container) waitPID1(t *testing.T, timeout time.Duration) int {
	t.Helper()
	own, _ := os.Readlink("/proc/self/ns/pid")
	pid := 0
	c.waitFor(t, "systemd-nspawn to start the container's PID 1", timeout, func() bool {
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", c.nspawn.Process.Pid, c.nspawn.Process.Pid))
		for _, f := range strings.Fields(string(b)) {
			ns, err := os.Readlink("/proc/" + f + "/ns/pid")
			if err == nil && ns != own {
				pid, _ = strconv.Atoi(f)
				return true
			}
		}
		return false
	})
	return pid
}

// waitFor polls cond every 100 ms until it holds, and fails the test
// after timeout, or at once when the container has ended.
func (c *container) waitFor(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		select {
		case <-c.done:
			t.Fatalf("the container ended (%v) while waiting for %s; console:\n%s", c.waitErr, what, c.consoleTail())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s; console:\n%s", timeout, what, c.consoleTail())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *container) consoleTail() string {
	b, _ := os.ReadFile(c.console)
	return tailLines(string(b), 30)
}

// command is bash -c script inside the container, in all its namespaces,
// with a clean environment.
func (c *container) command(ctx context.Context, script string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "nsenter", "-t", strconv.Itoa(c.pid1), "-a",
		"env", "-i", "PATH="+containerPath, "LANG=C.UTF-8", "SYSTEMD_COLORS=0", "SYSTEMD_PAGER=", "bash", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// try runs script inside and returns its output, stdout and stderr.
func (c *container) try(timeout time.Duration, script string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	out, err := c.command(ctx, script).CombinedOutput()
	if err != nil {
		err = fmt.Errorf("in the container: %s: %w: %s", strings.TrimSpace(script), err, strings.TrimSpace(string(out)))
	}
	return string(out), err
}

// sh runs script inside and returns its output; a failure fails the test.
func (c *container) sh(t *testing.T, script string) string {
	t.Helper()
	out, err := c.try(time.Minute, script)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dial connects to addr inside the container's network namespace, from
// a thread moved into it for the socket's creation and moved back after;
// the socket stays in the container's namespace. Should moving back fail,
// the thread stays locked and ends with the goroutine.
func (c *container) dial(ctx context.Context, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer home.Close()
		if err := setns(c.netns, syscall.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("enter the container's network namespace: %w", err)}
			return
		}
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if setns(home, syscall.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{conn, err}
	}()
	r := <-ch
	return r.conn, r.err
}

// setnsTrap is setns(2)'s number on each architecture: package syscall's
// tables lack it for amd64 and 386.
var setnsTrap = map[string]uintptr{"amd64": 308, "386": 346, "arm64": 268, "arm": 375, "riscv64": 268, "loong64": 268, "ppc64le": 350, "s390x": 339}

func setns(f *os.File, nstype int) error {
	trap, ok := setnsTrap[runtime.GOARCH]
	if !ok {
		return fmt.Errorf("setns: no system call number for %s", runtime.GOARCH)
	}
	if _, _, e := syscall.Syscall(trap, f.Fd(), uintptr(nstype), 0); e != 0 {
		return e
	}
	return nil
}

// poweroff stops the container (SIGTERM to nspawn powers it off; SIGKILL
// after a minute), then removes its cgroups and checks that nothing of it
// is left: PID 1 gone with every process of its namespace, the cgroups
// removed. It returns what is left, if anything.
func (c *container) poweroff() error {
	if c.stopped {
		return nil
	}
	c.stopped = true
	var errs []error
	if c.nspawn != nil && c.nspawn.Process != nil {
		c.nspawn.Process.Signal(syscall.SIGTERM)
		select {
		case <-c.done:
		case <-time.After(time.Minute):
			syscall.Kill(-c.nspawn.Process.Pid, syscall.SIGKILL)
			<-c.done
			errs = append(errs, fmt.Errorf("systemd-nspawn did not power the container off within a minute of SIGTERM; killed. Console:\n%s", c.consoleTail()))
		}
	}
	if c.netns != nil {
		c.netns.Close()
	}
	if left := processesIn(c.pidNS); len(left) > 0 {
		errs = append(errs, fmt.Errorf("processes of the container outlived systemd-nspawn: %s", strings.Join(left, "; ")))
	}
	if err := removeCgroups(c.cgroups); err != nil {
		errs = append(errs, fmt.Errorf("the container's cgroups: %w", err))
	}
	return errors.Join(errs...)
}

// processesIn lists the processes in the pid namespace ns, if any.
func processesIn(ns string) []string {
	if ns == "" {
		return nil
	}
	var left []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if l, err := os.Readlink(p + "/ns/pid"); err == nil && l == ns {
			cmdline, _ := os.ReadFile(p + "/cmdline")
			left = append(left, filepath.Base(p)+" "+strings.ReplaceAll(strings.TrimRight(string(cmdline), "\x00"), "\x00", " "))
		}
	}
	return left
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
