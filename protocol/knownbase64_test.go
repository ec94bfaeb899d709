package protocol

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
)

// pieceBase64 is a Base64 in memory that hands its text and bytes out in
// pieces as generated content does: a short header piece (headerChars,
// headerBytes) at the start of each period (periodChars, periodBytes),
// then the rest of the period, so that matching crosses piece bounds.
type pieceBase64 struct{ raw, text []byte }

const (
	periodBytes = 750
	periodChars = periodBytes / 3 * 4
	headerBytes = 24
	headerChars = headerBytes / 3 * 4
)

func newPieceBase64(raw []byte) *pieceBase64 {
	return &pieceBase64{raw: raw, text: []byte(base64.StdEncoding.EncodeToString(raw))}
}

func (p *pieceBase64) Size() int64 { return int64(len(p.raw)) }

func (p *pieceBase64) Base64At(at int64) []byte { return piece(p.text, at, periodChars, headerChars) }

func (p *pieceBase64) BytesAt(off int64) []byte { return piece(p.raw, off, periodBytes, headerBytes) }

func piece(b []byte, at, period, header int64) []byte {
	end := (at/period + 1) * period
	if at%period < header {
		end = at/period*period + header
	}
	return b[at:min(int64(len(b)), end)]
}

// TestWriteBase64 checks that WriteBase64 writes the prefix, the text and
// the suffix, counting the bytes sent, and that a failed write returns
// what went.
func TestWriteBase64(t *testing.T) {
	for _, size := range []int{0, 1, 25, periodBytes + 2, 100*periodBytes + 1} {
		raw := randomBytes(3, size)
		var out bytes.Buffer
		var moved int64
		sent, err := WriteBase64(&out, newPieceBase64(raw), "UPLOAD x ", Terminator, func(n int64) { moved += n })
		want := "UPLOAD x " + base64.StdEncoding.EncodeToString(raw) + Terminator
		if err != nil || sent != int64(size) || moved != int64(size) || out.String() != want {
			t.Errorf("size %d: sent %d, moved %d, %v; wrote %d bytes, want %d", size, sent, moved, err, out.Len(), len(want))
		}
	}
}

// checkReply reads a GET reply carrying text under data_file, or, with
// before, a short content value before "status" (which ReadReplyKeys
// keeps and decodes), through a base64Check of raw.
func checkReply(t *testing.T, raw []byte, text string, before bool) (*base64Check, error) {
	t.Helper()
	reply := `{"status": "OK", "data_namafile": "x", "data_file": "` + text + `"}` + Terminator
	if before {
		reply = `{"data_file": "` + text + `", "status": "OK"}` + Terminator
	}
	m := newBase64Check(newPieceBase64(raw), nil)
	br := bufio.NewReaderSize(strings.NewReader(reply), ReaderSize)
	r, err := ReadReplyKeys(br, ContentKeys(), m, NewBuffers())
	if err == nil && !r.HasContent {
		t.Fatal("reply without content")
	}
	if err == nil {
		err = m.missing()
	}
	return m, err
}

