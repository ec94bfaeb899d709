package protocol

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

func readReplyString(s string, kind readerKind, key string, content io.Writer) (*Reply, error) {
	return ReadReply(kind.new(s), key, content, NewBuffers())
}

func TestReadReplyGetContent(t *testing.T) {
	t.Parallel()
	data := randomBytes(11, 5000)
	reply := string(frame("a b.txt", GetContentKey, data))
	for _, rk := range readerKinds {
		t.Run(rk.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			h := sha256.New()
			r, err := readReplyString(reply+reply, rk, GetContentKey, io.MultiWriter(&buf, h))
			if err != nil {
				t.Fatalf("ReadReply: %v", err)
			}
			if r.Status != StatusOK || r.Err() != nil {
				t.Fatalf("Status %q, Err %v", r.Status, r.Err())
			}
			if !r.HasContent || r.ContentBytes != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
				t.Fatalf("HasContent %v, ContentBytes %d, %d bytes written; want %d bytes", r.HasContent, r.ContentBytes, buf.Len(), len(data))
			}
			if want := sha256.Sum256(data); !bytes.Equal(h.Sum(nil), want[:]) {
				t.Fatal("sha256 of the streamed content differs")
			}
			if got := r.String("data_namafile"); got != "a b.txt" {
				t.Errorf(`String("data_namafile") = %q`, got)
			}
			if _, ok := r.Fields[GetContentKey]; ok {
				t.Errorf("the streamed content is kept in Fields")
			}
		})
	}
}

// escapeContent rewrites base64 the way other JSON writers may: '/' as
// "\/" and, every step characters, one character as a \u00XX escape.
func escapeContent(b64 string, step int) string {
	var sb strings.Builder
	for i := 0; i < len(b64); i++ {
		c := b64[i]
		switch {
		case c == '/':
			sb.WriteString(`\/`)
		case step > 0 && i%step == 0 && i%2 == 0:
			fmt.Fprintf(&sb, `\u%04x`, c)
		case step > 0 && i%step == 0:
			fmt.Fprintf(&sb, `\u%04X`, c)
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

func TestReadReplyEscapedContent(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 2, 3, 100, 3000, ChunkSize + 1} {
		data := randomBytes(uint64(size), size)
		b64 := base64.StdEncoding.EncodeToString(data)
		for _, step := range []int{0, 1, 3, 7, 1000} {
			if size > 3000 && step != 0 && step != 7 {
				continue
			}
			escaped := escapeContent(b64, step)
			reply := `{"status": "OK", "data_namafile": "x", "data_file": "` + escaped + `"}` + Terminator
			// The escaped reply is still the same JSON string.
			var m map[string]string
			if err := json.Unmarshal([]byte(strings.TrimSuffix(reply, Terminator)), &m); err != nil || m["data_file"] != b64 {
				t.Fatalf("test reply is not what it should be: %v", err)
			}
			for _, rk := range readerKinds {
				var buf bytes.Buffer
				r, err := readReplyString(reply, rk, GetContentKey, &buf)
				if err != nil {
					t.Fatalf("size %d step %d %s: ReadReply: %v", size, step, rk.name, err)
				}
				if r.ContentBytes != int64(size) || !bytes.Equal(buf.Bytes(), data) {
					t.Fatalf("size %d step %d %s: %d bytes (ContentBytes %d), want the %d sent", size, step, rk.name, buf.Len(), r.ContentBytes, size)
				}
			}
		}
	}
}

func TestReadReplyDownload(t *testing.T) {
	t.Parallel()
	data := []byte("download me")
	reply := string(frame("d.txt", DownloadContentKey, data))
	for _, rk := range readerKinds {
		var buf bytes.Buffer
		r, err := readReplyString(reply, rk, DownloadContentKey, &buf)
		if err != nil || !r.HasContent || buf.String() != string(data) {
			t.Fatalf("%s: ReadReply = %+v, %v, content %q", rk.name, r, err, buf.String())
		}
		if _, ok := r.Fields["data"]; ok {
			t.Errorf("%s: the streamed content is kept in Fields", rk.name)
		}
		// Without a content writer the content stays a field.
		r, err = readReplyString(reply, rk, DownloadContentKey, nil)
		if err != nil || r.HasContent || r.String("data") != base64.StdEncoding.EncodeToString(data) {
			t.Fatalf("%s: ReadReply without writer = %+v, %v", rk.name, r, err)
		}
	}
}

// TestReadReplyErrorStatus checks that an ERROR reply is read whole and its
// values are not taken for content.
func TestReadReplyErrorStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		reply, key, reason string
	}{
		{string(AppendError(nil, `file "x" not found`)), DownloadContentKey, `file "x" not found`},
		{string(AppendError(nil, "QUJD")), DownloadContentKey, "QUJD"},
		{string(AppendError(nil, "no")), GetContentKey, "no"},
		{`{"status": "ERROR", "data": "bad", "data_file": "QUJD"}` + Terminator, GetContentKey, "bad"},
		{`{"status": "BUSY", "data": "later"}` + Terminator, GetContentKey, "later"},
	}
	for _, tt := range tests {
		for _, rk := range readerKinds {
			var buf bytes.Buffer
			r, err := readReplyString(tt.reply, rk, tt.key, &buf)
			if err != nil {
				t.Fatalf("%q: ReadReply: %v", tt.reply, err)
			}
			if buf.Len() != 0 || r.HasContent || r.ContentBytes != 0 {
				t.Errorf("%q: content %q streamed from a reply that is not OK", tt.reply, buf.String())
			}
			var se *ServerError
			if err := r.Err(); !errors.As(err, &se) || se.Reason != tt.reason || se.Status != r.Status || !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("%q: Err() = %v, want a *ServerError with reason %q", tt.reply, err, tt.reason)
			}
		}
	}
}

