package stress

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"fileserver/protocol"
)

// contentSizes are sizes around every edge of the content's layout: the
// header, base64 quanta, and periods.
var contentSizes = []int64{0, 1, 2, 3, 4, 22, 23, 24, 25, 26, 27, 100,
	periodSize - 1, periodSize, periodSize + 1, periodSize + 2, periodSize + 23, periodSize + 24, periodSize + 25,
	2*periodSize + 2, 3 * periodSize}

// rawContent is the content's bytes, read in pieces of odd sizes.
func rawContent(t *testing.T, size int64, tag uint64) []byte {
	t.Helper()
	var b bytes.Buffer
	buf := make([]byte, 7919)
	if _, err := io.CopyBuffer(&b, newContent(size, tag).reader(), buf); err != nil {
		t.Fatal(err)
	}
	if int64(b.Len()) != size {
		t.Fatalf("content of %d bytes, want %d", b.Len(), size)
	}
	return b.Bytes()
}

// TestContentText checks that the text pieced together from the shared
// base, patched headers and the last quantum is the base64 of the
// content's bytes, for every size around the edges, and that reading the
// bytes in other pieces gives the same bytes.
func TestContentText(t *testing.T) {
	for _, size := range contentSizes {
		for _, tag := range []uint64{contentSeed, 7} {
			raw := rawContent(t, size, tag)
			all := make([]byte, size)
			if _, err := io.ReadFull(newContent(size, tag).reader(), all); err != nil || !bytes.Equal(all, raw) {
				t.Fatalf("size %d: reading at once differs from reading in pieces (%v)", size, err)
			}
			want := base64.StdEncoding.EncodeToString(raw)
			c := newContent(size, tag)
			var got strings.Builder
			for at := int64(0); at < c.chars; {
				p := c.Base64At(at)
				if len(p) == 0 {
					t.Fatalf("size %d: empty piece at %d", size, at)
				}
				got.Write(p)
				at += int64(len(p))
			}
			if got.String() != want {
				t.Fatalf("size %d tag %d: the text pieced together differs from the base64 of the bytes (%d and %d characters)", size, tag, got.Len(), len(want))
			}
			if c.chars != protocol.Base64Len(size) {
				t.Errorf("size %d: %d characters, protocol.Base64Len says %d", size, c.chars, protocol.Base64Len(size))
			}
		}
	}
}

// TestBaseGrows checks that a base period made for a small content is
// the start of the whole one, bytes and text.
func TestBaseGrows(t *testing.T) {
	whole := baseFor(periodSize)
	bases.Lock()
	bases.b = nil
	bases.Unlock()
	small := baseFor(1000)
	if len(small.raw) != 1002 || len(small.text) != 1336 {
		t.Fatalf("the base for 1000 bytes has %d bytes, %d characters; want 1002, 1336", len(small.raw), len(small.text))
	}
	grown := baseFor(periodSize + 1)
	if !bytes.Equal(small.raw, grown.raw[:1002]) || !bytes.Equal(small.text, grown.text[:1336]) || !bytes.Equal(grown.raw, whole.raw) || !bytes.Equal(grown.text, whole.text) {
		t.Error("a base made small differs from the start of the whole one")
	}
}

// TestContentPeriods checks the layout: every period is the base period
// under a header that holds its index, the content's size, and in the
// last period only the content's tag; so no two periods of a content are
// alike, contents of two tags differ only in their last period, and
// contents of two sizes from their first header on.
func TestContentPeriods(t *testing.T) {
	const size = 3*periodSize + 100
	raw := rawContent(t, size, 7)
	seen := map[string]int64{}
	for k := int64(0); k < 4; k++ {
		p := raw[k*periodSize : min(size, (k+1)*periodSize)]
		if i := binary.LittleEndian.Uint64(p[0:]); i != uint64(k) {
			t.Errorf("period %d holds index %d", k, i)
		}
		tag := binary.LittleEndian.Uint64(p[8:])
		if (k == 3) != (tag == 7) || (k < 3 && tag != 0) {
			t.Errorf("period %d holds tag %d", k, tag)
		}
		if s := binary.LittleEndian.Uint64(p[16:]); s != size {
			t.Errorf("period %d holds size %d", k, s)
		}
		if !bytes.Equal(p[headerSize:], baseFor(periodSize).raw[headerSize:len(p)]) {
			t.Errorf("period %d is not the base period after its header", k)
		}
		if prev, dup := seen[string(p[:min(len(p), 4096)])]; dup {
			t.Errorf("period %d starts like period %d", k, prev)
		}
		seen[string(p[:min(len(p), 4096)])] = k
	}
	other := rawContent(t, size, 8)
	if i := firstDiff(raw, other); i != 3*periodSize+8 {
		t.Errorf("contents of two tags differ from byte %d on, want %d (the last period's tag)", i, 3*periodSize+8)
	}
	longer := rawContent(t, size+1, 7)
	if i := firstDiff(raw, longer); i != 16 {
		t.Errorf("contents of two sizes differ from byte %d on, want 16 (the first header's size)", i)
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestExpectedSHA256 checks the SHA-256 computed from the periods, with
// and without the shared prefix cached, against a hash of the bytes, and
// that stop cuts it short.
func TestExpectedSHA256(t *testing.T) {
	never := func() error { return nil }
	for _, size := range contentSizes {
		for _, tag := range []uint64{contentSeed, 7, 8} { // the first computes the prefix, the others reuse it
			want := sha256.Sum256(rawContent(t, size, tag))
			got, err := expectedSHA256(size, tag, never)
			if err != nil || !bytes.Equal(got, want[:]) {
				t.Fatalf("size %d tag %d: %x, %v; want %x", size, tag, got, err, want)
			}
		}
	}
	stop := errors.New("stop")
	if _, err := expectedSHA256(5*periodSize+1, 1, func() error { return stop }); err != stop {
		t.Errorf("a stopped hash returned %v, want the stop error", err)
	}
}

// TestUploadBase64 checks that generated content, as a protocol.Base64,
// goes out as the request's prefix, the content's base64 and the suffix
// (protocol.WriteBase64, which Client.UploadBase64 uses), counting the bytes
// sent, and that a failed write returns what went.
func TestUploadBase64(t *testing.T) {
	for _, size := range []int64{0, 1, 25, periodSize + 2, 3*periodSize + 100} {
		var out bytes.Buffer
		var moved atomic.Int64
		c := newContent(size, 9)
		sent, err := protocol.WriteBase64(&out, c, "UPLOAD x ", "\r\n\r\n", func(n int64) { moved.Add(n) })
		want := "UPLOAD x " + base64.StdEncoding.EncodeToString(rawContent(t, size, 9)) + "\r\n\r\n"
		if err != nil || sent != size || moved.Load() != size || out.String() != want {
			t.Errorf("size %d: sent %d, moved %d, %v; wrote %d bytes, want %d as base64 would",
				size, sent, moved.Load(), err, out.Len(), len(want))
		}
	}
	w := &failAfter{n: 100_000}
	sent, err := protocol.WriteBase64(w, newContent(periodSize, 9), "UPLOAD x ", "\r\n\r\n", nil)
	if err == nil || sent > (100_000-9)/4*3 || sent < (100_000-9)/4*3-3 {
		t.Errorf("a write failing after 100,000 bytes: sent %d, %v", sent, err)
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errors.New("broken")
	}
	w.n -= len(p)
	return len(p), nil
}
