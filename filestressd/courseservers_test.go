package main

import (
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/filestressd/stress"
	"fileserver/protocol/childproc"
	"fileserver/protocol/testkit"
)

// courseServer is one of the Python course servers of
// testdata/course/servers, running on a free loopback port.
type courseServer struct {
	addr string
	dir  string // its storage directory
	log  string // its COURSE_SERVER_LOG: a line per request, "COMMAND name"
}

// requests returns the lines of the server's request log.
func (s courseServer) requests(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(s.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(b)), "\n")
}

// portRE is the line a course server prints once it listens: its port.
var portRE = regexp.MustCompile(`^\s*(\d+)\s*$`)

// startCourseServer runs a Python course server with a fresh storage
// directory and waits for the port it prints. Cleanup kills its whole
// process group. The test is skipped when python3 is missing
// (testkit.Python).
func startCourseServer(t *testing.T, script string, args ...string) courseServer {
	t.Helper()
	dir := t.TempDir()
	return startPythonServer(t, script, dir, append([]string{"0", dir}, args...)...)
}

// startPythonServer runs a script of testdata/course/servers with args,
// serving dir, and waits for the port it prints. Cleanup kills its whole
// process group (a process pool's children too).
func startPythonServer(t *testing.T, script, dir string, args ...string) courseServer {
	t.Helper()
	python := testkit.Python(t)
	s := courseServer{dir: dir, log: filepath.Join(t.TempDir(), "requests.log")}
	path := filepath.Join("..", "testdata", "course", "servers", script)
	cmd := exec.Command(python, append([]string{path}, args...)...)
	testkit.OwnGroup(cmd)
	childproc.DieWithParent(cmd, syscall.SIGKILL)
	cmd.Env = append(os.Environ(), "COURSE_SERVER_LOG="+s.log)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		testkit.KillGroup(cmd)
		cmd.Wait()
	})
	m, err := testkit.NewLog(stdout).WaitFor(portRE, 20*time.Second)
	if err != nil {
		t.Fatalf("%s printed no port: %v", script, err)
	}
	s.addr = "127.0.0.1:" + m[1]
	return s
}

// TestCourseServers runs upload and download cells, in both client
// pools, against a Python server for each way real course servers differ
// from fileserverd: every worker must succeed, uploads being verified by
// reading them back (their replies give no size nor sha256), the server
// columns left empty (no STATS), and the uploads deleted afterwards, even
// from a server that closes the connection after every reply.
func TestCourseServers(t *testing.T) {
	cases := []struct {
		name, script string
		args         []string
		flags        []string
		size         string
	}{
		{"upload without hash", "upload_no_hash.py", nil, nil, "256KB"},
		{"closes after every reply", "close_after_reply.py", nil, nil, "256KB"},
		{"no STATS, closes on it", "no_stats_close.py", nil, nil, "256KB"},
		{"JSON only, detected", "json_only.py", nil, nil, "256KB"},
		{"JSON only, -request json", "json_only.py", nil, []string{"-request", "json"}, "256KB"},
		{"lower-cased request", "lowercase.py", nil, nil, "256KB"},
		{"content under data", "content_key.py", []string{"data"}, nil, "256KB"},
		{"content under data, -content-key data", "content_key.py", []string{"data"}, []string{"-content-key", "data"}, "256KB"},
		{"content under file_data, a message under data", "content_key.py", []string{"file_data"}, nil, "256KB"},
		{"small content under file_data, a message under data", "content_key.py", []string{"file_data"}, nil, "64KB"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := startCourseServer(t, c.script, c.args...)
			for _, op := range []stress.CellOp{stress.CellUpload, stress.CellDownload} {
				for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
					args := append([]string{"-addr", s.addr, "-op", string(op), "-size", c.size, "-workers", "3", "-pool", pool, "-timeout", "30s", "-v"}, c.flags...)
					r, row := runRow(t, args...)
					verified := stress.VerifyReadback
					if op == stress.CellDownload {
						verified = stress.VerifyReply
					}
					expect(t, row, map[string]string{
						"operation": string(op), "client_pool": pool, "client_ok": "3", "client_fail": "0", "errors": "",
						"verified": verified, "server_ok": "", "server_fail": "", "server_mode": "", "server_workers": "",
					})
					if !strings.Contains(r.stdout, "does not answer STATS") {
						t.Errorf("%s/%s: stdout does not say the server has no STATS:\n%s", op, pool, r.stdout)
					}
					if t.Failed() {
						t.Fatalf("%s/%s:\nstdout:\n%s\nstderr:\n%s", op, pool, r.stdout, r.stderr)
					}
				}
			}
			left, _ := filepath.Glob(filepath.Join(s.dir, "stress-up-*"))
			if len(left) != 0 {
				t.Errorf("uploads left on the server: %v", left)
			}
			// Generated names are lower-case, so a server that lower-cases
			// requests stores the file under the name filestressd uses.
			if _, err := os.Stat(filepath.Join(s.dir, "stress-"+strings.ToLower(c.size)+".bin")); err != nil {
				t.Errorf("the download's test file: %v", err)
			}
		})
	}
}

