package protocol

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode/utf8"
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

// Reply is a parsed reply: what the protocol reads of it. Content
// streamed out of it is not kept, and neither is any value but the few
// short ones in Fields.
type Reply struct {
	Status string
	// Fields holds, as raw JSON, the values of the keys the protocol
	// reads (see keptKey) that are at most maxKeptValue bytes long ("data"
	// may be allowed more, see replySpec.dataLimit). A longer one is
	// listed by Cut; if it is a string, Fields holds its start.
	Fields map[string]json.RawMessage
	// ContentBytes counts decoded bytes written to the content writer, and
	// HasContent reports that the content key was present.
	ContentBytes int64
	HasContent   bool
	// ContentKey is the key the content was found under.
	ContentKey string
	// cut lists the kept keys whose value was too long to keep whole.
	cut []string
	// listed reports that "data" was an array streamed as names (see
	// replySpec.names).
	listed bool
}

// Cut reports whether the value of key was too long to keep whole.
func (r *Reply) Cut(key string) bool { return slices.Contains(r.cut, key) }

// Has reports whether the reply carries key, kept whole or cut.
func (r *Reply) Has(key string) bool {
	_, ok := r.Fields[key]
	return ok || r.Cut(key)
}

// String returns a string field, or "" if it is missing or not a string;
// the start of it, if it was cut (see Cut).
func (r *Reply) String(key string) string {
	var s string
	if raw, ok := r.Fields[key]; ok {
		_ = json.Unmarshal(raw, &s)
	}
	return s
}

// Decode unmarshals a field into v.
func (r *Reply) Decode(key string, v any) error {
	if r.Cut(key) {
		return &ReplyError{Reason: fmt.Sprintf("reply field %q is too long to read", key)}
	}
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
	return &ServerError{Status: r.Status, Reason: r.String("data"), Cut: r.Cut("data")}
}

// ServerError is a reply whose status is not OK. Status and Reason are
// the server's text, as it sent it (Reason at most maxKeptValue bytes of
// it: Cut says there was more); Error escapes them (see ServerString).
type ServerError struct {
	Status, Reason string
	Cut            bool
}

func (e *ServerError) Error() string {
	cut := ""
	if e.Cut {
		cut = " (cut)"
	}
	return fmt.Sprintf("server: %s: %s%s", ServerString(e.Status), ServerString(e.Reason), cut)
}

// ReplyError is a reply that breaks the protocol.
type ReplyError struct {
	Reason string
	// badContent reports content that is no valid base64 (see
	// badContent).
	badContent bool
}

func (e *ReplyError) Error() string { return "malformed reply: " + e.Reason }

func malformed(format string, args ...any) error {
	return &ReplyError{Reason: fmt.Sprintf(format, args...)}
}

// badContent is the error of content that is no valid base64, as the
// decoder or the text check finds it: it broke the protocol, whether or
// not the server closed the connection afterwards.
func badContent(format string, args ...any) error {
	return &ReplyError{Reason: "content: " + fmt.Sprintf(format, args...), badContent: true}
}

// isBadContent reports whether err is, or wraps, a badContent error.
func isBadContent(err error) bool {
	var re *ReplyError
	return errors.As(err, &re) && re.badContent
}

// Bounds on what a reply reader keeps.
const (
	// maxKeptValue bounds each value kept in Reply.Fields, as raw JSON: a
	// status, a size, a sha256, a file name, a message or an error's
	// reason.
	maxKeptValue = 1 << 10
	// maxReplyKeys and maxReplyKeyBytes bound the keys of a reply, which
	// are remembered (decoded, in fixed memory: see keySet) to refuse a
	// key that comes twice. Replies have a handful of short keys.
	maxReplyKeys     = 64
	maxReplyKeyBytes = 4 << 10
)

// keptKey returns key as a string if it is one whose value a reply reader
// keeps: all that the protocol reads of a reply but its content, names and
// STATS; "" if not.
func keptKey(key []byte) string {
	for _, k := range [...]string{"status", "data", "size", "sha256", "data_namafile"} {
		if string(key) == k {
			return k
		}
	}
	return ""
}

