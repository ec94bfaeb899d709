package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"
)

// Run longer with
//
//	go test -run='^$' -fuzz=FuzzReadRequest -fuzztime=60s ./protocol
//	go test -run='^$' -fuzz='^FuzzReadReply$' -fuzztime=60s ./protocol

// fuzzBufs is shared by the runs of a fuzz target, which a process makes
// one after the other, as a connection shares one Buffers between its
// requests; allocating it for every run would make fuzzing crawl.
var fuzzBufs = NewBuffers()

func FuzzReadRequest(f *testing.F) {
	for _, tc := range requestCases {
		if len(tc.in) < 512 {
			f.Add([]byte(tc.in+nextReq), uint8(0))
		}
	}
	f.Add([]byte("UPLOAD a QUJD\r\n\r\nUPLOAD b QQ==QUJD\r\n\r\nLIST\r\n\r\n"), uint8(1))
	f.Add([]byte("UPLOAD a QUJ\r\n\r\nUPLOAD b \r\n\r\nGET \"a b\"\r\n\r\n"), uint8(2))
	f.Add([]byte("UPLOAD a QU\nJD\r\n\r\nUPLOAD b QUJD\r\r\n\r\nSTATS\r\n\r\n"), uint8(3))
	f.Add([]byte("list\nGET a\nPOST b 3 QUJD\n\nput c\r\nQU\nJD\n\n"), uint8(4))
	f.Add([]byte(`{"command": "upload", "params": ["a", "QU\/J\nD"]}{"data": "QUJD", "name": "b", "cmd": "PUT"}{"command": "list"}`), uint8(5))
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		// split picks how reads are cut: whole, or pieces of 1..255 bytes.
		var src io.Reader = bytes.NewReader(data)
		size := 4096
		if split > 0 {
			src = &chunkReader{data, int(split)}
			size = 16
		}
		cr := &countingReader{r: src}
		br := bufio.NewReaderSize(cr, size)
		rr := NewRequestReader(br)
		bufs := fuzzBufs
		const limit = 1 << 20
		for i := 0; ; i++ {
			if i > len(data)+1 {
				t.Fatalf("%d requests out of %d bytes", i, len(data))
			}
			before := cr.n - int64(br.Buffered())
			req, err := rr.Read()
			used := cr.n - int64(br.Buffered()) - before
			if used > MaxHeadLen {
				t.Fatalf("Read consumed %d bytes, more than MaxHeadLen", used)
			}
			if err == io.EOF {
				if br.Buffered() != 0 {
					t.Fatalf("io.EOF with input left")
				}
				return
			}
			if err != nil {
				if req != nil {
					t.Fatalf("Read returned %+v with error %v", req, err)
				}
				re, ok := IsRequestError(err)
				if !ok {
					t.Fatalf("Read on a bytes.Reader: %v, not a RequestError", err)
				}
				if !re.Terminated && rr.Skip(limit) != nil {
					return
				}
				continue
			}
			if used == 0 {
				t.Fatal("Read succeeded without reading")
			}
			if _, _, ok := lookupCommand(req.Command); !ok && !(req.JSON && req.HasPayload && req.Command == "") {
				t.Fatalf("Command %q", req.Command)
			}
			for _, a := range req.Args {
				if a == "" && !req.JSON || !req.JSON && strings.ContainsAny(a, "\r\n") {
					t.Fatalf("argument %q", a)
				}
			}
			if !req.JSON && (req.HasPayload != (req.Command == "UPLOAD") || (req.HasPayload && len(req.Args) != 1)) {
				t.Fatalf("request %+v", req)
			}
			if req.HasPayload {
				n, err := rr.ReadPayload(req, io.Discard, bufs, limit)
				if n < 0 || n > limit {
					t.Fatalf("ReadPayload returned %d with limit %d", n, limit)
				}
				if err != nil {
					if re, ok := IsRequestError(err); ok && re.Terminated {
						continue
					}
					if rr.Skip(limit) != nil {
						return
					}
					continue
				}
				if _, _, ok := lookupCommand(req.Command); !ok {
					t.Fatalf("a request read whole with Command %q", req.Command)
				}
				continue
			}
			if req.JSON {
				continue
			}
			// What Read reads, AppendRequest writes back, and that
			// reads the same.
			if b, err := AppendRequest(nil, req.Command, req.Args...); err == nil && len(b) <= MaxHeadLen {
				again, err := NewRequestReader(bufio.NewReader(bytes.NewReader(b))).Read()
				if err != nil || again.Command != req.Command || strings.Join(again.Args, "\x00") != strings.Join(req.Args, "\x00") {
					t.Fatalf("%+v written as %q reads back as %+v, %v", req, b, again, err)
				}
			}
		}
	})
}

func FuzzReadReply(f *testing.F) {
	for _, tc := range goldenCases() {
		f.Add(tc.got, false)
	}
	f.Add(frame("f", GetContentKey, []byte("some content")), false)
	f.Add(frame("f", DownloadContentKey, []byte("other")), true)
	f.Add([]byte(`{"status": "OK", "data_file": "Q\/J\u0044"}`+Terminator), false)
	f.Add([]byte(`{ "status" : "OK" , "data_file" : "QUJD" , "x": [1, {"y": "}"}] }`+Terminator), false)
	f.Add([]byte(`{"data_file": "QUJD", "status": "OK"}`+Terminator), false)
	f.Add([]byte(`{"status": "ERROR", "data": "QUJD"}`+Terminator), true)
	f.Fuzz(func(t *testing.T, data []byte, download bool) {
		key := GetContentKey
		if download {
			key = DownloadContentKey
		}
		for _, withContent := range []bool{false, true} {
			br := bufio.NewReaderSize(bytes.NewReader(data), 16)
			var buf bytes.Buffer
			var w io.Writer
			if withContent {
				w = &buf
			}
			r, err := ReadReply(br, key, w, fuzzBufs)
			if r != nil && r.ContentBytes != int64(buf.Len()) {
				t.Fatalf("ContentBytes %d, %d bytes written", r.ContentBytes, buf.Len())
			}
			if err != nil {
				continue
			}
			if r.Status == "" {
				t.Fatal("a reply without status accepted")
			}
			if r.Status != StatusOK && (r.HasContent || buf.Len() > 0) {
				t.Fatalf("content streamed from a %q reply", r.Status)
			}
			for k, v := range r.Fields {
				if !json.Valid(v) {
					t.Fatalf("field %q holds invalid JSON %q", k, v)
				}
			}
			_ = r.Err()
		}
	})
}
