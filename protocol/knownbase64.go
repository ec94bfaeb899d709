package protocol

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
)

// Base64 is content whose base64 text is known before it moves, as a load
// generator's generated content is: an upload writes the text as it is
// (WriteBase64, Client.UploadBase64) and a download compares the text that
// arrives with it (Client.GetVerified), so that neither encodes, decodes
// nor hashes a byte. The text is the content's padded standard base64,
// Base64Len(Size()) characters.
type Base64 interface {
	// Size is the content's length in bytes.
	Size() int64
	// Base64At returns the text from character at (below Base64Len(Size()))
	// on, as far as it is at hand in one piece. It is valid until the
	// next call, and the caller must not change it.
	Base64At(at int64) []byte
	// BytesAt returns the content from byte off (below Size) on, as far
	// as it is at hand in one piece, valid until the next call.
	BytesAt(off int64) []byte
}

// Base64Len is the length of the padded base64 text of size bytes.
func Base64Len(size int64) int64 { return (size + 2) / 3 * 4 }

// base64DecodedAt is the number of content bytes the first at characters of
// t's text stand for, counting whole quanta only until the text is
// complete.
func base64DecodedAt(t Base64, at int64) int64 {
	if at >= Base64Len(t.Size()) {
		return t.Size()
	}
	return at / 4 * 3
}

// readContentAt fills p with t's content from offset off; p must not reach
// past the end.
func readContentAt(t Base64, p []byte, off int64) {
	for len(p) > 0 {
		n := copy(p, t.BytesAt(off))
		p, off = p[n:], off+int64(n)
	}
}

// stageSize is what WriteBase64 copies of each piece that does not fit
// whole: the pieces before it (a period's header, say) and its start go
// out together from a buffer of the writer's own, and the rest of the
// piece straight from the Base64's memory.
const stageSize = 32 << 10

// WriteBase64 writes prefix, t's text and suffix to w with no per-byte work
// but the kernel's copy (see stageSize). It returns the content bytes
// sent, counting whole quanta until all went, and passes progress (if not
// nil) the bytes sent since its last call as they go.
func WriteBase64(w io.Writer, t Base64, prefix, suffix string, progress func(int64)) (int64, error) {
	stage := make([]byte, 0, len(prefix)+stageSize)
	stage = append(stage, prefix...)
	chars := Base64Len(t.Size())
	var at int64   // characters of the text staged or written
	var out int64  // bytes written, prefix included
	var done int64 // content bytes reported
	write := func(p []byte) error {
		n, err := w.Write(p)
		out += int64(n)
		if sent := base64DecodedAt(t, min(max(out-int64(len(prefix)), 0), chars)); sent > done {
			if progress != nil {
				progress(sent - done)
			}
			done = sent
		}
		return err
	}
	for at < chars {
		p := t.Base64At(at)
		at += int64(len(p))
		room := cap(stage) - len(stage)
		if len(p) <= room {
			stage = append(stage, p...)
			continue
		}
		stage = append(stage, p[:room]...)
		if err := write(stage); err != nil {
			return done, err
		}
		stage = stage[:0]
		if err := write(p[room:]); err != nil {
			return done, err
		}
	}
	stage = append(stage, suffix...)
	if err := write(stage); err != nil {
		return done, err
	}
	return done, nil
}

// contentCheck verifies a download's content as it arrives (see
// Client.GetVerified).
type contentCheck interface {
	io.Writer
	// received is the content bytes received and found right so far.
	received() int64
	// missing says what is wrong with the content once the reply was
	// read (an *IntegrityError, or a *ReplyError for base64 cut inside a
	// quantum), nil when all of it came and was right.
	missing() error
}

