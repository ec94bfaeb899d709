package main

import (
	"bufio"
	"encoding/base64"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/childproc"
	"fileserver/protocol/testkit"
)

// TestBadInput sends each kind of bad request to a one-worker server and
// checks the ERROR reply, that the single worker is free again at once,
// and that nothing was stored.
func TestBadInput(t *testing.T) {
	oversize := base64.StdEncoding.EncodeToString(make([]byte, 1<<20+3))
	cases := []struct {
		name       string
		req        string
		closeWrite bool
		want       string
	}{
		{"head over 4 KiB", "GET " + strings.Repeat("a", 5000) + "\r\n\r\n", false, "longer than 4096 bytes"},
		{"invalid base64", "UPLOAD x.bin QUJD!!!!QUJD\r\n\r\n", false, "invalid base64 at character 4"},
		{"padding in the middle", "UPLOAD x.bin QQ==QUJD\r\n\r\n", false, "invalid base64"},
		{"missing padding", "UPLOAD x.bin QUJDRA\r\n\r\n", false, "not a multiple of 4"},
		{"stray CR in payload", "UPLOAD x.bin QUJD\rQUJD\r\n\r\n", false, "stray CR"},
		{"EOF inside a quoted name", `GET "a b`, true, "incomplete request"},
		{"upload cut mid-quantum by EOF", "UPLOAD x.bin QUJDQU", true, "not a multiple of 4"},
		{"wrong declared length", "UPLOAD x.bin 9 QUJD\r\n\r\n", false, "declared length 9"},
		{"JSON traversal", `{"command": "upload", "params": ["../x", "QUJD"]}`, false, "invalid file name"},
		{"unknown command", "FROB x\r\n\r\n", false, `unknown command \"FROB\"`},
		{"dotless i is not LIST", "lıst\r\n", false, "unknown command"},
		{"JSON unknown command", `{"command": "config"}`, false, `unknown command \"config\"`},
		{"upload over -max-size", "UPLOAD big.bin " + oversize + "\r\n\r\n", false, "larger than the server's limit of 1048576 bytes"},
		{"upload without content", "UPLOAD x.bin\r\n\r\n", false, "UPLOAD needs a file name"},
		{"path traversal", "GET ../../etc/passwd\r\n\r\n", false, "invalid file name"},
		{"slash in upload name", "UPLOAD a/b QUJD\r\n\r\n", false, "must not contain '/'"},
		{"hidden upload name", "UPLOAD .upload-1-x.tmp QUJD\r\n\r\n", false, "must not start with '.'"},
		{"control byte in name", "DELETE a\x01b\r\n\r\n", false, "control characters"},
		{"missing file", "GET nothing.bin\r\n\r\n", false, `file \"nothing.bin\" not found`},
		{"wrong parameter count", "DELETE a b\r\n\r\n", false, "takes 1 parameter"},
		{"double space", "GET  a\r\n\r\n", false, "single spaces"},
		{"STATS with a parameter (the waiting room answers only a plain STATS)", "STATS x\r\n\r\n", false, "takes 0 parameter"},
		// Strict names: two names a client sent never name one file.
		{"JSON name with a lone surrogate", `{"command": "upload", "params": ["a\ud800b", "QUJD"]}`, false, "lone surrogate"},
		{"JSON name with invalid UTF-8", "{\"command\": \"upload\", \"params\": [\"a\xffb\", \"QUJD\"]}", false, "not valid UTF-8"},
		{"quoted name of only spaces", `UPLOAD "   " QUJD` + "\r\n\r\n", false, "only white space"},
		{"JSON name of only white space", `{"command": "upload", "filename": " \u3000 ", "content": "QUJD"}`, false, "only white space"},
		{"JSON key twice", `{"command": "list", "command": "upload", "params": ["x", "QUJD"]}`, false, `the key \"command\" twice`},
		{"a length beyond int64, quoted as sent", "UPLOAD l 9223372036854775808 QUJD\r\n\r\n", false, "declared length 9223372036854775808 is"},
		{"JSON upload over -max-size, its name after the content", `{"content": "` + oversize + `", "name": "late.bin", "command": "upload"}`, false,
			`upload \"late.bin\" is larger than the server's limit`},
	}
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 1, "-max-size", "1MB")
		for _, tc := range cases {
			reply := exchange(t, d.Addr, []byte(tc.req), tc.closeWrite)
			if !strings.HasPrefix(reply, `{"status": "ERROR", "data": "`) || !strings.HasSuffix(reply, "\"}\r\n\r\n") {
				t.Errorf("%s: reply %q, want an ERROR reply", tc.name, reply)
			} else if !strings.Contains(reply, tc.want) {
				t.Errorf("%s: reply %q, want it to say %q", tc.name, reply, tc.want)
			}
			// The only worker must be free again: a new connection is
			// served at once.
			d.list(t)
		}
		if f := d.files(t); len(f) != 0 {
			t.Errorf("storage holds %v after bad requests, want nothing", f)
		}
		s := d.Stats(t)
		if got := s.Requests["upload"].OK; got != 0 {
			t.Errorf("upload ok = %d, want 0", got)
		}
	})
}

