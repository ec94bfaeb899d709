package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// courseClientsDir holds the Python clients written the way students of
// the course write them.
const courseClientsDir = "../testdata/course/clients"

// courseLatencyLimit is how soon a reply must come after the request was
// sent: far below the server's idle timeout (60 s in these tests), so a
// request the server cannot see the end of shows up as a failure.
const courseLatencyLimit = time.Second

// courseSeedNames are files stored before the clients run, for the
// clients that only read.
var courseSeedNames = []string{"seed.txt", "my file.txt"}

// courseCase is one client behaviour: a client program, its arguments, and
// what each of its replies must be.
type courseCase struct {
	name   string
	script string   // a program in courseClientsDir
	args   []string // after HOST PORT: {name}, {payload} and {request} are replaced
	// file is the name the request uses: a seed for clients that only
	// read, else a fresh name made from the case's name.
	file string
	size int  // bytes of random content written to {payload}
	big  bool // left out of -short
	// request, for send_raw.py, builds the bytes written to {request}.
	request func(name string, payload []byte) []byte
	// want is one entry per reply: "list", "get" (content under
	// "data_file"), "download" (content under "data"), "upload", or
	// "error:TEXT|TEXT..." (an ERROR reply whose reason holds each TEXT).
	want []string
}

// courseResult is the JSON line a course client prints.
type courseResult struct {
	OK        bool             `json:"ok"`
	Replies   []map[string]any `json:"replies"`
	LatencyMS []int64          `json:"latency_ms"`
	Error     string           `json:"error"`
	Received  string           `json:"received"`
}

