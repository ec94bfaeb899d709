package protocol

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
)

// longReply yields prefix, then unit n times, then suffix, without
// holding more than they: a reply as long as a hostile server likes.
func longReply(prefix, unit []byte, n int, suffix []byte) io.Reader {
	var body io.Reader = bytes.NewReader(nil)
	if len(unit) > 0 {
		body = io.LimitReader(&repeatReader{pattern: string(unit)}, int64(n)*int64(len(unit)))
	}
	return io.MultiReader(bytes.NewReader(prefix), body, bytes.NewReader(suffix))
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestReadReplyHostileInFixedMemory reads replies whose values a hostile
// server made huge (64 MiB and more) under every key the protocol reads
// and others: each is read, or refused, allocating a small fixed amount
// beyond the reader's buffer, whatever its length.
// It counts the bytes the whole test binary allocates, so it does not
// run in parallel.
func TestReadReplyHostileInFixedMemory(t *testing.T) {
	const n = 4 << 20 // units of 16 bytes: 64 MiB
	unit := []byte(`"abcdefghijklm",`)
	tests := []struct {
		name                 string
		prefix, unit, suffix string
		keys                 []string
		ok                   bool
		want                 string // in the error
	}{
		{"array under an unknown key", `{"status": "OK", "x": [`, string(unit), `"end"]}` + Terminator, nil, true, ""},
		{"array under data", `{"status": "OK", "data": [`, string(unit), `"end"]}` + Terminator, nil, true, ""},
		{"string under data (an echoed upload)", `{"status": "OK", "data": "`, "QUJDREVGR0hJSktM", `", "size": 3}` + Terminator, nil, true, ""},
		{"string under sha256", `{"status": "OK", "sha256": "`, "QUJDREVGR0hJSktM", `"}` + Terminator, nil, true, ""},
		{"error reason", `{"status": "ERROR", "data": "`, "no, no, no, no, ", `"}` + Terminator, ContentKeys(), true, ""},
		{"string under data before status", `{"data": "`, "QUJDREVGR0hJSktM", `", "status": "OK"}` + Terminator, ContentKeys(), false, "too long to keep"},
		{"nested objects", `{"status": "OK", "x": `, `{"a": [1, 2.5e3, true, null, {"b": "c"}], "d": `, `0}` + Terminator, nil, false, "nested more than"},
		{"white space", `{"status": "OK", "x": [`, "                ", `]}` + Terminator, nil, false, "white space"},
		{"a key", `{"status": "OK", "`, "kkkkkkkkkkkkkkkk", `": 1}` + Terminator, nil, false, "a key longer than"},
		{"a number", `{"status": "OK", "size": 1`, "0000000000000000", `}` + Terminator, nil, false, "a number longer than"},
		{"keys", `{"status": "OK"`, `, "k": 1, "k": 2`, `}` + Terminator, nil, false, "comes twice"},
		{"LIST names", `{"status": "OK", "data": [`, string(unit), `"end"]}` + Terminator, []string{"list"}, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *Reply
			var err error
			names := 0
			bytes := allocated(func() {
				br := bufio.NewReaderSize(longReply([]byte(tt.prefix), []byte(tt.unit), n, []byte(tt.suffix)), ReaderSize)
				spec := replySpec{keys: tt.keys, content: io.Discard, bufs: NewBuffers()}
				if len(tt.keys) == 1 && tt.keys[0] == "list" {
					spec = replySpec{names: func([]byte) error { names++; return nil }}
				}
				r, err = readReply(br, spec)
			})
			// The reader's buffer and Buffers are 360 KiB; the rest of
			// what one reply allocates is a few KiB.
			if bytes > 512<<10 {
				t.Errorf("a reply of %d MiB allocated %d KiB", (len(tt.prefix)+n*len(tt.unit))>>20, bytes>>10)
			}
			switch {
			case tt.ok && err != nil:
				t.Errorf("ReadReply: %v", err)
			case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("ReadReply: %v, want an error with %q", err, tt.want)
			case tt.ok && tt.name == "LIST names" && names != n+1:
				t.Errorf("%d names streamed, want %d", names, n+1)
			case tt.ok && r.Status == StatusError && (!r.Cut("data") || !strings.HasPrefix(r.String("data"), "no, no")):
				t.Errorf("ERROR reason %q, cut %v", r.String("data"), r.Cut("data"))
			}
		})
	}
}

