package stress

import (
	"crypto/sha256"
	"encoding"
	"encoding/base64"
	"encoding/binary"
	"io"
	"sync"

	"fileserver/protocol"
)

// Generated content is cheap to send and to check, because it repeats:
// a content of size bytes is a run of periods of periodSize bytes (the
// last one may be shorter), each the same base period, generated once
// per process, except for its first headerSize bytes, its header:
//
//	bytes 0-7    the period's index, 0, 1, 2, ...
//	bytes 8-15   the content's tag in its last period, 0 in the others
//	bytes 16-23  the content's size
//
// (little-endian). So no two periods of a content are alike, and no two
// contents of one size end alike: a flipped, missing, extra, duplicated
// or swapped byte or period changes the bytes at its offset, and content
// of another worker or another volume differs too. The base period is
// SplitMix64 output (see generator), which does not compress.
//
// periodSize is a multiple of 3, so that each period's base64 starts on
// a whole quantum: the text of a content is the base period's text with
// the 32 characters of each header patched in, and its last quantum
// re-encoded when the size is not a multiple of 3. An upload writes that
// text from the shared base, a download compares what arrives with it
// (see protocol.Base64), and nothing is generated, encoded, decoded or hashed per byte. The tag
// is only in the last period so that every content of a size shares all
// but its last period, whose SHA-256 state is computed once (see
// expectedSHA256).
const (
	periodSize = 3 << 18 // 768 KiB of content, 1 MiB of base64
	periodText = periodSize / 3 * 4
	headerSize = 24
	headerText = headerSize / 3 * 4
)

// basePeriod is the period every content repeats, or as much of it as
// the contents so far needed, and its base64 text. They are shared
// read-only by every worker of a process.
type basePeriod struct {
	raw  []byte // up to periodSize bytes, a multiple of 3
	text []byte // its base64
}

// bases holds the longest base period made so far.
var bases struct {
	sync.Mutex
	b *basePeriod
}

// baseFor returns the base period, made once per process, as far as a
// content of size bytes needs it: a small cell (a test's, say) makes only
// that much of it, a few microseconds; a whole one takes about a
// millisecond. A shorter base is a prefix of a longer one.
func baseFor(size int64) *basePeriod {
	n := min(periodSize, (size+2)/3*3)
	bases.Lock()
	defer bases.Unlock()
	if bases.b == nil || int64(len(bases.b.raw)) < n {
		b := &basePeriod{raw: make([]byte, n)}
		io.ReadFull(newGenerator(contentSeed, n), b.raw)
		b.text = base64.StdEncoding.AppendEncode(make([]byte, 0, n/3*4), b.raw)
		bases.b = b
	}
	return bases.b
}

// periodHeader is the header of period k of a content.
func periodHeader(k, tag uint64, size int64, last bool) [headerSize]byte {
	var h [headerSize]byte
	binary.LittleEndian.PutUint64(h[0:], k)
	if last {
		binary.LittleEndian.PutUint64(h[8:], tag)
	}
	binary.LittleEndian.PutUint64(h[16:], uint64(size))
	return h
}

// content is one generated content: its bytes and its base64 text, piece
// by piece, from the shared base period: a protocol.Base64, which
// protocol.Client uploads as ready text and checks downloads against. It is not safe for concurrent
// use (it caches the header of the period it is in); each worker has its
// own.
type content struct {
	base    *basePeriod
	size    int64
	tag     uint64
	periods int64 // ceil(size / periodSize)
	full    int64 // characters of the text's whole quanta: size/3*4
	chars   int64 // characters of the whole text
	tail    []byte
	// The header of period hk, and its text.
	hk    int64
	hdr   [headerSize]byte
	hdrTx [headerText]byte
}

var _ protocol.Base64 = (*content)(nil)

func newContent(size int64, tag uint64) *content {
	c := &content{base: baseFor(size), size: size, tag: tag, hk: -1}
	c.periods = (size + periodSize - 1) / periodSize
	c.full = size / 3 * 4
	c.chars = c.full
	if r := size % 3; r > 0 {
		var last [2]byte
		c.readAt(last[:r], size-r)
		c.tail = base64.StdEncoding.AppendEncode(nil, last[:r])
		c.chars += int64(len(c.tail))
	}
	return c
}