func TestReadReplyFields(t *testing.T) {
	t.Parallel()
	reply := `{"status": "OK", "data": {"mode": "thread", "workers": 4, "pid": 9, "started": "2024-05-01T10:00:00Z",` +
		` "uptime_s": 12, "active_connections": 1, "connections": 18446744073709551615, "bytes_in": 5, "bytes_out": 6,` +
		` "worker_restarts": 0, "requests": {"list": {"ok": 1, "failed": 2}, "other": {"ok": 0, "failed": 3}}},` +
		` "odd": [1, [2, {"x": "}]\"{["}], []], "t": true, "n": null, "f": -1.5e3, "size": -1.5e3, "data_namafile": "caf\u00e9\/",` +
		` "sha256": "\ud83d\ude00\ud800"}` + Terminator
	for _, rk := range readerKinds {
		r, err := readReplyString(reply, rk, GetContentKey, io.Discard)
		if err != nil {
			t.Fatalf("%s: ReadReply: %v", rk.name, err)
		}
		var s Stats
		if err := r.Decode("data", &s); err != nil {
			t.Fatalf("%s: Decode: %v", rk.name, err)
		}
		if s.Mode != "thread" || s.Workers != 4 || s.Connections != 18446744073709551615 || s.Requests["other"].Failed != 3 || s.Requests["list"].OK != 1 {
			t.Errorf("%s: decoded stats %+v", rk.name, s)
		}
		// Only the keys the protocol reads are kept.
		for _, key := range []string{"odd", "t", "n", "f"} {
			if r.Has(key) {
				t.Errorf("%s: %s kept: %s", rk.name, key, r.Fields[key])
			}
		}
		for key, want := range map[string]string{"size": "-1.5e3", "data_namafile": `"caf\u00e9\/"`} {
			if got := string(r.Fields[key]); got != want {
				t.Errorf("%s: field %s = %s, want %s", rk.name, key, got, want)
			}
		}
		if got := r.String("data_namafile"); got != "café/" {
			t.Errorf("%s: String(data_namafile) = %q", rk.name, got)
		}
		if got := r.String("size"); got != "" {
			t.Errorf("%s: String of a number = %q, want \"\"", rk.name, got)
		}
		if got := r.String("missing"); got != "" {
			t.Errorf("%s: String of a missing key = %q", rk.name, got)
		}
		if err := r.Decode("missing", new(string)); err == nil {
			t.Errorf("%s: Decode of a missing key: nil error", rk.name)
		}
		if err := r.Decode("data", new(string)); err == nil {
			t.Errorf("%s: Decode of an object into a string: nil error", rk.name)
		}
	}
}

