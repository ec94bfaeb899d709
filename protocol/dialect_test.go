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
		pre, suf, err := tc.d.UploadFrame("a b", 5)
		if string(list) != tc.list || string(get) != tc.get || pre != tc.uploadPre || suf != tc.uploadSuf || err != nil {
			t.Errorf("%v: LIST %q, GET %q, UPLOAD %q...%q, %v", tc.d, list, get, pre, suf, err)
		}
	}
}

// TestUploadFrames checks, byte for byte, the whole request of every
// upload form (verb, layout, JSON keys) with each request end, for a
// content of 5 bytes (its base64 "aGVsbG8=" is 8 characters), and that the
// form names itself as the request_form column spells it.
func TestUploadFrames(t *testing.T) {
	const payload = "aGVsbG8=" // "hello"
	named := func(nameKey, payloadKey string) UploadForm {
		return UploadForm{Layout: LayoutJSONNamed, NameKey: nameKey, PayloadKey: payloadKey}
	}
	for _, tc := range []struct {
		d    Dialect
		name string
		want string // the request, the payload written as <b64>
		form string
	}{
		{Dialect{}, "a.bin", "UPLOAD a.bin <b64>\r\n\r\n", "UPLOAD-sameline"},
		{Dialect{Upload: UploadForm{Verb: VerbPost}}, "a.bin", "POST a.bin <b64>\r\n\r\n", "POST-sameline"},
		{Dialect{Upload: UploadForm{Verb: VerbPut, Layout: LayoutSameLine}}, "a b", "PUT \"a b\" <b64>\r\n\r\n", "PUT-sameline"},
		{Dialect{Upload: UploadForm{Layout: LayoutNextLine}}, "a.bin", "UPLOAD a.bin\r\n<b64>\r\n\r\n", "UPLOAD-nextline"},
		{Dialect{End: EndCRLF, Upload: UploadForm{Verb: VerbPost, Layout: LayoutNextLine}}, "a.bin", "POST a.bin\r\n<b64>\r\n", "POST-nextline"},
		{Dialect{End: EndLF, Upload: UploadForm{Layout: LayoutNextLine}}, "a.bin", "UPLOAD a.bin\n<b64>\n", "UPLOAD-nextline"},
		{Dialect{End: EndNone, Upload: UploadForm{Layout: LayoutNextLine}}, "a.bin", "UPLOAD a.bin\r\n<b64>", "UPLOAD-nextline"},
		{Dialect{Upload: UploadForm{Layout: LayoutLength}}, "a.bin", "UPLOAD a.bin 8 <b64>\r\n\r\n", "UPLOAD-length"},
		{Dialect{Upload: UploadForm{Verb: VerbPut, Layout: LayoutSize}}, "a.bin", "PUT a.bin 5 <b64>\r\n\r\n", "PUT-size"},
		{Dialect{End: EndLF, Upload: UploadForm{Layout: LayoutSize}}, "a b", "UPLOAD \"a b\" 5 <b64>\n", "UPLOAD-size"},
		{Dialect{Upload: UploadForm{Layout: LayoutJSONParams}}, "a.bin", `{"command": "upload", "params": ["a.bin", "<b64>"]}` + "\r\n\r\n", "UPLOAD-json-params"},
		{Dialect{Form: FormJSON}, "a.bin", `{"command": "upload", "params": ["a.bin", "<b64>"]}` + "\r\n\r\n", "UPLOAD-json-params"},
		{Dialect{Form: FormJSON, End: EndNone, Upload: UploadForm{Verb: VerbPost}}, "a b", `{"command": "post", "params": ["a b", "<b64>"]}`, "POST-json-params"},
		{Dialect{Upload: named("", "")}, "a.bin", `{"command": "upload", "filename": "a.bin", "content": "<b64>"}` + "\r\n\r\n", "UPLOAD-json-named:filename:content"},
		{Dialect{End: EndCRLF, Upload: named("namafile", "isi")}, "a.bin", `{"command": "upload", "namafile": "a.bin", "isi": "<b64>"}` + "\r\n", "UPLOAD-json-named:namafile:isi"},
		{Dialect{Form: FormJSON, Upload: UploadForm{Verb: VerbPut, Layout: LayoutJSONNamed, NameKey: "name", PayloadKey: "data"}}, "\u00e9.bin",
			`{"command": "put", "name": "\u00e9.bin", "data": "<b64>"}` + "\r\n\r\n", "PUT-json-named:name:data"},
		// A text form in a JSON dialect: the upload form is its own.
		{Dialect{Form: FormJSON, Upload: UploadForm{Layout: LayoutLength}}, "a.bin", "UPLOAD a.bin 8 <b64>\r\n\r\n", "UPLOAD-length"},
	} {
		pre, suf, err := tc.d.UploadFrame(tc.name, 5)
		if err != nil {
			t.Errorf("%s: %v", tc.form, err)
			continue
		}
		if got, want := pre+payload+suf, strings.Replace(tc.want, "<b64>", payload, 1); got != want {
			t.Errorf("%s in %v:\n got %q\nwant %q", tc.form, tc.d, got, want)
		}
		if got := tc.d.UploadForm().String(); got != tc.form {
			t.Errorf("%q: the form names itself %q, want %q", tc.want, got, tc.form)
		}
	}
}

