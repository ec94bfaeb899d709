package protocol

import (
	"bufio"
	"fmt"
	"io"
	"unicode/utf8"
)

// Bounds on reading a reply. A reply is read in fixed memory whatever the
// server sends: values that are not needed are checked and skipped as
// they stream, and the few that are kept are bounded (see ReadReply).
const (
	// maxReplyDepth is how deeply a reply's values may nest. Python's
	// json.loads gives up at about 1000 levels (its recursion limit), so
	// a course client could not read a deeper reply either. The scanner
	// keeps one bit per level, not a stack that grows.
	maxReplyDepth = 1024
	// maxWhitespace bounds a run of white space between two tokens: a
	// server may indent its JSON, but not forever.
	maxWhitespace = 64 << 10
	// maxKeyLen bounds a key, decoded: a reply's keys are words.
	maxKeyLen = 256
	// maxNumberLen bounds a number's characters: Python refuses to read
	// an integer of more than 4300 digits.
	maxNumberLen = 4400
)

// stringStop marks the bytes that interrupt a run of plain characters in
// a JSON string: its end, an escape, and the control characters, which
// JSON (and Python's json.loads) refuses raw in a string.
var stringStop = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

// jsonScanner reads JSON from br token by token, in fixed memory: a value
// that is not needed is checked (as strictly as json.Valid) and skipped as
// it streams, nesting counted one bit per level (object or array) rather
// than stacked. Its errors are *ReplyErrors.
type jsonScanner struct {
	br *bufio.Reader
	// started reports that a byte other than white space was read, to
	// tell a reply cut short from none at all.
	started bool
	// depth is how many arrays and objects are open inside the value
	// being skipped; objects has bit d set when level d is an object.
	depth   int
	objects [maxReplyDepth / 64]uint64
	// keep, when not nil, receives a copy of the bytes of the value being
	// skipped, up to its capacity; kept is false once one did not fit.
	keep []byte
	kept bool
}

// next returns the next byte that is not JSON white space, consumed. A
// run of white space longer than maxWhitespace is refused.
func (s *jsonScanner) next() (byte, error) {
	for n := 0; ; n++ {
		c, err := s.br.ReadByte()
		if err != nil {
			return 0, s.readError(err)
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			if n >= maxWhitespace {
				return 0, malformed("more than %d bytes of white space", maxWhitespace)
			}
			continue
		}
		s.started = true
		return c, nil
	}
}

// readError words a failed read: the end of the connection is a reply cut
// short, or none at all.
func (s *jsonScanner) readError(err error) error {
	if err != io.EOF {
		return fmt.Errorf("read reply: %w", err)
	}
	if !s.started {
		return malformed("the server closed the connection without replying")
	}
	return malformed("the connection ended inside the reply")
}

// expect consumes the next byte that is not white space, which must be
// want.
func (s *jsonScanner) expect(want byte) error {
	c, err := s.next()
	if err != nil {
		return err
	}
	if c != want {
		return malformed("expected %q, got %q", want, c)
	}
	return nil
}

// startKeep makes the scanner copy the bytes of the next value skipped
// into buf, up to its capacity.
func (s *jsonScanner) startKeep(buf []byte) { s.keep, s.kept = buf[:0], true }

// stopKeep ends the copy and returns it, and whether the whole value fit.
func (s *jsonScanner) stopKeep() ([]byte, bool) {
	b, ok := s.keep, s.kept
	s.keep = nil
	return b, ok
}

// save copies p, consumed, to keep while it has room.
func (s *jsonScanner) save(p []byte) {
	if s.keep == nil || !s.kept {
		return
	}
	if room := cap(s.keep) - len(s.keep); len(p) > room {
		s.keep = append(s.keep, p[:room]...)
		s.kept = false
		return
	}
	s.keep = append(s.keep, p...)
}

func (s *jsonScanner) save1(c byte) {
	if s.keep == nil || !s.kept {
		return
	}
	if len(s.keep) == cap(s.keep) {
		s.kept = false
		return
	}
	s.keep = append(s.keep, c)
}