func TestReadReplyLayouts(t *testing.T) {
	t.Parallel()
	// JSON white space is allowed between tokens, and key order is free:
	// content before "status" is kept when it fits in the buffer.
	for _, reply := range []string{
		`{"status":"OK","data_file":"QUJD"}`,
		`{"data_file": "QUJD", "status": "OK"}`,
		`{"data_namafile": "f", "data_file": "QUJD", "x": 1, "status": "OK"}`,
		`{ "status" : "OK" , "data_file" : "QUJD" }`,
		"{\n\t\"status\":\r\n\"OK\",\"data_file\":\"QUJD\"\n}",
		`{"x": [], "status": "OK", "y": {}, "data_file": "QUJD", "z": 1}`,
	} {
		for _, rk := range readerKinds {
			var buf bytes.Buffer
			r, err := readReplyString(reply+Terminator+reply+Terminator, rk, GetContentKey, &buf)
			if err != nil || buf.String() != "ABC" || r.Status != StatusOK {
				t.Fatalf("%s: ReadReply(%q) = %+v, %v, content %q", rk.name, reply, r, err, buf.String())
			}
		}
	}
}

func TestReadReplyPipelined(t *testing.T) {
	t.Parallel()
	in := string(AppendReply(nil, Field{"status", "OK"}, Field{"data", []string{"a"}})) +
		string(frame("f", GetContentKey, []byte("xyz"))) +
		string(AppendError(nil, "nope")) +
		string(frame("g", GetContentKey, nil))
	for _, rk := range readerKinds {
		br := rk.new(in)
		bufs := NewBuffers()
		var buf bytes.Buffer
		r1, err1 := ReadReply(br, "", nil, bufs)
		r2, err2 := ReadReply(br, GetContentKey, &buf, bufs)
		r3, err3 := ReadReply(br, GetContentKey, &buf, bufs)
		r4, err4 := ReadReply(br, GetContentKey, &buf, bufs)
		if err := errors.Join(err1, err2, err3, err4); err != nil {
			t.Fatalf("%s: %v", rk.name, err)
		}
		if string(r1.Fields["data"]) != `["a"]` || !r2.HasContent || buf.String() != "xyz" || r3.Err() == nil || !r4.HasContent || r4.ContentBytes != 0 {
			t.Fatalf("%s: replies %+v %+v %+v %+v, content %q", rk.name, r1, r2, r3, r4, buf.String())
		}
		if _, err := br.ReadByte(); err != io.EOF {
			t.Fatalf("%s: bytes left after the last reply", rk.name)
		}
	}
}

