package protocol

import (
	"bufio"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

type wantErrKind int

const (
	noErr  wantErrKind = iota
	reqErr             // a *RequestError
	eofErr             // exactly io.EOF
)

// nextReq follows every input that can go on, and must parse after the
// case's request, whether that one was valid or not.
const nextReq = "STATS\r\n\r\n"

var requestCases = []struct {
	name string
	in   string
	// want is the parsed request when err is noErr.
	want *Request
	err  wantErrKind
	// terminated is the expected RequestError.Terminated.
	terminated bool
	// rest is what the reader must hold after a request with a payload.
	rest string
	// last means the input ends the connection: nothing follows it.
	last bool
}{
	{name: "LIST", in: "LIST\r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "lowercase list", in: "list\r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "mixed case", in: "LiSt\r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "GET name", in: "GET a.txt\r\n\r\n", want: &Request{Command: "GET", Args: []string{"a.txt"}}},
	{name: "GET non-ASCII", in: "get café.txt\r\n\r\n", want: &Request{Command: "GET", Args: []string{"café.txt"}}},
	{name: "GET quoted with space", in: `GET "a b.txt"` + "\r\n\r\n", want: &Request{Command: "GET", Args: []string{"a b.txt"}}},
	{name: "GET quoted without space", in: `GET "ab"` + "\r\n\r\n", want: &Request{Command: "GET", Args: []string{"ab"}}},
	{name: "GET quoted then trailing space", in: `GET "a b" ` + "\r\n\r\n", want: &Request{Command: "GET", Args: []string{"a b"}}},
	{name: "quote inside a bare parameter", in: `GET a"b` + "\r\n\r\n", want: &Request{Command: "GET", Args: []string{`a"b`}}},
	{name: "DOWNLOAD", in: "DOWNLOAD x\r\n\r\n", want: &Request{Command: "DOWNLOAD", Args: []string{"x"}}},
	{name: "DELETE", in: "DELETE b.bin\r\n\r\n", want: &Request{Command: "DELETE", Args: []string{"b.bin"}}},
	{name: "STATS", in: "STATS\r\n\r\n", want: &Request{Command: "STATS"}},
	{name: "trailing space", in: "LIST \r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "trailing space after parameter", in: "GET a.txt \r\n\r\n", want: &Request{Command: "GET", Args: []string{"a.txt"}}},
	{name: "head of exactly MaxHeadLen", in: "GET " + strings.Repeat("a", MaxHeadLen-6) + "\r\n\r\n",
		want: &Request{Command: "GET", Args: []string{strings.Repeat("a", MaxHeadLen-6)}}},

	// How real course clients end a request.
	{name: "one CRLF", in: "LIST\r\n", want: &Request{Command: "LIST"}},
	{name: "bare LF", in: "LIST\n", want: &Request{Command: "LIST"}},
	{name: "LF LF", in: "GET a\n\n", want: &Request{Command: "GET", Args: []string{"a"}}},
	{name: "CR LF LF", in: "LIST\r\n\n\r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "blank lines before", in: "\r\n\n\r\nLIST\r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "stray CRs between requests", in: "LIST\r\n\r\r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "no terminator then EOF", in: "LIST", want: &Request{Command: "LIST"}, last: true},
	{name: "GET then EOF", in: "GET a", want: &Request{Command: "GET", Args: []string{"a"}}, last: true},
	{name: "quoted GET then EOF", in: `GET "a b"`, want: &Request{Command: "GET", Args: []string{"a b"}}, last: true},
	{name: "EOF in terminator", in: "LIST\r\n\r", want: &Request{Command: "LIST"}, last: true},
	{name: "CR at EOF", in: "LIST\r", want: &Request{Command: "LIST"}, last: true},
	{name: "POST", in: "POST a.txt QUJD\r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a.txt"}, HasPayload: true},
		rest: "QUJD\r\n\r\n"},
	{name: "put", in: "put a.txt QUJD\r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a.txt"}, HasPayload: true},
		rest: "QUJD\r\n\r\n"},
	{name: "UPLOAD payload on the next line", in: "UPLOAD a.txt\r\nQUJD\r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a.txt"}, HasPayload: true},
		rest: "QUJD\r\n\r\n"},
	{name: "UPLOAD with a length", in: "UPLOAD a.txt 4 QUJD\r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a.txt"}, HasPayload: true, Length: 4},
		rest: "QUJD\r\n\r\n"},
	{name: "download", in: "download x\n", want: &Request{Command: "DOWNLOAD", Args: []string{"x"}}},

	// JSON requests.
	{name: "JSON list", in: `{"command": "list"}`, want: &Request{Command: "LIST"}},
	{name: "JSON list with params", in: `{"command": "LIST", "params": []}` + "\r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "JSON get", in: `{"command": "get", "params": ["a b.txt"]}`, want: &Request{Command: "GET", Args: []string{"a b.txt"}}},
	{name: "JSON get by name", in: `{"filename": "x", "command": "get", "other": {"k": [1, "]"]}}`, want: &Request{Command: "GET", Args: []string{"x"}}},
	{name: "JSON upload", in: `{"command": "upload", "params": ["a", "QUJD"]}` + "\r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a"}, HasPayload: true},
		rest: `QUJD"]}` + "\r\n\r\n"},
	{name: "JSON upload, content first", in: `{"content": "QUJD", "command": "post", "filename": "a"}`, want: &Request{HasPayload: true},
		rest: `QUJD", "command": "post", "filename": "a"}`},
	{name: "JSON unknown command", in: `{"command": "config", "params": []}`, err: reqErr, terminated: true},
	{name: "JSON without command", in: `{"filename": "a"}`, err: reqErr, terminated: true},
	{name: "JSON upload without content", in: `{"command": "upload", "params": ["a"]}`, err: reqErr, terminated: true},
	{name: "JSON command not a string", in: `{"command": 5}` + "\r\n\r\n", err: reqErr},
	{name: "JSON two names", in: `{"command": "get", "params": ["a"], "name": "b"}` + "\r\n\r\n", err: reqErr},
	{name: "JSON not an object", in: `{"command" "list"}` + "\r\n\r\n", err: reqErr},
	{name: "JSON head too long", in: `{"command": "list", "x": "` + strings.Repeat("a", MaxHeadLen) + `"}` + "\r\n\r\n", err: reqErr},

	{name: "UPLOAD without payload", in: "UPLOAD a.txt\r\n\r\n", err: reqErr, terminated: true},
	{name: "UPLOAD quoted name without payload", in: `UPLOAD "a b"` + "\r\n\r\n", err: reqErr, terminated: true},
	{name: "UPLOAD alone", in: "UPLOAD\r\n\r\n", err: reqErr, terminated: true},
	{name: "UPLOAD and a space", in: "UPLOAD \r\n\r\n", err: reqErr, terminated: true},
	{name: "UPLOAD with a wrong length", in: "UPLOAD a.txt 5 QUJD\r\n\r\n", err: reqErr, terminated: true},
	{name: "unknown command", in: "FOO bar\r\n\r\n", err: reqErr},
	{name: "unknown command alone", in: "FOO\r\n\r\n", err: reqErr, terminated: true},
	{name: "unknown command before a long payload", in: "FROB a " + strings.Repeat("QUJD", 3*MaxHeadLen) + "\r\n\r\n", err: reqErr},
	{name: "command that is too long", in: strings.Repeat("QUJD", 3*MaxHeadLen) + "\r\n\r\n", err: reqErr},
	{name: "dotless i is not LIST", in: "lıst\r\n\r\n", err: reqErr, terminated: true},
	{name: "leading space", in: " LIST\r\n\r\n", err: reqErr},
	{name: "double space", in: "GET  a.txt\r\n\r\n", err: reqErr},
	{name: "double space at end", in: "LIST  \r\n\r\n", err: reqErr},
	{name: "stray CR", in: "LIST\rX\r\n\r\n", err: reqErr},
	// A CR then CR is no line break: the request is skipped to the
	// blank line after it.
	{name: "stray CR before terminator", in: "LIST\r\r\n\r\n", err: reqErr},
	{name: "unterminated quote", in: `GET "a b` + "\r\n\r\n", err: reqErr},
	{name: "unterminated quote with LF", in: `GET "a b` + "\n\r\n\r\n", err: reqErr},
	{name: "empty quoted parameter", in: `GET ""` + "\r\n\r\n", err: reqErr},
	{name: "closing quote then text", in: `GET "a"b` + "\r\n\r\n", err: reqErr},
	{name: "head one byte over MaxHeadLen", in: "GET " + strings.Repeat("a", MaxHeadLen-5) + "\r\n\r\n", err: reqErr},
	{name: "head two bytes over MaxHeadLen", in: "GET " + strings.Repeat("a", MaxHeadLen-4) + "\r\n\r\n", err: reqErr},
	{name: "head far over MaxHeadLen", in: "GET " + strings.Repeat("a", 3*MaxHeadLen) + "\r\n\r\n", err: reqErr},
	{name: "UPLOAD head over MaxHeadLen", in: "UPLOAD " + strings.Repeat("a", MaxHeadLen) + " QUJD\r\n\r\n", err: reqErr},

	{name: "EOF in a command", in: "LIS", err: reqErr, terminated: true, last: true},
	{name: "EOF in quote", in: `GET "a b`, err: reqErr, terminated: true, last: true},
	{name: "EOF after UPLOAD name", in: "UPLOAD a", err: reqErr, terminated: true, last: true},
	{name: "EOF in JSON", in: `{"command": "li`, err: reqErr, last: true},
	{name: "clean EOF", in: "", err: eofErr, last: true},
}

