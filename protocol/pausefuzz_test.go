package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// Run longer with
//
//	go test -run='^$' -fuzz=FuzzRequestPauses -fuzztime=60s ./protocol
//	go test -run='^$' -fuzz=FuzzClientRequests -fuzztime=60s ./protocol
//
// Both play bytes and pauses on a fake clock (fakeclock_test.go), with
// the property that no OK is for anything but what the client sent.

// pauseTable is the pauses a fuzz input picks from: around -end-pause
// (75 ms), well under -end-pause-write (1 s), just under and over it.
var pauseTable = []time.Duration{0, 10 * time.Millisecond, 74 * time.Millisecond, 76 * time.Millisecond,
	200 * time.Millisecond, 900 * time.Millisecond, 999 * time.Millisecond, 1001 * time.Millisecond, 5 * time.Second}

// inputPairs reads a fuzz input as (bytes, pause-after) pairs: a length
// byte, a pause byte (an index into pauseTable), then that many bytes.
func inputPairs(in []byte) []sent {
	var out []sent
	for len(in) >= 2 {
		n, p := int(in[0]), pauseTable[int(in[1])%len(pauseTable)]
		in = in[2:]
		n = min(n, len(in))
		out = append(out, sent{string(in[:n]), p})
		in = in[n:]
	}
	return out
}

// pairsInput is the fuzz input that inputPairs reads as pieces.
func pairsInput(pieces ...sent) []byte {
	var b []byte
	for _, p := range pieces {
		code := 0
		for i, d := range pauseTable {
			if d == p.pause {
				code = i
			}
		}
		for data := p.data; ; {
			n := min(len(data), 255)
			b = append(b, byte(n), 0)
			if n == len(data) {
				b[len(b)-1] = byte(code)
			}
			b = append(b, data[:n]...)
			if data = data[n:]; data == "" {
				break
			}
		}
	}
	return b
}

// FuzzRequestPauses plays any bytes with any pauses, and checks that a
// pause shorter than -end-pause-write never changes what an OK UPLOAD or
// DELETE does: read again from where that request began, all at once,
// the same bytes give the same request with the same content. The one
// way they may differ is where the paused reading ended a payload that
// could not go on (padding before a line break, or its declared size
// reached) and the bytes after it, read at once, make the whole invalid:
// then the reading at once refuses it. Requests within which a pause of
// -end-pause-write or more came are not compared: that pause may end them.
func FuzzRequestPauses(f *testing.F) {
	ms := time.Millisecond
	for _, tc := range requestCases {
		if len(tc.in) < 600 {
			f.Add(pairsInput(sent{tc.in + nextReq, 0}))
		}
	}
	line := strings.Repeat("QUJD", 16) + "\n"
	for _, seed := range [][]sent{
		{{"UPLOAD pem\r\n" + line, 200 * ms}, {line + line + "QUJD\n", 0}},
		{{"UPLOAD pem " + line + line, 900 * ms}, {line + "\r\n", 0}},
		{{"UPLOAD pd QUFBQUFB\nUPLOAD pe QkJC\n", 0}},
		{{"UPLOAD pc QUFBQUFB\nLIST\n", 0}},
		{{"UPLOAD pc QUFBQUFB\nLIS", 200 * ms}, {"T\n", 0}},
		{{"UPLOAD pc QUFBQQ==\n", 200 * ms}, {"QUJD\n\n", 0}},
		{{"UPLOAD pc 3 QUJD", 200 * ms}, {"QUJD\r\n\r\n", 0}},
		{{"DELETE a", 200 * ms}, {"b\r\n\r\n", 0}},
		{{"UPLOAD a", 200 * ms}, {"b QUJD\r\n", 76 * ms}, {"DELETE ab\n", 0}},
		{{"UPLOAD a 1", 200 * ms}, {"2 QUJDQUJDQUJD", 1001 * ms}, {"LIST\n", 0}},
		{{`{"content": "QUJD`, 900 * ms}, {`QUJD", "name": "j", "command": "put"}`, 0}, {"list", 200 * ms}},
		{{"GET a", 200 * ms}, {"b\r\nUPLOAD c QUJD\r\n", 200 * ms}, {"\r\n", 0}},
	} {
		f.Add(pairsInput(seed...))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		pieces := inputPairs(in)
		var whole strings.Builder
		var cuts []int64 // offset of each long pause (>= -end-pause-write)
		for _, p := range pieces {
			whole.WriteString(p.data)
			if p.pause >= fakeEndPauseWrite {
				cuts = append(cuts, int64(whole.Len()))
			}
		}
		data := whole.String()
		rr, c, br := newFakeReader(16+len(in)%4096, len(in)%13, pieces...)
		outs := serveAll(rr, c, br, fuzzBufs, len(data)+2)
		for _, o := range outs {
			if !o.ok || !o.changesStorage() || longPauseIn(cuts, o.start, o.end) {
				continue
			}
			again := serveScript(ReaderSize, 0, sent{data[o.start:], 0})
			if len(again) == 0 {
				t.Fatalf("paused: %s; at once from offset %d: nothing", o, o.start)
			}
			a := again[0]
			if a.ok && a.command == o.command && a.name == o.name && a.content == o.content {
				continue
			}
			if !a.ok && couldNotGoOn(data[o.start:], o) {
				continue // the paused reading ended a payload that could not go on
			}
			t.Fatalf("with pauses: %s\nthe same bytes from offset %d at once: %s\ninput %q\npieces %v", o, o.start, a, data, pieces)
		}
	})
}

