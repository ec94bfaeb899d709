package main

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
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
				d := startDaemon(t, mode, 2, "-log-format", format)
				d.upload(t, name, strings.NewReader("not a pdf\n"))
				c := d.Client(t)
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
				ok, err := d.Log.WaitFor(okRE, 10*time.Second)
				if err != nil {
					t.Fatalf("upload not logged: %v\n%s", err, d.Log)
				}
				failed, err := d.Log.WaitFor(failedRE, 10*time.Second)
				if err != nil {
					t.Fatalf("failed GET not logged: %v\n%s", err, d.Log)
				}
				log := d.Log.String()
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