// TestCourseServerCorruptingUploads checks that a read-back catches a
// server that stores other bytes than it was sent (it lower-cases the
// base64) while answering OK: every worker fails with kind integrity.
// The upload form is named (-upload-form sameline), as the probe finds
// none: its error says the read-back got other bytes.
func TestCourseServerCorruptingUploads(t *testing.T) {
	s := startCourseServer(t, "lowercase.py", "--payload-too")
	probe := runStress(t, "-addr", s.addr, "-op", "upload", "-size", "64KB", "-timeout", "30s")
	if probe.code != exitFailed || !strings.Contains(probe.stderr, "UPLOAD-sameline was stored, but the read-back got other bytes") {
		t.Errorf("the probe against a server that corrupts every upload: exit %d, stderr %q", probe.code, probe.stderr)
	}
	r, row := runRow(t, "-addr", s.addr, "-op", "upload", "-size", "64KB", "-workers", "3", "-timeout", "30s", "-v", "-upload-form", "sameline")
	expect(t, row, map[string]string{"client_ok": "0", "client_fail": "3", "errors": "integrity=3", "verified": ""})
	if n := strings.Count(r.stderr, "read back after the upload"); n != 3 {
		t.Errorf("-v names the read-back %d times, want 3:\n%s", n, r.stderr)
	}
	// -verify none takes the server's word, and says so.
	_, row = runRow(t, "-addr", s.addr, "-op", "upload", "-size", "64KB", "-workers", "2", "-verify", "none", "-upload-form", "sameline")
	expect(t, row, map[string]string{"client_ok": "2", "verified": stress.VerifyNone})
	// -verify reply refuses a reply that cannot be checked.
	_, row = runRow(t, "-addr", s.addr, "-op", "upload", "-size", "64KB", "-workers", "2", "-verify", "reply", "-upload-form", "sameline")
	expect(t, row, map[string]string{"client_ok": "0", "errors": "integrity=2"})
}

// TestReferenceServerDownloadByName downloads a file already on the
// course's reference server, which has no working UPLOAD and reads 32
// bytes at a time: with -file the workers are checked against it; without,
// against what the setup downloaded, and the summary says so.
func TestReferenceServerDownloadByName(t *testing.T) {
	s := startCourseServer(t, "reference.py")
	orig := filepath.Join(t.TempDir(), "course-ref.bin")
	data := make([]byte, 200_003)
	rand.Read(data)
	for _, p := range []string{orig, filepath.Join(s.dir, "course-ref.bin")} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
		r, row := runRow(t, "-addr", s.addr, "-op", "download", "-name", "course-ref.bin", "-workers", "3", "-pool", pool, "-timeout", "30s")
		expect(t, row, map[string]string{"client_ok": "3", "client_fail": "0", "volume_bytes": "200003", "verified": stress.VerifyReply})
		_, sum := fileSHA(t, orig)
		if !strings.Contains(r.stdout, "consistency") || !strings.Contains(r.stdout, sum) {
			t.Errorf("the summary does not give the content's sha256 %s and say it was checked for consistency:\n%s", sum, r.stdout)
		}
		_, row = runRow(t, "-addr", s.addr, "-op", "download", "-name", "course-ref.bin", "-file", orig, "-workers", "3", "-pool", pool)
		expect(t, row, map[string]string{"client_ok": "3", "client_fail": "0", "verified": stress.VerifyReply})
	}
	// Against another original, the setup fails: nothing is uploaded.
	other := filepath.Join(t.TempDir(), "other.bin")
	if err := os.WriteFile(other, data[1:], 0o644); err != nil {
		t.Fatal(err)
	}
	r := runStress(t, "-addr", s.addr, "-op", "download", "-name", "course-ref.bin", "-file", other)
	if r.code != exitFailed || !strings.Contains(r.stderr, "-name") {
		t.Errorf("a -file that is not the server's file: exit %d, stderr %q; want exit 1 naming -name", r.code, r.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(s.dir, "course-ref.bin")); string(b) != string(data) {
		t.Error("the server's file changed")
	}
}