// skipValue checks and skips one JSON value whose first byte, first, was
// consumed. A number is ended by the byte after it, which is left unread.
func (s *jsonScanner) skipValue(first byte) error {
	base := s.depth
	c := first
	for {
		pending, err := s.startValue(&c)
		if err != nil {
			return err
		}
		if pending {
			continue
		}
		// A value ended: close what it ends, or find the next element.
		for again := true; again; {
			if s.depth == base {
				return nil
			}
			d, err := s.next()
			if err != nil {
				return err
			}
			s.save1(d)
			inObject := s.objects[(s.depth-1)/64]&(1<<((s.depth-1)%64)) != 0
			switch {
			case d == ',':
				if c, err = s.next(); err != nil {
					return err
				}
				if inObject {
					if c, err = s.member(c); err != nil {
						return err
					}
				}
				again = false
			case inObject && d == '}', !inObject && d == ']':
				s.depth--
			default:
				return malformed("expected ',' or %q, got %q", closer(inObject), d)
			}
		}
	}
}

func closer(inObject bool) byte {
	if inObject {
		return '}'
	}
	return ']'
}

// startValue scans the value that starts with *c: a string, number or
// literal whole (pending false); an array or object is opened, and closed
// again if empty (pending false), or *c becomes the first byte of its
// first element's value (pending true).
func (s *jsonScanner) startValue(c *byte) (pending bool, err error) {
	switch *c {
	case '{', '[':
		if s.depth >= maxReplyDepth {
			return false, malformed("values nested more than %d deep", maxReplyDepth)
		}
		obj := *c == '{'
		bit := uint64(1) << (s.depth % 64)
		if obj {
			s.objects[s.depth/64] |= bit
		} else {
			s.objects[s.depth/64] &^= bit
		}
		s.depth++
		s.save1(*c)
		d, err := s.next()
		if err != nil {
			return false, err
		}
		if d == closer(obj) {
			s.save1(d)
			s.depth--
			return false, nil
		}
		if obj {
			if d, err = s.member(d); err != nil {
				return false, err
			}
		}
		*c = d
		return true, nil
	case '"':
		s.save1('"')
		return false, s.skipString()
	case 't':
		return false, s.literal("true")
	case 'f':
		return false, s.literal("false")
	case 'n':
		return false, s.literal("null")
	}
	if *c == '-' || ('0' <= *c && *c <= '9') {
		return false, s.skipNumber(*c)
	}
	return false, malformed("expected a value, got %q", *c)
}

// member reads an object member's key, whose first byte c was read, and
// its colon, and returns the first byte of its value.
func (s *jsonScanner) member(c byte) (byte, error) {
	if c != '"' {
		return 0, malformed("expected a key, got %q", c)
	}
	s.save1('"')
	if err := s.skipString(); err != nil {
		return 0, err
	}
	if err := s.expect(':'); err != nil {
		return 0, err
	}
	s.save1(':')
	return s.next()
}

// skipString checks and skips the rest of a string whose opening quote
// was read, its closing quote included. Plain characters go by in runs as
// long as the buffer.
func (s *jsonScanner) skipString() error {
	for {
		buf, err := peekBuffered(s.br)
		if err != nil {
			return s.insideError(err, "a string")
		}
		i := 0
		for i < len(buf) && !stringStop[buf[i]] {
			i++
		}
		s.save(buf[:i])
		s.br.Discard(i)
		if i == len(buf) {
			continue
		}
		switch c := buf[i]; c {
		case '"':
			s.save1(c)
			s.br.Discard(1)
			return nil
		case '\\':
			if _, _, err := s.escape(); err != nil {
				return err
			}
		default:
			return malformed("a control character (%#02x) inside a string", c)
		}
	}
}

// insideError words a read that failed inside a token.
func (s *jsonScanner) insideError(err error, what string) error {
	if err == io.EOF {
		return malformed("the connection ended inside %s", what)
	}
	return fmt.Errorf("read reply: %w", err)
}

// escape consumes one escape, its backslash first, and returns what it
// stands for in UTF-8 (a lone surrogate as its three bytes, as Python
// keeps it in a str).
func (s *jsonScanner) escape() (out [4]byte, n int, err error) {
	e, err := s.br.Peek(2)
	if err == nil && e[1] == 'u' {
		e, err = s.br.Peek(6)
	}
	if err != nil {
		return out, 0, s.insideError(err, "an escape")
	}
	if c := jsonEscapes[e[1]]; c != 0 {
		s.save(e)
		s.br.Discard(2)
		return [4]byte{c}, 1, nil
	}
	r, ok := hex4(e[2:])
	if e[1] != 'u' || !ok {
		return out, 0, malformed("bad escape %q", e)
	}
	s.save(e)
	s.br.Discard(6)
	if 0xd800 <= r && r < 0xdc00 { // a high surrogate: a low one may follow
		if l, err := s.br.Peek(6); err == nil && l[0] == '\\' && l[1] == 'u' {
			if lo, ok := hex4(l[2:6]); ok && 0xdc00 <= lo && lo < 0xe000 {
				s.save(l)
				s.br.Discard(6)
				return out, utf8.EncodeRune(out[:], 0x10000+(r-0xd800)<<10+(lo-0xdc00)), nil
			}
		}
	}
	if 0xd800 <= r && r < 0xe000 {
		out[0], out[1], out[2] = 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f
		return out, 3, nil
	}
	return out, utf8.EncodeRune(out[:], r), nil
}

