package main

import (
	"encoding/base64"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The file system freeze ioctls (linux/fs.h): a frozen file system blocks
// every writer in the kernel, uninterruptibly, until it is thawed.
const (
	ioctlFIFREEZE = 0xC0045877
	ioctlFITHAW   = 0xC0045878
)

// shutdownMargin is what a test allows beyond the bounds a shutdown
// promises, for a loaded machine.
const shutdownMargin = 5 * time.Second

// TestShutdownAbandonsBlockedWorker stops the server while a worker is
// blocked in write(2) on a frozen file system, where neither a closed
// connection nor SIGKILL reaches it: the server must still give up on it
// within -shutdown-timeout and its graces, say which request it cut, and
// exit non-zero once the kernel lets the process go.
func TestShutdownAbandonsBlockedWorker(t *testing.T) {
	forModesInTurn(t, func(t *testing.T, mode string) {
		fsys := mountLoopExt4(t)
		d := startDaemon(t, mode, 2, "-dir", fsys.dir, "-shutdown-timeout", "1s")
		up := startRawUpload(t, d.Addr, "frozen.bin")
		pid := waitTempFile(t, fsys.dir)

		fsys.freeze(t)
		up.push(4 << 20) // more than the socket buffers: the worker has to write
		waitUntil(t, func() bool { return blockedInKernel(pid) }, func() string {
			return fmt.Sprintf("no thread of pid %d blocked in the kernel within 10s of the freeze", pid)
		})

		sigterm := time.Now()
		d.Cmd.Process.Signal(syscall.SIGTERM)
		var cut *regexp.Regexp
		bound := time.Second + shutdownGrace
		if mode == "thread" {
			cut = regexp.MustCompile(`fileserverd: shutdown timeout \(1s\) cut 1 request in flight: worker \d+: UPLOAD "frozen\.bin" from ` +
				regexp.QuoteMeta(up.remote) + ` \(abandoned: its worker was still blocked 5s later\)`)
		} else {
			bound = time.Second + killGrace + reapGrace
			cut = regexp.MustCompile(`fileserverd: worker \d+ \(pid ` + strconv.Itoa(pid) + `\): still running 2s after SIGKILL \(blocked in the kernel\), abandoned, cutting UPLOAD "frozen\.bin" from ` +
				regexp.QuoteMeta(up.remote))
		}
		if _, err := d.Log.WaitFor(cut, bound+shutdownMargin); err != nil {
			t.Fatalf("%v after SIGTERM: %v\nlog:\n%s", time.Since(sigterm).Round(time.Millisecond), err, d.Log)
		}
		took := time.Since(sigterm)
		t.Logf("cut request named %v after SIGTERM", took.Round(time.Millisecond))
		if took < time.Second {
			t.Errorf("the request was cut %v after SIGTERM, before the 1s shutdown timeout", took)
		}
		// Still frozen, still blocked: the line did not wait for a thaw.
		if !blockedInKernel(pid) {
			t.Fatalf("no thread of pid %d is blocked in the kernel any more: the test did not hold the worker", pid)
		}
		logged := regexp.MustCompile(`level=WARN msg="request cut at the shutdown timeout" (?:pid=\d+ )?worker=\d+ remote=` +
			regexp.QuoteMeta(up.remote) + ` cmd=UPLOAD name=frozen\.bin worker_abandoned=true`)
		if !logged.MatchString(d.Log.String()) {
			t.Errorf("no warning naming the abandoned request:\n%s", d.Log)
		}
		if mode == "process" {
			// The parent is not held by its blocked child: it has
			// exited already, while the file system is frozen.
			waitDone(t, d, shutdownMargin+5*time.Second) // +5s: the child still holds the log pipe
		}

		fsys.thaw()
		waitDone(t, d, shutdownMargin)
		if ee, ok := d.Err().(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Errorf("exit after an abandoned worker: %v, want exit status 1\nlog:\n%s", d.Err(), d.Log)
		}
		if mode == "process" {
			// Gone before the unmount.
			waitUntil(t, func() bool { return !processAlive(pid) }, func() string { return fmt.Sprintf("pid %d still alive 10s after the thaw", pid) })
		}
	})
}

// TestShutdownKillsStoppedChild stops the process-mode server while the
// child serving an upload is stopped (SIGSTOP): the parent kills it after
// the shutdown timeout and its grace, exits non-zero, and names the
// request it cut.
func TestShutdownKillsStoppedChild(t *testing.T) {
	d := startDaemon(t, "process", 2, "-shutdown-timeout", "1s")
	up := startRawUpload(t, d.Addr, "stopped.bin")
	pid := waitTempFile(t, d.Dir)
	if !regexp.MustCompile(`msg="worker started" worker=\d+ pid=` + strconv.Itoa(pid) + `\b`).MatchString(d.Log.String()) {
		t.Fatalf("the upload's temporary file names pid %d, not a worker child:\n%s", pid, d.Log)
	}
	must(t, syscall.Kill(pid, syscall.SIGSTOP))
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGCONT) })
	waitUntil(t, func() bool { return procState(fmt.Sprintf("/proc/%d/stat", pid)) == 'T' }, func() string {
		return fmt.Sprintf("pid %d not stopped within 10s", pid)
	})

	sigterm := time.Now()
	d.Cmd.Process.Signal(syscall.SIGTERM)
	waitDone(t, d, time.Second+killGrace+reapGrace+shutdownMargin)
	t.Logf("exited %v after SIGTERM", time.Since(sigterm).Round(time.Millisecond))
	if ee, ok := d.Err().(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("exit after killing a stopped child: %v, want exit status 1\nlog:\n%s", d.Err(), d.Log)
	}
	cut := regexp.MustCompile(`fileserverd: worker \d+ \(pid ` + strconv.Itoa(pid) + `\): signal: killed, cutting UPLOAD "stopped\.bin" from ` +
		regexp.QuoteMeta(up.remote))
	if !cut.MatchString(d.Log.String()) {
		t.Errorf("the exit does not name the cut request (%s):\n%s", cut, d.Log)
	}
	killing := regexp.MustCompile(`level=WARN msg="worker outlived the shutdown timeout; killing it" worker=\d+ pid=` + strconv.Itoa(pid) +
		` remote=` + regexp.QuoteMeta(up.remote) + ` cmd=UPLOAD name=stopped\.bin`)
	if !killing.MatchString(d.Log.String()) {
		t.Errorf("no warning naming the request of the child killed:\n%s", d.Log)
	}
}

