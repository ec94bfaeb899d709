package protocol

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}

// payloadReaders deliver a whole upload to ReadPayload in various ways.
var payloadReaders = []struct {
	name string
	new  func(s string) *bufio.Reader
}{
	{"plain/ReaderSize", func(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), ReaderSize) }},
	{"plain/16", func(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 16) }},
	{"plain/4099", func(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), 4099) }},
	{"onebyte/16", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(s)), 16)
	}},
	{"onebyte/ReaderSize", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(s)), ReaderSize)
	}},
	{"chunk7/ReaderSize", func(s string) *bufio.Reader { return bufio.NewReaderSize(&chunkReader{[]byte(s), 7}, ReaderSize) }},
	{"chunkOdd/ReaderSize", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(&chunkReader{[]byte(s), EncodedChunkSize + 5}, ReaderSize)
	}},
	{"half/1000", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(iotest.HalfReader(strings.NewReader(s)), 1000)
	}},
	{"dataerr/ReaderSize", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(iotest.DataErrReader(strings.NewReader(s)), ReaderSize)
	}},
}

func TestReadPayloadRoundTrip(t *testing.T) {
	t.Parallel()
	sizes := []int{0, 1, 2, 3, 4, 5, 95<<10 - 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, ReaderSize/4*3 + 1, 1<<20 + 7}
	for _, size := range sizes {
		data := randomBytes(1, size)
		in := "UPLOAD f.bin " + base64.StdEncoding.EncodeToString(data) + "\r\n\r\nLIST\r\n\r\n"
		for _, pr := range payloadReaders {
			t.Run(fmt.Sprintf("%d/%s", size, pr.name), func(t *testing.T) {
				t.Parallel()
				rr := NewRequestReader(pr.new(in))
				req, err := rr.Read()
				if err != nil || !req.HasPayload || req.Args[0] != "f.bin" {
					t.Fatalf("ReadRequest = %+v, %v", req, err)
				}
				var w countWrites
				n, err := rr.ReadPayload(req, &w, NewBuffers(), int64(size))
				if err != nil {
					t.Fatalf("ReadPayload: %v", err)
				}
				if n != int64(size) || !bytes.Equal(w.Bytes(), data) {
					t.Fatalf("ReadPayload wrote %d bytes (returned %d), want the %d bytes sent", w.Len(), n, size)
				}
				if m := slices.Max(append(w.sizes, 0)); m > ChunkSize {
					t.Errorf("a write of %d bytes, more than ChunkSize", m)
				}
				next, err := rr.Read()
				if err != nil || next.Command != "LIST" {
					t.Fatalf("request after the payload = %+v, %v; want LIST", next, err)
				}
				if _, err := rr.Read(); err != io.EOF {
					t.Fatalf("after the last request: %v, want io.EOF", err)
				}
			})
		}
	}
}

// TestReadPayloadBuffersReused decodes many payloads through one Buffers,
// as a connection does.
func TestReadPayloadBuffersReused(t *testing.T) {
	t.Parallel()
	var in strings.Builder
	var want [][]byte
	for i, size := range []int{ChunkSize + 3, 1, 0, 2 * ChunkSize, 7, ChunkSize - 1} {
		data := randomBytes(uint64(i), size)
		want = append(want, data)
		fmt.Fprintf(&in, "UPLOAD f%d %s\r\n\r\n", i, base64.StdEncoding.EncodeToString(data))
	}
	rr := NewRequestReader(bufio.NewReaderSize(strings.NewReader(in.String()), ReaderSize))
	bufs := NewBuffers()
	for i, data := range want {
		req, err := rr.Read()
		if err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if n, err := rr.ReadPayload(req, &got, bufs, 1<<30); err != nil || n != int64(len(data)) || !bytes.Equal(got.Bytes(), data) {
			t.Fatalf("payload %d: %d bytes, %v; want %d bytes", i, n, err, len(data))
		}
	}
}

