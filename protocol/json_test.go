package protocol

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The golden files in ../testdata/replies were written by Python, not by
// this package: each is json.dumps(obj) + "\r\n\r\n" for the Python object
// that mirrors the Go fields of the case of the same name below. They were
// generated once with
//
//	python3 /tmp/gen_replies.py testdata/replies
//
// (run from the module root), a throw-away script that is not part of the
// repository: for every case it does
//
//	open(f"{out}/{name}.golden", "wb").write((json.dumps(obj) + "\r\n\r\n").encode("ascii"))
//
// There is deliberately no -update flag: regenerating the files from Go
// would only compare the package with itself. To add a case, add the
// Python object to the script, run it, and add the Go fields here.

const goldenDir = "../testdata/replies"

var (
	goldenContent = []byte("hello, world\n")
	goldenBinary  = []byte{0xfb, 0xff, 0xbf, 0x00, 0x3e, 0x3f} // base64 "+/+/AD4/"
)

func asciiAll() string {
	b := make([]byte, 0x80)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

// frame builds a content reply the way a server streams it: ContentFrame's
// prefix, the base64 of the content, the suffix.
func frame(name, key string, content []byte) []byte {
	prefix, suffix := ContentFrame(name, key)
	return []byte(prefix + base64.StdEncoding.EncodeToString(content) + suffix)
}

func goldenCases() []struct {
	name string
	got  []byte
} {
	sum := sha256.Sum256([]byte("abc"))
	return []struct {
		name string
		got  []byte
	}{
		{"list_basic", AppendReply(nil, Field{"status", StatusOK}, Field{"data", []string{"a.bin", "b.txt"}})},
		{"list_empty", AppendReply(nil, Field{"status", StatusOK}, Field{"data", []string{}})},
		{"list_unicode", AppendReply(nil, Field{"status", StatusOK}, Field{"data", []string{
			"café", "😀.png", "日本語.txt",
			"\u0080\u00a0\u07ff\u0800\u2028\u2029\ud7ff\ue000\ufeff\uffff", "\U00010000\U0010ffff"}})},
		{"list_escapes", AppendReply(nil, Field{"status", StatusOK}, Field{"data", []string{
			`say "hi".txt`, `back\slash`, "tab\there", "new\nline",
			"cr\rx", "\b\f", "\x00\x01\x1f", "del\x7f", "a/b", "~ end"}})},
		{"ascii_all", AppendReply(nil, Field{"status", StatusOK}, Field{"data", asciiAll()})},
		// Each byte that is not part of valid UTF-8 becomes one U+FFFD.
		{"invalid_utf8", AppendError(nil, "a\xffb\xfe\xfdc\xc3")},
		{"get_frame", frame("a b.txt", GetContentKey, goldenContent)},
		{"get_frame_empty", frame("empty", GetContentKey, nil)},
		{"download_frame", frame(`café "1".bin`, DownloadContentKey, goldenBinary)},
		{"upload_ok", AppendReply(nil, Field{"status", StatusOK}, Field{"data", "stored a.bin (3 bytes)"},
			Field{"size", int64(3)}, Field{"sha256", hex.EncodeToString(sum[:])})},
		{"delete_ok", AppendReply(nil, Field{"status", StatusOK}, Field{"data", "deleted a.bin"})},
		{"error", AppendError(nil, "file \"café\\x\" not found\n")},
		{"stats", AppendReply(nil, Field{"status", StatusOK}, Field{"data", []Field{
			{"mode", "thread"},
			{"workers", 4},
			{"pid", 12345},
			{"started", "2024-05-01T10:00:00+07:00"},
			{"uptime_s", int64(0)},
			{"active_connections", int64(-1)},
			{"connections", uint64(18446744073709551615)},
			{"bytes_in", uint64(9223372036854775807)},
			{"bytes_out", uint64(0)},
			{"worker_restarts", uint64(2)},
			{"requests", []Field{
				{"list", []Field{{"ok", uint64(1)}, {"failed", uint64(0)}}},
				{"other", []Field{{"ok", uint64(0)}, {"failed", uint64(7)}}},
			}},
			{"flags", []Field{{"debug", true}, {"verbose", false}, {"note", nil}}},
			{"empty", []Field{}},
		}})},
		{"empty_object", AppendReply(nil)},
		{"unicode_keys", AppendReply(nil, Field{"stätus", "OK"}, Field{"", ""}, Field{"k\"\\\n", []string{"", " "}})},
	}
}

func TestAppendObjectGolden(t *testing.T) {
	t.Parallel()
	cases := goldenCases()
	seen := map[string]bool{}
	for _, tc := range cases {
		seen[tc.name+".golden"] = true
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(filepath.Join(goldenDir, tc.name+".golden"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(tc.got, want) {
				t.Errorf("reply differs from Python's json.dumps:\n got: %q\nwant: %q", tc.got, want)
			}
			// Whatever Python writes with ensure_ascii is plain ASCII.
			for i, c := range tc.got {
				if c >= 0x80 {
					t.Fatalf("byte %d of the reply is %#x, not ASCII", i, c)
				}
			}
		})
	}
	// Every golden file must be checked by some case.
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no golden files found")
	}
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("golden file %s has no test case", f)
		}
	}
}

