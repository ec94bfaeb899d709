package protocol

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// TestAppendEncode checks appendEncode against the standard encoder for
// every length up to 100 and some large ones, after a prefix.
func TestAppendEncode(t *testing.T) {
	lengths := []int{ChunkSize, ChunkSize - 1, ChunkSize + 5, 1 << 20}
	for n := range 100 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		src := randomBytes(4, n)
		got := appendEncode([]byte("prefix"), src)
		want := base64.StdEncoding.AppendEncode([]byte("prefix"), src)
		if !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: got %.40q..., want %.40q...", n, got, want)
		}
	}
}

func FuzzAppendEncode(f *testing.F) {
	f.Add([]byte("any bytes at all"))
	f.Fuzz(func(t *testing.T, src []byte) {
		if got, want := appendEncode(nil, src), base64.StdEncoding.AppendEncode(nil, src); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q, want %q", src, got, want)
		}
	})
}

func BenchmarkAppendEncode(b *testing.B) {
	src := randomBytes(5, ChunkSize)
	dst := make([]byte, 0, EncodedChunkSize)
	for _, impl := range []struct {
		name string
		fn   func(dst, src []byte) []byte
	}{{"std", base64.StdEncoding.AppendEncode}, {"fast", appendEncode}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				dst = impl.fn(dst[:0], src)
			}
		})
	}
}

// TestDecode checks decode against the standard decoder: valid text of
// every length up to 100, with padding, line breaks and bad characters
// placed anywhere, results and error offsets alike.
func TestDecode(t *testing.T) {
	check := func(src []byte) {
		t.Helper()
		got, want := make([]byte, len(src)), make([]byte, len(src))
		gn, gerr := decode(got, src)
		wn, werr := base64.StdEncoding.Decode(want, src)
		if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Fatalf("%q: got %d %v, want %d %v", src, gn, gerr, wn, werr)
		}
	}
	for n := range 100 {
		raw := randomBytes(4, n)
		text := []byte(base64.StdEncoding.EncodeToString(raw))
		check(text)
		for _, c := range []byte("\n\r=*-_ \x00\xff") {
			for at := 0; at < len(text); at += 1 + len(text)/7 {
				check(append(append(append([]byte{}, text[:at]...), c), text[at:]...))
			}
		}
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("QUJDREVGR0hJSktM\nTU5PUA=="))
	f.Fuzz(func(t *testing.T, src []byte) {
		got, want := make([]byte, len(src)), make([]byte, len(src))
		gn, gerr := decode(got, src)
		wn, werr := base64.StdEncoding.Decode(want, src)
		if gn != wn || !bytes.Equal(got[:gn], want[:wn]) || (gerr == nil) != (werr == nil) || (gerr != nil && gerr.Error() != werr.Error()) {
			t.Fatalf("%q: got %d %v, want %d %v", src, gn, gerr, wn, werr)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	raw := randomBytes(5, ChunkSize)
	src := []byte(base64.StdEncoding.EncodeToString(raw))
	dst := make([]byte, ChunkSize)
	for _, impl := range []struct {
		name string
		fn   func(dst, src []byte) (int, error)
	}{{"std", base64.StdEncoding.Decode}, {"fast", decode}} {
		b.Run(impl.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			for b.Loop() {
				impl.fn(dst, src)
			}
		})
	}
}