// rawUpload is an upload sent by hand, its payload pushed on demand, so
// that a test decides when the worker has something to write.
type rawUpload struct {
	conn   net.Conn
	remote string // as the server sees the client
}

// startRawUpload begins "UPLOAD name <base64>" with 256 KiB of content.
func startRawUpload(t *testing.T, addr, name string) *rawUpload {
	t.Helper()
	conn := dial(t, addr)
	u := &rawUpload{conn: conn, remote: conn.LocalAddr().String()}
	conn.SetWriteDeadline(time.Now().Add(time.Minute))
	if _, err := conn.Write([]byte("UPLOAD " + name + " ")); err != nil {
		t.Fatal(err)
	}
	must(t, u.write(256<<10))
	return u
}

// write sends n bytes of content (n a multiple of 3: no padding mid-way).
func (u *rawUpload) write(n int) error {
	_, err := u.conn.Write([]byte(base64.StdEncoding.EncodeToString([]byte(strings.Repeat("abc", n/3)))))
	return err
}

// push sends n more bytes in the background: a blocked worker stops
// reading, and the write with it.
func (u *rawUpload) push(n int) { go u.write(n) }

var tempFileRE = regexp.MustCompile(`^\.upload-(\d+)-[0-9a-f]+\.tmp$`)

// waitTempFile waits until an upload's temporary file in dir has content,
// and returns the pid its name carries: the process writing it.
func waitTempFile(t *testing.T, dir string) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if m := tempFileRE.FindStringSubmatch(e.Name()); m != nil {
				if fi, err := e.Info(); err == nil && fi.Size() > 0 {
					pid, _ := strconv.Atoi(m[1])
					return pid
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no upload temporary file with content in %s within 10s: %v", dir, entries)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// blockedInKernel reports whether a thread of pid is in uninterruptible
// sleep (state D).
func blockedInKernel(pid int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	for _, task := range tasks {
		if procState(task) == 'D' {
			return true
		}
	}
	return false
}

// procState is the state letter of a /proc/.../stat file, or 0.
func procState(statFile string) byte {
	if f := statFileFields(statFile); len(f) > 0 {
		return f[0][0]
	}
	return 0
}

// waitDone waits for the daemon's exit, failing the test past timeout.
func waitDone(t *testing.T, d *daemon, timeout time.Duration) {
	t.Helper()
	select {
	case <-d.Done():
	case <-time.After(timeout):
		t.Fatalf("fileserverd did not exit within %s\nlog:\n%s", timeout, d.Log)
	}
}

// exitsZero waits up to timeout for the daemon to exit after signal, and
// checks that it exited 0.
func (d *daemon) exitsZero(t *testing.T, signal string, timeout time.Duration) {
	t.Helper()
	waitDone(t, d, timeout)
	if d.Err() != nil {
		t.Errorf("exit after %s: %v, want 0\n%s", signal, d.Err(), d.Log)
	}
}

// loopFS is a small ext4 file system on a loop device, for a test to freeze.
type loopFS struct {
	dir    string
	f      *os.File // the mounted directory, for the ioctls
	frozen bool
}

// mountLoopExt4 mounts a fresh 64 MiB ext4 image on a directory of the
// test's own; cleanup thaws, unmounts and detaches it. It skips the test
// where that cannot be done (not root, no loop devices).
func mountLoopExt4(t *testing.T) *loopFS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: mounts a loop device to freeze it")
	}
	for _, tool := range []string{"mkfs.ext4", "losetup", "mount", "umount"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	base := t.TempDir()
	img := filepath.Join(base, "fs.img")
	must(t, os.WriteFile(img, nil, 0o600))
	must(t, os.Truncate(img, 64<<20))
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", img).CombinedOutput(); err != nil {
		t.Skipf("mkfs.ext4: %v\n%s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Skipf("no loop device: losetup: %v\n%s", err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "-d", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup -d %s: %v\n%s", dev, err, out)
		}
	})
	dir := filepath.Join(base, "mnt")
	must(t, os.Mkdir(dir, 0o755))
	if out, err := exec.Command("mount", "-t", "ext4", dev, dir).CombinedOutput(); err != nil {
		t.Skipf("mount %s: %v\n%s", dev, err, out)
	}
	fsys := &loopFS{dir: dir}
	t.Cleanup(func() {
		fsys.thaw()
		if fsys.f != nil {
			fsys.f.Close()
		}
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Logf("umount %s: %v\n%s; detaching it lazily", dir, err, out)
			if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
				t.Errorf("umount -l %s: %v\n%s", dir, err, out)
			}
		}
	})
	// Never freeze anything but this loop device: the directory must be
	// its file system's, not the one it was made in.
	var st, devSt, rootSt syscall.Stat_t
	must(t, syscall.Stat(dir, &st))
	must(t, syscall.Stat(dev, &devSt))
	must(t, syscall.Stat("/", &rootSt))
	if st.Dev != devSt.Rdev || st.Dev == rootSt.Dev {
		t.Fatalf("%s is not the root of %s's file system (dev %#x, want %#x): refusing to freeze it", dir, dev, st.Dev, devSt.Rdev)
	}
	if fsys.f, err = os.Open(dir); err != nil {
		t.Fatal(err)
	}
	return fsys
}

// freeze freezes the file system; the test's cleanup thaws it before the
// daemon's cleanup stops the daemon, which could not exit before.
func (l *loopFS) freeze(t *testing.T) {
	t.Helper()
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, l.f.Fd(), ioctlFIFREEZE, 0); errno != 0 {
		t.Skipf("FIFREEZE %s: %v", l.dir, errno)
	}
	l.frozen = true
	t.Cleanup(l.thaw)
}

func (l *loopFS) thaw() {
	if l.frozen {
		syscall.Syscall(syscall.SYS_IOCTL, l.f.Fd(), ioctlFITHAW, 0)
		l.frozen = false
	}
}