func TestReadReplyMalformed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, reply string
	}{
		{"empty", ""},
		{"not an object", `["status", "OK"]` + Terminator},
		{"no status", `{}` + Terminator},
		{"no status but data", `{"data": 1}` + Terminator},
		{"status not a string", `{"status": 1}` + Terminator},
		{"no terminator", `{"status": "OK"}`},
		{"half a terminator", `{"status": "OK"}` + "\r\n"},
		{"three quarters of a terminator", `{"status": "OK"}` + "\r\n\r"},
		{"LF terminator", `{"status": "OK"}` + "\n\n\n\n"},
		{"space before terminator", `{"status": "OK"} ` + Terminator},
		{"missing comma", `{"status": "OK" "data": 1}` + Terminator},
		{"trailing comma", `{"status": "OK",}` + Terminator},
		{"missing colon", `{"status" "OK"}` + Terminator},
		{"unquoted key", `{status: "OK"}` + Terminator},
		{"bad literal", `{"status": "OK", "size": 12x}` + Terminator},
		{"bad nested value", `{"status": "OK", "data": [1,]}` + Terminator},
		{"truncated in key", `{"sta`},
		{"truncated in value", `{"status": "OK", "data": ["a"`},
		{"truncated in literal", `{"status": "OK", "size": 12`},
		{"truncated in content", `{"status": "OK", "data_namafile": "f", "data_file": "QUJD`},
		{"truncated in escape", `{"status": "OK", "data_file": "QU\u00`},
		{"truncated after content", `{"status": "OK", "data_file": "QUJD"`},
		{"status after content", `{"data_file": "` + strings.Repeat("QUJD", ReaderSize/4+1) + `", "status": "OK"}` + Terminator},
		{"content not base64", `{"status": "OK", "data_file": "QU*D"}` + Terminator},
		{"content unpadded", `{"status": "OK", "data_file": "QUJ"}` + Terminator},
		{"content after padding", `{"status": "OK", "data_file": "QQ==QUJD"}` + Terminator},
		{"content escape not base64", `{"status": "OK", "data_file": "QU\u00e9D"}` + Terminator},
		{"content escape newline", `{"status": "OK", "data_file": "QU\nD"}` + Terminator},
		{"content bad escape", `{"status": "OK", "data_file": "QU\xD"}` + Terminator},
		{"content escaped quote", `{"status": "OK", "data_file": "QU\"D"}` + Terminator},
	}
	for _, tt := range tests {
		for _, rk := range readerKinds {
			var buf bytes.Buffer
			r, err := readReplyString(tt.reply, rk, GetContentKey, &buf)
			var re *ReplyError
			if !errors.As(err, &re) {
				t.Errorf("%s/%s: ReadReply(%q) = %+v, %v; want a *ReplyError", tt.name, rk.name, tt.reply, r, err)
				continue
			}
			if !strings.HasPrefix(err.Error(), "malformed reply: ") {
				t.Errorf("%s/%s: error %q", tt.name, rk.name, err)
			}
			if tt.name == "status after content" && buf.Len() != 0 {
				t.Errorf("%s/%s: content %q streamed before the status was known", tt.name, rk.name, buf.String())
			}
		}
	}
}

func TestReadReplyTruncatedContentCount(t *testing.T) {
	t.Parallel()
	data := randomBytes(5, 3*ChunkSize)
	full := string(frame("f", GetContentKey, data))
	cut := full[:len(full)-len(`"}`+Terminator)-1000] // inside the content, on a quantum boundary
	for _, rk := range readerKinds {
		var buf bytes.Buffer
		r, err := readReplyString(cut, rk, GetContentKey, &buf)
		if err == nil {
			t.Fatalf("%s: truncated content read without error", rk.name)
		}
		if r == nil || r.ContentBytes != int64(buf.Len()) || !bytes.Equal(buf.Bytes(), data[:buf.Len()]) {
			t.Fatalf("%s: reply %+v after %d bytes; want ContentBytes to count the bytes written", rk.name, r, buf.Len())
		}
	}
}

// TestReadReplyReadError checks that a failing connection is reported as
// such, wrapped, not as a malformed reply... at least when the failure
// comes between tokens or inside the content.
func TestReadReplyReadError(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "{", `{"status": "OK", "data_file": "QUJD`, `{"status": "OK"}`} {
		br := bufio.NewReaderSize(io.MultiReader(strings.NewReader(prefix), iotest.ErrReader(errBoom)), 16)
		_, err := ReadReply(br, GetContentKey, io.Discard, NewBuffers())
		if !errors.Is(err, errBoom) {
			t.Errorf("reply %q then a read error: %v, want it wrapped", prefix, err)
		}
	}
}

func TestReadReplyContentWriterError(t *testing.T) {
	t.Parallel()
	reply := string(frame("f", GetContentKey, randomBytes(9, 3*ChunkSize)))
	for _, rk := range readerKinds {
		_, err := readReplyString(reply, rk, GetContentKey, &failAfterWriter{n: 100, err: errBoom})
		if !errors.Is(err, errBoom) {
			t.Errorf("%s: ReadReply with a failing writer: %v, want %v", rk.name, err, errBoom)
		}
	}
}

