package protocol

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

// fixedBase64 is a Base64Matcher of one expected text.
type fixedBase64 struct {
	want    string
	at      int
	decoded []byte // what arrived through Write
}

var errDiffers = errors.New("differs")

func (f *fixedBase64) MatchBase64(p []byte) int {
	n := 0
	for n < len(p) && f.at < len(f.want) && p[n] == f.want[f.at] {
		n++
		f.at++
	}
	return n
}

func (f *fixedBase64) Mismatch(text []byte) error { return errDiffers }
func (f *fixedBase64) Decoded() int64             { return int64(f.at / 4 * 3) }
func (f *fixedBase64) Write(p []byte) (int, error) {
	f.decoded = append(f.decoded, p...)
	return len(p), nil
}

// TestBase64MatcherGetsBase64 checks that a reply's streamed content reaches
// a Base64Matcher as its base64 text, escapes undone and line breaks left
// out, that the matcher's error stops the reply, that a string ending
// early is the matcher's to judge, and that content kept before "status"
// still arrives decoded.
func TestBase64MatcherGetsBase64(t *testing.T) {
	const text = "QUJD/+9hYmNk"
	cases := []struct {
		name, content string
		err           error
		at            int // characters matched
	}{
		{"plain", text, nil, 12},
		{"escapes and breaks", `QUJD\/+9h\nYm\r\nNk`, nil, 12},
		{"unicode escapes", `QUJD\u002f+9hYmNk\u000a`, nil, 12},
		{"raw breaks", "QUJD\r\n/+9h\nYmNk\n", nil, 12},
		{"short", "QUJD", nil, 4},
		{"differs", "QUJE/+9hYmNk", errDiffers, 3},
		{"escaped quote", `QUJD\"`, errDiffers, 4},
		{"too long", text + "QUJD", errDiffers, 12},
	}
	for _, c := range cases {
		m := &fixedBase64{want: text}
		reply := `{"status": "OK", "data_namafile": "x", "data_file": "` + c.content + `"}` + Terminator
		r, err := ReadReply(bufio.NewReader(strings.NewReader(reply)), GetContentKey, m, NewBuffers())
		if !errors.Is(err, c.err) || m.at != c.at {
			t.Errorf("%s: %v, %d characters matched; want %v, %d", c.name, err, m.at, c.err, c.at)
		}
		if err == nil && (!r.HasContent || r.ContentBytes != int64(c.at/4*3)) {
			t.Errorf("%s: content %v, %d bytes", c.name, r.HasContent, r.ContentBytes)
		}
	}
	m := &fixedBase64{want: text}
	_, err := ReadReply(bufio.NewReader(strings.NewReader(`{"status": "OK", "data_file": "QUJD`)), GetContentKey, m, NewBuffers())
	var re *ReplyError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "ended inside the content") {
		t.Errorf("a reply cut inside the content: %v", err)
	}
	m = &fixedBase64{want: text}
	_, err = ReadReply(bufio.NewReader(strings.NewReader("{\"status\": \"OK\", \"data_file\": \"QU\tJD\"}"+Terminator)), GetContentKey, m, NewBuffers())
	if !errors.Is(err, errDiffers) {
		t.Errorf("a tab inside the content: %v", err)
	}
	m = &fixedBase64{want: text}
	_, err = ReadReply(bufio.NewReader(strings.NewReader(`{"status": "OK", "data_file": "QU\x4a\qD"}`+Terminator)), GetContentKey, m, NewBuffers())
	if !errors.As(err, &re) {
		t.Errorf("a bad escape inside the content: %v", err)
	}
	m = &fixedBase64{want: text}
	r, err := ReadReply(bufio.NewReader(strings.NewReader(`{"data_file": "QUJD", "status": "OK"}`+Terminator)), GetContentKey, m, NewBuffers())
	if err != nil || !r.HasContent || string(m.decoded) != "ABC" || m.at != 0 {
		t.Errorf("content before status: %v, decoded %q, %d characters matched", err, m.decoded, m.at)
	}
}
