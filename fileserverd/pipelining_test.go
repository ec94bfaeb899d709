package main

// Requests pipelined behind a payload, against the real binary in both
// modes: each is answered, in order, and no request's bytes end up in a
// file.

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// TestPipelinedRequestsAnsweredInOrder sends requests one after the other
// in one write, in the forms fileserverd accepts, and checks every reply
// and every file.
func TestPipelinedRequestsAnsweredInOrder(t *testing.T) {
	big := base64.StdEncoding.EncodeToString(make([]byte, 1<<20+3)) // over -max-size 1MB
	type reply struct {
		ok   bool
		says string
	}
	ok := func(says string) reply { return reply{true, says} }
	refused := func(says string) reply { return reply{false, says} }
	cases := []struct {
		name  string
		send  string
		want  []reply
		files map[string]string // what the storage holds after, "" = absent
	}{
		{"UPLOAD then LIST: ambiguous, refused", "UPLOAD pc QUFBQUFB\nLIST\n",
			[]reply{refused(`the line \"LIST\" after the content may be its last line of base64 or a LIST request`), ok(`"data": [`)},
			map[string]string{"pc": ""}},
		{"two uploads, one LF each", "UPLOAD pd QUFBQUFB\nUPLOAD pe QkJC\n",
			[]reply{ok("stored pd (6 bytes)"), ok("stored pe (3 bytes)")},
			map[string]string{"pd": "AAAAAA", "pe": "BBB"}},
		{"padded UPLOAD then LIST", "UPLOAD pf QUFBQQ==\r\nLIST\r\n",
			[]reply{ok("stored pf (4 bytes)"), ok(`"pf"`)},
			map[string]string{"pf": "AAAA"}},
		{"UPLOAD of a declared size then STATS", "UPLOAD pg 6 QUFBQUFB\nSTATS\n",
			[]reply{ok("stored pg (6 bytes)"), ok(`"mode"`)},
			map[string]string{"pg": "AAAAAA"}},
		{"UPLOAD, GET, DELETE, LIST", "UPLOAD ph QUFBQUFB\nGET ph\nDELETE ph\nLIST\n",
			[]reply{ok("stored ph"), ok(`"data_file": "QUFBQUFB"`), ok("deleted ph"), ok(`"data": [`)},
			map[string]string{"ph": ""}},
		{"next-line UPLOADs", "UPLOAD pi\r\nQUFBQUFB\r\nput pj\r\nQkJC\r\n\r\n",
			[]reply{ok("stored pi (6 bytes)"), ok("stored pj (3 bytes)")},
			map[string]string{"pi": "AAAAAA", "pj": "BBB"}},
		{"text UPLOAD then JSON", "UPLOAD pk QUFBQUFB\n" + `{"command": "upload", "params": ["pl", "QkJC"]}`,
			[]reply{ok("stored pk (6 bytes)"), ok("stored pl (3 bytes)")},
			map[string]string{"pk": "AAAAAA", "pl": "BBB"}},
		{"a refused UPLOAD then LIST", "UPLOAD pm QU*BQUFB\nLIST\n",
			[]reply{refused(`upload \"pm\": invalid base64`), ok(`"data": [`)},
			map[string]string{"pm": ""}},
		{"a refused oversized JSON upload, its name after the content, then LIST",
			`{"content": "` + big + `", "filename": "pn", "command": "upload"}{"command": "list"}`,
			[]reply{refused(`upload \"pn\" is larger than the server's limit`), ok(`"data": [`)},
			map[string]string{"pn": ""}},
		{"STATS (answered by the waiting room), then LIST and STATS (by a worker)", "STATS\r\nLIST\r\nSTATS\r\n",
			[]reply{ok(`"mode"`), ok(`"data": [`), ok(`"mode"`)},
			nil},
		{"a JSON request with a key twice, then LIST", `{"command": "delete", "params": ["po"], "command": "list"}{"command": "list"}`,
			[]reply{refused("the key"), ok(`"data": [`)},
			nil},
	}
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2, "-max-size", "1MB")
		for _, tc := range cases {
			res := runScript(t, d.Addr, len(tc.want), 20*time.Second, step{tc.send, 0})
			if len(res.replies) != len(tc.want) {
				t.Errorf("%s: %d replies %q, want %d", tc.name, len(res.replies), res.replies, len(tc.want))
				continue
			}
			for i, w := range tc.want {
				r := res.replies[i]
				if isOK(r) != w.ok || !strings.Contains(r, w.says) {
					t.Errorf("%s: reply %d is %.200q, want %s saying %s", tc.name, i+1, r, map[bool]string{true: "OK", false: "ERROR"}[w.ok], w.says)
				}
			}
			for name, want := range tc.files {
				got, exists := d.stored(t, name)
				if want == "" && exists || got != want {
					t.Errorf("%s: %s holds %q (exists: %v), want %q", tc.name, name, got, exists, want)
				}
			}
		}
	})
}