// TestReadPayloadForms reads the payloads real course clients send: with
// line breaks inside, ended by a blank line of any kind or by EOF, after
// a line break or a length.
func TestReadPayloadForms(t *testing.T) {
	t.Parallel()
	data := randomBytes(9, 1000)
	lines := base64.StdEncoding.EncodeToString(data)
	var wrapped strings.Builder // as Python's base64.encodebytes writes it
	for i := 0; i < len(lines); i += 76 {
		wrapped.WriteString(lines[i:min(i+76, len(lines))] + "\n")
	}
	tests := []struct {
		name, in, want string
		last           bool // nothing follows: the payload ends at EOF
	}{
		{name: "CRLF CRLF", in: "UPLOAD f QUJD\r\n\r\n", want: "ABC"},
		{name: "LF LF", in: "UPLOAD f QUJD\n\n", want: "ABC"},
		{name: "LF CRLF", in: "UPLOAD f QUJD\n\r\n", want: "ABC"},
		{name: "LF before CRLF CRLF", in: "UPLOAD f QUJD\n\r\n\r\n", want: "ABC"},
		{name: "line breaks inside", in: "UPLOAD f QUJD\nQUJD\r\nQUJD\r\n\r\n", want: "ABCABCABC"},
		{name: "encodebytes", in: "UPLOAD f " + wrapped.String() + "\r\n\r\n", want: string(data)},
		{name: "encodebytes, LF end", in: "UPLOAD f " + wrapped.String() + "\n", want: string(data)},
		{name: "next line", in: "UPLOAD f\r\nQUJD\r\n\r\n", want: "ABC"},
		{name: "next line, LF", in: "upload f\nQUJD\n\n", want: "ABC"},
		{name: "length of the base64", in: "UPLOAD f 4 QUJD\r\n\r\n", want: "ABC"},
		{name: "decoded size", in: "UPLOAD f 3 QUJD\r\n\r\n", want: "ABC"},
		{name: "length with line breaks", in: "UPLOAD f 9 QUJD\nQUJD\r\n\r\n", want: "ABCABC"},
		{name: "digits are base64 too", in: "UPLOAD f 1234\r\n\r\n", want: "\xd7m\xf8"},
		{name: "empty", in: "UPLOAD f \r\n\r\n", want: ""},
		{name: "EOF after the payload", in: "UPLOAD f QUJD", want: "ABC", last: true},
		{name: "EOF after a line break", in: "UPLOAD f QUJD\r\n", want: "ABC", last: true},
		{name: "EOF in the blank line", in: "UPLOAD f QUJD\r\n\r", want: "ABC", last: true},
		{name: "EOF at once", in: "UPLOAD f ", want: "", last: true},
		{name: "JSON params", in: `{"command": "upload", "params": ["f", "QUJD"]}`, want: "ABC"},
		{name: "JSON escapes and line breaks", in: `{"command": "upload", "params": ["f", "QU\/\nJD\u0051\u004aEaQ=\u003d\r\n"]}` + "\r\n\r\n", want: "AO\xc9\r\x02Di"},
		{name: "JSON content first", in: `{"content": "QUJD", "filename": "f", "command": "put"}`, want: "ABC"},
		{name: "JSON encodebytes", in: `{"command": "upload", "filename": "f", "data": "` + strings.ReplaceAll(wrapped.String(), "\n", `\n`) + `"}`, want: string(data)},
	}
	for _, tt := range tests {
		in := tt.in
		if !tt.last {
			in += "LIST\r\n\r\n"
		}
		for _, pr := range payloadReaders {
			t.Run(tt.name+"/"+pr.name, func(t *testing.T) {
				t.Parallel()
				rr := NewRequestReader(pr.new(in))
				req, err := rr.Read()
				if err != nil || !req.HasPayload {
					t.Fatalf("Read = %+v, %v", req, err)
				}
				var w bytes.Buffer
				n, err := rr.ReadPayload(req, &w, NewBuffers(), 1<<20)
				if err != nil || n != int64(len(tt.want)) || w.String() != tt.want {
					t.Fatalf("ReadPayload = %d, %v, %q; want %q", n, err, w.String(), tt.want)
				}
				if req.Command != "UPLOAD" || len(req.Args) != 1 || req.Args[0] != "f" {
					t.Fatalf("request after its payload = %+v, want UPLOAD f", req)
				}
				next, err := rr.Read()
				if tt.last {
					if err != io.EOF {
						t.Fatalf("after the payload: %+v, %v; want io.EOF", next, err)
					}
					return
				}
				if err != nil || next.Command != "LIST" {
					t.Fatalf("request after the payload = %+v, %v; want LIST", next, err)
				}
			})
		}
	}
}