// TestConnectionGoesOnAfterBadRequest checks that a malformed request is
// answered and skipped, and the next request on the same connection is
// served.
func TestConnectionGoesOnAfterBadRequest(t *testing.T) {
	d := startDaemon(t, "thread", 1)
	conn := dial(t, d.Addr)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("UPLOAD x.bin QUJD*QUJDQUJD\r\n\r\nUPLOAD y.bin QUJD\r\n\r\nLIST\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	for _, want := range []string{`"status": "ERROR"`, `"size": 3`, `"data": ["y.bin"]`} {
		if got := readReplyBytes(t, br); !strings.Contains(got, want) {
			t.Fatalf("reply %q, want %s", got, want)
		}
	}
}

// TestIdleTimeout checks that a silent client, before or in the middle of
// a request, is told and disconnected, and frees the only worker.
func TestIdleTimeout(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		// A silent new connection is closed by -head-timeout in the
		// waiting room; an upload that stops, by -idle-timeout.
		d := startDaemon(t, mode, 1, "-idle-timeout", "300ms", "-head-timeout", "300ms")
		for _, req := range []string{"", "UPLOAD silent.bin QUJD"} {
			conn := dial(t, d.Addr)
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			conn.Write([]byte(req))
			start := time.Now()
			reply := readReplyBytes(t, bufio.NewReader(conn))
			if !strings.Contains(reply, `"status": "ERROR"`) || !(strings.Contains(reply, "idle timeout") || strings.Contains(reply, "-head-timeout")) {
				t.Errorf("request %q then silence: reply %q, want an idle timeout ERROR", req, reply)
			}
			if n, err := conn.Read(make([]byte, 1)); err == nil {
				t.Errorf("connection still open after the idle timeout (read %d bytes)", n)
			}
			if el := time.Since(start); el > 5*time.Second {
				t.Errorf("idle timeout of 300ms took %s", el)
			}
			conn.Close()
			d.list(t) // the worker is free again
		}
		if f := d.files(t); len(f) != 0 {
			t.Errorf("storage holds %v, want nothing", f)
		}
	})
}

// TestClientKilledMidUpload kills a real client process in the middle of
// an upload: the server counts a failed upload and leaves no file, no
// temporary file, and the previous version intact.
func TestClientKilledMidUpload(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2)
		old := d.upload(t, "killed.bin", strings.NewReader("previous version"))
		exe, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), helperEnv+"="+d.Addr)
		childproc.DieWithParent(cmd, syscall.SIGKILL)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		must(t, cmd.Start())
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		line := testkit.NewLog(out)
		if _, err := line.WaitFor(regexp.MustCompile(`^sent$`), 10*time.Second); err != nil {
			t.Fatalf("helper client: %v: %s", err, line)
		}
		// The upload is in progress on the server: its temporary file exists.
		d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.ActiveConnections >= 2 })
		cmd.Process.Kill()
		cmd.Wait()
		d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.Requests["upload"].Failed == 1 })
		if f := d.files(t); len(f) != 1 || f[0] != "killed.bin" {
			t.Errorf("storage holds %v, want only the previous killed.bin", f)
		}
		if _, sum := d.get(t, "killed.bin"); sum != old.StoredSHA256 {
			t.Errorf("previous version changed by a killed upload")
		}
	})
}

// TestClientVanishesMidDownload resets a connection in the middle of a
// large download: the worker is free again and the failure is counted.
func TestClientVanishesMidDownload(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 1)
		d.upload(t, "big.bin", newPattern(1, 20<<20))
		conn := dial(t, d.Addr)
		conn.Write([]byte("GET big.bin\r\n\r\n"))
		if _, err := conn.Read(make([]byte, 1024)); err != nil {
			t.Fatal(err)
		}
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
		d.list(t) // the worker is free again
		d.waitStats(t, 10*time.Second, func(s *protocol.Stats) bool { return s.Requests["get"].Failed == 1 })
	})
}