func TestReadRequest(t *testing.T) {
	t.Parallel()
	for _, tc := range requestCases {
		for _, rk := range readerKinds {
			t.Run(tc.name+"/"+rk.name, func(t *testing.T) {
				t.Parallel()
				in := tc.in
				if !tc.last && tc.rest == "" {
					in += nextReq
				}
				br := rk.new(in)
				rr := NewRequestReader(br)
				req, err := rr.Read()
				if err == nil && req.HasPayload && tc.err == reqErr {
					// The error of an UPLOAD without content shows once
					// the payload is read.
					_, err = rr.ReadPayload(req, io.Discard, NewBuffers(), 1<<20)
					req = nil
				}
				switch tc.err {
				case eofErr:
					if err != io.EOF {
						t.Fatalf("ReadRequest = %+v, %v; want io.EOF", req, err)
					}
					return
				case noErr:
					if err != nil {
						t.Fatalf("ReadRequest: %v", err)
					}
					if req.Command != tc.want.Command || !slices.Equal(req.Args, tc.want.Args) || req.HasPayload != tc.want.HasPayload ||
						(tc.want.Length != 0 && req.Length != tc.want.Length) {
						t.Fatalf("ReadRequest = %.80v, want %.80v", req, tc.want)
					}
					if tc.rest != "" {
						rest, err := io.ReadAll(br)
						if err != nil {
							t.Fatal(err)
						}
						if string(rest) != tc.rest {
							t.Fatalf("after the head the reader holds %q, want %q", rest, tc.rest)
						}
						return
					}
				case reqErr:
					re, ok := IsRequestError(err)
					if !ok {
						t.Fatalf("ReadRequest = %+v, %v; want a *RequestError", req, err)
					}
					if req != nil {
						t.Errorf("ReadRequest returned request %+v with its error", req)
					}
					if re.Reason == "" || err.Error() != re.Reason {
						t.Errorf("RequestError reason %q, Error() %q", re.Reason, err.Error())
					}
					if re.Terminated != tc.terminated {
						t.Fatalf("Terminated = %v, want %v (%v)", re.Terminated, tc.terminated, err)
					}
					if tc.last {
						return
					}
					if !re.Terminated {
						if err := rr.Skip(1 << 20); err != nil {
							t.Fatalf("Skip after %.60q: %v", tc.in, err)
						}
					}
				}
				if tc.last {
					if _, err := rr.Read(); err != io.EOF {
						t.Fatalf("after the last request: %v, want io.EOF", err)
					}
					return
				}
				next, err := rr.Read()
				if err != nil || next.Command != "STATS" || len(next.Args) != 0 {
					t.Fatalf("the request after %.60q reads as %+v, %v; want STATS", tc.in, next, err)
				}
				if _, err := rr.Read(); err != io.EOF {
					t.Fatalf("after the last request: %v, want io.EOF", err)
				}
			})
		}
	}
}