// couldNotGoOn reports whether o is a text upload whose payload, as
// stored, could not go on: its base64 ends in padding, or it is the size
// its head declared. Bytes after it can only make the whole invalid.
func couldNotGoOn(from string, o outcome) bool {
	rr, _, _ := newFakeReader(ReaderSize, 0, sent{from, 0})
	req, err := rr.Read()
	if err != nil || req.JSON || o.command != "UPLOAD" {
		return false
	}
	return len(o.content)%3 != 0 || req.Length == int64(len(o.content))
}

// longPauseIn reports whether a pause of -end-pause-write or more came
// within a request's bytes or right after them, where it may end it.
func longPauseIn(cuts []int64, start, end int64) bool {
	for _, c := range cuts {
		if c > start && c <= end {
			return true
		}
	}
	return false
}

// FuzzClientRequests builds, from the fuzz input, what a course client
// sends: requests in every form fileserverd accepts (text and JSON,
// aliases, cases, quoted names, payloads inline, on the next line or
// after a length, wrapped at any width, every terminator), pipelined
// with pauses shorter than -end-pause-write where the client may make them.
// Every request must be answered, in order; an OK must be for exactly
// that request (its command, name and content); an ERROR only for an
// upload that the README lists as ambiguous. Nothing else in the stream
// may be served as an UPLOAD or a DELETE.
func FuzzClientRequests(f *testing.F) {
	for _, seed := range []string{
		"\x00", "\x05\x01abc\x05\x02", "\x06\x00\x40\x05hello world\x07\x01",
		"\x05\x03\x10\x04\x03\x00\x00" + strings.Repeat("\x11", 60), "\x05\x05\x04\x02\x01\x00\x05\x06\x07\x08",
		"\x06\x05\x02\x00\x00\x03\x05\x00\x04\x02", "\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07\x07",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		g := &gen{data: in}
		reqs := g.requests()
		var stream strings.Builder
		for _, r := range reqs {
			stream.WriteString(r.bytes)
		}
		pieces := g.pieces(reqs)
		rr, c, br := newFakeReader(16+int(g.byte())*64, int(g.byte()%9), pieces...)
		outs := serveAll(rr, c, br, fuzzBufs, stream.Len()+2)
		at := map[int64]outcome{}
		for _, o := range outs {
			at[o.start] = o
		}
		var offset int64
		starts := map[int64]bool{}
		for i, r := range reqs {
			starts[offset] = true
			o, answered := at[offset]
			switch {
			case !answered:
				t.Fatalf("request %d (%s %q at %d) not answered:%s\nstream %q", i+1, r.command, r.name, offset, describe(outs), stream.String())
			case !o.ok && !r.ambiguous:
				t.Fatalf("request %d (%s %q, %d bytes) refused: %s\nstream %q", i+1, r.command, r.name, len(r.content), o, stream.String())
			case o.ok && (o.command != r.command || o.name != r.name || o.content != r.content):
				t.Fatalf("request %d is %s %q with %d bytes %q; served as %s\nstream %q", i+1, r.command, r.name, len(r.content), r.content, o, stream.String())
			}
			offset += int64(len(r.bytes))
		}
		for _, o := range outs {
			if !starts[o.start] && o.ok && o.changesStorage() {
				t.Fatalf("bytes inside a request served as %s\nstream %q", o, stream.String())
			}
		}
	})
}

