package main

// Clients that pause where a pause must not end a request, against the
// real binary in both modes: an OK reply means the whole request was done,
// and only it.

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// patternString is n bytes of newPattern(seed, n).
func patternString(seed uint64, n int) string {
	b, _ := io.ReadAll(newPattern(seed, int64(n)))
	return string(b)
}

// TestPausedUploadsStoredWhole uploads base64 wrapped at 64 and at 4000
// columns (as base64 -w 64 writes it, and as a client that encodes
// 3000-byte chunks does), pausing 200 ms or 900 ms after the first line or
// after a middle line, as a slow disk or network makes a client do: the
// upload is stored byte for byte, and the OK reply is for all of it. The
// protocol allows an ERROR here; this server stores them all, so an ERROR
// is a failure too.
func TestPausedUploadsStoredWhole(t *testing.T) {
	type upload struct {
		name, content string
		steps         []step
	}
	var uploads []upload
	for _, width := range []int{64, 4000} {
		for _, padded := range []bool{false, true} {
			// 24 lines of 64 columns, or 3 of 4000; padding or not.
			size := 24 * 48
			if width == 4000 {
				size = 9000
			}
			if padded {
				size++
			}
			content := patternString(uint64(width+size), size)
			lines := wrapBase64(content, width)
			for _, pause := range []time.Duration{200 * time.Millisecond, 900 * time.Millisecond} {
				for _, after := range []int{1, len(lines) / 2} {
					for _, head := range []string{"UPLOAD %s\r\n", "UPLOAD %s "} {
						for _, end := range []string{"", "\r\n"} {
							layout := map[bool]string{true: "inline", false: "nextline"}[strings.HasSuffix(head, " ")]
							name := fmt.Sprintf("w%d-padded-%v-%dms-after-line%d-%s-end%d.b64", width, padded, pause.Milliseconds(), after, layout, len(end))
							first := fmt.Sprintf(head, name) + strings.Join(lines[:after], "")
							uploads = append(uploads, upload{name, content, []step{{first, pause}, {strings.Join(lines[after:], "") + end, 0}}})
						}
					}
				}
			}
		}
	}
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 16)
		var wg sync.WaitGroup
		var overran atomic.Int64
		sem := make(chan struct{}, 16)
		for _, u := range uploads {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				res := runScript(t, d.Addr, 1, 20*time.Second, u.steps...)
				if res.longest >= time.Second {
					// Not the pause under test: one of -end-pause-write
					// (1 s) may end an upload after a line break.
					t.Logf("%s: the client's pause overran to %s; not checked", u.name, res.longest)
					overran.Add(1)
					return
				}
				if len(res.replies) != 1 {
					t.Errorf("%s: no reply", u.name)
					return
				}
				d.checkUploadReply(t, res.replies[0], u.name, u.content, false)
			})
		}
		wg.Wait()
		if n := overran.Load(); n > int64(len(uploads)/4) {
			t.Fatalf("%d of %d clients overran their pauses: the machine is too loaded for this test", n, len(uploads))
		}
	})
}

// TestPausedNameActsOnWholeName sends DELETE a or UPLOAD a, pauses 200
// ms, then sends the rest of the name: the full name is acted on, never
// a.
func TestPausedNameActsOnWholeName(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2)
		for _, name := range []string{"a", "ab", "c", "cd"} {
			d.put(t, name, strings.NewReader("kept "+name))
		}
		for _, tc := range []struct {
			steps []step
			want  string // in the reply
		}{
			{[]step{{"DELETE a", 200 * time.Millisecond}, {"b\r\n\r\n", 0}}, "deleted ab"},
			{[]step{{"DELETE c", 900 * time.Millisecond}, {"d\r\n", 0}}, "deleted cd"},
			{[]step{{"UPLOAD e", 200 * time.Millisecond}, {"f QUJD\r\n\r\n", 0}}, "stored ef (3 bytes)"},
			{[]step{{"UPLOAD g", 200 * time.Millisecond}, {"h\r\nQUJD\r\n\r\n", 0}}, "stored gh (3 bytes)"},
		} {
			res := runScript(t, d.Addr, 1, 10*time.Second, tc.steps...)
			if len(res.replies) != 1 || !isOK(res.replies[0]) || !strings.Contains(res.replies[0], tc.want) {
				t.Errorf("%q then %q: replies %q, want OK saying %q", tc.steps[0].data, tc.steps[1].data, res.replies, tc.want)
			}
		}
		for name, want := range map[string]bool{"a": true, "ab": false, "c": true, "cd": false, "e": false, "ef": true, "g": false, "gh": true} {
			if _, exists := d.stored(t, name); exists != want {
				t.Errorf("%s exists: %v, want %v", name, exists, want)
			}
		}
	})
}
