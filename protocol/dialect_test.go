package protocol

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
)

// TestDialectRequests checks the bytes of requests in each form and end.
func TestDialectRequests(t *testing.T) {
	for _, tc := range []struct {
		d                    Dialect
		list, get            string
		uploadPre, uploadSuf string
	}{
		{Dialect{}, "LIST\r\n\r\n", "GET \"a b\"\r\n\r\n", "UPLOAD \"a b\" ", "\r\n\r\n"},
		{Dialect{End: EndCRLF}, "LIST\r\n", "GET \"a b\"\r\n", "UPLOAD \"a b\" ", "\r\n"},
		{Dialect{End: EndLF}, "LIST\n", "GET \"a b\"\n", "UPLOAD \"a b\" ", "\n"},
		{Dialect{Form: FormJSON, End: EndNone}, `{"command": "list", "params": []}`, `{"command": "get", "params": ["a b"]}`,
			`{"command": "upload", "params": ["a b", "`, `"]}`},
	} {
		list, _ := tc.d.AppendRequest(nil, "LIST")
		get, _ := tc.d.AppendRequest(nil, "GET", "a b")
		pre, suf, err := tc.d.UploadFrame("a b")
		if string(list) != tc.list || string(get) != tc.get || pre != tc.uploadPre || suf != tc.uploadSuf || err != nil {
			t.Errorf("%v: LIST %q, GET %q, UPLOAD %q...%q, %v", tc.d, list, get, pre, suf, err)
		}
	}
}

// TestReadReplyKeys finds content under the key the reply carries,
// skipping a message under "data" beside it, even one that is valid
// base64, before or after it, the content short or long.
func TestReadReplyKeys(t *testing.T) {
	small := b64.EncodeToString([]byte("hello"))
	big := b64.EncodeToString(bytes.Repeat([]byte("x"), ReaderSize))
	for _, tc := range []struct{ reply, want, key string }{
		{`{"status": "OK", "data_file": "` + small + `"}`, "hello", "data_file"},
		{`{"status": "OK", "data": "` + small + `"}`, "hello", "data"},
		{`{"status": "OK", "data": "file ditemukan", "file_data": "` + small + `"}`, "hello", "file_data"},
		{`{"status": "OK", "data": "file ditemukan", "file_data": "` + big + `"}`, strings.Repeat("x", ReaderSize), "file_data"},
		// A message that is valid base64 is still a message beside file_data.
		{`{"status": "OK", "data": "berhasil", "file_data": "` + small + `"}`, "hello", "file_data"},
		{`{"status": "OK", "file_data": "` + small + `", "data": "berhasil"}`, "hello", "file_data"},
		{`{"status": "OK", "data": "berhasil", "file_data": "` + big + `"}`, strings.Repeat("x", ReaderSize), "file_data"},
	} {
		var out bytes.Buffer
		r, err := ReadReplyKeys(bufio.NewReaderSize(strings.NewReader(tc.reply+Terminator), ReaderSize), ContentKeys(), &out, NewBuffers())
		if err != nil || out.String() != tc.want || r.ContentKey != tc.key {
			t.Errorf("%.60s: content %.20q under %q, %v; want %.20q under %q", tc.reply, out.String(), r.ContentKey, err, tc.want, tc.key)
		}
	}
}

// TestClientReconnects runs several requests through a Client with
// Reconnect against a server that closes the connection after every reply.
func TestClientReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			br := bufio.NewReader(c)
			if _, err := readUntilTerminator(br); err == nil {
				io.WriteString(c, `{"status": "OK", "data": ["a"]}`+Terminator)
			}
			c.Close()
		}
	}()
	c, err := DialWith(testCtx(t), ln.Addr().String(), Options{Reconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := range 5 {
		if names, err := c.List(testCtx(t)); err != nil || len(names) != 1 {
			t.Fatalf("request %d: %q, %v", i, names, err)
		}
	}
}