// courseCases lists every behaviour seen in students' clients, and the
// bad requests that must keep being refused.
func courseCases() []courseCase {
	var cases []courseCase
	add := func(c courseCase) { cases = append(cases, c) }

	// 1. How a request ends: nothing at all, CRLF, LF, LF LF or CRLF CRLF.
	for _, term := range []string{"none", "crlf", "lf", "lflf", "crlfcrlf"} {
		add(courseCase{name: "LIST ends with " + term, script: "terminators.py",
			args: []string{term, "LIST"}, want: []string{"list"}})
		add(courseCase{name: "GET ends with " + term, script: "terminators.py",
			args: []string{term, "GET", "{name}"}, file: "seed.txt", want: []string{"get"}})
		if term != "none" {
			add(courseCase{name: "UPLOAD ends with " + term, script: "terminators.py",
				args: []string{term, "UPLOAD", "{name}", "{payload}"}, size: 4000, want: []string{"upload"}})
		}
	}

	// 2. base64.encodebytes: a LF every 76 characters and at the end.
	add(courseCase{name: "encodebytes", script: "encodebytes_upload.py",
		args: []string{"{name}", "{payload}"}, size: 3000, want: []string{"upload"}})
	add(courseCase{name: "encodebytes 1MB", script: "encodebytes_upload.py",
		args: []string{"{name}", "{payload}"}, size: 1 << 20, big: true, want: []string{"upload"}})

	// 3. JSON requests, with or without CRLF CRLF, on one connection or
	// one connection per request.
	for _, style := range []string{"params", "named", "content-first"} {
		for _, term := range []string{"none", "crlfcrlf"} {
			for _, conn := range []string{"keep", "new"} {
				add(courseCase{name: fmt.Sprintf("JSON upload %s %s %s", style, term, conn), script: "json_client.py",
					args: []string{term, conn, "upload-" + style, "{name}", "{payload}", "get", "{name}"},
					size: 5000, want: []string{"upload", "get"}})
			}
		}
	}
	for _, term := range []string{"none", "crlfcrlf"} {
		add(courseCase{name: "JSON list " + term, script: "json_client.py",
			args: []string{term, "new", "list"}, want: []string{"list"}})
		add(courseCase{name: "JSON get " + term, script: "json_client.py",
			args: []string{term, "new", "get", "{name}"}, file: "seed.txt", want: []string{"get"}})
	}
	add(courseCase{name: "JSON list upload get keep none", script: "json_client.py",
		args: []string{"none", "keep", "list", "upload-named", "{name}", "{payload}", "get", "{name}"},
		size: 2000, want: []string{"list", "upload", "get"}})
	add(courseCase{name: "JSON upload 1MB", script: "json_client.py",
		args: []string{"crlfcrlf", "keep", "upload-params", "{name}", "{payload}", "get", "{name}"},
		size: 1 << 20, big: true, want: []string{"upload", "get"}})

	// 4. One request per connection, some ended only by shutdown(SHUT_WR).
	for _, how := range []string{"close", "shutdown", "terminated-shutdown"} {
		add(courseCase{name: "one-shot UPLOAD " + how, script: "one_shot.py",
			args: []string{how, "UPLOAD", "{name}", "{payload}"}, size: 3000, want: []string{"upload"}})
	}
	add(courseCase{name: "one-shot LIST shutdown", script: "one_shot.py",
		args: []string{"shutdown", "LIST"}, want: []string{"list"}})
	add(courseCase{name: "one-shot GET shutdown", script: "one_shot.py",
		args: []string{"shutdown", "GET", "{name}"}, file: "seed.txt", want: []string{"get"}})
	add(courseCase{name: "one-shot GET close", script: "one_shot.py",
		args: []string{"close", "GET", "{name}"}, file: "seed.txt", want: []string{"get"}})

	// 5. Lower-case commands; names in double quotes.
	add(courseCase{name: "lower-case list", script: "case_and_quotes.py",
		args: []string{"lower", "no", "LIST"}, want: []string{"list"}})
	add(courseCase{name: "lower-case get", script: "case_and_quotes.py",
		args: []string{"lower", "no", "GET", "{name}"}, file: "seed.txt", want: []string{"get"}})
	add(courseCase{name: "lower-case upload", script: "case_and_quotes.py",
		args: []string{"lower", "no", "UPLOAD", "{name}", "{payload}"}, size: 3000, want: []string{"upload"}})
	add(courseCase{name: "quoted GET", script: "case_and_quotes.py",
		args: []string{"upper", "yes", "GET", "{name}"}, file: "my file.txt", want: []string{"get"}})
	add(courseCase{name: "quoted lower-case upload", script: "case_and_quotes.py",
		args: []string{"lower", "yes", "UPLOAD", "{name}", "{payload}"}, file: "cc quoted upload.txt",
		size: 3000, want: []string{"upload"}})

	// 6. The payload on the next line, or after a length.
	for _, layout := range []string{"nextline", "b64len", "rawlen"} {
		add(courseCase{name: "payload " + layout, script: "payload_layout.py",
			args: []string{layout, "{name}", "{payload}"}, size: 3000, want: []string{"upload"}})
	}
	add(courseCase{name: "payload b64len 1MB", script: "payload_layout.py",
		args: []string{"b64len", "{name}", "{payload}"}, size: 1 << 20, big: true, want: []string{"upload"}})
	for _, layout := range []string{"wronglen-long", "wronglen-short"} {
		add(courseCase{name: "payload " + layout, script: "payload_layout.py",
			args: []string{layout, "{name}", "{payload}"}, size: 3000, want: []string{"error:length"}})
	}

	// 7. HTTP-style names: POST and PUT for UPLOAD, DOWNLOAD for GET.
	for _, cmd := range []string{"POST", "PUT"} {
		add(courseCase{name: cmd + " upload", script: "aliases.py",
			args: []string{cmd, "{name}", "{payload}"}, size: 3000, want: []string{"upload"}})
	}
	add(courseCase{name: "DOWNLOAD", script: "aliases.py",
		args: []string{"DOWNLOAD", "{name}"}, file: "seed.txt", want: []string{"download"}})

	// A pause in the middle of an upload (a slow disk, a stalled
	// network): the whole content must still be stored, never a part.
	for _, layout := range []string{"oneline", "encodebytes", "nextline"} {
		add(courseCase{name: "paused upload " + layout, script: "slow_sender.py",
			args: []string{layout, "{name}", "{payload}", "300"}, size: 6000, want: []string{"upload"}})
	}

	// Refused, whatever the form.
	add(courseCase{name: "refused text upload ../", script: "terminators.py",
		args: []string{"crlfcrlf", "UPLOAD", "{name}", "{payload}"}, file: "../escape-text.txt",
		size: 100, want: []string{"error:invalid file name"}})
	add(courseCase{name: "refused lower-case upload ../", script: "case_and_quotes.py",
		args: []string{"lower", "yes", "UPLOAD", "{name}", "{payload}"}, file: "../escape-lower.txt",
		size: 100, want: []string{"error:invalid file name"}})
	add(courseCase{name: "refused JSON upload ../", script: "json_client.py",
		args: []string{"crlfcrlf", "new", "upload-named", "{name}", "{payload}"}, file: "../escape-json.txt",
		size: 100, want: []string{"error:invalid file name"}})
	add(courseCase{name: "refused star in text payload", script: "send_raw.py",
		args: []string{"{request}"}, size: 3000, want: []string{"error:base64"},
		request: func(name string, payload []byte) []byte {
			return []byte("UPLOAD " + name + " " + withStar(payload) + "\r\n\r\n")
		}})
	add(courseCase{name: "refused star in JSON payload", script: "send_raw.py",
		args: []string{"{request}"}, size: 3000, want: []string{"error:base64"},
		request: func(name string, payload []byte) []byte {
			b, _ := json.Marshal(map[string]any{"command": "upload", "params": []string{name, withStar(payload)}})
			return append(b, "\r\n\r\n"...)
		}})
	add(courseCase{name: "refused unknown command with 200KB payload", script: "send_raw.py",
		args: []string{"{request}"}, size: 150 << 10, want: []string{"error:unknown|FROB"},
		request: func(name string, payload []byte) []byte {
			return []byte("FROB " + name + " " + base64.StdEncoding.EncodeToString(payload) + "\r\n\r\n")
		}})
	return cases
}

