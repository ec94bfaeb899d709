package protocol

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer is a file server written for the tests without this
// package's server side: it splits requests at CRLF CRLF itself, decodes
// uploads with encoding/base64 and writes canned replies laid out as
// Python's json.dumps lays them out.
type fakeServer struct {
	t     *testing.T
	ln    net.Listener
	mu    sync.Mutex
	files map[string][]byte
	heads []string // every request received, payload cut to 20 bytes
	// badSHA and badSize make UPLOAD replies lie about what was stored.
	badSHA, badSize bool
	// silent makes the server read requests and never answer.
	silent bool
	// received gets every request head as it arrives, when not nil.
	received chan string
	// reply, when set, answers every request instead of the normal logic.
	reply func(head string) string
}

func startFakeServer(t *testing.T, configure func(*fakeServer)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{t: t, ln: ln, files: map[string][]byte{}}
	if configure != nil {
		configure(s)
	}
	var wg sync.WaitGroup
	var cmu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		cmu.Lock()
		for _, c := range conns {
			c.Close()
		}
		cmu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			cmu.Lock()
			conns = append(conns, c)
			cmu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				s.serve(c)
			}()
		}
	}()
	return s
}

func (s *fakeServer) addr() string { return s.ln.Addr().String() }

func (s *fakeServer) serve(c net.Conn) {
	br := bufio.NewReader(c)
	for {
		req, err := readUntilTerminator(br)
		if err != nil {
			return
		}
		head := req
		if len(head) > 40 {
			head = head[:40]
		}
		s.mu.Lock()
		s.heads = append(s.heads, head)
		s.mu.Unlock()
		if s.received != nil {
			s.received <- head
		}
		if s.silent {
			continue
		}
		var reply string
		if s.reply != nil {
			reply = s.reply(req)
		} else {
			reply = s.answer(req)
		}
		if _, err := io.WriteString(c, reply+"\r\n\r\n"); err != nil {
			return
		}
	}
}

// readUntilTerminator returns a request without its CRLF CRLF.
func readUntilTerminator(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for {
		line, err := br.ReadString('\n')
		sb.WriteString(line)
		if err != nil {
			return "", err
		}
		if s := sb.String(); strings.HasSuffix(s, "\r\n\r\n") {
			return strings.TrimSuffix(s, "\r\n\r\n"), nil
		}
	}
}

// jstr writes s as a JSON string the way json.dumps does (ensure_ascii),
// with encoding/json and a small rewrite, independent of AppendString.
func jstr(s string) string {
	b, _ := json.Marshal(s)
	var sb strings.Builder
	for _, r := range string(b) {
		switch {
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&sb, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		case r > 0x7e:
			fmt.Fprintf(&sb, `\u%04x`, r)
		default:
			sb.WriteRune(r)
		}
	}
	// encoding/json escapes <, > and & for HTML; json.dumps does not.
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(sb.String())
}

func errReply(reason string) string { return `{"status": "ERROR", "data": ` + jstr(reason) + `}` }

// splitName splits "name rest" or `"a name" rest` after a command.
func splitName(s string) (name, rest string, hasRest bool) {
	if strings.HasPrefix(s, `"`) {
		end := strings.IndexByte(s[1:], '"')
		if end < 0 {
			return "", "", false
		}
		name, rest = s[1:1+end], s[2+end:]
		if rest == "" {
			return name, "", false
		}
		return name, strings.TrimPrefix(rest, " "), true
	}
	name, rest, hasRest = strings.Cut(s, " ")
	return name, rest, hasRest
}