// TestReadReplyKeyTwice checks that a reply carrying a key twice is
// refused, however the second is written: json.loads keeps the last
// value, a streaming reader has used the first, and the two must never
// disagree on what the server said.
func TestReadReplyKeyTwice(t *testing.T) {
	t.Parallel()
	for _, fields := range []string{
		`"data_file": "QUJD", "data_file": "QUJE"`,
		`"data_file": "QUJD", "d\u0061ta_file": "QUJE"`,
		`"data_file": "QUJD", "\u0064ata\u005ffile": "QUJE"`,
		`"x": 1, "y": 2, "x": 3`,
		`"size": 3, "size": 3`,
		`"data": "a", "data": "b"`,
		`"\ud83d\ude00": 1, "😀": 2`,
		`"status": "OK"`,
	} {
		for _, rk := range readerKinds {
			reply := `{"status": "OK", "data_namafile": "f", ` + fields + `}` + Terminator
			_, err := readReplyString(reply, rk, GetContentKey, io.Discard)
			var re *ReplyError
			if !errors.As(err, &re) || !strings.Contains(err.Error(), "comes twice") {
				t.Errorf("%s: %s: %v, want a key twice refused", rk.name, fields, err)
			}
		}
	}
	// Distinct keys that only look alike are not the same key, and 64
	// keys are read.
	var b strings.Builder
	b.WriteString(`{"status": "OK", "a": 1, "A": 2, "a ": 3, "\ud800": 4, "\udc00": 5`)
	for i := 6; i < maxReplyKeys; i++ {
		fmt.Fprintf(&b, `, "k%d": %d`, i, i)
	}
	if n := strings.Count(b.String(), ":"); n > maxReplyKeys {
		t.Fatalf("test reply has %d keys", n)
	}
	if _, err := readReplyString(b.String()+"}"+Terminator, readerKinds[0], GetContentKey, io.Discard); err != nil {
		t.Errorf("distinct keys: %v", err)
	}
	many := `{"status": "OK"`
	for i := range maxReplyKeys {
		many += fmt.Sprintf(`, "k%d": 1`, i)
	}
	if _, err := readReplyString(many+"}"+Terminator, readerKinds[0], GetContentKey, io.Discard); err == nil || !strings.Contains(err.Error(), "more than 64 keys") {
		t.Errorf("%d keys: %v, want refused", maxReplyKeys+1, err)
	}
}

// TestReadReplySkipsAsStrictlyAsJSON checks values that are skipped
// against json.Valid: a reply with a value that is no JSON is refused,
// and one with a valid value is read, whatever its shape.
func TestReadReplySkipsAsStrictlyAsJSON(t *testing.T) {
	t.Parallel()
	values := []string{
		`0`, `-0`, `1.5`, `-1.5e+3`, `1E-7`, `123456789012345678901234567890`, `true`, `false`, `null`,
		`""`, `"a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D\uDE00\ud800"`, `"é😀"`, `[]`, `{}`, `[[], {}, [{}]]`,
		`{"a": {"b": [1, {"c": null}]}, "d": "}"}`, `[1,2 ,3 ]`, "[\n\t1\r\n]",
		// Not JSON:
		`01`, `1.`, `.5`, `-`, `1e`, `1e+`, `+1`, `0x1`, `NaN`, `Infinity`, `-Infinity`, `tru`, `nul`, `True`,
		`"a`, `"\x"`, `"\u12"`, `"\u12G4"`, "\"a\tb\"", "\"a\nb\"", "\"\x00\"", `'a'`,
		`[1,]`, `[,1]`, `[1 2]`, `{"a"}`, `{"a":}`, `{"a" 1}`, `{a: 1}`, `{"a": 1,}`, `{,}`, `[}`, `{]`, `[1}`, `{"a": 1]`,
		`[[[]]`, `]`, `}`, `:`, `,`,
	}
	for _, v := range values {
		valid := json.Valid([]byte(v))
		for _, rk := range readerKinds {
			reply := `{"status": "OK", "x": ` + v + `, "size": 1}` + Terminator
			_, err := readReplyString(reply, rk, GetContentKey, io.Discard)
			if (err == nil) != valid {
				t.Errorf("%s: value %q (json.Valid %v): %v", rk.name, v, valid, err)
			}
		}
	}
}

