package protocol

import (
	"bufio"
	"encoding/json"
	"fmt"
	"strings"
)

// jsonState is where the reading of a JSON request stands, so that it can
// stop at the content string, let the caller decide where the content
// goes, and go on after it: key order is free, so the name and even the
// command may come after hundreds of megabytes of content.
type jsonState struct {
	members    int  // members read so far
	inParams   bool // inside the "params" list
	elems      int  // elements of "params" read so far
	hadContent bool
	hadParams  bool     // a "params" list was read: a second is refused
	hadCommand bool     // a command was read: a second is refused
	keys       []string // the keys read, lower-cased: a key twice is refused
	unknown    string   // a command word that is not ours, reported at the end
}

// Keys of a JSON request. Course clients write either
// {"command": "upload", "params": ["name", "<base64>"]} or named fields.
var (
	jsonCommandKeys = []string{"command", "cmd"}
	jsonParamsKeys  = []string{"params", "args"}
	jsonNameKeys    = []string{"filename", "file_name", "name", "namafile"}
	jsonContentKeys = []string{"content", "data", "file_content", "file_data", "isi"}
)

// readJSON reads a JSON request up to its content, or to its end.
func (r *RequestReader) readJSON() (*Request, error) {
	if _, err := r.readByte(); err != nil { // the '{'
		return nil, err
	}
	req := &Request{Length: -1, JSON: true, json: &jsonState{}}
	if err := r.jsonMembers(req); err != nil {
		return nil, err
	}
	return req, nil
}

func jsonError(format string, args ...any) error {
	return &RequestError{Reason: "malformed JSON request: " + fmt.Sprintf(format, args...)}
}

// jsonMembers reads members until the content string begins (HasPayload is
// then set and the string's opening quote read) or the object ends.
func (r *RequestReader) jsonMembers(req *Request) error {
	js := req.json
	for {
		if js.inParams {
			atContent, err := r.jsonParams(req)
			if err != nil || atContent {
				return err
			}
			js.inParams = false
		}
		c, err := r.jsonNext()
		if err != nil {
			return err
		}
		if c == '}' {
			return r.jsonEnd(req)
		}
		key, k, c, err := r.jsonKey(js, c)
		if err != nil {
			return err
		}
		if atContent, err := r.jsonMember(req, key, k, c); err != nil || atContent {
			return err
		}
	}
}

// jsonKey reads a member's key and colon from c, the first byte after the
// previous member (or after the '{'), and returns the key as written, the
// key lower-cased and the first byte of the value.
func (r *RequestReader) jsonKey(js *jsonState, c byte) (key, k string, first byte, err error) {
	if js.members > 0 {
		if c != ',' {
			return "", "", 0, jsonError("expected ',' or '}', got %q", c)
		}
		if c, err = r.jsonNext(); err != nil {
			return "", "", 0, err
		}
	}
	js.members++
	if c != '"' {
		return "", "", 0, jsonError("a key must be a string, got %q", c)
	}
	if key, err = r.jsonString(c, "a key", 1); err != nil {
		return "", "", 0, err
	}
	k = strings.ToLower(key)
	if isOneOf(k, js.keys) {
		// Which of the two would count? JSON leaves it open, and
		// parsers differ (Python keeps the last): refuse.
		return "", "", 0, r.jsonFail(1, 0, "the key %q twice", key)
	}
	js.keys = append(js.keys, k)
	if c, err = r.jsonNext(); err != nil {
		return "", "", 0, err
	}
	if c != ':' {
		return "", "", 0, jsonError("expected ':' after %q, got %q", key, c)
	}
	if c, err = r.jsonNext(); err != nil {
		return "", "", 0, err
	}
	return key, k, c, nil
}