var errBoom = errors.New("boom")

func TestReadPayloadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// pieces after "UPLOAD f ", each delivered by one Read; the
		// request "LIST\r\n\r\n" follows unless last.
		pieces     []string
		terminated bool
		last       bool
		at         int // the character the error names, or -1
	}{
		{name: "invalid character", pieces: []string{"QUJD!UJD\r\n\r\n"}, at: 4},
		{name: "space", pieces: []string{"QU JD\r\n\r\n"}, at: 2},
		{name: "URL-safe alphabet", pieces: []string{"QUJD-_-_\r\n\r\n"}, at: 4},
		{name: "'=' in the middle", pieces: []string{"QUJDQ=JD\r\n\r\n"}, at: 5},
		{name: "only padding", pieces: []string{"====\r\n\r\n"}, at: 0},
		{name: "data after padding", pieces: []string{"QQ==QUJD\r\n\r\n"}, at: 4},
		{name: "data after padding across reads", pieces: []string{"QQ==", "QUJD\r\n\r\n"}, at: 4},
		{name: "data after padding, split padding", pieces: []string{"QQ=", "=QUJD\r\n\r\n"}, at: 4},
		{name: "data after padding, one char", pieces: []string{"QUJDQQ==", "Q", "UJD\r\n\r\n"}, at: 8},
		{name: "invalid character late", pieces: []string{strings.Repeat("QUJD", 40000) + "QU*D\r\n\r\n"}, at: 160002},
		{name: "length not a multiple of 4", pieces: []string{"QUJDQQ\r\n\r\n"}, terminated: true, at: -1},
		{name: "one char short", pieces: []string{"QUJ\r\n\r\n"}, terminated: true, at: -1},
		{name: "missing padding across reads", pieces: []string{"QU", "J", "\r\n", "\r\n"}, terminated: true, at: -1},
		{name: "stray CR", pieces: []string{"QUJD\rQUJD\r\n\r\n"}, at: 4},
		{name: "CR before terminator", pieces: []string{"QUJD\r\r\n\r\n"}, at: 4},
		{name: "wrong length", pieces: []string{"7 QUJD\r\n\r\n"}, terminated: true, at: -1},
	}
	for _, tt := range tests {
		payload := strings.Join(tt.pieces, "")
		inputs := map[string]func() *bufio.Reader{
			"pieces": func() *bufio.Reader {
				pieces := append([]string{"UPLOAD f "}, tt.pieces...)
				if !tt.last {
					pieces = append(pieces, "LIST\r\n\r\n")
				}
				return bufio.NewReaderSize(&piecesReader{pieces}, ReaderSize)
			},
		}
		for _, pr := range payloadReaders {
			inputs[pr.name] = func() *bufio.Reader {
				in := "UPLOAD f " + payload
				if !tt.last {
					in += "LIST\r\n\r\n"
				}
				return pr.new(in)
			}
		}
		for rname, newReader := range inputs {
			t.Run(tt.name+"/"+rname, func(t *testing.T) {
				t.Parallel()
				rr := NewRequestReader(newReader())
				req, err := rr.Read()
				if err != nil || !req.HasPayload {
					t.Fatalf("Read = %+v, %v", req, err)
				}
				n, err := rr.ReadPayload(req, io.Discard, NewBuffers(), 1<<30)
				re, ok := IsRequestError(err)
				if !ok {
					t.Fatalf("ReadPayload = %d, %v; want a *RequestError", n, err)
				}
				if re.Terminated != tt.terminated {
					t.Fatalf("Terminated = %v, want %v (%v)", re.Terminated, tt.terminated, err)
				}
				if tt.at >= 0 && !strings.Contains(re.Reason, fmt.Sprintf("at character %d:", tt.at)) {
					t.Errorf("error %q does not name character %d", re.Reason, tt.at)
				}
				if tt.last {
					return
				}
				if !re.Terminated {
					if err := rr.Skip(1 << 20); err != nil {
						t.Fatalf("Skip: %v", err)
					}
				}
				if next, err := rr.Read(); err != nil || next.Command != "LIST" {
					t.Fatalf("request after the bad payload = %+v, %v; want LIST", next, err)
				}
			})
		}
	}
}