// ReadReply reads one reply from br. When content is not nil and the reply
// is OK, the string under contentKey is not kept: it is streamed out
// decoded from base64 to content (JSON escapes honoured), through bufs.
// A content value before the status cannot be streamed: it is kept if it
// fits in br's buffer, decoded once the status is OK, and refused if not.
//
// Whatever the server sends, a reply costs fixed memory beyond br's
// buffer: the values of keptKeys, at most maxKeptValue bytes each, and at
// most one content value that fits in br's buffer (see
// ReadReplyKeys); every other value is checked as strictly as json.loads
// would and skipped as it streams, nested at most maxReplyDepth deep. A
// key that comes twice is refused: Python's json.loads keeps the last
// value, where a streaming reader has used the first.
func ReadReply(br *bufio.Reader, contentKey string, content io.Writer, bufs *Buffers) (*Reply, error) {
	var keys []string
	if contentKey != "" {
		keys = []string{contentKey}
	}
	return readReply(br, replySpec{keys: keys, content: content, bufs: bufs})
}

// ReadReplyKeys is ReadReply for a server whose content key is not known:
// the content is under the first of keys the OK reply carries, except
// "data", which is the content only when the reply carries no other of
// keys (a course server's "data" may hold a message beside the content).
// keys[0] is always streamed. A value under another key that ends within
// br's buffer is kept until the reply says which key holds the content; a
// longer one can only be content and is streamed. A reply that carries
// a key of higher rank after a content it streamed is refused as
// ambiguous. Memory stays bounded by br's buffer either way.
func ReadReplyKeys(br *bufio.Reader, keys []string, content io.Writer, bufs *Buffers) (*Reply, error) {
	return readReply(br, replySpec{keys: keys, content: content, bufs: bufs})
}

// replySpec says what a reply reader does with the values it does not
// just keep short or skip.
type replySpec struct {
	// keys are where the content may be, by rank (see ReadReplyKeys), and
	// content and bufs where it is streamed to and through; a nil content
	// streams none.
	keys    []string
	content io.Writer
	bufs    *Buffers
	// names, if not nil, is passed each name of an array under "data", as
	// it streams (a LIST reply), at most MaxNameLen bytes, valid only
	// during the call.
	names func(name []byte) error
	// dataLimit, if not zero, bounds a "data" value kept whole instead of
	// maxKeptValue (STATS's object).
	dataLimit int
}

// replyReader reads one reply (see readReply).
type replyReader struct {
	s    jsonScanner
	spec replySpec
	r    *Reply
	keys keySet
	// heldKey and held are a content value kept whole until the reply
	// says whether it is the content: its key, and its JSON string,
	// quotes included.
	heldKey string
	held    []byte
	scratch [maxKeptValue]byte
}

// readReply reads one reply from br as spec says.
func readReply(br *bufio.Reader, spec replySpec) (*Reply, error) {
	rr := &replyReader{s: jsonScanner{br: br}, spec: spec, r: &Reply{Fields: map[string]json.RawMessage{}}}
	return rr.read()
}

func (rr *replyReader) read() (*Reply, error) {
	s, r := &rr.s, rr.r
	if err := s.expect('{'); err != nil {
		return nil, err
	}
	c, err := s.next()
	if err != nil {
		return nil, err
	}
	var key [maxKeyLen]byte
	for n := 0; c != '}'; n++ {
		if n > 0 {
			if c != ',' {
				return r, malformed("expected ',' or '}', got %q", c)
			}
			if c, err = s.next(); err != nil {
				return r, err
			}
		}
		if c != '"' {
			return r, malformed("expected a key, got %q", c)
		}
		k, err := s.readShortString(key[:0], "a key")
		if err != nil {
			return r, err
		}
		if err := rr.keys.add(k); err != nil {
			return r, err
		}
		if err := s.expect(':'); err != nil {
			return r, err
		}
		if c, err = s.next(); err != nil {
			return r, err
		}
		if err := rr.value(k, c); err != nil {
			return r, err
		}
		if c, err = s.next(); err != nil {
			return r, err
		}
	}
	t, err := s.br.Peek(len(Terminator))
	if err != nil || string(t) != Terminator {
		if err == nil || err == io.EOF {
			return r, malformed("the reply does not end in CRLF CRLF")
		}
		return r, fmt.Errorf("read reply: %w", err)
	}
	s.br.Discard(len(Terminator))
	if r.Status == "" {
		return r, malformed("no \"status\"")
	}
	return r, rr.settleHeld()
}