// TestUploadFrameRefuses checks that a form writing the length refuses an
// unknown size, and that no form carries a name with a line break.
func TestUploadFrameRefuses(t *testing.T) {
	for _, l := range []UploadLayout{LayoutLength, LayoutSize} {
		if _, _, err := (Dialect{Upload: UploadForm{Layout: l}}).UploadFrame("a", -1); err == nil {
			t.Errorf("%s: an unknown size was accepted", l)
		}
	}
	for _, l := range []UploadLayout{LayoutSameLine, LayoutNextLine, LayoutLength, LayoutSize} {
		if _, _, err := (Dialect{Upload: UploadForm{Layout: l}}).UploadFrame("a\nb", 1); err == nil {
			t.Errorf("%s: a name with a line break was accepted", l)
		}
	}
}

// TestParseUploadForm checks the names the flags take, and that the
// json-named keys are those fileserverd reads.
func TestParseUploadForm(t *testing.T) {
	for _, l := range UploadLayouts() {
		if got, err := ParseUploadLayout(string(l)); got != l || err != nil {
			t.Errorf("ParseUploadLayout(%q) = %q, %v", l, got, err)
		}
	}
	if _, err := ParseUploadLayout("inline"); err == nil {
		t.Error("an unknown layout was accepted")
	}
	for in, want := range map[string]string{"upload": "UPLOAD", "Post": "POST", "PUT": "PUT"} {
		if got, err := ParseUploadVerb(in); got != want || err != nil {
			t.Errorf("ParseUploadVerb(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseUploadVerb("STORE"); err == nil {
		t.Error("an unknown verb was accepted")
	}
	for _, tc := range []struct {
		in               string
		nameKey, payload string
		ok               bool
	}{
		{"filename,content", "filename", "content", true},
		{"namafile,isi", "namafile", "isi", true},
		{"name,data", "name", "data", true},
		{"file,content", "", "", false},
		{"filename,base64", "", "", false},
		{"filename", "", "", false},
		{"filename,content,x", "", "", false},
	} {
		n, p, err := ParseUploadKeys(tc.in)
		if (err == nil) != tc.ok || n != tc.nameKey || p != tc.payload {
			t.Errorf("ParseUploadKeys(%q) = %q, %q, %v", tc.in, n, p, err)
		}
	}
	if UploadNameKeys()[0] != "filename" || UploadPayloadKeys()[0] != "content" {
		t.Errorf("default keys %q, %q", UploadNameKeys()[0], UploadPayloadKeys()[0])
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
	addr := reuseServer(t, func(_ int, c net.Conn) {
		if _, err := readUntilTerminator(bufio.NewReader(c)); err == nil {
			io.WriteString(c, `{"status": "OK", "data": ["a"]}`+Terminator)
		}
	})
	c := dialWith(t, addr, Options{Reconnect: true})
	for i := range 5 {
		if names, err := c.List(testCtx(t)); err != nil || len(names) != 1 {
			t.Fatalf("request %d: %q, %v", i, names, err)
		}
	}
}