// TestReadReplyNoReply checks the words for a connection that ends
// before and inside a reply.
func TestReadReplyNoReply(t *testing.T) {
	t.Parallel()
	for reply, want := range map[string]string{
		"":               "the server closed the connection without replying",
		"\r\n\r\n":       "the server closed the connection without replying",
		`{`:              "the connection ended inside the reply",
		`{"status": "O`:  "the connection ended inside a key",
		`{"status": tru`: `the connection ended inside "true"`,
	} {
		if reply == `{"status": "O` {
			reply = `{"stat`
		}
		_, err := readReplyString(reply, readerKinds[0], GetContentKey, io.Discard)
		var re *ReplyError
		if !errors.As(err, &re) || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", reply, err, want)
		}
	}
}

// TestBadBase64SameKind checks that content which is no base64 is the
// same failure, a *ReplyError, whether the content is checked by its text
// (generated content) or decoded and hashed (-file): a character outside
// the alphabet, an escaped quote, padding out of place, data after the
// padding, unused bits set, a length that is no multiple of 4; and that
// valid base64 of other bytes is an *IntegrityError in both.
func TestBadBase64SameKind(t *testing.T) {
	t.Parallel()
	raw := randomBytes(3, 1000) // the last quantum encodes one byte
	text := base64.StdEncoding.EncodeToString(raw)
	other := bytes.Clone(raw)
	other[500] ^= 1
	unused := []byte(text)
	unused[len(unused)-3] = stdAlphabet[strings.IndexByte(stdAlphabet, unused[len(unused)-3])|1]
	cases := []struct {
		name, text string
		bad        bool // no base64, rather than other bytes
	}{
		{"a character outside the alphabet", text[:600] + "!" + text[601:], true},
		{"an escaped quote", text[:600] + `\"` + text[601:], true},
		{"an escape for a character outside the alphabet", text[:600] + `\u0021` + text[601:], true},
		{"padding out of place", text[:600] + "=" + text[601:], true},
		{"data after the padding", text[:4] + "QQ==" + text[8:], true},
		{"unused bits set", string(unused), true},
		{"a length that is no multiple of 4", text[:601], true},
		{"other bytes", base64.StdEncoding.EncodeToString(other), false},
		{"cut short on a quantum", text[:600], false},
	}
	for _, tc := range cases {
		reply := `{"status": "OK", "data_namafile": "f", "data_file": "` + tc.text + `"}` + Terminator
		for _, check := range []contentCheck{newBase64Check(newPieceBase64(raw), nil), newHashCheck(int64(len(raw)), sha256Hex(raw), nil)} {
			_, err := ReadReply(bufio.NewReaderSize(strings.NewReader(reply), ReaderSize), GetContentKey, check, NewBuffers())
			if err == nil {
				err = check.missing()
			}
			var ie *IntegrityError
			switch {
			case tc.bad && !isBadContent(err):
				t.Errorf("%s, %T: %v, want bad content (a *ReplyError)", tc.name, check, err)
			case !tc.bad && !errors.As(err, &ie):
				t.Errorf("%s, %T: %v, want an *IntegrityError", tc.name, check, err)
			}
		}
	}
}

