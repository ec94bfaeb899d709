package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"sync/atomic"

	"fileserver/protocol"
)

// textMatcher checks a download of generated content without decoding or
// hashing it: the reply's base64 text, JSON escapes undone and line
// breaks left out (see protocol.TextMatcher), is compared with the text
// of the expected content, piece by piece with bytes.Equal, as it
// arrives. That is as strict as comparing the decoded bytes: base64 is
// a one-to-one map from bytes to canonical text, the expected text is
// canonical, so the received text equals it exactly when it decodes to
// the expected bytes and is itself canonical (the only other texts that
// decode to them set unused bits in the last quantum, which no encoder
// writes, and are refused). Equal text also proves the received text
// valid base64, whole and of the right length. A content value the reply
// held whole arrives decoded (Write) and is compared byte by byte.
type textMatcher struct {
	c     *content
	at    int64 // characters matched
	n     int64 // bytes matched through Write
	moved *atomic.Int64
	done  int64 // bytes counted in moved
}

var _ protocol.TextMatcher = (*textMatcher)(nil)

func newTextMatcher(c *content, moved *atomic.Int64) *textMatcher {
	return &textMatcher{c: c, moved: moved}
}

// MatchText consumes the longest prefix of p that is the text expected
// next.
func (m *textMatcher) MatchText(p []byte) int {
	i := 0
	for i < len(p) && m.at < m.c.chars {
		want := m.c.textPiece(m.at)
		k := min(len(want), len(p)-i)
		same := commonPrefix(p[i:i+k], want[:k])
		i += same
		m.at += int64(same)
		if same < k {
			break
		}
	}
	m.progress()
	return i
}

// commonPrefix returns the length of the common prefix of a and b, which
// are as long as each other, comparing 64 bytes at a time once they
// differ. It costs about the length of the prefix, so that text with a
// line break every 76 characters is not compared over and over.
func commonPrefix(a, b []byte) int {
	if bytes.Equal(a, b) {
		return len(a)
	}
	n := 0
	for len(a)-n >= 64 && bytes.Equal(a[n:n+64], b[n:n+64]) {
		n += 64
	}
	for n < len(a) && a[n] == b[n] {
		n++
	}
	return n
}

// Mismatch words the first difference: the offset of the first byte that
// differs, found by decoding the quantum it is in as received (text
// holds what followed), or, for a quantum that ends the content early
// with padding, the size received.
func (m *textMatcher) Mismatch(text []byte) error {
	if m.at >= m.c.chars {
		return m.tooMuch()
	}
	q := m.at / 4 * 4
	var got [4]byte
	n := 0
	for a := q; a < m.at; a++ {
		got[n] = m.c.textPiece(a)[0]
		n++
	}
	for _, ch := range text {
		if n == len(got) || ch == '"' || ch == '\\' {
			break
		}
		if ch != '\n' && ch != '\r' {
			got[n] = ch
			n++
		}
	}
	off := q / 4 * 3
	var want, dec [3]byte
	w := min(3, m.c.size-off)
	m.c.readAt(want[:w], off)
	if n == len(got) {
		if k, err := base64.StdEncoding.Decode(dec[:], got[:]); err == nil {
			for i := range min(int64(k), w) {
				if dec[i] != want[i] {
					return m.differs(off+i, "")
				}
			}
			if int64(k) > w {
				return m.tooMuch()
			}
			if int64(k) < w {
				return &integrityError{fmt.Sprintf("received %d bytes, want %d (the base64 ends at character %d)", off+int64(k), m.c.size, q+4)}
			}
			return &integrityError{fmt.Sprintf("non-canonical base64 at character %d (%q, want %q): unused bits set", m.at, got, m.c.textPiece(q)[:4])}
		}
	}
	return m.differs(m.at*3/4, fmt.Sprintf(" (base64 character %d is %q)", m.at, text[0]))
}

// differs is the error for content that differs from byte off on.
func (m *textMatcher) differs(off int64, detail string) error {
	return &integrityError{fmt.Sprintf("content differs from the expected from byte %d of %d on%s", off, m.c.size, detail)}
}

func (m *textMatcher) tooMuch() error {
	return &integrityError{fmt.Sprintf("the server sent more than the %d bytes expected", m.c.size)}
}

// Decoded is the content the matched text stands for.
func (m *textMatcher) Decoded() int64 { return m.c.decodedAt(m.at) }

// Write compares content bytes the reply held whole, decoded, with the
// expected bytes.
func (m *textMatcher) Write(p []byte) (int, error) {
	if int64(len(p)) > m.c.size-m.n {
		return 0, m.tooMuch()
	}
	for i := 0; i < len(p); {
		want := m.c.rawPiece(m.n)
		k := min(len(want), len(p)-i)
		same := commonPrefix(p[i:i+k], want[:k])
		m.n += int64(same)
		if same < k {
			return i + same, m.differs(m.n, "")
		}
		i += k
	}
	m.progress()
	return len(p), nil
}

// progress adds what was matched since the last call to moved.
func (m *textMatcher) progress() {
	if r := m.received(); r > m.done {
		if m.moved != nil {
			m.moved.Add(r - m.done)
		}
		m.done = r
	}
}

func (m *textMatcher) received() int64 { return max(m.Decoded(), m.n) }

// check says whether all the content came.
func (m *textMatcher) check(name string, _ int64, _ string) error {
	if m.at == m.c.chars || m.n == m.c.size {
		return nil
	}
	return &integrityError{fmt.Sprintf("download %q: received %d bytes, want %d", name, m.received(), m.c.size)}
}
