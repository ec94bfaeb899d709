package protocol

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"
)

// enc64 is the standard base64 of s.
func enc64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestPausesDecideNothingWrong plays the exact bytes and pauses of the
// cases the request reader must get right, on a fake clock: each case's
// requests are answered in order, and every OK is for exactly what the
// client sent (name, content), the whole request and only it.
func TestPausesDecideNothingWrong(t *testing.T) {
	t.Parallel()
	content48 := strings.Repeat("0123456789ab", 4)           // 48 bytes: one 64-column line of base64
	pem := strings.Repeat("pem content, line by line. ", 40) // 1080 bytes: 23 lines of 64 columns
	pemLines := string(wrapLines(enc64(pem), 64))
	first64, rest64 := pemLines[:65], pemLines[65:]
	big := strings.Repeat("chunk of 3000 bytes.", 450) // 9000 bytes: three 4000-column lines
	bigLines := string(wrapLines(enc64(big), 4000))
	ms := time.Millisecond
	type want struct {
		ok             bool
		command, name  string
		content        string
		reasonContains string
	}
	ok := func(cmd, name, content string) want {
		return want{ok: true, command: cmd, name: name, content: content}
	}
	refused := func(why string) want { return want{reasonContains: why} }
	tests := []struct {
		name   string
		pieces []sent
		want   []want
	}{
		// Finding 1: a pause after a line of base64 of any width is not
		// the end of the payload.
		{"64 columns, 200 ms after the first line", []sent{{"UPLOAD pem\r\n" + first64, 200 * ms}, {rest64, 0}},
			[]want{ok("UPLOAD", "pem", pem)}},
		{"64 columns, 900 ms after the first line", []sent{{"UPLOAD pem\r\n" + first64, 900 * ms}, {rest64, 0}},
			[]want{ok("UPLOAD", "pem", pem)}},
		{"64 columns, 900 ms after a middle line", []sent{{"UPLOAD pem " + pemLines[:65*11], 900 * ms}, {pemLines[65*11:] + "\r\n", 0}},
			[]want{ok("UPLOAD", "pem", pem)}},
		{"4000 columns, 900 ms after the first line", []sent{{"UPLOAD big " + bigLines[:4001], 900 * ms}, {bigLines[4001:], 0}},
			[]want{ok("UPLOAD", "big", big)}},
		{"4000 columns, 200 ms after a middle line", []sent{{"UPLOAD big " + bigLines[:8002], 200 * ms}, {bigLines[8002:] + "\r\n\r\n", 0}},
			[]want{ok("UPLOAD", "big", big)}},
		{"one line of 64 columns, then LIST after 900 ms", []sent{{"UPLOAD a " + enc64(content48) + "\n", 900 * ms}, {"GET a\n", 0}},
			[]want{ok("UPLOAD", "a", content48), ok("GET", "a", "")}},
		{"a pause of -end-pause-write after a line break ends an upload", []sent{{"UPLOAD a " + enc64(content48) + "\n", 1100 * ms}, {"LIST\n", 0}},
			[]want{ok("UPLOAD", "a", content48), ok("LIST", "", "")}},
		{"no pause ends an upload in the middle of a line", []sent{{"UPLOAD a " + enc64(content48), 5000 * ms}, {"QUJD\r\n\r\n", 0}},
			[]want{ok("UPLOAD", "a", content48+"ABC")}},
		{"padding, a line break and a pause of -end-pause end it", []sent{{"UPLOAD a " + enc64("AB") + "\r\n", 100 * ms}, {"\r\nLIST\n", 0}},
			[]want{ok("UPLOAD", "a", "AB"), ok("LIST", "", "")}},

		// Finding 2: a request after a payload is a request.
		{"UPLOAD then UPLOAD", []sent{{"UPLOAD pd QUFBQUFB\nUPLOAD pe QkJC\n", 0}},
			[]want{ok("UPLOAD", "pd", "AAAAAA"), ok("UPLOAD", "pe", "BBB")}},
		{"UPLOAD then LIST, ambiguous", []sent{{"UPLOAD pc QUFBQUFB\nLIST\n", 0}},
			[]want{refused("may be its last line of base64 or a LIST request"), ok("LIST", "", "")}},
		{"UPLOAD then list, lower case", []sent{{"UPLOAD pc QUFBQUFB\r\nlist\r\n", 0}},
			[]want{refused("LIST request"), ok("LIST", "", "")}},
		{"padded UPLOAD then LIST", []sent{{"UPLOAD pc QUFBQQ==\nLIST\n", 0}},
			[]want{ok("UPLOAD", "pc", "AAAA"), ok("LIST", "", "")}},
		{"UPLOAD of its declared size then STATS", []sent{{"UPLOAD pc 6 QUFBQUFB\nSTATS\n", 0}},
			[]want{ok("UPLOAD", "pc", "AAAAAA"), ok("STATS", "", "")}},
		{"UPLOAD then LIST at EOF", []sent{{"UPLOAD pc QUFBQUFB\nLIST", 0}},
			[]want{refused("LIST request"), ok("LIST", "", "")}},
		{"UPLOAD then LIST, then a pause", []sent{{"UPLOAD pc QUFBQUFB\nLIST", 300 * ms}, {"\n", 0}},
			[]want{refused("LIST request"), ok("LIST", "", "")}},
		{"a line that only starts like LIST is base64", []sent{{"UPLOAD pc QUFB\nLISTQUFB\n\n", 0}},
			[]want{ok("UPLOAD", "pc", "AAA,\x84\x93AAA")}}, // QUFB and LISTQUFB, decoded
		{"UPLOAD then GET", []sent{{"UPLOAD pc QUFBQUFB\r\nGET pc\r\n", 0}},
			[]want{ok("UPLOAD", "pc", "AAAAAA"), ok("GET", "pc", "")}},
		{"UPLOAD then DELETE", []sent{{"UPLOAD pc QUFBQUFB\nDELETE pc\n", 0}},
			[]want{ok("UPLOAD", "pc", "AAAAAA"), ok("DELETE", "pc", "")}},
		{"UPLOAD then JSON", []sent{{"UPLOAD pc QUFBQUFB\n{\"command\": \"list\"}", 0}},
			[]want{ok("UPLOAD", "pc", "AAAAAA"), ok("LIST", "", "")}},
		{"next-line UPLOAD then UPLOAD", []sent{{"UPLOAD pc\r\nQUFBQUFB\r\nUPLOAD pd\r\nQkJC\r\n\r\n", 0}},
			[]want{ok("UPLOAD", "pc", "AAAAAA"), ok("UPLOAD", "pd", "BBB")}},
		{"a refused UPLOAD then LIST", []sent{{"UPLOAD pc QU*BQUFB\nLIST\n", 0}},
			[]want{refused("invalid base64"), ok("LIST", "", "")}},
		{"a refused JSON UPLOAD then LIST", []sent{{`{"command": "upload", "params": ["x", "QU*B"]}{"command": "list"}`, 0}},
			[]want{refused("invalid base64"), ok("LIST", "", "")}},
		{"a JSON request with a key twice, then LIST", []sent{{`{"command": "delete", "params": ["x"], "command": "list"}{"command": "list"}`, 0}},
			[]want{refused("twice"), ok("LIST", "", "")}},

		// Finding 3: a pause inside a name.
		{"DELETE a, 200 ms, b", []sent{{"DELETE a", 200 * ms}, {"b\r\n\r\n", 0}},
			[]want{ok("DELETE", "ab", "")}},
		{"DELETE a, 900 ms, b", []sent{{"DELETE a", 900 * ms}, {"b\r\n", 0}},
			[]want{ok("DELETE", "ab", "")}},
		{"UPLOAD a, 200 ms, b", []sent{{"UPLOAD a", 200 * ms}, {"b QUJD\r\n\r\n", 0}},
			[]want{ok("UPLOAD", "ab", "ABC")}},
		{"UPLOAD a 12, 200 ms, 34 then a length", []sent{{"UPLOAD a 3", 200 * ms}, {" QUJD\r\n\r\n", 0}},
			[]want{ok("UPLOAD", "a", "ABC")}},
		{"GET a, 200 ms, b: a read may end at -end-pause", []sent{{"GET a", 200 * ms}, {"b\r\n", 0}},
			[]want{ok("GET", "a", ""), refused("unknown command")}},

		// Smaller: names and lengths.
		{"a lone surrogate in a JSON name", []sent{{`{"command": "upload", "params": ["a\ud800b", "QUJD"]}LIST` + "\n", 0}},
			[]want{refused("lone surrogate"), ok("LIST", "", "")}},
		{"invalid UTF-8 in a JSON name", []sent{{"{\"command\": \"delete\", \"params\": [\"a\xffb\"]}\nLIST\n", 0}},
			[]want{refused("UTF-8"), ok("LIST", "", "")}},
		{"a surrogate pair is one character", []sent{{`{"command": "delete", "params": ["a\ud83d\ude00b"]}`, 0}},
			[]want{ok("DELETE", "a\U0001F600b", "")}},
		{"a length beyond int64", []sent{{"UPLOAD l 9223372036854775808 QUJD\r\n\r\n", 0}},
			[]want{refused("declared length 9223372036854775808 is neither")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, sizes := range [][2]int{{ReaderSize, 0}, {16, 0}, {ReaderSize, 7}} {
				outs := serveScript(sizes[0], sizes[1], tc.pieces...)
				if len(outs) != len(tc.want) {
					t.Fatalf("buffer %d, reads of %d: %d replies, want %d:%s", sizes[0], sizes[1], len(outs), len(tc.want), describe(outs))
				}
				for i, w := range tc.want {
					o := outs[i]
					switch {
					case w.ok && (!o.ok || o.command != w.command || o.name != w.name || o.content != w.content):
						t.Errorf("buffer %d, reads of %d: reply %d is %s, want %s %q with %d bytes", sizes[0], sizes[1], i+1, o, w.command, w.name, len(w.content))
					case !w.ok && (o.ok || !strings.Contains(o.reason, w.reasonContains)):
						t.Errorf("buffer %d, reads of %d: reply %d is %s, want an ERROR saying %q", sizes[0], sizes[1], i+1, o, w.reasonContains)
					}
				}
			}
		})
	}
}