// TestGoldenRepliesDecode checks the golden replies with encoding/json too:
// each must be one object with the expected values.
func TestGoldenRepliesDecode(t *testing.T) {
	t.Parallel()
	read := func(name string) map[string]any {
		t.Helper()
		b, err := os.ReadFile(filepath.Join(goldenDir, name+".golden"))
		if err != nil {
			t.Fatal(err)
		}
		body, ok := bytes.CutSuffix(b, []byte(Terminator))
		if !ok {
			t.Fatalf("%s does not end in CRLF CRLF", name)
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	if got := read("get_frame")["data_file"]; got != base64.StdEncoding.EncodeToString(goldenContent) {
		t.Errorf("get_frame data_file = %v", got)
	}
	if got := read("ascii_all")["data"]; got != asciiAll() {
		t.Errorf("ascii_all data = %q", got)
	}
	if got := read("list_unicode")["data"].([]any)[1]; got != "😀.png" {
		t.Errorf("list_unicode emoji = %q", got)
	}
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"", `""`},
		{"plain", `"plain"`},
		{"a/b", `"a/b"`},
		{`"`, `"\""`},
		{`\`, `"\\"`},
		{"\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"\x00", `"\u0000"`},
		{"\x1f", `"\u001f"`},
		{"\x7f", `"\u007f"`},
		{" ~", `" ~"`},
		{"é", `"\u00e9"`},
		{"café", `"caf\u00e9"`},
		{"\u2028", `"\u2028"`},
		{"\uffff", `"\uffff"`},
		{"😀", `"\ud83d\ude00"`},
		{"\U00010000", `"\ud800\udc00"`},
		{"\U0010ffff", `"\udbff\udfff"`},
		{"x😀y", `"x\ud83d\ude00y"`},
		// Invalid UTF-8: one U+FFFD for each byte that is not part of a
		// valid sequence.
		{"\xff", `"\ufffd"`},
		{"a\xffb", `"a\ufffdb"`},
		{"\xc3", `"\ufffd"`},
		{"\xc3(", `"\ufffd("`},
		{"\x80\x80", `"\ufffd\ufffd"`},
		{"\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`}, // an encoded surrogate is invalid UTF-8
		{"é\xff", `"\u00e9\ufffd"`},
		{"\ufffd", `"\ufffd"`},
	}
	for _, tt := range tests {
		got := string(AppendString(nil, tt.in))
		if got != tt.want {
			t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
		}
		// Appends, keeping what dst held.
		if got := string(AppendString([]byte("x:"), tt.in)); got != "x:"+tt.want {
			t.Errorf("AppendString(\"x:\", %q) = %s, want x:%s", tt.in, got, tt.want)
		}
	}
}