// base64Check checks a download of a Base64 without decoding or hashing it:
// the reply's base64 text, JSON escapes undone and line breaks left out
// (see Base64Matcher), is compared with the expected text, piece by piece
// with bytes.Equal, as it arrives. That is as strict as comparing the
// decoded bytes: base64 is a one-to-one map from bytes to canonical text,
// the expected text is canonical, so the received text equals it exactly
// when it decodes to the expected bytes and is itself canonical (the only
// other texts that decode to them set unused bits in the last quantum,
// which no encoder writes, and are refused). Equal text also proves the
// received text valid base64, whole and of the right length. A content
// value the reply held whole arrives decoded (Write) and is compared
// byte by byte.
type base64Check struct {
	t        Base64
	size     int64
	chars    int64
	at       int64 // characters matched
	n        int64 // bytes matched through Write
	progress func(int64)
	done     int64 // bytes reported to progress
}

var _ Base64Matcher = (*base64Check)(nil)

func newBase64Check(t Base64, progress func(int64)) *base64Check {
	return &base64Check{t: t, size: t.Size(), chars: Base64Len(t.Size()), progress: progress}
}

// MatchBase64 consumes the longest prefix of p that is the text expected
// next.
func (m *base64Check) MatchBase64(p []byte) int {
	i := 0
	for i < len(p) && m.at < m.chars {
		want := m.t.Base64At(m.at)
		k := min(len(want), len(p)-i)
		same := commonPrefix(p[i:i+k], want[:k])
		i += same
		m.at += int64(same)
		if same < k {
			break
		}
	}
	m.tellProgress()
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
// differs, found by decoding the quantum it is in as received (b64
// holds what followed), or, for a quantum that ends the content early
// with padding, the size received. Characters that are no base64 there (a
// character outside the alphabet, padding out of place, data after the
// padding, unused bits set, a string that ends inside a quantum) break
// the protocol rather than the content: it is a *ReplyError, as the
// decoder's errors are for content that is decoded and hashed.
func (m *base64Check) Mismatch(b64 []byte) error {
	if !isBase64Char(b64[0]) {
		return badContent("invalid base64 at character %d: %q", m.at, b64[0])
	}
	if m.at >= m.chars {
		if m.chars > 0 && m.t.Base64At(m.chars - 1)[0] == '=' {
			return badContent("invalid base64 at character %d: data after the padding", m.at)
		}
		return m.tooMuch()
	}
	q := m.at / 4 * 4
	var got [4]byte
	n := 0
	for a := q; a < m.at; a++ {
		got[n] = m.t.Base64At(a)[0]
		n++
	}
	i := 0 // into b64, past the characters taken
	for ; i < len(b64) && n < len(got); i++ {
		ch := b64[i]
		if ch == '"' || ch == '\\' {
			break
		}
		if ch != '\n' && ch != '\r' {
			got[n] = ch
			n++
		}
	}
	if n < len(got) && i < len(b64) && b64[i] == '"' {
		return badContent("invalid base64: length %d is not a multiple of 4 (missing padding?)", q+int64(n))
	}
	off := q / 4 * 3
	var want, dec [3]byte
	w := min(3, m.size-off)
	readContentAt(m.t, want[:w], off)
	if n == len(got) {
		k, err := base64.StdEncoding.Decode(dec[:], got[:])
		switch {
		case err != nil:
			return badContent("invalid base64 at character %d: %q", q, got)
		case k < 3 && afterPadding(b64[i:]):
			return badContent("invalid base64 at character %d: data after the padding", q+4)
		}
		for i := range min(int64(k), w) {
			if dec[i] != want[i] {
				return m.differs(off+i, "")
			}
		}
		switch {
		case int64(k) > w:
			return m.tooMuch()
		case int64(k) < w:
			return &IntegrityError{Reason: fmt.Sprintf("received %d bytes, want %d (the base64 ends at character %d)", off+int64(k), m.size, q+4)}
		}
		var canon [4]byte
		for i := range canon {
			canon[i] = m.t.Base64At(q + int64(i))[0]
		}
		return badContent("non-canonical base64 at character %d (%q, want %q): unused bits set", m.at, got, canon)
	}
	return m.differs(m.at*3/4, fmt.Sprintf(" (base64 character %d is %q)", m.at, b64[0]))
}

// isBase64Char reports whether c belongs in standard base64: its
// alphabet, or padding.
func isBase64Char(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' || c == '='
}

// afterPadding reports whether rest, what follows a padded quantum,
// holds more base64 before the string ends (line breaks aside, raw or
// escaped): as far as the reader has it buffered.
func afterPadding(rest []byte) bool {
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '\n', '\r':
			continue
		case '"':
			return false
		case '\\':
			c, width, ok := escapeAt(rest[i:])
			if !ok && len(rest)-i < 6 {
				return false // cut: cannot tell
			}
			if ok && c == 0 {
				i += width - 1
				continue
			}
		}
		return true
	}
	return false
}