// TestListEach streams a LIST reply's names and counts them; a name
// longer than MaxNameLen, a list that is not of strings, and an OK reply
// without a list are *ReplyErrors; List collects at most MaxListNames.
func TestListEach(t *testing.T) {
	t.Parallel()
	many := make([]string, MaxListNames+1)
	for i := range many {
		many[i] = fmt.Sprintf("f%d", i)
	}
	cases := []struct {
		name, reply string
		count       int
		bad         bool
	}{
		{"names", string(AppendReply(nil, Field{"status", "OK"}, Field{"data", []string{"a", "b c", "é"}})), 3, false},
		{"none", string(AppendReply(nil, Field{"status", "OK"}, Field{"data", []string{}})), 0, false},
		{"data before status", `{"data": ["a"], "status": "OK"}` + Terminator, 1, false},
		{"a name too long", string(AppendReply(nil, Field{"status", "OK"}, Field{"data", []string{strings.Repeat("é", MaxNameLen/2+1)}})), 0, true},
		{"numbers", `{"status": "OK", "data": [1, 2]}` + Terminator, 0, true},
		{"no list", `{"status": "OK", "data": "3 files"}` + Terminator, 0, true},
		{"no data", `{"status": "OK"}` + Terminator, 0, true},
		{"more than List takes", string(AppendReply(nil, Field{"status", "OK"}, Field{"data", many})), MaxListNames + 1, false},
	}
	for _, tc := range cases {
		s := startFakeServer(t, func(s *fakeServer) { s.reply = func(string) string { return tc.reply } })
		c := dial(t, s)
		var got []string
		n, err := c.ListEach(testCtx(t), func(name []byte) error {
			got = append(got, string(name))
			return nil
		})
		var re *ReplyError
		switch {
		case tc.bad && !errors.As(err, &re):
			t.Errorf("%s: %v, want a *ReplyError", tc.name, err)
		case !tc.bad && (err != nil || n != tc.count || len(got) != n):
			t.Errorf("%s: %d names (%d passed), %v; want %d", tc.name, n, len(got), err, tc.count)
		}
		c.Close()
		if tc.name == "more than List takes" {
			c, _ := Dial(context.Background(), s.ln.Addr().String())
			if names, err := c.List(testCtx(t)); err == nil {
				t.Errorf("List of %d names: %d names, nil error", MaxListNames+1, len(names))
			}
			c.Close()
		}
	}
}

// TestServerString checks what a server's text becomes in a message:
// controls and format characters escaped, printable text as it is, and a
// long text cut.
func TestServerString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`file "x" not found`:                     `file "x" not found`,
		"café 😀 ファイル":                            "café 😀 ファイル",
		"x|<img src=x>\r\n## injected":           `x|<img src=x>\r\n## injected`,
		"a\x1b[31mred\x7f\u0085":                 `a\x1b[31mred\x7f\u0085`,
		"invoice\u202efdp.exe\u200b\ufeff\u2028": `invoice\u202efdp.exe\u200b\ufeff\u2028`,
		"bad \xff utf-8":                         `bad \xff utf-8`,
	} {
		if got := ServerString(in); got != want {
			t.Errorf("ServerString(%q) = %q, want %q", in, got, want)
		}
	}
	long := ServerString(strings.Repeat("a", 10000))
	if len(long) > MaxServerString+40 || !strings.HasSuffix(long, "(10000 bytes in all)") {
		t.Errorf("a long text: %q", long)
	}
	e := &ServerError{Status: "ERROR\r\n", Reason: "no\x1b]0;title\x07", Cut: true}
	if got := e.Error(); got != `server: ERROR\r\n: no\x1b]0;title\a (cut)` {
		t.Errorf("ServerError = %q", got)
	}
}

// TestSameHex compares digests as a server may write them.
func TestSameHex(t *testing.T) {
	t.Parallel()
	sum := sha256Hex([]byte("x"))
	for s, want := range map[string]bool{
		sum: true, strings.ToUpper(sum): true, sum[:10] + strings.ToUpper(sum[10:]): true,
		sum[1:]: false, sum + "0": false, "g" + sum[1:]: false, "": false,
		strings.Repeat("z", len(sum)): false,
	} {
		if got := sameHex(s, sum); got != want {
			t.Errorf("sameHex(%q) = %v, want %v", s, got, want)
		}
	}
	if got := quoteDigest("abc\r\n## x", false); got != `"abc\r\n## x"` {
		t.Errorf("quoteDigest = %s", got)
	}
}