// TestReadReplyKeptValues checks the bounds on what a reply keeps: a
// value of keptKeys up to maxKeptValue bytes is kept whole, a longer
// "data" string is cut to its start (Cut says so), a longer status is
// refused, and any other value, however long, is skipped; streamed
// content has no bound.
func TestReadReplyKeptValues(t *testing.T) {
	t.Parallel()
	long := `"` + strings.Repeat("a", 8*ReaderSize) + `"`
	tests := []struct {
		name, fields string
		check        func(r *Reply) string
	}{
		{"data of maxKeptValue bytes", `"data": "` + strings.Repeat("a", maxKeptValue-2) + `"`, func(r *Reply) string {
			if len(r.Fields["data"]) != maxKeptValue || r.Cut("data") {
				return fmt.Sprintf("data kept as %d bytes, cut %v", len(r.Fields["data"]), r.Cut("data"))
			}
			return ""
		}},
		{"data one byte over", `"data": "` + strings.Repeat("é", maxKeptValue) + `"`, func(r *Reply) string {
			if s := r.String("data"); !r.Cut("data") || len(s) > maxKeptValue || s != strings.Repeat("é", len(s)/2) || len(s) < maxKeptValue/2-4 {
				return fmt.Sprintf("data %q, cut %v; want its start, cut", s, r.Cut("data"))
			}
			return ""
		}},
		{"data escapes cut", `"data": "` + strings.Repeat(`\u00e9`, maxKeptValue) + `"`, func(r *Reply) string {
			if s := r.String("data"); !r.Cut("data") || s == "" || s != strings.Repeat("é", len(s)/2) {
				return fmt.Sprintf("data %q, cut %v", s, r.Cut("data"))
			}
			if err := r.Decode("data", new(string)); err == nil {
				return "Decode of a cut value: nil error"
			}
			return ""
		}},
		{"long array under data", `"data": [` + strings.Repeat(`"a", `, 100000) + `"a"]`, func(r *Reply) string {
			if _, ok := r.Fields["data"]; ok || !r.Cut("data") || !r.Has("data") {
				return fmt.Sprintf("data %q kept, cut %v", r.Fields["data"], r.Cut("data"))
			}
			return ""
		}},
		{"long unknown values", `"x": ` + long + `, "y": [` + long + `, {"z": ` + long + `}], "n": ` + strings.Repeat("1", maxNumberLen), func(r *Reply) string {
			if len(r.Fields) != 1 || r.Has("x") {
				return fmt.Sprintf("fields %v kept", r.Fields)
			}
			return ""
		}},
		{"long sha256", `"sha256": ` + long, func(r *Reply) string {
			if !r.Cut("sha256") || !r.HasDigest() || len(r.String("sha256")) > maxKeptValue {
				return fmt.Sprintf("sha256 of %d bytes kept, cut %v", len(r.String("sha256")), r.Cut("sha256"))
			}
			return ""
		}},
	}
	for _, tt := range tests {
		for _, rk := range readerKinds {
			reply := `{"status": "OK", ` + tt.fields + `}` + Terminator
			r, err := readReplyString(reply, rk, GetContentKey, io.Discard)
			if err != nil {
				t.Errorf("%s/%s: ReadReply: %v", tt.name, rk.name, err)
				continue
			}
			if why := tt.check(r); why != "" {
				t.Errorf("%s/%s: %s", tt.name, rk.name, why)
			}
		}
	}
	for _, reply := range []string{`{"status": ` + long + `}` + Terminator, `{"status": "OK", "n": ` + strings.Repeat("1", maxNumberLen+1) + `}` + Terminator} {
		var re *ReplyError
		if _, err := readReplyString(reply, readerKinds[0], GetContentKey, io.Discard); !errors.As(err, &re) {
			t.Errorf("reply of %d bytes: %v, want a *ReplyError", len(reply), err)
		}
	}
	// Streamed content has no bound.
	data := randomBytes(13, 8*ReaderSize)
	h := sha256.New()
	r, err := ReadReply(bufio.NewReaderSize(bytes.NewReader(frame("big", GetContentKey, data)), ReaderSize), GetContentKey, h, NewBuffers())
	if want := sha256.Sum256(data); err != nil || r.ContentBytes != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Fatalf("streamed content of %d bytes: %v", len(data), err)
	}
}

