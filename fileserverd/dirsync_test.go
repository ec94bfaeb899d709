//go:build linux

// Linux only: a seccomp filter makes the directory fsync fail.

package main

import (
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"fileserver/protocol/testkit"
)

// failFsyncEnv makes the test binary run the fileserverd named by the
// variable with every fsync(2) failing with EIO: a seccomp filter,
// inherited across exec and by the worker children. fileserverd syncs
// file content with fdatasync and the directory with fsync, so this fails
// exactly the directory sync after a rename or an unlink.
const failFsyncEnv = "FILESERVERD_TEST_FAIL_FSYNC"

// auditArch is the AUDIT_ARCH_* value a seccomp filter checks, by GOARCH.
var auditArch = map[string]uint32{"amd64": 0xc000003e, "arm64": 0xc00000b7, "386": 0x40000003, "arm": 0x40000028}

// execFailingFsync installs the filter on this thread and execs the
// server binary with the test binary's arguments.
func execFailingFsync() {
	runtime.LockOSThread()
	const (
		ldAbsW          = 0x20 // BPF_LD | BPF_W | BPF_ABS
		jeqK            = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
		retK            = 0x06 // BPF_RET | BPF_K
		allow           = 0x7fff0000
		errnoEIO        = 0x00050000 | uint32(syscall.EIO)
		setFilter       = 2 // SECCOMP_MODE_FILTER
		prSetNoNewPrivs = 38
	)
	filter := []syscall.SockFilter{
		{Code: ldAbsW, K: 4}, // seccomp_data.arch
		{Code: jeqK, Jt: 1, Jf: 0, K: auditArch[runtime.GOARCH]},
		{Code: retK, K: allow},
		{Code: ldAbsW, K: 0}, // seccomp_data.nr
		{Code: jeqK, Jt: 0, Jf: 1, K: syscall.SYS_FSYNC},
		{Code: retK, K: errnoEIO},
		{Code: retK, K: allow},
	}
	prog := syscall.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); e != 0 {
		os.Stderr.WriteString("no_new_privs: " + e.Error() + "\n")
		os.Exit(2)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_SECCOMP, setFilter, uintptr(unsafe.Pointer(&prog))); e != 0 {
		os.Stderr.WriteString("seccomp: " + e.Error() + "\n")
		os.Exit(2)
	}
	bin := os.Getenv(failFsyncEnv)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, failFsyncEnv+"=") {
			env = append(env, kv)
		}
	}
	err := syscall.Exec(bin, append([]string{bin}, os.Args[1:]...), env)
	os.Stderr.WriteString("exec " + bin + ": " + err.Error() + "\n")
	os.Exit(2)
}

// TestDirSyncFailureStillOK runs the server with every directory sync
// failing: an upload and a delete are done once their rename and unlink
// are, so the replies say OK, the file is there (then gone), and the log
// warns that a crash could undo them.
func TestDirSyncFailureStillOK(t *testing.T) {
	if auditArch[runtime.GOARCH] == 0 {
		t.Skipf("no seccomp filter for %s", runtime.GOARCH)
	}
	forModes(t, func(t *testing.T, mode string) {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		d := newDaemon(t, testkit.ServerOptions{Mode: mode, Workers: 2, Setup: func(cmd *exec.Cmd) {
			cmd.Path = self // which execs serverBin under the filter
			cmd.Env = append(os.Environ(), failFsyncEnv+"="+serverBin)
		}})
		res := d.upload(t, "kept.txt", strings.NewReader("in place"))
		if res.Stored != int64(len("in place")) {
			t.Errorf("upload: %+v", res)
		}
		if got := d.files(t); len(got) != 1 || got[0] != "kept.txt" {
			t.Errorf("storage holds %v, want kept.txt", got)
		}
		c := d.Client(t)
		err = c.Delete(ctxTimeout(t, 10*time.Second), "kept.txt")
		c.Close()
		if err != nil {
			t.Errorf("DELETE with the directory sync failing: %v, want OK", err)
		}
		if got := d.files(t); len(got) != 0 {
			t.Errorf("storage holds %v after DELETE", got)
		}
		warn := regexp.MustCompile(`level=WARN msg="directory sync failed: done, but a crash could undo it".* cmd=(UPLOAD|DELETE) name=kept.txt error=".*input/output error"`)
		if _, err := d.Log.WaitForCount(warn, 2, 10*time.Second); err != nil {
			t.Errorf("no warning for each failed directory sync: %v\n%s", err, d.Log)
		}
	})
}