// clientRequest is one request of FuzzClientRequests and how it was sent.
type clientRequest struct {
	command, name, content string
	bytes                  string
	// readOnly: a pause of -end-pause inside it would end it early, which
	// the protocol allows for a request that only reads, so the client
	// makes none.
	readOnly bool
	// pauseAfter is the pause the client makes after it: one without a
	// terminator waits for its end to be seen.
	pauseAfter time.Duration
	// unfinished: an upload ended by one line break that could go on
	// (no padding, no length reached): a LIST or STATS alone on the next
	// line makes it ambiguous.
	unfinished bool
	ambiguous  bool // refusing it is right (see textPayload)
}

// gen draws the fuzz input's choices; past its end, it draws zeros.
type gen struct{ data []byte }

func (g *gen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *gen) intn(n int) int { return int(g.byte()) % n }

func pick[T any](g *gen, choices ...T) T { return choices[g.intn(len(choices))] }

var fuzzNames = []string{"a", "b.bin", "x y", "名前.txt", "LIST", "Q"}

// requests draws 1 to 6 requests.
func (g *gen) requests() []clientRequest {
	n := 1 + g.intn(6)
	reqs := make([]clientRequest, 0, n)
	for i := range n {
		last := i == n-1
		var r clientRequest
		switch g.intn(9) {
		case 0, 1:
			r = g.textRead(last)
		case 2:
			r = g.textDelete(last)
		case 3, 4, 5:
			r = g.textUpload(last)
		default:
			r = g.jsonRequest()
		}
		if len(reqs) > 0 {
			prev := &reqs[len(reqs)-1]
			word := upperASCII(strings.TrimRight(r.bytes, "\r\n"))
			if prev.unfinished && (word == "LIST" || word == "STATS") {
				prev.ambiguous = true
			}
		}
		reqs = append(reqs, r)
	}
	return reqs
}

// terminator draws how a request ends; none only where something else
// ends it: EOF (the last request) or a pause the client makes.
func (g *gen) terminator(last bool) string {
	return pick(g, "\r\n\r\n", "\r\n", "\n", "\n\n", "")
}

// word writes a command word in some case.
func (g *gen) word(w string) string {
	switch g.intn(3) {
	case 1:
		return strings.ToLower(w)
	case 2:
		return w[:1] + strings.ToLower(w[1:])
	}
	return w
}

// textName is a name as a text request writes it.
func textName(name string) string {
	if strings.Contains(name, " ") {
		return `"` + name + `"`
	}
	return name
}

func (g *gen) noTerminator(r *clientRequest, term string, last bool) {
	if term == "" && !last {
		// Nothing but silence ends it: -end-pause-write's, so that whatever
		// came before (an upload that could go on) cannot take it as base64.
		r.pauseAfter = 1500 * time.Millisecond
	}
}

func (g *gen) textRead(last bool) clientRequest {
	r := clientRequest{readOnly: true}
	term := g.terminator(last)
	switch g.intn(4) {
	case 0:
		r.command, r.bytes = "LIST", g.word("LIST")+term
	case 1:
		r.command, r.bytes = "STATS", g.word("STATS")+term
	default:
		r.command, r.name = pick(g, "GET", "DOWNLOAD"), pick(g, fuzzNames...)
		r.bytes = g.word(r.command) + " " + textName(r.name) + term
	}
	g.noTerminator(&r, term, last)
	return r
}

func (g *gen) textDelete(last bool) clientRequest {
	r := clientRequest{command: "DELETE", name: pick(g, fuzzNames...)}
	term := g.terminator(last)
	r.bytes = g.word("DELETE") + " " + textName(r.name) + term
	g.noTerminator(&r, term, last)
	return r
}

// content draws an upload's bytes: random, or the 3 bytes whose base64 is
// LIST, to put a line that spells it in the payload.
func (g *gen) content() string {
	n := g.intn(64)
	if n >= 48 {
		n = 48 + 3*(n-48) // longer, and often a multiple of 3: no padding
	}
	var b []byte
	for range n {
		if g.intn(5) == 0 {
			b = append(b, "\x2c\x84\x93"...) // "LIST"
		} else {
			b = append(b, g.byte())
		}
	}
	return string(b)
}