// readShortString decodes the rest of a string whose opening quote was
// read into dst[:0], escapes undone, and refuses one longer than
// cap(dst) bytes decoded; what names it in that error.
func (s *jsonScanner) readShortString(dst []byte, what string) ([]byte, error) {
	dst = dst[:0]
	limit := cap(dst)
	for {
		buf, err := peekBuffered(s.br)
		if err != nil {
			return dst, s.insideError(err, what)
		}
		i := 0
		for i < len(buf) && !stringStop[buf[i]] {
			i++
		}
		if len(dst)+i > limit {
			return dst, malformed("%s longer than %d bytes", what, limit)
		}
		dst = append(dst, buf[:i]...)
		s.br.Discard(i)
		if i == len(buf) {
			continue
		}
		switch c := buf[i]; c {
		case '"':
			s.br.Discard(1)
			return dst, nil
		case '\\':
			e, n, err := s.escape()
			if err != nil {
				return dst, err
			}
			if len(dst)+n > limit {
				return dst, malformed("%s longer than %d bytes", what, limit)
			}
			dst = append(dst, e[:n]...)
		default:
			return dst, malformed("a control character (%#02x) inside %s", c, what)
		}
	}
}

// literal checks and skips the rest of true, false or null, whose first
// byte was read.
func (s *jsonScanner) literal(word string) error {
	b, err := s.br.Peek(len(word) - 1)
	if err != nil && err != io.EOF {
		return fmt.Errorf("read reply: %w", err)
	}
	if string(b) != word[1:] {
		if err == io.EOF {
			return malformed("the connection ended inside %q", word)
		}
		return malformed("expected %q, got %q", word, word[:1]+string(b))
	}
	s.save1(word[0])
	s.save(b)
	s.br.Discard(len(b))
	return nil
}

// Number states, after: the sign; a leading 0; digits of the integer
// part; the point; digits of the fraction; e or E; the exponent's sign;
// digits of the exponent.
const (
	numSign = iota
	numZero
	numInt
	numPoint
	numFrac
	numE
	numExpSign
	numExp
)

// numberStep is the number state after c in state st, and whether c
// continues the number.
func numberStep(st int, c byte) (int, bool) {
	digit := '0' <= c && c <= '9'
	switch st {
	case numSign:
		if c == '0' {
			return numZero, true
		}
		if digit {
			return numInt, true
		}
	case numZero, numInt:
		switch {
		case digit && st == numInt:
			return numInt, true
		case c == '.':
			return numPoint, true
		case c == 'e' || c == 'E':
			return numE, true
		}
	case numPoint, numFrac:
		if digit {
			return numFrac, true
		}
		if st == numFrac && (c == 'e' || c == 'E') {
			return numE, true
		}
	case numE:
		if c == '+' || c == '-' {
			return numExpSign, true
		}
		if digit {
			return numExp, true
		}
	case numExpSign, numExp:
		if digit {
			return numExp, true
		}
	}
	return st, false
}

// skipNumber checks and skips a number whose first byte was read; the
// byte after it is left unread.
func (s *jsonScanner) skipNumber(first byte) error {
	st := numSign
	if first != '-' {
		st, _ = numberStep(numSign, first)
	}
	s.save1(first)
	for n := 1; ; n++ {
		b, err := s.br.Peek(1)
		if err != nil {
			return s.insideError(err, "a number")
		}
		next, ok := numberStep(st, b[0])
		if !ok {
			if st == numZero || st == numInt || st == numFrac || st == numExp {
				return nil
			}
			return malformed("invalid number: %q after %d characters", b[0], n)
		}
		if n >= maxNumberLen {
			return malformed("a number longer than %d characters", maxNumberLen)
		}
		s.save(b)
		s.br.Discard(1)
		st = next
	}
}