func (s *fakeServer) answer(req string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd, args, _ := strings.Cut(req, " ")
	switch strings.ToUpper(cmd) {
	case "LIST":
		names := make([]string, 0, len(s.files))
		for n := range s.files {
			names = append(names, jstr(n))
		}
		return `{"status": "OK", "data": [` + strings.Join(names, ", ") + `]}`
	case "GET", "DOWNLOAD":
		name, _, _ := splitName(args)
		data, ok := s.files[name]
		if !ok {
			return errReply(fmt.Sprintf("get: file %q not found", name))
		}
		key := "data_file"
		if strings.ToUpper(cmd) == "DOWNLOAD" {
			key = "data"
		}
		return `{"status": "OK", "data_namafile": ` + jstr(name) + `, "` + key + `": "` + base64.StdEncoding.EncodeToString(data) + `"}`
	case "UPLOAD":
		name, b64, ok := splitName(args)
		if !ok {
			return errReply("UPLOAD needs a name and content")
		}
		data, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return errReply("bad base64: " + err.Error())
		}
		s.files[name] = data
		sum := sha256.Sum256(data)
		if s.badSHA {
			sum[0] ^= 1
		}
		size := len(data)
		if s.badSize {
			size++
		}
		return fmt.Sprintf(`{"status": "OK", "data": %s, "size": %d, "sha256": "%s"}`,
			jstr(fmt.Sprintf("stored %s (%d bytes)", name, len(data))), size, hex.EncodeToString(sum[:]))
	case "DELETE":
		name, _, _ := splitName(args)
		if _, ok := s.files[name]; !ok {
			return errReply(fmt.Sprintf("delete: file %q not found", name))
		}
		delete(s.files, name)
		return `{"status": "OK", "data": ` + jstr("deleted "+name) + `}`
	case "STATS":
		return `{"status": "OK", "data": {"mode": "process", "workers": 3, "pid": 4242, "started": "2024-05-01T10:00:00+07:00", ` +
			`"uptime_s": 61, "active_connections": 1, "connections": 9, "bytes_in": 1000, "bytes_out": 2000, "worker_restarts": 1, ` +
			`"requests": {"list": {"ok": 2, "failed": 0}, "get": {"ok": 3, "failed": 1}, "upload": {"ok": 1, "failed": 0}, ` +
			`"delete": {"ok": 0, "failed": 0}, "stats": {"ok": 1, "failed": 0}, "other": {"ok": 0, "failed": 4}}}}`
	}
	return errReply("unknown command " + cmd)
}

func (s *fakeServer) lastHead() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.heads) == 0 {
		return ""
	}
	return s.heads[len(s.heads)-1]
}

func dial(t *testing.T, s *fakeServer) *Client { return dialWith(t, s.addr(), Options{}) }