// TestAppendStringRoundTrip checks random strings: the result is ASCII, and
// encoding/json reads back the string (invalid UTF-8 as U+FFFD).
func TestAppendStringRoundTrip(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", " ", "~", `"`, `\`, "/", "\x00", "\x1f", "\x7f", "\n", "é", "\u0800", "\uffff", "😀", "\U0010ffff", "\xff", "\xc3", "\xe2\x82"}
	for i := 0; i < 2000; i++ {
		var sb strings.Builder
		for n := rng.IntN(12); n > 0; n-- {
			if rng.IntN(3) == 0 {
				sb.WriteRune(rune(rng.IntN(0x110000)))
			} else {
				sb.WriteString(pieces[rng.IntN(len(pieces))])
			}
		}
		s := sb.String()
		enc := AppendString(nil, s)
		for _, c := range enc {
			if c < ' ' || c > '~' {
				t.Fatalf("AppendString(%q) = %q holds byte %#x", s, enc, c)
			}
		}
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("AppendString(%q) = %q: %v", s, enc, err)
		}
		if want := validUTF8PerByte(s); back != want {
			t.Fatalf("AppendString(%q) reads back as %q, want %q", s, back, want)
		}
	}
}

// validUTF8PerByte replaces each byte of s that is not part of valid UTF-8
// with U+FFFD, as converting it to []rune decodes it.
func validUTF8PerByte(s string) string { return string([]rune(s)) }

func TestAppendObject(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields []Field
		want   string
	}{
		{"empty", nil, `{}`},
		{"ints", []Field{{"a", 0}, {"b", -7}, {"c", int64(-9223372036854775808)}, {"d", uint64(18446744073709551615)}},
			`{"a": 0, "b": -7, "c": -9223372036854775808, "d": 18446744073709551615}`},
		{"bools and null", []Field{{"t", true}, {"f", false}, {"n", nil}}, `{"t": true, "f": false, "n": null}`},
		{"nil list", []Field{{"l", []string(nil)}}, `{"l": []}`},
		{"nested", []Field{{"o", []Field{{"p", []Field{}}}}, {"q", []string{"x", "y"}}}, `{"o": {"p": {}}, "q": ["x", "y"]}`},
		{"order kept", []Field{{"z", 1}, {"a", 2}, {"z", 3}}, `{"z": 1, "a": 2, "z": 3}`},
	}
	for _, tt := range tests {
		if got := string(AppendObject([]byte("pre"), tt.fields...)); got != "pre"+tt.want {
			t.Errorf("%s: AppendObject = %s, want pre%s", tt.name, got, tt.want)
		}
	}
}

func TestAppendObjectUnsupportedTypePanics(t *testing.T) {
	t.Parallel()
	for _, v := range []any{3.5, int32(1), []int{1}, map[string]string{}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("AppendObject with a %T value did not panic", v)
				}
			}()
			AppendObject(nil, Field{"k", v})
		}()
	}
}

func TestContentFrame(t *testing.T) {
	t.Parallel()
	for _, key := range []string{GetContentKey, DownloadContentKey} {
		prefix, suffix := ContentFrame("a\"b", key)
		wantPrefix := `{"status": "OK", "data_namafile": "a\"b", "` + key + `": "`
		if prefix != wantPrefix {
			t.Errorf("prefix = %q, want %q", prefix, wantPrefix)
		}
		if want := `"}` + "\r\n\r\n"; suffix != want {
			t.Errorf("suffix = %q, want %q", suffix, want)
		}
	}
}

func TestAppendErrorAndReply(t *testing.T) {
	t.Parallel()
	if got, want := string(AppendError([]byte("x"), "bad")), `x{"status": "ERROR", "data": "bad"}`+"\r\n\r\n"; got != want {
		t.Errorf("AppendError = %q, want %q", got, want)
	}
	if got, want := string(AppendReply(nil, Field{"status", StatusOK})), `{"status": "OK"}`+"\r\n\r\n"; got != want {
		t.Errorf("AppendReply = %q, want %q", got, want)
	}
}