// TestEncodeStreamReadReplyRoundTrip streams content out with EncodeStream
// and back in with ReadReply, over a pipe and over a buffer.
func TestEncodeStreamReadReplyRoundTrip(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 2, 3, 4, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2*ChunkSize - 1, 2 * ChunkSize, 2*ChunkSize + 2, 300<<10 + 1}
	for _, size := range sizes {
		data := randomBytes(17, size)
		for _, key := range []string{GetContentKey, DownloadContentKey} {
			t.Run(fmt.Sprintf("%d/%s/pipe", size, key), func(t *testing.T) {
				t.Parallel()
				pr, pw := io.Pipe()
				prefix, suffix := ContentFrame("f é", key)
				done := make(chan error, 1)
				go func() {
					n, err := EncodeStream(pw, bytes.NewReader(data), NewBuffers(), prefix, suffix)
					if err == nil && n != int64(size) {
						err = fmt.Errorf("EncodeStream returned %d, want %d", n, size)
					}
					pw.CloseWithError(err)
					done <- err
				}()
				var buf bytes.Buffer
				r, err := ReadReply(bufio.NewReaderSize(pr, ReaderSize), key, &buf, NewBuffers())
				if err != nil {
					t.Fatalf("ReadReply: %v", err)
				}
				if err := <-done; err != nil {
					t.Fatalf("EncodeStream: %v", err)
				}
				if r.ContentBytes != int64(size) || !bytes.Equal(buf.Bytes(), data) || r.String("data_namafile") != "f é" {
					t.Fatalf("read back %d bytes (ContentBytes %d), name %q; want %d bytes", buf.Len(), r.ContentBytes, r.String("data_namafile"), size)
				}
			})
			t.Run(fmt.Sprintf("%d/%s/buffer", size, key), func(t *testing.T) {
				t.Parallel()
				var wire bytes.Buffer
				prefix, suffix := ContentFrame("f", key)
				if n, err := EncodeStream(&wire, bytes.NewReader(data), NewBuffers(), prefix, suffix); err != nil || n != int64(size) {
					t.Fatalf("EncodeStream = %d, %v", n, err)
				}
				// The wire bytes are the JSON Python would write.
				want := AppendReply(nil, Field{"status", "OK"}, Field{"data_namafile", "f"}, Field{key, base64.StdEncoding.EncodeToString(data)})
				if !bytes.Equal(wire.Bytes(), want) {
					t.Fatalf("EncodeStream wrote %.80q..., want %.80q...", wire.Bytes(), want)
				}
				var buf bytes.Buffer
				br := bufio.NewReaderSize(iotest.HalfReader(&wire), 16)
				r, err := ReadReply(br, key, &buf, NewBuffers())
				if err != nil || r.ContentBytes != int64(size) || !bytes.Equal(buf.Bytes(), data) {
					t.Fatalf("ReadReply = %v; %d bytes back, want %d", err, buf.Len(), size)
				}
			})
		}
	}
}

// countWrites records the size of each write.
type countWrites struct {
	sizes []int
	bytes.Buffer
}

func (w *countWrites) Write(p []byte) (int, error) {
	w.sizes = append(w.sizes, len(p))
	return w.Buffer.Write(p)
}

func TestEncodeStreamWrites(t *testing.T) {
	t.Parallel()
	prefix, suffix := ContentFrame("f", GetContentKey)
	for _, size := range []int{0, 1, 1000, ChunkSize - 1, ChunkSize + 1, 5*ChunkSize + 3} {
		var w countWrites
		if _, err := EncodeStream(&w, bytes.NewReader(randomBytes(1, size)), NewBuffers(), prefix, suffix); err != nil {
			t.Fatal(err)
		}
		// A file shorter than a chunk goes out in one write.
		if size < ChunkSize && len(w.sizes) != 1 {
			t.Errorf("size %d: %d writes, want 1", size, len(w.sizes))
		}
		if want := (size + ChunkSize - 1) / ChunkSize; size >= ChunkSize && len(w.sizes) != want {
			t.Errorf("size %d: %d writes, want %d", size, len(w.sizes), want)
		}
		for _, n := range w.sizes {
			if n > EncodedChunkSize+len(prefix)+len(suffix) {
				t.Errorf("size %d: a write of %d bytes", size, n)
			}
		}
	}
}