// FuzzReadReplyHostile reads fuzzed replies, a unit of each repeated up
// to thousands of times to make long values, with the checks filestressd
// downloads through, and holds the reader to its promises: it does not
// panic; it allocates a bounded amount whatever the reply's length; a
// reply it accepts is a valid JSON object with no key twice; and content
// it finds whole and right is, by json.Unmarshal of the same bytes, the
// expected content under the key it names.
//
//	go test -run '^$' -fuzz FuzzReadReplyHostile -fuzztime 60s ./protocol
func FuzzReadReplyHostile(f *testing.F) {
	want := []byte("the expected content!")
	b64 := base64.StdEncoding.EncodeToString(want)
	for _, seed := range [][3]string{
		{`{"status": "OK", "data_namafile": "f", "data_file": "`, "", b64 + `"}`},
		{`{"status": "OK", "data": "`, "", b64 + `"}`},
		{`{"data": "x", "status": "OK", "file_data": "`, "", b64 + `"}`},
		{`{"status": "OK", "data_file": "` + b64 + `", "x": [`, `[1, "a"], `, `null]}`},
		{`{"status": "OK", "data_file": "` + b64 + `", "data_file": "`, "QUJD", `"}`},
		{`{"status": "OK", "data": "`, "QUJD", `", "file_data": "` + b64 + `"}`},
		{`{"status": "OK", "x": `, "[", `1`},
		{`{"status": "OK", "x": [`, " ", `]}`},
		{`{"status": "ERROR", "data": "`, "no ", `", "data_file": "` + b64 + `"}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]), uint16(1000), []byte(seed[2]+Terminator))
	}
	f.Fuzz(func(t *testing.T, prefix, unit []byte, n uint16, suffix []byte) {
		if len(unit) == 0 || len(unit) > 64 {
			n = 0
		}
		length := len(prefix) + int(n)*len(unit) + len(suffix)
		for _, text := range []bool{false, true} {
			var check contentCheck = newHashCheck(int64(len(want)), sha256Hex(want), nil)
			if text {
				check = newBase64Check(newPieceBase64(want), nil)
			}
			var r *Reply
			var err error
			alloc := allocated(func() {
				br := bufio.NewReaderSize(longReply(prefix, unit, int(n), suffix), 4096)
				r, err = ReadReplyKeys(br, ContentKeys(), check, fuzzBufs)
			})
			if alloc > 64<<10 {
				t.Fatalf("a reply of %d bytes allocated %d KiB", length, alloc>>10)
			}
			if err != nil {
				continue
			}
			var whole bytes.Buffer
			io.Copy(&whole, longReply(prefix, unit, int(n), suffix))
			obj, _, _ := bytes.Cut(whole.Bytes(), []byte(Terminator))
			if !json.Valid(obj) {
				t.Fatalf("accepted a reply that is no JSON: %.200q", obj)
			}
			if k := keyTwice(obj); k != "" {
				t.Fatalf("accepted a reply with %q twice: %.200q", k, obj)
			}
			if !r.HasContent || r.Status != StatusOK || check.missing() != nil {
				continue
			}
			var m map[string]any
			if err := json.Unmarshal(obj, &m); err != nil {
				t.Fatal(err)
			}
			s, _ := m[r.ContentKey].(string)
			got, err := base64.StdEncoding.DecodeString(s)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("content under %q passed, but json.loads would read %q there (%v): %.200q", r.ContentKey, s, err, obj)
			}
		}
	})
}

// keyTwice returns a key the top level of a JSON object holds twice, by
// encoding/json's decoding of the keys.
func keyTwice(obj []byte) string {
	dec := json.NewDecoder(bytes.NewReader(obj))
	if _, err := dec.Token(); err != nil { // {
		return ""
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		k, _ := tok.(string)
		if seen[k] {
			return k
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return ""
		}
	}
	return ""
}

// sha256Hex is the SHA-256 of b, in hex.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