// dialWith dials addr as opts say; t.Cleanup closes the client.
func dialWith(t *testing.T, addr string, opts Options) *Client {
	t.Helper()
	c, err := DialWith(testCtx(t), addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientRoundTrip(t *testing.T) {
	t.Parallel()
	s := startFakeServer(t, nil)
	c := dial(t, s)
	ctx := testCtx(t)

	if names, err := c.List(ctx); err != nil || len(names) != 0 {
		t.Fatalf("List on an empty server = %q, %v", names, err)
	}
	files := map[string][]byte{
		"a b.txt":   randomBytes(1, 300<<10+1),
		"café😀.bin": []byte("small"),
		"empty":     nil,
		"chunk":     randomBytes(2, ChunkSize),
	}
	for name, data := range files {
		res, err := c.Upload(ctx, name, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Upload(%q): %v", name, err)
		}
		if res.Sent != int64(len(data)) || res.Stored != res.Sent || res.SentSHA256 != sha256Hex(data) || res.StoredSHA256 != res.SentSHA256 {
			t.Fatalf("Upload(%q) = %+v", name, res)
		}
		q := name
		if strings.Contains(name, " ") {
			q = `"` + name + `"`
		}
		if want := "UPLOAD " + q + " "; !strings.HasPrefix(s.lastHead(), want) {
			t.Errorf("Upload(%q) sent %q, want it to start with %q", name, s.lastHead(), want)
		}
	}
	names, err := c.List(ctx)
	if err != nil || len(names) != len(files) {
		t.Fatalf("List = %q, %v", names, err)
	}
	for _, n := range names {
		if _, ok := files[n]; !ok {
			t.Errorf("List returned %q, not uploaded", n)
		}
	}
	for name, data := range files {
		var buf bytes.Buffer
		n, err := c.Get(ctx, name, &buf)
		if err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("Get(%q) = %d, %v; %d bytes back, want %d", name, n, err, buf.Len(), len(data))
		}
		buf.Reset()
		n, err = c.Download(ctx, name, &buf)
		if err != nil || n != int64(len(data)) || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("Download(%q) = %d, %v; %d bytes back, want %d", name, n, err, buf.Len(), len(data))
		}
	}
	if err := c.Delete(ctx, "a b.txt"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if got := s.lastHead(); got != `DELETE "a b.txt"` {
		t.Errorf("Delete sent %q", got)
	}
	var se *ServerError
	if _, err := c.Get(ctx, "a b.txt", io.Discard); !errors.As(err, &se) || se.Status != StatusError || !strings.Contains(se.Reason, "not found") {
		t.Fatalf("Get of a deleted file: %v, want a *ServerError", err)
	}
	if err := c.Delete(ctx, "a b.txt"); !errors.As(err, &se) {
		t.Fatalf("Delete of a deleted file: %v, want a *ServerError", err)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if st.Mode != "process" || st.Workers != 3 || st.PID != 4242 || st.UptimeSeconds != 61 || st.BytesOut != 2000 ||
		st.WorkerRestarts != 1 || st.Requests["get"] != (OpCount{OK: 3, Failed: 1}) || st.Requests["other"].Failed != 4 || len(st.Requests) != NumOps {
		t.Errorf("Stats = %+v", st)
	}
	if c.Conn() == nil {
		t.Error("Conn() = nil")
	}
}

func TestClientUploadEmptySendsEmptyPayload(t *testing.T) {
	t.Parallel()
	s := startFakeServer(t, nil)
	c := dial(t, s)
	res, err := c.Upload(testCtx(t), "e.txt", strings.NewReader(""))
	if err != nil || res.Sent != 0 || res.Stored != 0 {
		t.Fatalf("Upload of an empty file = %+v, %v", res, err)
	}
	if got := s.lastHead(); got != "UPLOAD e.txt " {
		t.Errorf("Upload of an empty file sent %q, want %q", got, "UPLOAD e.txt ")
	}
}

func TestClientUploadIntegrity(t *testing.T) {
	t.Parallel()
	for _, lie := range []string{"sha256", "size"} {
		t.Run(lie, func(t *testing.T) {
			t.Parallel()
			s := startFakeServer(t, func(s *fakeServer) { s.badSHA, s.badSize = lie == "sha256", lie == "size" })
			c := dial(t, s)
			data := randomBytes(4, 1000)
			res, err := c.Upload(testCtx(t), "x", bytes.NewReader(data))
			var ie *IntegrityError
			if !errors.As(err, &ie) {
				t.Fatalf("Upload to a server that misreports the %s: %v, want an *IntegrityError", lie, err)
			}
			if res.Sent != 1000 || res.SentSHA256 != sha256Hex(data) {
				t.Errorf("result %+v does not describe what was sent", res)
			}
			if lie == "sha256" && (res.StoredSHA256 == res.SentSHA256 || res.Stored != 1000) {
				t.Errorf("result %+v does not hold what the server reported", res)
			}
			if lie == "size" && (res.Stored != 1001 || res.StoredSHA256 != res.SentSHA256) {
				t.Errorf("result %+v does not hold what the server reported", res)
			}
			// The connection goes on.
			if _, err := c.List(testCtx(t)); err != nil {
				t.Errorf("List after the integrity error: %v", err)
			}
		})
	}
}

func TestClientReplies(t *testing.T) {
	t.Parallel()
	upload := func(c *Client, ctx context.Context) error {
		_, err := c.Upload(ctx, "x", strings.NewReader("abc"))
		return err
	}
	get := func(c *Client, ctx context.Context) error {
		_, err := c.Get(ctx, "x", io.Discard)
		return err
	}
	isReplyError := func(err error) bool {
		var re *ReplyError
		return errors.As(err, &re)
	}
	isServerError := func(reason string) func(error) bool {
		return func(err error) bool {
			var se *ServerError
			return errors.As(err, &se) && se.Reason == reason
		}
	}
	tests := []struct {
		name  string
		call  func(*Client, context.Context) error
		reply string
		check func(error) bool
	}{
		{"Upload/ERROR", upload, `{"status": "ERROR", "data": "disk full"}`, isServerError("disk full")},
		{"Upload/no size", upload, `{"status": "OK", "data": "stored"}`, func(err error) bool { return err != nil }},
		{"Upload/malformed", upload, `{"status": "OK"]`, isReplyError},
		{"Get/OK without content", get, `{"status": "OK", "data_namafile": "x"}`, isReplyError},
		{"Get/content not a string", get, `{"status": "OK", "data_namafile": "x", "data_file": null}`, isReplyError},
		{"Get/bad base64", get, `{"status": "OK", "data_namafile": "x", "data_file": "QU*D"}`, isReplyError},
		{"Get/ERROR", get, `{"status": "ERROR", "data": "nope"}`, isServerError("nope")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startFakeServer(t, func(s *fakeServer) { s.reply = func(string) string { return tt.reply } })
			if err := tt.call(dial(t, s), testCtx(t)); !tt.check(err) {
				t.Errorf("%s answered %s: %v", tt.name, tt.reply, err)
			}
		})
	}
}

func TestClientRefusesUnsendableNames(t *testing.T) {
	t.Parallel()
	s := startFakeServer(t, nil)
	c := dial(t, s)
	ctx := testCtx(t)
	for _, name := range []string{`a "b`, `"a b"`, `"x`, "a\r\nb", "a\nb", "a\rb"} {
		if _, err := c.Get(ctx, name, io.Discard); err == nil {
			t.Errorf("Get(%q): nil error", name)
		}
		if _, err := c.Upload(ctx, name, strings.NewReader("abc")); err == nil {
			t.Errorf("Upload(%q): nil error", name)
		}
		if err := c.Delete(ctx, name); err == nil {
			t.Errorf("Delete(%q): nil error", name)
		}
	}
	// Nothing was sent, and the connection is still in step.
	if names, err := c.List(ctx); err != nil || len(names) != 0 {
		t.Fatalf("List after the refused names = %q, %v", names, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.heads) != 1 {
		t.Errorf("the server received %q, want only LIST", s.heads)
	}
}

// TestClientUploadLongName uploads a full chunk under a name longer than
// the server accepts: the client must report the server's refusal (or an
// error of its own), not panic.
func TestClientUploadLongName(t *testing.T) {
	t.Parallel()
	s := startFakeServer(t, func(s *fakeServer) {
		s.reply = func(string) string { return `{"status": "ERROR", "data": "request head too long"}` }
	})
	c := dial(t, s)
	name := strings.Repeat("n", 3*MaxHeadLen)
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		_, err = c.Upload(testCtx(t), name, bytes.NewReader(randomBytes(1, ChunkSize)))
	}()
	var se *ServerError
	if !errors.As(err, &se) {
		t.Fatalf("Upload with a %d-byte name: %v, want the server's refusal", len(name), err)
	}
}

func TestAppendRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		command string
		args    []string
		want    string // "" for an error
	}{
		{"LIST", nil, "LIST\r\n\r\n"},
		{"GET", []string{"a.txt"}, "GET a.txt\r\n\r\n"},
		{"GET", []string{"a b.txt"}, `GET "a b.txt"` + "\r\n\r\n"},
		{"GET", []string{" lead"}, `GET " lead"` + "\r\n\r\n"},
		{"GET", []string{`a"b`}, `GET a"b` + "\r\n\r\n"},
		{"GET", []string{`ab"`}, `GET ab"` + "\r\n\r\n"},
		{"GET", []string{"café"}, "GET café\r\n\r\n"},
		{"GET", []string{"a", "b c"}, `GET a "b c"` + "\r\n\r\n"},
		{"GET", []string{`a "b`}, ""},
		{"GET", []string{`"a b"`}, ""},
		{"GET", []string{`"ab`}, ""},
		{"GET", []string{"a\nb"}, ""},
		{"GET", []string{"a\rb"}, ""},
		{"GET", []string{"ok", "a\r\n"}, ""},
	}
	for _, tt := range tests {
		got, err := AppendRequest([]byte("x"), tt.command, tt.args...)
		if tt.want == "" {
			if err == nil {
				t.Errorf("AppendRequest(%q, %q) = %q, want an error", tt.command, tt.args, got)
			}
			continue
		}
		if err != nil || string(got) != "x"+tt.want {
			t.Errorf("AppendRequest(%q, %q) = %q, %v; want x%q", tt.command, tt.args, got, err, tt.want)
			continue
		}
		// What AppendRequest writes, ReadRequest reads back.
		req, err := NewRequestReader(bufio.NewReader(bytes.NewReader(got[1:]))).Read()
		if err != nil || req.Command != tt.command || strings.Join(req.Args, "\x00") != strings.Join(tt.args, "\x00") {
			t.Errorf("ReadRequest(AppendRequest(%q, %q)) = %+v, %v", tt.command, tt.args, req, err)
		}
	}
}