// withStar is payload in base64 with a '*' in the middle, which no base64
// alphabet has.
func withStar(payload []byte) string {
	s := base64.StdEncoding.EncodeToString(payload)
	return s[:len(s)/2] + "*" + s[len(s)/2+1:]
}

// TestCourseClients runs real Python course clients, one per behaviour
// seen in students' code, against fileserverd in both modes: each must get
// a JSON reply within a second, and what it uploads must be stored and
// read back byte for byte.
func TestCourseClients(t *testing.T) {
	python := testkit.Python(t)
	cases := courseCases()
	forModes(t, func(t *testing.T, mode string) {
		// A worker for every client that may run at once, so that no
		// client waits, and an idle timeout far above the latency limit.
		d := startDaemon(t, mode, courseParallel()+2, "-idle-timeout", "60s")
		seeds := map[string][]byte{}
		for i, name := range courseSeedNames {
			seeds[name] = randomBytes(t, 2000+1000*i)
			d.upload(t, name, bytes.NewReader(seeds[name]))
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				if tc.big && testing.Short() {
					t.Skip("1 MB case left out of -short")
				}
				t.Parallel()
				runCourseCase(t, d, python, seeds, tc)
			})
		}
	})
}

// courseParallel is the -test.parallel setting: how many course clients
// may run at once.
func courseParallel() int {
	if f := flag.Lookup("test.parallel"); f != nil {
		if n, err := strconv.Atoi(f.Value.String()); err == nil && n > 0 {
			return n
		}
	}
	return 4
}

// randomBytes is n random bytes, so that no form of content is favoured.
func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// courseFileName makes a file name of its own for a case that uploads.
func courseFileName(caseName string) string {
	return "cc-" + strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, caseName) + ".bin"
}

// runCourseCase runs one client and checks its replies, its latency, and
// the storage directory.
func runCourseCase(t *testing.T, d *daemon, python string, seeds map[string][]byte, tc courseCase) {
	name := tc.file
	if name == "" {
		name = courseFileName(tc.name)
	}
	content := seeds[name] // what a get must return
	tmp := t.TempDir()
	payloadPath := filepath.Join(tmp, "payload.bin")
	requestPath := filepath.Join(tmp, "request.bin")
	if tc.size > 0 {
		content = randomBytes(t, tc.size)
		must(t, os.WriteFile(payloadPath, content, 0o644))
	}
	if tc.request != nil {
		must(t, os.WriteFile(requestPath, tc.request(name, content), 0o644))
	}

	host, port, err := net.SplitHostPort(d.Addr)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{filepath.Join(courseClientsDir, tc.script), host, port}
	for _, a := range tc.args {
		a = strings.ReplaceAll(a, "{name}", name)
		a = strings.ReplaceAll(a, "{payload}", payloadPath)
		a = strings.ReplaceAll(a, "{request}", requestPath)
		args = append(args, a)
	}
	res := runCourseClient(t, python, args)
	t.Logf("%d replies, %v ms after their requests", len(res.Replies), res.LatencyMS)

	for i, want := range tc.want {
		if i >= len(res.Replies) {
			t.Errorf("reply %d (%s): none: the client says %q; it had received %q", i+1, want, res.Error, res.Received)
			break
		}
		checkCourseReply(t, i+1, res.Replies[i], want, name, content)
		if ms := res.LatencyMS[i]; time.Duration(ms)*time.Millisecond >= courseLatencyLimit {
			t.Errorf("reply %d came %d ms after the request, want under %s", i+1, ms, courseLatencyLimit)
		}
	}
	if len(res.Replies) > len(tc.want) {
		t.Errorf("%d replies, want %d: %v", len(res.Replies), len(tc.want), res.Replies)
	}

	stored, err := os.ReadFile(filepath.Join(d.Dir, name))
	switch {
	case slices.Contains(tc.want, "upload"):
		if err != nil {
			t.Errorf("uploaded file: %v", err)
		} else if !bytes.Equal(stored, content) {
			t.Errorf("stored file is %d bytes, differs from the %d bytes sent", len(stored), len(content))
		} else if n, sum := d.get(t, name); n != int64(len(content)) || sum != sha256Hex(content) {
			t.Errorf("GET %s afterwards returned %d bytes %s, want %d bytes %s", name, n, sum, len(content), sha256Hex(content))
		}
	case tc.size > 0: // refused: nothing stored, neither outside the directory nor under the base name
		if !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused upload left %s (%d bytes, %v)", filepath.Join(d.Dir, name), len(stored), err)
		}
		if _, err := os.Stat(filepath.Join(d.Dir, filepath.Base(name))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a refused upload left %s in the storage directory (%v)", filepath.Base(name), err)
		}
	}
}

