package protocol

import (
	"bufio"
	"fmt"
	"io"
)

// Base64Matcher is a content writer for a client that knows the base64
// text it expects (a load generator checking content it generated): the
// content a reply streams is handed to it as that text, JSON escapes
// undone and line breaks left out, instead of being decoded, so that
// checking it costs a memory compare rather than a decode and a hash. A
// content value the reply holds whole (see ReadReplyKeys: one before
// "status", or a short one under a key other than the first) still
// arrives decoded, through Write.
type Base64Matcher interface {
	io.Writer
	// MatchBase64 consumes the longest prefix of b64 that is the base64
	// expected next, and returns its length.
	MatchBase64(b64 []byte) int
	// Mismatch returns the error for b64, which starts with a character
	// MatchBase64 did not take (neither the closing quote, nor a line break
	// or an escape), and holds what the reader has buffered after it.
	Mismatch(b64 []byte) error
	// Decoded is the size of the content the text matched so far stands
	// for.
	Decoded() int64
}

// matchJSONString streams the rest of a reply's JSON string, whose
// opening quote was read, to m as base64 text, and consumes the closing
// quote. Like decodeBase64String it honours escapes that stand for base64
// characters and skips line breaks, raw or escaped, but it looks for
// none of them while the text is the expected one: m compares first, and
// only the character it stops at is looked at. It returns m.Decoded().
// Whether the text was complete is m's to say: the string may end early.
func matchJSONString(br *bufio.Reader, m Base64Matcher) (int64, error) {
	for {
		buf, err := peekBuffered(br)
		if err != nil {
			if err == io.EOF {
				return m.Decoded(), malformed("the connection ended inside the content, after %d bytes", m.Decoded())
			}
			return m.Decoded(), fmt.Errorf("read content: %w", err)
		}
		k := m.MatchBase64(buf)
		br.Discard(k)
		if k == len(buf) {
			continue
		}
		switch buf[k] {
		case '"':
			br.Discard(1)
			return m.Decoded(), nil
		case '\n', '\r':
			br.Discard(1)
		case '\\':
			// Peek no further than the escape: a short one may end the
			// reply.
			e, err := br.Peek(2)
			if err == nil && e[1] == 'u' {
				e, err = br.Peek(6)
			}
			if err == io.EOF {
				return m.Decoded(), malformed("the connection ended inside an escape")
			}
			if err != nil {
				return m.Decoded(), fmt.Errorf("read content: %w", err)
			}
			c, width, ok := escapeAt(e)
			if !ok {
				return m.Decoded(), badContent("escape %q is not a base64 character", e[:min(len(e), 6)])
			}
			if c != 0 && m.MatchBase64([]byte{c}) != 1 {
				return m.Decoded(), m.Mismatch([]byte{c})
			}
			br.Discard(width)
		default:
			return m.Decoded(), m.Mismatch(buf[k:])
		}
	}
}