// value reads the value of key, whose first byte c was read.
func (rr *replyReader) value(key []byte, c byte) error {
	spec := &rr.spec
	if c == '"' && spec.content != nil && slices.Contains(spec.keys, string(key)) {
		if handled, err := rr.candidate(string(key)); handled || err != nil {
			return err
		}
	}
	if spec.names != nil && c == '[' && string(key) == DownloadContentKey {
		rr.r.listed = true
		return rr.names()
	}
	return rr.field(keptKey(key), c)
}

// rank orders the content keys: the first of spec.keys the reply carries
// holds the content, except "data" beside another (see ReadReplyKeys).
func (rr *replyReader) rank(key string) int {
	keys := rr.spec.keys
	if len(keys) > 1 && key == DownloadContentKey {
		return len(keys)
	}
	return slices.Index(keys, key)
}

// candidate reads a string under a content key, whose opening quote was
// read, when it may be the content: it streams it, keeps it whole until
// the reply says (held), or reports it not handled (a message beside the
// content, a reason in a reply that is not OK), to be read as any other
// field.
func (rr *replyReader) candidate(key string) (handled bool, err error) {
	r, br := rr.r, rr.s.br
	rank := rr.rank(key)
	switch {
	case r.HasContent:
		if rank < rr.rank(r.ContentKey) {
			return true, malformed("content under %q was taken, then the reply carries %q too: which of them holds it is ambiguous (name the key with -content-key)", r.ContentKey, key)
		}
		return false, nil
	case r.Status != "" && r.Status != StatusOK:
		return false, nil
	case rr.heldKey != "" && rank > rr.rank(rr.heldKey):
		return false, nil
	}
	n, fits := 0, false
	if r.Status != StatusOK || rank > 0 {
		if n, fits, err = stringFits(br); err != nil {
			return true, err
		}
	}
	switch {
	case r.Status == StatusOK && !fits:
		// keys[0], or a value too long to be anything but content.
		rr.release()
		c, err := decodeJSONString(br, rr.spec.content, rr.spec.bufs)
		r.ContentBytes, r.HasContent, r.ContentKey = c, true, key
		return true, err
	case !fits:
		// Python's dicts keep the order they were built in, so a course
		// server may put "data" (its reason, or the content) before
		// "status"; only a value too long to keep is refused.
		return true, malformed("content %q comes before \"status\", and is too long to keep until the status says what it is", key)
	}
	rr.release()
	rr.s.startKeep(make([]byte, 0, n+1))
	rr.s.save1('"')
	err = rr.s.skipString()
	rr.held, _ = rr.s.stopKeep()
	rr.heldKey = key
	return true, err
}

// release gives up the held value for one of higher rank: a "data" held
// was a message, and is kept as one.
func (rr *replyReader) release() {
	if rr.heldKey == DownloadContentKey {
		rr.keepField(DownloadContentKey, rr.held, maxKeptValue, true)
	}
	rr.heldKey, rr.held = "", nil
}

// settleHeld decides, once the whole reply is read, on the value held:
// the content of an OK reply that streamed none, or else a message.
func (rr *replyReader) settleHeld() error {
	r := rr.r
	if rr.held == nil {
		return nil
	}
	if r.Status != StatusOK || r.HasContent || rr.spec.content == nil {
		rr.release()
		return nil
	}
	// Decoded, through Write (see Base64Matcher): content that is no
	// base64 is refused by the decoder.
	src := bufio.NewReaderSize(bytes.NewReader(rr.held[1:]), max(16, min(len(rr.held), 4096)))
	bufs := rr.spec.bufs
	if bufs == nil {
		bufs = NewBuffers()
	}
	n, err := decodeJSONString(src, writerOnly{rr.spec.content}, bufs)
	r.ContentBytes, r.HasContent, r.ContentKey = n, true, rr.heldKey
	rr.heldKey, rr.held = "", nil
	return err
}

// writerOnly hides every method of an io.Writer but Write.
type writerOnly struct{ io.Writer }