// TestBase64Check checks a download of a Base64 by its text: the right text
// passes, with line breaks (raw, or escaped as Python's encodebytes and
// json.dumps give them) and escaped slashes too, and held whole before
// "status"; a flipped byte anywhere is named by its offset; short content
// by the size received; more content, and a last quantum with unused
// bits set, are refused.
func TestBase64Check(t *testing.T) {
	const size = periodBytes + 25 // two periods, a last quantum of one byte
	raw := randomBytes(5, size)
	text := base64.StdEncoding.EncodeToString(raw)

	wrap := func(s, brk string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += 76 {
			b.WriteString(s[i:min(len(s), i+76)])
			b.WriteString(brk)
		}
		return b.String()
	}
	for name, tx := range map[string]string{
		"plain":           text,
		"escaped breaks":  wrap(text, `\n`),
		"raw CRLF breaks": wrap(text, "\r\n"),
		"escaped slashes": strings.ReplaceAll(text, "/", `\/`),
	} {
		m, err := checkReply(t, raw, tx, false)
		if err != nil || m.received() != size {
			t.Errorf("%s: %v, %d bytes received", name, err, m.received())
		}
	}
	small := raw[:100]
	if _, err := checkReply(t, small, base64.StdEncoding.EncodeToString(small), true); err != nil {
		t.Errorf("content before status: %v", err)
	}
	flipped := bytes.Clone(small)
	flipped[50] ^= 1
	if _, err := checkReply(t, small, base64.StdEncoding.EncodeToString(flipped), true); err == nil || !strings.Contains(err.Error(), "from byte 50 of 100 on") {
		t.Errorf("content before status, byte 50 flipped: %v", err)
	}

	for _, off := range []int64{0, 1, 2, 23, 24, 25, periodBytes - 1, periodBytes, periodBytes + 8, size - 2, size - 1} {
		for _, bit := range []byte{0x01, 0x80} {
			bad := bytes.Clone(raw)
			bad[off] ^= bit
			tx := base64.StdEncoding.EncodeToString(bad)
			want := "content differs from the expected from byte " + itoa(off) + " of " + itoa(size) + " on"
			if _, err := checkReply(t, raw, tx, false); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("byte %d xor %#x: %v, want %q", off, bit, err, want)
			}
			if _, err := checkReply(t, raw, wrap(tx, `\n`), false); err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("byte %d xor %#x, wrapped: %v, want %q", off, bit, err, want)
			}
		}
	}
	for _, n := range []int64{0, 1, 2, 3, 24, 100, periodBytes, size - 1} {
		tx := base64.StdEncoding.EncodeToString(raw[:n])
		want := "received " + itoa(n) + " bytes, want " + itoa(size)
		if _, err := checkReply(t, raw, tx, false); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("the first %d bytes only: %v, want %q", n, err, want)
		}
	}
	more := base64.StdEncoding.EncodeToString(append(bytes.Clone(raw), 0))
	if _, err := checkReply(t, raw, more, false); err == nil || !strings.Contains(err.Error(), "more than the") {
		t.Errorf("a byte too many: %v", err)
	}
	// The text ends in padding: more after it is no base64.
	if _, err := checkReply(t, raw, text+"QUJD", false); !isBadContent(err) || !strings.Contains(err.Error(), "data after the padding") {
		t.Errorf("a quantum too many: %v", err)
	}
	// The last quantum encodes one byte: its second character carries 2
	// bits of it and 4 unused ones.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	nc := []byte(text)
	i := len(nc) - 3
	nc[i] = alphabet[strings.IndexByte(alphabet, nc[i])|1]
	if _, err := checkReply(t, raw, string(nc), false); err == nil || !strings.Contains(err.Error(), "non-canonical") {
		t.Errorf("unused bits set in the last quantum: %v", err)
	}
	if _, err := checkReply(t, raw, text[:100]+`\"`+text[100:], false); !isBadContent(err) || !strings.Contains(err.Error(), "invalid base64 at character 100") {
		t.Errorf("an escaped quote inside the text: %v", err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestClientBase64RoundTrip uploads a Base64 with UploadBase64 and reads it
// back with GetVerified, by its text and by its SHA-256, counting
// progress both ways; a wrong expectation is an *IntegrityError.
func TestClientBase64RoundTrip(t *testing.T) {
	t.Parallel()
	s := startFakeServer(t, nil)
	raw := randomBytes(8, 10*periodBytes+2)
	sha := sha256Hex(raw)
	var moved int64
	c := dialWith(t, s.addr(), Options{Progress: func(n int64) { moved += n }})
	res, err := c.UploadBase64(testCtx(t), "t.bin", newPieceBase64(raw), sha)
	if err != nil || res.Sent != int64(len(raw)) || moved != res.Sent {
		t.Fatalf("UploadBase64 = %+v, %v; moved %d", res, err, moved)
	}
	for _, want := range []Expected{{Size: int64(len(raw)), Base64: newPieceBase64(raw)}, {Size: int64(len(raw)), SHA256: sha}} {
		moved = 0
		n, err := c.GetVerified(testCtx(t), "t.bin", want)
		if err != nil || n != int64(len(raw)) || moved != n {
			t.Errorf("GetVerified(text %v) = %d, %v; moved %d", want.Base64 != nil, n, err, moved)
		}
	}
	other := bytes.Clone(raw)
	other[7] ^= 1
	var ie *IntegrityError
	if _, err := c.GetVerified(testCtx(t), "t.bin", Expected{Size: int64(len(raw)), Base64: newPieceBase64(other)}); !errors.As(err, &ie) {
		t.Errorf("GetVerified against other content: %v, want an *IntegrityError", err)
	}
	if _, err := c.GetVerified(testCtx(t), "t.bin", Expected{Size: int64(len(raw)) - 1, SHA256: sha}); !errors.As(err, &ie) {
		t.Errorf("GetVerified of a byte too many: %v, want an *IntegrityError", err)
	}
	if tr := c.Trace(); tr.Sent.IsZero() || tr.First.IsZero() || tr.Last.Before(tr.First) {
		t.Errorf("Trace = %+v, want every stage", tr)
	}
}

// flatBase64 is a Base64 that hands out the rest of its text and bytes in one
// piece, as generated content does within a period of 1 MiB of text.
type flatBase64 struct{ raw, text []byte }

func (f *flatBase64) Size() int64              { return int64(len(f.raw)) }
func (f *flatBase64) Base64At(at int64) []byte { return f.text[at:] }
func (f *flatBase64) BytesAt(off int64) []byte { return f.raw[off:] }

// BenchmarkReadReplyBase64 checks a GET reply's content against the text
// it must be, as filestressd's downloads of generated content do
// (Client.GetVerified): the counterpart of BenchmarkReadReplyContent's
// decode, from memory.
func BenchmarkReadReplyBase64(b *testing.B) {
	data := randomBytes(6, benchSize)
	want := &flatBase64{raw: data, text: []byte(base64.StdEncoding.EncodeToString(data))}
	prefix, suffix := ContentFrame("f", GetContentKey)
	reply := []byte(prefix + string(want.text) + suffix)
	b.SetBytes(benchSize)
	for b.Loop() {
		m := newBase64Check(want, nil)
		r, err := ReadReply(bufio.NewReaderSize(bytes.NewReader(reply), ReaderSize), GetContentKey, m, nil)
		if err != nil || r.ContentBytes != benchSize || m.missing() != nil {
			b.Fatalf("ReadReply = %+v, %v, %s", r, err, m.missing())
		}
	}
}

// BenchmarkWriteBase64 writes an upload of a Base64, as filestressd's uploads
// of generated content do (Client.UploadBase64), to io.Discard.
func BenchmarkWriteBase64(b *testing.B) {
	data := randomBytes(7, benchSize)
	t := &flatBase64{raw: data, text: []byte(base64.StdEncoding.EncodeToString(data))}
	b.SetBytes(benchSize)
	for b.Loop() {
		if n, err := WriteBase64(io.Discard, t, "UPLOAD f ", Terminator, func(int64) {}); err != nil || n != benchSize {
			b.Fatalf("WriteBase64 = %d, %v", n, err)
		}
	}
}

// TestIsNoContent tells an OK reply without content, however wrapped,
// from other malformed replies.
func TestIsNoContent(t *testing.T) {
	if err := fmt.Errorf("download %q: %w", "x", NoContentError([]string{GetContentKey})); !IsNoContent(err) {
		t.Errorf("IsNoContent(%v) = false", err)
	}
	if err := malformed("no \"status\""); IsNoContent(err) {
		t.Errorf("IsNoContent(%v) = true", err)
	}
}
