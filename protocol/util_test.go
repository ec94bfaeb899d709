package protocol

import (
	"bufio"
	"io"
	"strings"
	"testing/iotest"
)

// chunkReader returns at most k bytes per Read, so that a bufio.Reader on
// it sees the input arrive in pieces of k bytes.
type chunkReader struct {
	data []byte
	k    int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p[:min(len(p), r.k)], r.data)
	r.data = r.data[n:]
	return n, nil
}

// piecesReader returns its pieces one Read at a time, however large p is
// (as long as a piece fits), so a test can choose where reads split.
type piecesReader struct {
	pieces []string
}

func (r *piecesReader) Read(p []byte) (int, error) {
	for len(r.pieces) > 0 && r.pieces[0] == "" {
		r.pieces = r.pieces[1:]
	}
	if len(r.pieces) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.pieces[0])
	r.pieces[0] = r.pieces[0][n:]
	return n, nil
}

// readerKind is a way of delivering a test input to the code under test:
// a bufio.Reader of some size over a reader that splits reads some way.
type readerKind struct {
	name string
	new  func(s string) *bufio.Reader
}

var readerKinds = []readerKind{
	{"whole", func(s string) *bufio.Reader { return bufio.NewReaderSize(strings.NewReader(s), ReaderSize) }},
	{"onebyte", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(iotest.OneByteReader(strings.NewReader(s)), 16)
	}},
	{"chunk5", func(s string) *bufio.Reader { return bufio.NewReaderSize(&chunkReader{[]byte(s), 5}, 16) }},
	{"half", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(iotest.HalfReader(strings.NewReader(s)), 64)
	}},
	{"dataerr", func(s string) *bufio.Reader {
		return bufio.NewReaderSize(iotest.DataErrReader(strings.NewReader(s)), 4096)
	}},
}

// errWriter fails every write with err.
type errWriter struct{ err error }

func (w errWriter) Write(p []byte) (int, error) { return 0, w.err }

// failAfterWriter accepts n bytes, then fails with err.
type failAfterWriter struct {
	n   int
	err error
}

func (w *failAfterWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	k := w.n
	w.n = 0
	return k, w.err
}
