package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLogBytes uploads and asks for files whose names hold U+202E
// (RIGHT-TO-LEFT OVERRIDE) and U+200B (ZERO WIDTH SPACE), both accepted
// by protocol.ValidateName, to the real daemon in both modes and both log
// formats, and reads the bytes it wrote on stderr: neither rune may be
// there raw, and the lines of the requests (one ok, one failed, whose
// error quotes the name) must show them escaped.
func TestLogBytes(t *testing.T) {
	const name = "invoice\u200b\u202efdp.exe"
	const missing = "gone\u202e.txt"
	for _, format := range []string{"text", "json"} {
		for _, mode := range modes {
			t.Run(format+"/"+mode, func(t *testing.T) {
				var d *daemon
				if format == "json" {
					d = startDaemonJSON(t, mode, 2)
				} else {
					d = startDaemon(t, mode, 2, "-log-format", "text")
				}
				d.upload(t, name, strings.NewReader("not a pdf\n"))
				c := d.client(t)
				if _, err := c.Get(ctxTimeout(t, 10*time.Second), missing, newHashWriter()); err == nil {
					t.Fatalf("GET %q succeeded", missing)
				}
				var okRE, failedRE *regexp.Regexp
				var wantName string
				if format == "text" {
					okRE = regexp.MustCompile(`msg=request .*cmd=UPLOAD name=(".*?[^\\]")`)
					failedRE = regexp.MustCompile(`msg="request failed" .*cmd=GET name=(".*?[^\\]").* error=(".*?[^\\]")`)
					wantName = `"invoice\u200b\u202efdp.exe"` // as written, quotes included
				} else {
					okRE = regexp.MustCompile(`^{.*"msg":"request",.*"cmd":"UPLOAD".*}$`)
					failedRE = regexp.MustCompile(`^{.*"msg":"request failed",.*"cmd":"GET".*}$`)
					wantName = `invoice\u200b\u202efdp.exe` // decoded
				}
				ok, err := d.log.waitFor(okRE, 10*time.Second)
				if err != nil {
					t.Fatalf("upload not logged: %v\n%s", err, d.log)
				}
				failed, err := d.log.waitFor(failedRE, 10*time.Second)
				if err != nil {
					t.Fatalf("failed GET not logged: %v\n%s", err, d.log)
				}
				log := d.log.String()
				for _, r := range []rune{'\u202e', '\u200b'} {
					if strings.ContainsRune(log, r) {
						t.Errorf("raw %U in the log:\n%q", r, log)
					}
				}
				if format == "text" {
					if ok[1] != wantName {
						t.Errorf("upload logged with name=%s, want name=%s", ok[1], wantName)
					}
					// The error quotes the name with %q already, so its
					// escape comes out with its backslash escaped.
					if e, err := strconv.Unquote(failed[2]); failed[1] != `"gone\u202e.txt"` || err != nil || !strings.Contains(e, `"gone\u202e.txt"`) {
						t.Errorf("failed GET logged with name=%s error=%s, want name=\"gone\\u202e.txt\" and the name quoted in the error", failed[1], failed[2])
					}
					return
				}
				var up, get struct{ Name, Error string }
				if err := json.Unmarshal([]byte(ok[0]), &up); err != nil {
					t.Fatalf("%v: %q", err, ok[0])
				}
				if err := json.Unmarshal([]byte(failed[0]), &get); err != nil {
					t.Fatalf("%v: %q", err, failed[0])
				}
				if up.Name != wantName {
					t.Errorf("upload logged with a name that decodes to %q, want %q", up.Name, wantName)
				}
				if get.Name != `gone\u202e.txt` || !strings.Contains(get.Error, `gone\u202e.txt`) {
					t.Errorf("failed GET logged with name %q, error %q; want gone\\u202e.txt in both", get.Name, get.Error)
				}
			})
		}
	}
}

// startDaemonJSON is startDaemon with -log-format json. startDaemon waits
// for the text lines msg=listening and msg="worker started"; so the
// daemon's stderr goes through a pipe of this function, whose lines are
// passed on to the daemon's log as they are, each listening or worker
// started line followed by its text form.
func startDaemonJSON(t *testing.T, mode string, workers int) *daemon {
	t.Helper()
	var w *os.File
	d := startDaemonWith(t, func(cmd *exec.Cmd) {
		// The log pipe's write end, which startDaemonWith closes once the
		// daemon has started.
		fd, err := syscall.Dup(int(cmd.Stderr.(*os.File).Fd()))
		if err != nil {
			t.Fatal(err)
		}
		fwd := os.NewFile(uintptr(fd), "log")
		var r *os.File
		r, w, err = os.Pipe()
		if err != nil {
			fwd.Close()
			t.Fatal(err)
		}
		t.Cleanup(func() { w.Close() })
		cmd.Stderr = w
		go func() {
			defer fwd.Close()
			defer r.Close()
			sc := bufio.NewScanner(r)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			for sc.Scan() {
				out := append(append([]byte(nil), sc.Bytes()...), '\n')
				var rec struct{ Msg, Addr string }
				if json.Unmarshal(sc.Bytes(), &rec) == nil {
					switch rec.Msg {
					case "listening":
						out = fmt.Appendf(out, "msg=listening addr=%s\n", rec.Addr)
					case "worker started":
						out = append(out, "msg=\"worker started\"\n"...)
					}
				}
				if _, err := fwd.Write(out); err != nil {
					return
				}
			}
		}()
	}, mode, workers, "-log-format", "json")
	w.Close() // the daemon and its children hold it now
	return d
}