func (g *gen) textUpload(last bool) clientRequest {
	r := clientRequest{command: "UPLOAD", name: pick(g, fuzzNames...), content: g.content()}
	enc := base64.StdEncoding.EncodeToString([]byte(r.content))
	width := pick(g, 0, 0, 4, 5, 64, 76, 1+g.intn(20))
	lineEnd := pick(g, "\n", "\r\n")
	lines := []string{enc}
	if width > 0 {
		lines = nil
		for i := 0; i < len(enc); i += width {
			lines = append(lines, enc[i:min(i+width, len(enc))])
		}
	}
	layout := g.intn(4)
	if r.content == "" && layout == 1 {
		layout = 0 // the next line needs content
	}
	term := g.terminator(last)
	if term == "" && !last && layout != 3 && !(layout == 2 && r.content == "") {
		// Without a line break after it, only EOF or its declared size
		// end a payload: a client that pauses does not.
		term = "\r\n\r\n"
	}
	head := g.word(pick(g, "UPLOAD", "POST", "PUT")) + " " + textName(r.name)
	first := 0 // the first line that follows a line break
	switch layout {
	case 0:
		head += " "
		first = 1
	case 1:
		head += lineEnd
	case 2:
		head += fmt.Sprintf(" %d ", len(enc))
		first = 1
	case 3:
		head += fmt.Sprintf(" %d ", len(r.content))
		first = 1
	}
	r.bytes = head + strings.Join(lines, lineEnd) + term
	for i, l := range lines {
		if w := upperASCII(l); i >= first && (w == "LIST" || w == "STATS") {
			r.ambiguous = true // a line that may be a request (README)
		}
	}
	complete := len(r.content)%3 != 0 || layout == 3 || (layout == 2 && r.content == "")
	r.unfinished = (term == "\r\n" || term == "\n") && !complete
	g.noTerminator(&r, term, last)
	return r
}

func (g *gen) jsonRequest() clientRequest {
	r := clientRequest{}
	var obj []byte
	switch g.intn(4) {
	case 0:
		r.command = "LIST"
		obj = []byte(`{"command": "` + g.word("list") + `"}`)
	case 1:
		r.command, r.name = pick(g, "GET", "DELETE"), pick(g, fuzzNames...)
		obj, _ = json.Marshal(map[string]any{"command": strings.ToLower(r.command), "params": []string{r.name}})
	default:
		r.command, r.name, r.content = "UPLOAD", pick(g, fuzzNames...), g.content()
		enc := base64.StdEncoding.EncodeToString([]byte(r.content))
		if g.intn(2) == 0 {
			obj, _ = json.Marshal(map[string]any{"command": "upload", "params": []string{r.name, enc}})
		} else {
			// Content first, wrapped as encodebytes does, the name after it.
			var wrapped bytes.Buffer
			for i := 0; i < len(enc); i += 76 {
				wrapped.WriteString(enc[i:min(i+76, len(enc))] + "\n")
			}
			c, _ := json.Marshal(wrapped.String())
			n, _ := json.Marshal(r.name)
			obj = []byte(`{"content": ` + string(c) + `, "filename": ` + string(n) + `, "command": "post"}`)
		}
	}
	r.bytes = string(obj) + pick(g, "", "\r\n\r\n", "\n")
	return r
}

// pieces cuts the stream of reqs where the input says, with a pause
// shorter than -end-pause-write, and none of -end-pause or more inside a request
// that only reads; a request without a terminator has its pause after.
func (g *gen) pieces(reqs []clientRequest) []sent {
	var out []sent
	for _, r := range reqs {
		rest := r.bytes
		for len(rest) > 0 {
			cut := 1 + g.intn(len(rest)+8)
			if cut >= len(rest) {
				break
			}
			pause := pauseTable[g.intn(7)] // under -end-pause-write
			if r.readOnly && pause >= fakeEndPause {
				pause = 10 * time.Millisecond
			}
			out = append(out, sent{rest[:cut], pause})
			rest = rest[cut:]
		}
		pause := pauseTable[g.intn(7)]
		if r.pauseAfter > 0 {
			pause = r.pauseAfter
		}
		out = append(out, sent{rest, pause})
	}
	return out
}