// TestReadRequestHeadBound checks that a malformed head is refused after
// at most MaxHeadLen bytes, however long it goes on.
func TestReadRequestHeadBound(t *testing.T) {
	t.Parallel()
	for _, in := range []string{strings.Repeat("a", 1<<20), "GET " + strings.Repeat("b", 1<<20), "UPLOAD " + strings.Repeat("c", 1<<20)} {
		r := &countingReader{r: strings.NewReader(in)}
		br := bufio.NewReaderSize(r, 16)
		_, err := NewRequestReader(br).Read()
		re, ok := IsRequestError(err)
		if !ok || re.Terminated {
			t.Fatalf("ReadRequest(%.10q...) = %v, want a RequestError, not terminated", in, err)
		}
		if used := r.n - int64(br.Buffered()); used > MaxHeadLen {
			t.Errorf("ReadRequest(%.10q...) consumed %d bytes, more than MaxHeadLen", in, used)
		}
	}
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func TestReadRequestPipelined(t *testing.T) {
	t.Parallel()
	in := "LIST\r\n\r\n" +
		`GET "a b.txt"` + "\r\n\r\n" +
		"UPLOAD up.bin QUJDRA==\r\n\r\n" +
		"UPLOAD empty \r\n\r\n" +
		"delete x\r\n\r\n" +
		"STATS\r\n\r\n"
	want := []struct {
		req     Request
		payload string
	}{
		{req: Request{Command: "LIST"}},
		{req: Request{Command: "GET", Args: []string{"a b.txt"}}},
		{req: Request{Command: "UPLOAD", Args: []string{"up.bin"}, HasPayload: true}, payload: "ABCD"},
		{req: Request{Command: "UPLOAD", Args: []string{"empty"}, HasPayload: true}, payload: ""},
		{req: Request{Command: "DELETE", Args: []string{"x"}}},
		{req: Request{Command: "STATS"}},
	}
	for _, rk := range readerKinds {
		t.Run(rk.name, func(t *testing.T) {
			t.Parallel()
			rr := NewRequestReader(rk.new(in))
			bufs := NewBuffers()
			for i, w := range want {
				req, err := rr.Read()
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if req.Command != w.req.Command || !slices.Equal(req.Args, w.req.Args) || req.HasPayload != w.req.HasPayload {
					t.Fatalf("request %d = %+v, want %+v", i, req, w.req)
				}
				if req.HasPayload {
					var sb strings.Builder
					n, err := rr.ReadPayload(req, &sb, bufs, 1<<20)
					if err != nil || sb.String() != w.payload || n != int64(len(w.payload)) {
						t.Fatalf("payload %d = %q (%d), %v; want %q", i, sb.String(), n, err, w.payload)
					}
				}
			}
			if _, err := rr.Read(); err != io.EOF {
				t.Fatalf("after the last request: %v, want io.EOF", err)
			}
		})
	}
}

// TestReadRequestReadError checks that a failing connection is reported
// as such, wrapped, and not as a malformed request.
func TestReadRequestReadError(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{"", "LI", "GET", "GET ", "LIST\r", `GET "a`, "UPLOAD a", "\r\n"} {
		br := bufio.NewReaderSize(io.MultiReader(strings.NewReader(prefix), iotest.ErrReader(errBoom)), 16)
		req, err := NewRequestReader(br).Read()
		if !errors.Is(err, errBoom) {
			t.Errorf("ReadRequest(%q then an error) = %+v, %v; want an error wrapping %v", prefix, req, err, errBoom)
		}
		if _, ok := IsRequestError(err); ok {
			t.Errorf("ReadRequest(%q then an error) = %v, a RequestError", prefix, err)
		}
	}
}

func TestIsRequestError(t *testing.T) {
	t.Parallel()
	re := &RequestError{Reason: "x", Terminated: true}
	if got, ok := IsRequestError(re); !ok || got != re {
		t.Errorf("IsRequestError(re) = %v, %v", got, ok)
	}
	wrapped := errors.Join(errors.New("context"), re)
	if got, ok := IsRequestError(wrapped); !ok || got != re {
		t.Errorf("IsRequestError(wrapped) = %v, %v", got, ok)
	}
	if got, ok := IsRequestError(io.EOF); ok || got != nil {
		t.Errorf("IsRequestError(io.EOF) = %v, %v", got, ok)
	}
	if got, ok := IsRequestError(nil); ok || got != nil {
		t.Errorf("IsRequestError(nil) = %v, %v", got, ok)
	}
}
