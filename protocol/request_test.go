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
	{name: "unknown command kept", in: "FOO bar\r\n\r\n", want: &Request{Command: "FOO", Args: []string{"bar"}}},
	{name: "two parameters", in: `GET a "b c"` + "\r\n\r\n", want: &Request{Command: "GET", Args: []string{"a", "b c"}}},
	{name: "trailing space", in: "LIST \r\n\r\n", want: &Request{Command: "LIST"}},
	{name: "trailing space after parameter", in: "GET a.txt \r\n\r\n", want: &Request{Command: "GET", Args: []string{"a.txt"}}},
	{name: "head of exactly MaxHeadLen", in: "GET " + strings.Repeat("a", MaxHeadLen-8) + "\r\n\r\n",
		want: &Request{Command: "GET", Args: []string{strings.Repeat("a", MaxHeadLen-8)}}},

	{name: "UPLOAD", in: "UPLOAD a.txt QUJD\r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a.txt"}, HasPayload: true},
		rest: "QUJD\r\n\r\n"},
	{name: "lowercase upload", in: "upload a.txt QUJD\r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a.txt"}, HasPayload: true},
		rest: "QUJD\r\n\r\n"},
	{name: "UPLOAD quoted name", in: `UPLOAD "a b" QQ==` + "\r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a b"}, HasPayload: true},
		rest: "QQ==\r\n\r\n"},
	{name: "UPLOAD empty payload", in: "UPLOAD a.txt \r\n\r\n", want: &Request{Command: "UPLOAD", Args: []string{"a.txt"}, HasPayload: true},
		rest: "\r\n\r\n"},

	{name: "UPLOAD without payload", in: "UPLOAD a.txt\r\n\r\n", err: reqErr, terminated: true},
	{name: "UPLOAD quoted name without payload", in: `UPLOAD "a b"` + "\r\n\r\n", err: reqErr, terminated: true},
	{name: "UPLOAD alone", in: "UPLOAD\r\n\r\n", err: reqErr, terminated: true},
	{name: "UPLOAD and a space", in: "UPLOAD \r\n\r\n", err: reqErr, terminated: true},
	{name: "empty request", in: "\r\n\r\n", err: reqErr, terminated: true},
	{name: "leading space", in: " LIST\r\n\r\n", err: reqErr},
	{name: "double space", in: "GET  a.txt\r\n\r\n", err: reqErr},
	{name: "double space at end", in: "LIST  \r\n\r\n", err: reqErr},
	{name: "bare LF", in: "LIST\n\r\n\r\n", err: reqErr},
	{name: "bare LF in parameter", in: "GET a\nb\r\n\r\n", err: reqErr},
	{name: "LF LF terminator", in: "LIST\n\n", err: reqErr, last: true},
	{name: "CR LF LF", in: "LIST\r\n\n\r\n\r\n", err: reqErr},
	{name: "stray CR", in: "LIST\rX\r\n\r\n", err: reqErr},
	// The first CRLF CRLF ends this malformed request, so the next
	// request must parse after SkipRequest.
	{name: "stray CR before terminator", in: "LIST\r\r\n\r\n", err: reqErr},
	{name: "CR LF CR CR LF CR LF", in: "LIST\r\n\r\r\n\r\n", err: reqErr},
	{name: "unterminated quote", in: `GET "a b` + "\r\n\r\n", err: reqErr},
	{name: "unterminated quote with LF", in: `GET "a b` + "\n\r\n\r\n", err: reqErr},
	{name: "empty quoted parameter", in: `GET ""` + "\r\n\r\n", err: reqErr},
	{name: "closing quote then text", in: `GET "a"b` + "\r\n\r\n", err: reqErr},
	{name: "head one byte over MaxHeadLen", in: "GET " + strings.Repeat("a", MaxHeadLen-7) + "\r\n\r\n", err: reqErr},
	{name: "head two bytes over MaxHeadLen", in: "GET " + strings.Repeat("a", MaxHeadLen-6) + "\r\n\r\n", err: reqErr},
	{name: "head three bytes over MaxHeadLen", in: "GET " + strings.Repeat("a", MaxHeadLen-5) + "\r\n\r\n", err: reqErr},
	{name: "head four bytes over MaxHeadLen", in: "GET " + strings.Repeat("a", MaxHeadLen-4) + "\r\n\r\n", err: reqErr},
	{name: "head far over MaxHeadLen", in: "GET " + strings.Repeat("a", 3*MaxHeadLen) + "\r\n\r\n", err: reqErr},
	{name: "UPLOAD head over MaxHeadLen", in: "UPLOAD " + strings.Repeat("a", MaxHeadLen) + " QUJD\r\n\r\n", err: reqErr},

	{name: "EOF in command", in: "LIS", err: reqErr, last: true},
	{name: "EOF in terminator", in: "LIST\r\n\r", err: reqErr, last: true},
	{name: "EOF in parameter", in: "GET a", err: reqErr, last: true},
	{name: "EOF in quote", in: `GET "a b`, err: reqErr, last: true},
	{name: "EOF after UPLOAD name", in: "UPLOAD a", err: reqErr, last: true},
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
				req, err := ReadRequest(br)
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
					if req.Command != tc.want.Command || !slices.Equal(req.Args, tc.want.Args) || req.HasPayload != tc.want.HasPayload {
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
						if err := SkipRequest(br, 1<<20); err != nil {
							t.Fatalf("SkipRequest after %.60q: %v", tc.in, err)
						}
					}
				}
				next, err := ReadRequest(br)
				if err != nil || next.Command != "STATS" || len(next.Args) != 0 {
					t.Fatalf("the request after %.60q reads as %+v, %v; want STATS", tc.in, next, err)
				}
				if _, err := ReadRequest(br); err != io.EOF {
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
		_, err := ReadRequest(br)
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
			br := rk.new(in)
			bufs := NewBuffers()
			for i, w := range want {
				req, err := ReadRequest(br)
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if req.Command != w.req.Command || !slices.Equal(req.Args, w.req.Args) || req.HasPayload != w.req.HasPayload {
					t.Fatalf("request %d = %+v, want %+v", i, req, w.req)
				}
				if req.HasPayload {
					var sb strings.Builder
					n, err := DecodePayload(br, &sb, bufs, 1<<20)
					if err != nil || sb.String() != w.payload || n != int64(len(w.payload)) {
						t.Fatalf("payload %d = %q (%d), %v; want %q", i, sb.String(), n, err, w.payload)
					}
				}
			}
			if _, err := ReadRequest(br); err != io.EOF {
				t.Fatalf("after the last request: %v, want io.EOF", err)
			}
		})
	}
}

// TestReadRequestReadError checks that a failing connection is reported
// as such, wrapped, and not as a malformed request.
func TestReadRequestReadError(t *testing.T) {
	t.Parallel()
	errBoom := errors.New("boom")
	for _, prefix := range []string{"", "LI", "GET a", "LIST\r\n", `GET "a`} {
		br := bufio.NewReaderSize(io.MultiReader(strings.NewReader(prefix), iotest.ErrReader(errBoom)), 16)
		req, err := ReadRequest(br)
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