func TestReadPayloadLimit(t *testing.T) {
	t.Parallel()
	for _, size := range []int{0, 1, 10, ChunkSize - 1, ChunkSize, ChunkSize + 1, 3 * ChunkSize} {
		data := randomBytes(7, size)
		in := "UPLOAD f " + base64.StdEncoding.EncodeToString(data) + "\r\n\r\nLIST\r\n\r\n"
		for _, limit := range []int64{int64(size), int64(size) - 1, 0, int64(size) / 2} {
			if limit < 0 {
				continue
			}
			for _, pr := range payloadReaders[:4] {
				t.Run(fmt.Sprintf("size%d/limit%d/%s", size, limit, pr.name), func(t *testing.T) {
					t.Parallel()
					rr := NewRequestReader(pr.new(in))
					req, err := rr.Read()
					if err != nil {
						t.Fatal(err)
					}
					var w bytes.Buffer
					n, err := rr.ReadPayload(req, &w, NewBuffers(), limit)
					if int64(size) <= limit {
						if err != nil || n != int64(size) || !bytes.Equal(w.Bytes(), data) {
							t.Fatalf("ReadPayload = %d, %v; want %d bytes within the limit %d", n, err, size, limit)
						}
						return
					}
					if !errors.Is(err, ErrTooLarge) {
						t.Fatalf("ReadPayload of %d bytes with limit %d = %d, %v; want ErrTooLarge", size, limit, n, err)
					}
					if n > limit || int64(w.Len()) > limit || n != int64(w.Len()) {
						t.Errorf("wrote %d bytes (returned %d) with limit %d", w.Len(), n, limit)
					}
					if !bytes.Equal(w.Bytes(), data[:w.Len()]) {
						t.Errorf("the bytes written before the limit differ from those sent")
					}
					// The connection can go on past the rest of the upload.
					if err := rr.Skip(1 << 30); err != nil {
						t.Fatalf("Skip: %v", err)
					}
					if next, err := rr.Read(); err != nil || next.Command != "LIST" {
						t.Fatalf("request after the refused payload = %+v, %v; want LIST", next, err)
					}
				})
			}
		}
	}
}

func TestReadPayloadWriterError(t *testing.T) {
	t.Parallel()
	data := randomBytes(3, 3*ChunkSize+1)
	in := "UPLOAD f " + base64.StdEncoding.EncodeToString(data) + "\r\n\r\n"
	for _, w := range []io.Writer{errWriter{errBoom}, &failAfterWriter{n: ChunkSize + 100, err: errBoom}} {
		for _, pr := range payloadReaders[:4] {
			rr := NewRequestReader(pr.new(in))
			req, err := rr.Read()
			if err != nil {
				t.Fatal(err)
			}
			n, err := rr.ReadPayload(req, w, NewBuffers(), 1<<30)
			if err != errBoom || !errors.Is(err, errBoom) {
				t.Errorf("%T/%s: ReadPayload = %d, %v; want the writer's error unchanged", w, pr.name, n, err)
			}
			if n >= int64(len(data)) {
				t.Errorf("%T/%s: ReadPayload reports %d bytes written", w, pr.name, n)
			}
		}
	}
}

func TestReadPayloadReadError(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "QUJD", "QUJDQ", "QUJD\r", "QUJD\r\n\r"} {
		rr := NewRequestReader(bufio.NewReaderSize(io.MultiReader(strings.NewReader("UPLOAD f "+prefix), iotest.ErrReader(errBoom)), 16))
		req, err := rr.Read()
		if err != nil {
			t.Fatal(err)
		}
		_, err = rr.ReadPayload(req, io.Discard, NewBuffers(), 1<<20)
		if !errors.Is(err, errBoom) {
			t.Errorf("payload %q then a read error: %v, want it wrapped", prefix, err)
		}
		if _, ok := IsRequestError(err); ok {
			t.Errorf("payload %q then a read error: %v is a RequestError", prefix, err)
		}
	}
}