func TestEncodeStreamErrors(t *testing.T) {
	t.Parallel()
	// A failing source: the error is wrapped, the bytes read counted.
	src := io.MultiReader(bytes.NewReader(make([]byte, ChunkSize+10)), iotest.ErrReader(errBoom))
	var w bytes.Buffer
	n, err := EncodeStream(&w, src, NewBuffers(), "p", "s")
	if !errors.Is(err, errBoom) {
		t.Errorf("EncodeStream with a failing source: %v", err)
	}
	if n < ChunkSize {
		t.Errorf("EncodeStream with a failing source returned %d, want at least the first chunk", n)
	}
	// A failing writer: its error is returned.
	_, err = EncodeStream(errWriter{errBoom}, bytes.NewReader([]byte("abc")), NewBuffers(), "p", "s")
	if !errors.Is(err, errBoom) {
		t.Errorf("EncodeStream with a failing writer: %v", err)
	}
}

// TestEncodeStreamLongPrefix streams a full chunk after a prefix longer
// than the room Buffers.Encoded keeps for one (as Client.Upload does with
// a long file name).
func TestEncodeStreamLongPrefix(t *testing.T) {
	t.Parallel()
	for _, plen := range []int{2 * MaxHeadLen, 2*MaxHeadLen + 1, 10000, EncodedChunkSize + 1} {
		t.Run(fmt.Sprint(plen), func(t *testing.T) {
			t.Parallel()
			prefix := "UPLOAD " + strings.Repeat("n", plen) + " "
			data := randomBytes(2, ChunkSize)
			var w bytes.Buffer
			var n int64
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						err = fmt.Errorf("panic: %v", p)
					}
				}()
				n, err = EncodeStream(&w, bytes.NewReader(data), NewBuffers(), prefix, Terminator)
			}()
			if err != nil || n != int64(len(data)) {
				t.Fatalf("EncodeStream with a %d-byte prefix = %d, %v", len(prefix), n, err)
			}
			if want := prefix + base64.StdEncoding.EncodeToString(data) + Terminator; w.String() != want {
				t.Fatalf("EncodeStream with a %d-byte prefix wrote the wrong bytes", len(prefix))
			}
		})
	}
}

func TestErrorStrings(t *testing.T) {
	t.Parallel()
	if got := (&ServerError{Status: "ERROR", Reason: "no"}).Error(); got != "server: ERROR: no" {
		t.Errorf("ServerError = %q", got)
	}
	if got := (&ReplyError{Reason: "x"}).Error(); got != "malformed reply: x" {
		t.Errorf("ReplyError = %q", got)
	}
	if got := (&IntegrityError{Reason: "y"}).Error(); got != "integrity: y" {
		t.Errorf("IntegrityError = %q", got)
	}
	r := &Reply{Status: StatusOK}
	if r.Err() != nil {
		t.Errorf("Err of an OK reply = %v", r.Err())
	}
}

// TestListFrame checks that names streamed between ListFrame's prefix and
// suffix make the same bytes as a whole LIST reply.
func TestListFrame(t *testing.T) {
	for _, names := range [][]string{{}, {"a"}, {"a.txt", "b \"quoted\"", "é😀"}} {
		prefix, suffix := ListFrame()
		got := []byte(prefix)
		for i, n := range names {
			if i > 0 {
				got = append(got, ", "...)
			}
			got = AppendString(got, n)
		}
		got = append(got, suffix...)
		want := AppendReply(nil, Field{"status", StatusOK}, Field{"data", names})
		if string(got) != string(want) {
			t.Errorf("%q: streamed %q, want %q", names, got, want)
		}
	}
}
