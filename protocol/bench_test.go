package protocol

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"testing"
)

// benchSize is the content moved per benchmark op: large enough for many
// reader fills, small enough to keep in memory for the benchmark alone.
const benchSize = 32 << 20

// BenchmarkReadPayload decodes an UPLOAD's payload as the server does,
// from memory, so that it measures the parser and decoder, not a network:
//
//	go test -run '^$' -bench ReadPayload ./protocol
func BenchmarkReadPayload(b *testing.B) {
	data := randomBytes(5, benchSize)
	single := []byte("UPLOAD f " + base64.StdEncoding.EncodeToString(data) + "\r\n\r\n")
	wrapped := []byte("UPLOAD f " + string(wrapLines(base64.StdEncoding.EncodeToString(data), 76)) + "\r\n")
	for _, in := range []struct {
		name  string
		bytes []byte
	}{{"one-line", single}, {"encodebytes", wrapped}} {
		b.Run(in.name, func(b *testing.B) {
			bufs := NewBuffers()
			b.SetBytes(benchSize)
			for b.Loop() {
				rr := NewRequestReader(bufio.NewReaderSize(bytes.NewReader(in.bytes), ReaderSize))
				req, err := rr.Read()
				if err != nil {
					b.Fatal(err)
				}
				if n, err := rr.ReadPayload(req, io.Discard, bufs, 1<<40); err != nil || n != benchSize {
					b.Fatalf("ReadPayload = %d, %v", n, err)
				}
			}
		})
	}
}

// BenchmarkReadReplyContent decodes a GET reply's content as a client
// does, from memory.
func BenchmarkReadReplyContent(b *testing.B) {
	data := randomBytes(6, benchSize)
	prefix, suffix := ContentFrame("f", GetContentKey)
	reply := []byte(prefix + base64.StdEncoding.EncodeToString(data) + suffix)
	bufs := NewBuffers()
	b.SetBytes(benchSize)
	for b.Loop() {
		r, err := ReadReply(bufio.NewReaderSize(bytes.NewReader(reply), ReaderSize), GetContentKey, io.Discard, bufs)
		if err != nil || r.ContentBytes != benchSize {
			b.Fatalf("ReadReply = %+v, %v", r, err)
		}
	}
}

// wrapLines puts a LF after every width characters of s, and at its end,
// as Python's base64.encodebytes does.
func wrapLines(s string, width int) []byte {
	out := make([]byte, 0, len(s)+len(s)/width+1)
	for i := 0; i < len(s); i += width {
		out = append(out, s[i:min(i+width, len(s))]...)
		out = append(out, '\n')
	}
	return out
}