// header makes period k's header (and its text) the cached one.
func (c *content) header(k int64) {
	if c.hk == k {
		return
	}
	c.hk = k
	c.hdr = periodHeader(uint64(k), c.tag, c.size, k == c.periods-1)
	base64.StdEncoding.Encode(c.hdrTx[:], c.hdr[:])
}

// Size is the content's length in bytes.
func (c *content) Size() int64 { return c.size }

// BytesAt returns the bytes of the content from offset off (below size)
// to at most the end of their period's header or of the period. It is
// valid until the next call.
func (c *content) BytesAt(off int64) []byte {
	return c.piece(off, periodSize, headerSize, c.size, c.base.raw, false)
}

// piece returns, from position pos of the bytes (or, with text, of the
// text) whose periods are period long and begin with a header of
// headerLen, up to the end of that header or of the period, whole being
// the length of all of them.
func (c *content) piece(pos, period, headerLen, whole int64, base []byte, text bool) []byte {
	k, x := pos/period, pos%period
	end := min(period, whole-k*period)
	if x >= headerLen {
		return base[x:end]
	}
	c.header(k)
	h := c.hdr[:]
	if text {
		h = c.hdrTx[:]
	}
	return h[x:min(headerLen, end)]
}

// readAt fills p with the content from offset off; p must not reach past
// the end.
func (c *content) readAt(p []byte, off int64) {
	for len(p) > 0 {
		n := copy(p, c.BytesAt(off))
		p, off = p[n:], off+int64(n)
	}
}

// Base64At returns the base64 text of the content from character at
// (below chars) to at most the end of a header's text, of a period's or
// of the whole quanta. It is valid until the next call, and the caller
// must not change it: it may be the shared base.
func (c *content) Base64At(at int64) []byte {
	if at >= c.full {
		return c.tail[at-c.full:]
	}
	return c.piece(at, periodText, headerText, c.full, c.base.text, true)
}

// reader returns a reader of the content's bytes.
func (c *content) reader() io.Reader { return &contentReader{c: c} }

type contentReader struct {
	c   *content
	off int64
}

func (r *contentReader) Read(p []byte) (int, error) {
	if r.off >= r.c.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.c.size-r.off)]
	r.c.readAt(p, r.off)
	r.off += int64(len(p))
	return len(p), nil
}

// prefixStates caches, per size, the SHA-256 state after every period of
// a content but its last, which all contents of that size share.
var prefixStates struct {
	sync.Mutex
	m map[int64][]byte
}

// expectedSHA256 returns the SHA-256 of the content of size bytes and
// tag: the periods all contents of the size share are hashed once per
// process, and only the last period for each tag. stop, checked between
// periods, cuts the hashing short with its error.
func expectedSHA256(size int64, tag uint64, stop func() error) ([]byte, error) {
	c := newContent(size, tag)
	last := max(c.periods-1, 0)
	prefixStates.Lock()
	state, ok := prefixStates.m[size]
	prefixStates.Unlock()
	h := sha256.New()
	if ok {
		if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
			return nil, err
		}
	} else {
		for k := range last {
			if err := stop(); err != nil {
				return nil, err
			}
			off := k * periodSize
			h.Write(c.BytesAt(off))
			h.Write(c.BytesAt(off + headerSize))
		}
		state, err := h.(encoding.BinaryMarshaler).MarshalBinary()
		if err != nil {
			return nil, err
		}
		prefixStates.Lock()
		if prefixStates.m == nil {
			prefixStates.m = map[int64][]byte{}
		}
		prefixStates.m[size] = state
		prefixStates.Unlock()
	}
	for off := last * periodSize; off < size; {
		p := c.BytesAt(off)
		h.Write(p)
		off += int64(len(p))
	}
	return h.Sum(nil), nil
}
