package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"slices"
)

// Reply statuses.
const (
	StatusOK    = "OK"
	StatusError = "ERROR"
)

// Content keys: where a GET and a DOWNLOAD reply carry the file's base64.
const (
	GetContentKey      = "data_file"
	DownloadContentKey = "data"
)

// MaxReplyValue bounds any reply value read into memory (everything but
// streamed content), so a hostile server cannot exhaust a client.
const MaxReplyValue = 16 << 20

// AppendReply appends a whole reply: the object and the terminator.
func AppendReply(dst []byte, fields ...Field) []byte {
	return append(AppendObject(dst, fields...), Terminator...)
}

// AppendError appends an ERROR reply with a reason.
func AppendError(dst []byte, reason string) []byte {
	return AppendReply(dst, Field{"status", StatusError}, Field{"data", reason})
}

// ContentFrame returns what a GET (or DOWNLOAD) reply writes before and
// after the base64 of the file, so the content can stream between them.
func ContentFrame(name, contentKey string) (prefix, suffix string) {
	b := AppendObject(nil, Field{"status", StatusOK}, Field{"data_namafile", name}, Field{contentKey, ""})
	return string(b[:len(b)-2]), `"}` + Terminator
}

// ListFrame returns what a LIST reply writes before and after its names,
// so that they can stream between them, separated by ", ".
func ListFrame() (prefix, suffix string) {
	b := AppendObject(nil, Field{"status", StatusOK}, Field{"data", []string{}})
	return string(b[:len(b)-2]), "]}" + Terminator
}

// Reply is a parsed reply. Content streamed out of it is not kept.
type Reply struct {
	Status string
	// Fields holds every value but the streamed content, as raw JSON.
	Fields map[string]json.RawMessage
	// ContentBytes counts decoded bytes written to the content writer, and
	// HasContent reports that the content key was present.
	ContentBytes int64
	HasContent   bool
	// ContentKey is the key the content was found under.
	ContentKey string
}