// TestClientDeadline talks to a server that never answers: a call with a
// deadline must return soon after it, with an error that says so.
func TestClientDeadline(t *testing.T) {
	t.Parallel()
	s := startFakeServer(t, func(s *fakeServer) { s.silent = true })
	c := dial(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, "x", io.Discard)
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get past its deadline: %v, want an error wrapping context.DeadlineExceeded", err)
	}
	if !IsTimeout(err) {
		t.Errorf("IsTimeout(%v) = false", err)
	}
	if elapsed > 5*time.Second {
		t.Errorf("Get returned %v after a 200ms deadline", elapsed)
	}
}

// TestClientCancel cancels a call once the server has the request.
func TestClientCancel(t *testing.T) {
	t.Parallel()
	received := make(chan string, 1)
	s := startFakeServer(t, func(s *fakeServer) { s.silent, s.received = true, received })
	c := dial(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-received
		cancel()
	}()
	done := make(chan error, 1)
	go func() {
		_, err := c.List(ctx)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("List canceled: %v, want an error wrapping context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("List did not return within 10s of its cancellation")
	}
}

// TestClientServerCloses checks a connection that ends mid-reply.
func TestClientServerCloses(t *testing.T) {
	t.Parallel()
	s := startFakeServer(t, func(s *fakeServer) {
		s.reply = func(string) string { return "nope" }
	})
	c := dial(t, s)
	var re *ReplyError
	if _, err := c.List(testCtx(t)); !errors.As(err, &re) {
		t.Errorf("List answered with no JSON: %v, want a *ReplyError", err)
	}
	// A server that hangs up.
	addr := reuseServer(t, func(_ int, c net.Conn) {
		bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, `{"status": "OK", "data": [`)
	})
	c2 := dialWith(t, addr, Options{})
	if _, err := c2.List(testCtx(t)); err == nil {
		t.Error("List from a server that hung up mid-reply: nil error")
	}
}

func TestDialError(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if c, err := Dial(testCtx(t), addr); err == nil {
		c.Close()
		t.Error("Dial to a closed port: nil error")
	}
}

func TestNewHash(t *testing.T) {
	t.Parallel()
	h := NewHash()
	h.Write([]byte("abc"))
	if got := hex.EncodeToString(h.Sum(nil)); got != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("NewHash is not SHA-256: %s", got)
	}
}
