package protocol

import (
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
	unknown    string // a command word that is not ours, reported at the end
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
		if js.members > 0 {
			if c != ',' {
				return jsonError("expected ',' or '}', got %q", c)
			}
			if c, err = r.jsonNext(); err != nil {
				return err
			}
		}
		js.members++
		key, err := r.jsonString(c, "a key")
		if err != nil {
			return err
		}
		if c, err = r.jsonNext(); err != nil {
			return err
		}
		if c != ':' {
			return jsonError("expected ':' after %q, got %q", key, c)
		}
		if c, err = r.jsonNext(); err != nil {
			return err
		}
		switch k := strings.ToLower(key); {
		case isOneOf(k, jsonCommandKeys):
			word, err := r.jsonString(c, fmt.Sprintf("%q", key))
			if err != nil {
				return err
			}
			cmd, _, ok := lookupCommand(word)
			if !ok {
				js.unknown = word
			}
			req.Command = cmd
		case isOneOf(k, jsonParamsKeys):
			if c != '[' {
				return jsonError("%q must be a list", key)
			}
			js.inParams, js.elems = true, 0
		case isOneOf(k, jsonNameKeys):
			name, err := r.jsonString(c, fmt.Sprintf("%q", key))
			if err != nil {
				return err
			}
			if err := setName(req, name); err != nil {
				return err
			}
		case isOneOf(k, jsonContentKeys):
			if c != '"' {
				return jsonError("%q must be a base64 string", key)
			}
			if js.hadContent {
				return jsonError("more than one content")
			}
			js.hadContent, req.HasPayload = true, true
			return nil
		default:
			if _, err := r.jsonValue(c); err != nil {
				return err
			}
		}
	}
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
		p, err := r.jsonString(c, "every parameter")
		if err != nil {
			return false, err
		}
		if js.elems == 1 {
			err = setName(req, p)
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
		return &RequestError{Reason: `a JSON UPLOAD needs a file name and its base64 content: {"command": "upload", "params": ["name", "<base64>"]}`, Terminated: true}
	}
	return nil
}

// setName sets the file name of a request, which a JSON request may give
// twice (in "params" and by name), but not two different ones.
func setName(req *Request, name string) error {
	if len(req.Args) == 0 {
		req.Args = []string{name}
		return nil
	}
	if req.Args[0] != name {
		return jsonError("two different file names, %q and %q", req.Args[0], name)
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

// jsonString reads a JSON value that must be a string.
func (r *RequestReader) jsonString(first byte, what string) (string, error) {
	if first != '"' {
		return "", jsonError("%s must be a string, got %q", what, first)
	}
	raw, err := r.jsonValue(first)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", jsonError("%s: %v", what, err)
	}
	return s, nil
}