// TestSkipSplit feeds Skip a blank line split across reads at
// every offset, for reads of 1 to 7 bytes.
func TestSkipSplit(t *testing.T) {
	t.Parallel()
	for k := 1; k <= 7; k++ {
		for p := 0; p <= 24; p++ {
			for _, fill := range []string{"x", "\r", "\n", "\r\n", "\n\r", "\r\n\r"} {
				junk := strings.Repeat(fill, p)[:p]
				// junk may hold a blank line or end in part of one:
				// Skip must stop after the first in the input.
				in := junk + Terminator + "LIST\r\n\r\n"
				end := blankLineEnd(in)
				br := bufio.NewReaderSize(&chunkReader{[]byte(in), k}, 16)
				if err := NewRequestReader(br).Skip(1 << 20); err != nil {
					t.Fatalf("k=%d junk=%q: Skip: %v", k, junk, err)
				}
				rest, _ := io.ReadAll(br)
				if string(rest) != in[end:] {
					t.Fatalf("k=%d junk=%q: after Skip the reader holds %q, want %q", k, junk, rest, in[end:])
				}
			}
		}
	}
}

// TestSkipExhaustive runs Skip on every short string of CR, LF and 'x',
// followed by a terminator: it must stop right after the first blank line
// in the input, however the reads split it.
func TestSkipExhaustive(t *testing.T) {
	t.Parallel()
	alphabet := []byte{'\r', '\n', 'x'}
	var strs []string
	var gen func(prefix []byte, n int)
	gen = func(prefix []byte, n int) {
		strs = append(strs, string(prefix))
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			gen(append(prefix, c), n-1)
		}
	}
	gen(nil, 8)
	for _, s := range strs {
		in := s + Terminator + "LIST"
		end := blankLineEnd(in)
		for k := 1; k <= 7; k++ {
			br := bufio.NewReaderSize(&chunkReader{[]byte(in), k}, 16)
			if err := NewRequestReader(br).Skip(1 << 20); err != nil {
				t.Fatalf("k=%d in=%q: Skip: %v", k, in, err)
			}
			if rest, _ := io.ReadAll(br); string(rest) != in[end:] {
				t.Fatalf("k=%d in=%q: after Skip the reader holds %q, want %q", k, in, rest, in[end:])
			}
		}
	}
}

// blankLineEnd is where the first blank line in s ends: a line break
// (CRLF or LF) right after another.
func blankLineEnd(s string) int {
	loc := regexp.MustCompile("\n\r?\n").FindStringIndex(s)
	return loc[1]
}

// repeatReader yields pattern forever.
type repeatReader struct {
	pattern string
	off     int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.pattern[r.off]
		r.off = (r.off + 1) % len(r.pattern)
	}
	return len(p), nil
}

func TestSkipLimit(t *testing.T) {
	t.Parallel()
	const limit = 10000
	for _, pattern := range []string{"a", "\r\n\rx", "\r", "\nx", "x\r\n", "\r\n\r\r"} {
		for _, size := range []int{16, 4096, ReaderSize} {
			for _, oneByte := range []bool{false, true} {
				var src io.Reader = &repeatReader{pattern: pattern}
				if oneByte {
					src = iotest.OneByteReader(src)
				}
				cr := &countingReader{r: src}
				br := bufio.NewReaderSize(cr, size)
				if err := NewRequestReader(br).Skip(limit); err == nil {
					t.Fatalf("Skip on an endless %q: nil error", pattern)
				}
				if cr.n > limit+int64(size) {
					t.Errorf("Skip(limit %d) on an endless %q read %d bytes (reader size %d)", limit, pattern, cr.n, size)
				}
			}
		}
	}
}

func TestSkipEOF(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "abc", "abc\r\n\r", "\r\nx\r"} {
		for k := 1; k <= 4; k++ {
			br := bufio.NewReaderSize(&chunkReader{[]byte(in), k}, 16)
			if err := NewRequestReader(br).Skip(1 << 20); err == nil {
				t.Errorf("Skip(%q) at EOF: nil error", in)
			}
		}
	}
}
