package protocol

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// everyUploadForm is each verb and layout an upload can be written in,
// json-named with its default keys and with other keys fileserverd reads.
func everyUploadForm() []UploadForm {
	var forms []UploadForm
	for _, verb := range UploadVerbs() {
		for _, l := range UploadLayouts() {
			forms = append(forms, UploadForm{Verb: verb, Layout: l})
		}
	}
	return append(forms, UploadForm{Layout: LayoutJSONNamed, NameKey: "namafile", PayloadKey: "isi"},
		UploadForm{Layout: LayoutJSONNamed, NameKey: "name", PayloadKey: "file_data"})
}

// captureOne reads exactly want bytes of the connection it gets, answers
// OK without a digest, and sends what it read on the channel.
func captureOne(t *testing.T, want int) (addr string, got <-chan []byte) {
	t.Helper()
	ch := make(chan []byte, 1)
	addr = reuseServer(t, func(_ int, c net.Conn) {
		b := make([]byte, want)
		n, _ := io.ReadFull(c, b)
		io.WriteString(c, `{"status": "OK", "data": "upload berhasil"}`+Terminator)
		ch <- b[:n]
	})
	return addr, ch
}

// TestClientUploadForms sends content of several sizes (across the
// encoder's chunks) in every upload form, through Upload where the form
// needs no length, UploadSized and UploadBase64, and checks the bytes on
// the wire against the form's frame around the content's base64, then
// reads them back with this package's own request reader (fileserverd's)
// and compares what it decodes with the content.
func TestClientUploadForms(t *testing.T) {
	t.Parallel()
	for _, size := range []int{1, 50, ChunkSize + 1} {
		data := randomBytes(uint64(size), size)
		for _, u := range everyUploadForm() {
			for _, way := range []string{"Upload", "UploadSized", "UploadBase64"} {
				if way == "Upload" && (u.Layout == LayoutLength || u.Layout == LayoutSize) {
					continue
				}
				d := Dialect{Upload: u}
				prefix, suffix, err := d.UploadFrame("up.bin", int64(size))
				if err != nil {
					t.Fatal(err)
				}
				want := prefix + base64.StdEncoding.EncodeToString(data) + suffix
				addr, got := captureOne(t, len(want))
				c := dialWith(t, addr, Options{Dialect: d})
				switch way {
				case "Upload":
					_, err = c.Upload(testCtx(t), "up.bin", bytes.NewReader(data))
				case "UploadSized":
					_, err = c.UploadSized(testCtx(t), "up.bin", bytes.NewReader(data), int64(size))
				case "UploadBase64":
					_, err = c.UploadBase64(testCtx(t), "up.bin", newPieceBase64(data), "")
				}
				c.Close()
				if !errors.Is(err, ErrNoDigest) {
					t.Errorf("%s %s, %d bytes: %v, want ErrNoDigest", way, u, size, err)
				}
				wire := <-got
				if string(wire) != want {
					t.Fatalf("%s %s, %d bytes: the wire differs from the frame:\n got %.120q\nwant %.120q", way, u, size, wire, want)
				}
				checkReadBack(t, u, wire, data)
			}
		}
	}
}

// checkReadBack reads an upload request with RequestReader, as
// fileserverd does, and checks its name and content.
func checkReadBack(t *testing.T, u UploadForm, wire, data []byte) {
	t.Helper()
	rr := NewRequestReader(bufio.NewReaderSize(bytes.NewReader(wire), ReaderSize))
	req, err := rr.Read()
	if err != nil || req.Command != "UPLOAD" || !req.HasPayload {
		t.Fatalf("%s: read as %+v, %v", u, req, err)
	}
	var out bytes.Buffer
	if _, err := rr.ReadPayload(req, &out, NewBuffers(), 1<<30); err != nil {
		t.Fatalf("%s: payload: %v", u, err)
	}
	if len(req.Args) == 0 || req.Args[0] != "up.bin" || !bytes.Equal(out.Bytes(), data) {
		t.Fatalf("%s: read back %q with %d bytes, want up.bin with %d", u, req.Args, out.Len(), len(data))
	}
	if (u.Layout == LayoutLength || u.Layout == LayoutSize) != (req.Length >= 0) {
		t.Errorf("%s: read a length of %d", u, req.Length)
	}
}

// TestClientUploadSizedShort checks that content ending before its
// announced size fails at once, without the suffix that would let a
// server take the request as whole (the connection is closed instead,
// so it never waits for a reply), and that Upload refuses a form that
// needs the size before sending anything.
func TestClientUploadSizedShort(t *testing.T) {
	t.Parallel()
	d := Dialect{Upload: UploadForm{Layout: LayoutLength}}
	got := make(chan string, 1)
	addr := reuseServer(t, func(_ int, c net.Conn) {
		b, _ := io.ReadAll(c) // until the client closes: no reply
		got <- string(b)
	})
	c := dialWith(t, addr, Options{Dialect: d})
	start := time.Now()
	_, err := c.UploadSized(testCtx(t), "s.bin", strings.NewReader("abc"), 6)
	if !errors.Is(err, errShortContent) || time.Since(start) > 10*time.Second {
		t.Errorf("short content: %v after %s, want errShortContent at once", err, time.Since(start))
	}
	c.Close()
	// What went is at most the head and the content read (here nothing:
	// it fits in the first write, which the error cut), never the end.
	if wire := <-got; !strings.HasPrefix("UPLOAD s.bin 8 YWJj", wire) {
		t.Errorf("the wire holds %q, want at most the head and the content read, no end", wire)
	}
	if _, err := c.Upload(testCtx(t), "s.bin", strings.NewReader("abc")); err == nil || !strings.Contains(err.Error(), "not known") {
		t.Errorf("Upload in a form that needs the size: %v", err)
	}
}