// differs is the error for content that differs from byte off on.
func (m *base64Check) differs(off int64, detail string) error {
	return &IntegrityError{Reason: fmt.Sprintf("content differs from the expected from byte %d of %d on%s", off, m.size, detail)}
}

func (m *base64Check) tooMuch() error { return tooMuch(m.size) }

func tooMuch(size int64) error {
	return &IntegrityError{Reason: fmt.Sprintf("the server sent more than the %d bytes expected", size)}
}

// Decoded is the content the matched text stands for.
func (m *base64Check) Decoded() int64 { return base64DecodedAt(m.t, m.at) }

// Write compares content bytes the reply held whole, decoded, with the
// expected bytes.
func (m *base64Check) Write(p []byte) (int, error) {
	if int64(len(p)) > m.size-m.n {
		return 0, m.tooMuch()
	}
	for i := 0; i < len(p); {
		want := m.t.BytesAt(m.n)
		k := min(len(want), len(p)-i)
		same := commonPrefix(p[i:i+k], want[:k])
		m.n += int64(same)
		if same < k {
			return i + same, m.differs(m.n, "")
		}
		i += k
	}
	m.tellProgress()
	return len(p), nil
}

// tellProgress passes what was matched since its last call to progress.
func (m *base64Check) tellProgress() {
	if r := m.received(); r > m.done {
		if m.progress != nil {
			m.progress(r - m.done)
		}
		m.done = r
	}
}

func (m *base64Check) received() int64 { return max(m.Decoded(), m.n) }

func (m *base64Check) missing() error {
	if m.at == m.chars || m.n == m.size {
		return nil
	}
	if m.n == 0 && m.at%4 != 0 {
		return badContent("invalid base64: length %d is not a multiple of 4 (missing padding?)", m.at)
	}
	return &IntegrityError{Reason: fmt.Sprintf("received %d bytes, want %d", m.received(), m.size)}
}

// hashCheck hashes and counts downloaded bytes, and refuses bytes beyond
// the expected size, so a server that sends too much (or forever) fails
// as soon as it does.
type hashCheck struct {
	h        hash.Hash
	n        int64
	size     int64
	sha256   string
	progress func(int64)
}

func newHashCheck(size int64, sha256 string, progress func(int64)) *hashCheck {
	return &hashCheck{h: NewHash(), size: size, sha256: sha256, progress: progress}
}

func (w *hashCheck) Write(p []byte) (int, error) {
	if int64(len(p)) > w.size-w.n {
		return 0, tooMuch(w.size)
	}
	w.h.Write(p)
	w.n += int64(len(p))
	if w.progress != nil {
		w.progress(int64(len(p)))
	}
	return len(p), nil
}

func (w *hashCheck) received() int64 { return w.n }

// missing compares what was received with the expected size and SHA-256.
func (w *hashCheck) missing() error {
	got := hex.EncodeToString(w.h.Sum(nil))
	switch {
	case w.n != w.size:
		return &IntegrityError{Reason: fmt.Sprintf("received %d bytes, want %d", w.n, w.size)}
	case !sameHex(got, w.sha256):
		return &IntegrityError{Reason: fmt.Sprintf("sha256 %s, want %s", got, w.sha256)}
	}
	return nil
}