// String returns a string field, or "" if it is missing or not a string.
func (r *Reply) String(key string) string {
	var s string
	if raw, ok := r.Fields[key]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// Decode unmarshals a field into v.
func (r *Reply) Decode(key string, v any) error {
	raw, ok := r.Fields[key]
	if !ok {
		return fmt.Errorf("reply has no %q", key)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("reply field %q: %w", key, err)
	}
	return nil
}

// Err returns a *ServerError when the status is not OK.
func (r *Reply) Err() error {
	if r.Status == StatusOK {
		return nil
	}
	return &ServerError{Status: r.Status, Reason: r.String("data")}
}

// ServerError is a reply whose status is not OK.
type ServerError struct {
	Status, Reason string
}

func (e *ServerError) Error() string { return fmt.Sprintf("server: %s: %s", e.Status, e.Reason) }

// ReplyError is a reply that breaks the protocol.
type ReplyError struct{ Reason string }

func (e *ReplyError) Error() string { return "malformed reply: " + e.Reason }

func malformed(format string, args ...any) error {
	return &ReplyError{Reason: fmt.Sprintf(format, args...)}
}

// ReadReply reads one reply from br. When content is not nil and the reply
// is OK, the string under contentKey is not kept: it is streamed out
// decoded from base64 to content (JSON escapes honoured), through bufs.
// A content value before the status cannot be streamed: it is kept if it
// fits in br's buffer, decoded once the status is OK, and refused if not.
func ReadReply(br *bufio.Reader, contentKey string, content io.Writer, bufs *Buffers) (*Reply, error) {
	var keys []string
	if contentKey != "" {
		keys = []string{contentKey}
	}
	return ReadReplyKeys(br, keys, content, bufs)
}

// ReadReplyKeys is ReadReply for a server whose content key is not known:
// the content is under the first of keys the OK reply carries. keys[0] is
// always streamed. The others may also hold a message (a course server's
// "data"), so a value under them that ends within br's buffer is kept,
// and decoded as the content at the end (see decodeKept: "data" only when
// the reply carries no other of keys); a longer one can only be content
// and is streamed.
// Memory stays bounded by br's buffer either way.
func ReadReplyKeys(br *bufio.Reader, keys []string, content io.Writer, bufs *Buffers) (*Reply, error) {
	p := replyParser{br: br}
	r := &Reply{Fields: map[string]json.RawMessage{}}
	if err := p.expect('{'); err != nil {
		return nil, err
	}
	c, err := p.next()
	if err != nil {
		return nil, err
	}
	for c != '}' {
		if len(r.Fields) > 0 || r.HasContent {
			if c != ',' {
				return nil, malformed("expected ',' or '}', got %q", c)
			}
			if c, err = p.next(); err != nil {
				return nil, err
			}
		}
		if c != '"' {
			return nil, malformed("expected a key, got %q", c)
		}
		raw, err := p.rawValue('"')
		if err != nil {
			return nil, err
		}
		var key string
		if err := json.Unmarshal(raw, &key); err != nil {
			return nil, malformed("key: %v", err)
		}
		if err := p.expect(':'); err != nil {
			return nil, err
		}
		if c, err = p.next(); err != nil {
			return nil, err
		}
		rank := slices.Index(keys, key)
		candidate := rank >= 0 && content != nil && c == '"' && !r.HasContent
		if candidate && r.Status == "" {
			// Python's dicts keep the order they were built in, so a
			// course server may put "data" (its reason, or the content)
			// before "status". A value that fits in br's buffer is
			// kept, and decided on once the status is known; only a
			// larger one, which could only be streamed, is refused.
			fits, err := stringFits(br)
			if err != nil {
				return nil, err
			}
			if !fits {
				return nil, malformed("content %q comes before \"status\", and is too long to keep until the status says what it is", key)
			}
		}
		stream := candidate && r.Status == StatusOK
		if stream && rank > 0 {
			fits, err := stringFits(br)
			if err != nil {
				return nil, err
			}
			stream = !fits
		}
		if stream {
			n, err := decodeJSONString(br, content, bufs)
			r.ContentBytes, r.HasContent, r.ContentKey = n, true, key
			if err != nil {
				return r, err
			}
		} else {
			raw, err := p.rawValue(c)
			if err != nil {
				return nil, err
			}
			r.Fields[key] = raw
			if key == "status" {
				if err := json.Unmarshal(raw, &r.Status); err != nil {
					return nil, malformed("status: %v", err)
				}
			}
		}
		if c, err = p.next(); err != nil {
			return nil, err
		}
	}
	t, err := br.Peek(len(Terminator))
	if err != nil || string(t) != Terminator {
		if err == nil || err == io.EOF {
			return nil, malformed("the reply does not end in CRLF CRLF")
		}
		return nil, fmt.Errorf("read reply: %w", err)
	}
	br.Discard(len(Terminator))
	if r.Status == "" {
		return nil, malformed("no \"status\"")
	}
	if r.Status == StatusOK && content != nil && !r.HasContent {
		if err := r.decodeKept(keys, content); err != nil {
			return r, err
		}
	}
	return r, nil
}

type replyParser struct {
	br  *bufio.Reader
	raw []byte
	// limit bounds one value's bytes; zero means MaxReplyValue.
	limit int
	// errorf makes the error for a malformed value; nil means malformed.
	errorf func(format string, args ...any) error
}

func (p *replyParser) fail(format string, args ...any) error {
	if p.errorf != nil {
		return p.errorf(format, args...)
	}
	return malformed(format, args...)
}

// next returns the next byte that is not JSON white space.
func (p *replyParser) next() (byte, error) {
	for {
		c, err := p.br.ReadByte()
		if err != nil {
			if err == io.EOF {
				return 0, malformed("the connection ended inside the reply")
			}
			return 0, fmt.Errorf("read reply: %w", err)
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

func (p *replyParser) expect(want byte) error {
	c, err := p.next()
	if err != nil {
		return err
	}
	if c != want {
		return malformed("expected %q, got %q", want, c)
	}
	return nil
}

// rawValue reads one JSON value whose first byte, first, was already read,
// and returns its bytes (at most MaxReplyValue of them).
func (p *replyParser) rawValue(first byte) (json.RawMessage, error) {
	p.raw = append(p.raw[:0], first)
	depth := 0
	inString := first == '"'
	escaped := false
	switch first {
	case '{', '[':
		depth = 1
	case '"':
	default:
		// A literal: read until a delimiter, which is left unread.
		for {
			b, err := p.br.Peek(1)
			if err != nil {
				return nil, p.fail("the connection ended inside a value")
			}
			switch b[0] {
			case ',', '}', ']', ' ', '\t', '\r', '\n':
				return p.check()
			}
			if err := p.add(b[0]); err != nil {
				return nil, err
			}
			p.br.Discard(1)
		}
	}
	for {
		c, err := p.br.ReadByte()
		if err != nil {
			return nil, p.fail("the connection ended inside a value")
		}
		if err := p.add(c); err != nil {
			return nil, err
		}
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case inString && c == '"':
			inString = false
			if depth == 0 {
				return p.check()
			}
		case inString:
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
			if depth == 0 {
				return p.check()
			}
		}
	}
}

func (p *replyParser) add(c byte) error {
	limit := p.limit
	if limit == 0 {
		limit = MaxReplyValue
	}
	if len(p.raw) >= limit {
		return p.fail("a value longer than %d bytes", limit)
	}
	p.raw = append(p.raw, c)
	return nil
}

func (p *replyParser) check() (json.RawMessage, error) {
	if !json.Valid(p.raw) {
		return nil, p.fail("invalid JSON value %.40q", p.raw)
	}
	return bytes.Clone(p.raw), nil
}

// contentError turns a base64 error in a reply into a ReplyError.
func contentError(err error) error {
	if re, ok := IsRequestError(err); ok {
		return malformed("content: %s", re.Reason)
	}
	return err
}