// jsonMember reads the value of the member key (k lower-cased), which
// begins with c, and reports whether it stopped at the content string.
func (r *RequestReader) jsonMember(req *Request, key, k string, c byte) (atContent bool, err error) {
	js := req.json
	switch {
	case isOneOf(k, jsonCommandKeys):
		if js.hadCommand {
			return false, r.jsonFail(1, c, "more than one command")
		}
		js.hadCommand = true
		word, err := r.jsonString(c, fmt.Sprintf("%q", key), 1)
		if err != nil {
			return false, err
		}
		cmd, _, ok := lookupCommand(word)
		if !ok {
			js.unknown = word
		}
		req.Command = cmd
	case isOneOf(k, jsonParamsKeys):
		if c != '[' {
			return false, r.jsonFail(1, c, "%q must be a list", key)
		}
		if js.hadParams {
			return false, r.jsonFail(1, c, "more than one parameter list")
		}
		js.inParams, js.elems, js.hadParams = true, 0, true
	case isOneOf(k, jsonNameKeys):
		name, err := r.jsonString(c, fmt.Sprintf("%q", key), 1)
		if err != nil {
			return false, err
		}
		return false, r.setName(req, name, 1)
	case isOneOf(k, jsonContentKeys):
		if c != '"' {
			return false, r.jsonFail(1, c, "%q must be a base64 string", key)
		}
		if js.hadContent {
			return false, r.jsonFail(1, c, "more than one content")
		}
		js.hadContent, req.HasPayload = true, true
		return true, nil
	default:
		_, err := r.jsonValue(c)
		return false, err
	}
	return false, nil
}

// jsonParams reads the elements of "params": the file name first, then,
// for an UPLOAD, the content. It reports whether it stopped at the content.
func (r *RequestReader) jsonParams(req *Request) (atContent bool, err error) {
	js := req.json
	for {
		c, err := r.jsonNext()
		if err != nil {
			return false, err
		}
		if c == ']' {
			return false, nil
		}
		if js.elems > 0 {
			if c != ',' {
				return false, jsonError("expected ',' or ']' in \"params\", got %q", c)
			}
			if c, err = r.jsonNext(); err != nil {
				return false, err
			}
		}
		js.elems++
		if js.elems == 2 && c == '"' && !js.hadContent && (req.Command == "" || req.Command == "UPLOAD") {
			js.hadContent, req.HasPayload = true, true
			return true, nil
		}
		p, err := r.jsonString(c, "every parameter", 2)
		if err != nil {
			return false, err
		}
		if js.elems == 1 {
			err = r.setName(req, p, 2)
		} else {
			req.Args = append(req.Args, p)
		}
		if err != nil {
			return false, err
		}
	}
}

// jsonEnd checks a JSON request whose closing brace was read.
func (r *RequestReader) jsonEnd(req *Request) error {
	js := req.json
	switch {
	case js.unknown != "":
		return unknownCommand(js.unknown, true)
	case req.Command == "":
		return &RequestError{Reason: `malformed JSON request: no "command"`, Terminated: true}
	case req.Command == "UPLOAD" && (!js.hadContent || len(req.Args) == 0):
		what := "a JSON UPLOAD"
		if len(req.Args) > 0 {
			what = fmt.Sprintf("upload %q: a JSON UPLOAD", req.Args[0])
		}
		return &RequestError{Reason: what + ` needs a file name and its base64 content: {"command": "upload", "params": ["name", "<base64>"]}`, Terminated: true}
	}
	return nil
}

// setName sets the file name of a request, which a JSON request may give
// twice (in "params" and by name), but not two different ones. depth is
// where the reader is in the object, for Skip.
func (r *RequestReader) setName(req *Request, name string, depth int) error {
	if len(req.Args) == 0 {
		req.Args = []string{name}
		return nil
	}
	if req.Args[0] != name {
		return r.jsonFail(depth, 0, "two different file names, %q and %q", req.Args[0], name)
	}
	return nil
}

func isOneOf(s string, list []string) bool {
	for _, l := range list {
		if s == l {
			return true
		}
	}
	return false
}

