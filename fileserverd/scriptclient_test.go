package main

import (
	"bufio"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// step is bytes a test client sends, then how long it waits before what
// follows: clients that send the exact bytes and pauses a test is about.
type step struct {
	data  string
	pause time.Duration
}

// scripted is what a scripted client got: its replies, and when each
// came, after the start.
type scripted struct {
	replies []string
	at      []time.Duration
	// longest is the longest pause the client really made between two
	// writes: a loaded machine can make a sleep overrun.
	longest time.Duration
}

// runScript sends steps on a new connection to addr, with their pauses,
// while it reads replies, until want replies came, the server closed the
// connection, or timeout passed.
func runScript(t testing.TB, addr string, want int, timeout time.Duration, steps ...step) scripted {
	t.Helper()
	conn := dial(t, addr)
	conn.SetDeadline(time.Now().Add(timeout))
	start := time.Now()
	sent := make(chan struct{})
	var res scripted
	go func() {
		defer close(sent)
		var wrote time.Time
		for i, s := range steps {
			if i > 0 {
				res.longest = max(res.longest, time.Since(wrote))
			}
			if _, err := conn.Write([]byte(s.data)); err != nil {
				return
			}
			wrote = time.Now()
			time.Sleep(s.pause)
		}
	}()
	br := bufio.NewReader(conn)
	for len(res.replies) < want {
		r := readReplyBytes(t, br)
		if r == "" {
			break
		}
		res.replies = append(res.replies, r)
		res.at = append(res.at, time.Since(start))
	}
	conn.Close()
	<-sent
	return res
}

// isOK tells an OK reply, isError an ERROR one.
func isOK(reply string) bool    { return strings.HasPrefix(reply, `{"status": "OK"`) }
func isError(reply string) bool { return strings.HasPrefix(reply, `{"status": "ERROR"`) }

// stored is the content of a file in the storage directory, and whether
// it exists.
func (d *daemon) stored(t testing.TB, name string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.Dir, name))
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
}

// checkUploadReply checks that an OK reply to an upload is for content
// (its size and SHA-256) and that the file holds exactly content; or, if
// allowError, that an ERROR reply stored nothing.
func (d *daemon) checkUploadReply(t testing.TB, reply, name, content string, allowError bool) {
	t.Helper()
	got, exists := d.stored(t, name)
	switch {
	case isOK(reply):
		if !strings.Contains(reply, sha256Hex([]byte(content))) {
			t.Errorf("upload %s: OK %.120q is not for the %d bytes sent", name, reply, len(content))
		}
		if got != content {
			t.Errorf("upload %s: OK, but the file holds %d bytes, not the %d sent", name, len(got), len(content))
		}
	case isError(reply) && allowError:
		if exists {
			t.Errorf("upload %s: ERROR %q, but a file of %d bytes is stored", name, reply, len(got))
		}
	default:
		t.Errorf("upload %s: reply %.200q, want OK for the %d bytes sent", name, reply, len(content))
	}
}

// wrapBase64 is content's base64 with a LF after every width characters
// and at the end, as base64 -w WIDTH writes it.
func wrapBase64(content string, width int) []string {
	enc := base64.StdEncoding.EncodeToString([]byte(content))
	var lines []string
	for i := 0; i < len(enc); i += width {
		lines = append(lines, enc[i:min(i+width, len(enc))]+"\n")
	}
	return lines
}