// runCourseClient runs a Python client and parses the one JSON line it
// prints.
func runCourseClient(t *testing.T, python string, args []string) courseResult {
	t.Helper()
	cmd := exec.CommandContext(ctxTimeout(t, time.Minute), python, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s: %v\n%s", filepath.Base(args[0]), err, stderr.String())
	}
	var res courseResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s printed %q: %v", filepath.Base(args[0]), out, err)
	}
	if len(res.LatencyMS) != len(res.Replies) {
		t.Fatalf("%s printed %d replies but %d latencies", filepath.Base(args[0]), len(res.Replies), len(res.LatencyMS))
	}
	return res
}

// checkCourseReply checks reply number n against want (see courseCase.want).
func checkCourseReply(t *testing.T, n int, reply map[string]any, want, name string, content []byte) {
	t.Helper()
	status, reason := reply["status"], reply["data"]
	if texts, ok := strings.CutPrefix(want, "error:"); ok {
		r, _ := reason.(string)
		if status != "ERROR" {
			t.Errorf("reply %d: %s, want an ERROR", n, shortReply(reply))
			return
		}
		for _, text := range strings.Split(texts, "|") {
			if !strings.Contains(r, text) {
				t.Errorf("reply %d: ERROR %q, want it to say %q", n, r, text)
			}
		}
		if strings.Contains(r, "longer than 4096") {
			t.Errorf("reply %d: ERROR %q: a request refused for its length, not for what it is", n, r)
		}
		return
	}
	if status != "OK" {
		t.Errorf("reply %d: %s, want OK (%s)", n, shortReply(reply), want)
		return
	}
	switch want {
	case "list":
		list, ok := reason.([]any)
		if !ok || !slices.Contains(list, any("seed.txt")) {
			t.Errorf("reply %d: %s, want a list holding seed.txt", n, shortReply(reply))
		}
	case "get", "download":
		field := "data_file"
		if want == "download" {
			field = "data"
		} else if reply["data_namafile"] != name {
			t.Errorf("reply %d: data_namafile %v, want %q", n, reply["data_namafile"], name)
		}
		s, _ := reply[field].(string)
		got, err := base64.StdEncoding.DecodeString(s)
		if err != nil || !bytes.Equal(got, content) {
			t.Errorf("reply %d: %q decodes to %d bytes (%v), want the %d bytes of %s", n, field, len(got), err, len(content), name)
		}
	case "upload":
		if size, _ := reply["size"].(float64); int(size) != len(content) || reply["sha256"] != sha256Hex(content) {
			t.Errorf("reply %d: size %v sha256 %v, want %d and %s", n, reply["size"], reply["sha256"], len(content), sha256Hex(content))
		}
	default:
		t.Fatalf("unknown expectation %q", want)
	}
}

// shortReply shows a reply with long strings cut, for error messages.
func shortReply(reply map[string]any) string {
	var sb strings.Builder
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	enc.Encode(reply)
	s := strings.TrimSpace(sb.String())
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}

// sha256Hex is the SHA-256 of b as the server reports it, in hex.
func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