// jsonNext returns the next byte that is not JSON white space, consumed
// and counted against MaxHeadLen.
func (r *RequestReader) jsonNext() (byte, error) {
	for {
		c, err := r.readByte()
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

// jsonValue reads one JSON value whose first byte was read, within what
// is left of MaxHeadLen.
func (r *RequestReader) jsonValue(first byte) (json.RawMessage, error) {
	p := replyParser{br: r.br, limit: max(1, MaxHeadLen-r.n+1), errorf: jsonError}
	raw, err := p.rawValue(first)
	if r.n+len(p.raw)-1 >= MaxHeadLen {
		return nil, &RequestError{Reason: fmt.Sprintf("request head longer than %d bytes", MaxHeadLen)}
	}
	if err != nil {
		return nil, err
	}
	r.n += len(raw) - 1
	return raw, nil
}

// jsonString reads a JSON value that must be a string, decoded strictly
// (see unquoteStrict). depth is where it stands in the object, for Skip
// to find the object's end should the string be refused.
func (r *RequestReader) jsonString(first byte, what string, depth int) (string, error) {
	if first != '"' {
		return "", r.jsonFail(depth, first, "%s must be a string, got %q", what, first)
	}
	raw, err := r.jsonValue(first)
	if err != nil {
		return "", err
	}
	s, err := unquoteStrict(raw)
	if err != nil {
		return "", r.jsonFail(depth, 0, "%s: %v", what, err)
	}
	return s, nil
}

// jsonSkip is where a JSON request stood when reading it failed between
// two tokens or inside its content string, so that Skip can read on to
// the object's end and the connection go on with the request after it.
type jsonSkip struct {
	active   bool
	depth    int  // brackets open around the reader: 1 in the object, 2 in "params"
	inString bool // inside a string whose opening quote was read
	// req is a request that failed inside or right after its content:
	// its other members are read (not skipped), so that its name is
	// known for the error message.
	req *Request
}

// jsonFail is jsonError for a request the reader can still find the end
// of: it failed at depth, after reading first (0: between two tokens).
func (r *RequestReader) jsonFail(depth int, first byte, format string, args ...any) error {
	switch first {
	case '{', '[':
		depth++
	}
	r.skip = jsonSkip{active: true, depth: depth, inString: first == '"'}
	return jsonError(format, args...)
}

// skipJSON reads on to the end of the JSON object that failed, as jsonSkip
// says: done reports that it got there (the reader is at the next
// request); if not, the caller falls back to skipping text.
func (r *RequestReader) skipJSON(limit int64) (done bool, err error) {
	sk := r.skip
	r.skip = jsonSkip{}
	if sk.req != nil {
		if sk.inString {
			if err := skipString(r.br, limit); err != nil {
				return false, err
			}
		}
		err := r.jsonMembers(sk.req)
		if re, ok := IsRequestError(err); err == nil || (ok && re.Terminated) {
			return true, nil
		}
		if !r.skip.active || r.skip.req != nil {
			return false, nil
		}
		return r.skipJSON(limit)
	}
	return skipValueRest(r.br, sk.depth, sk.inString, limit)
}

// jsonNesting is how a byte outside strings changes the depth of JSON
// brackets.
var jsonNesting = [256]int8{'{': 1, '[': 1, '}': -1, ']': -1}

// skipString discards the rest of a JSON string whose opening quote was
// read, and its closing quote.
func skipString(br *bufio.Reader, limit int64) error {
	_, err := skipValueRest(br, 0, true, limit)
	return err
}

// skipValueRest discards JSON text until depth open brackets have closed
// (after the string it is in, if inString), reading at most limit bytes.
// done is false when the input ended or the limit came first.
func skipValueRest(br *bufio.Reader, depth int, inString bool, limit int64) (done bool, err error) {
	escaped := false
	for n := int64(0); n < limit; {
		buf, err := peekBuffered(br)
		if err != nil {
			return false, fmt.Errorf("skip request: %w", err)
		}
		for i, c := range buf {
			switch {
			case escaped:
				escaped = false
			case inString:
				escaped, inString = c == '\\', c != '"'
			default:
				inString = c == '"'
				depth += int(jsonNesting[c])
			}
			if depth <= 0 && !inString {
				br.Discard(i + 1)
				return true, nil
			}
		}
		br.Discard(len(buf))
		n += int64(len(buf))
	}
	return false, fmt.Errorf("skip request: no end within %d bytes", limit)
}