// names streams the names of a LIST reply's array, whose '[' was read,
// to spec.names.
func (rr *replyReader) names() error {
	s := &rr.s
	c, err := s.next()
	if err != nil || c == ']' {
		return err
	}
	var buf [MaxNameLen]byte
	for {
		if c != '"' {
			return malformed("the list of names holds %q where a name belongs", c)
		}
		name, err := s.readShortString(buf[:0], "a name")
		if err != nil {
			return err
		}
		if err := rr.spec.names(name); err != nil {
			return err
		}
		if c, err = s.next(); err != nil || c == ']' {
			return err
		}
		if c != ',' {
			return malformed("expected ',' or ']' in the list of names, got %q", c)
		}
		if c, err = s.next(); err != nil {
			return err
		}
	}
}

// field reads the value of a key, whose first byte c was read: kept (up
// to its bound) when key is one of keptKeys, else checked and skipped.
func (rr *replyReader) field(key string, c byte) error {
	s := &rr.s
	if key == "" {
		return s.skipValue(c)
	}
	buf := rr.scratch[:0]
	limit := maxKeptValue
	if key == DownloadContentKey && rr.spec.dataLimit > limit {
		limit = rr.spec.dataLimit
		buf = make([]byte, 0, limit)
	}
	s.startKeep(buf)
	err := s.skipValue(c)
	raw, whole := s.stopKeep()
	if err != nil {
		return err
	}
	if key == "status" {
		if !whole {
			return malformed("a status longer than %d bytes", maxKeptValue)
		}
		if err := json.Unmarshal(raw, &rr.r.Status); err != nil {
			return malformed("status: %v", err)
		}
	}
	rr.keepField(key, raw, limit, whole)
	return nil
}

// keepField puts raw, the value of key, in Fields; if it did not fit
// whole (or is longer than limit), it is listed as cut, and a string's
// start is kept.
func (rr *replyReader) keepField(key string, raw []byte, limit int, whole bool) {
	r := rr.r
	if whole && len(raw) <= limit {
		r.Fields[key] = bytes.Clone(raw)
		return
	}
	r.cut = append(r.cut, key)
	if len(raw) > 0 && raw[0] == '"' {
		r.Fields[key] = cutString(raw[:min(len(raw), limit)])
	}
}

// cutString makes a JSON string of the start of one, raw without its
// end: cut before an escape or a UTF-8 sequence it would split.
func cutString(raw []byte) json.RawMessage {
	end := 1
	for i := 1; i < len(raw); {
		switch c := raw[i]; {
		case c == '\\':
			w := 2
			if i+1 < len(raw) && raw[i+1] == 'u' {
				w = 6
			}
			if i+w > len(raw) {
				i = len(raw)
				continue
			}
			i += w
		case c < utf8.RuneSelf:
			i++
		default:
			_, w := utf8.DecodeRune(raw[i:])
			if w == 1 && !utf8.FullRune(raw[i:]) {
				i = len(raw)
				continue
			}
			i += w
		}
		end = i
	}
	out := append(bytes.Clone(raw[:end]), '"')
	if !json.Valid(out) {
		return json.RawMessage(`""`)
	}
	return out
}

// keySet remembers a reply's keys, decoded, in fixed memory, so that a
// key that comes twice is refused. Past maxReplyKeys keys, or
// maxReplyKeyBytes of them, the reply is refused as well: no reply the
// protocol knows comes near.
type keySet struct {
	n     int
	ends  [maxReplyKeys]uint16
	bytes [maxReplyKeyBytes]byte
}

func (ks *keySet) add(key []byte) error {
	start := 0
	for _, end := range ks.ends[:ks.n] {
		if string(ks.bytes[start:end]) == string(key) {
			return malformed("the key %.64q comes twice: json.loads would take the last value, a stream the first", key)
		}
		start = int(end)
	}
	if ks.n == maxReplyKeys || start+len(key) > maxReplyKeyBytes {
		return malformed("more than %d keys, or %d bytes of them", maxReplyKeys, maxReplyKeyBytes)
	}
	copy(ks.bytes[start:], key)
	ks.ends[ks.n] = uint16(start + len(key))
	ks.n++
	return nil
}

// replyParser reads one JSON value whole, within a limit: the JSON
// requests' (see RequestReader.jsonValue).
type replyParser struct {
	br  *bufio.Reader
	raw []byte
	// limit bounds one value's bytes; zero means maxKeptValue.
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

// rawValue reads one JSON value whose first byte, first, was already read,
// and returns its bytes (at most limit of them).
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
		limit = maxKeptValue
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
		return badContent("%s", re.Reason)
	}
	return err
}
