package protocol

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ChunkSize is the raw bytes encoded per write when streaming content out.
// It is a multiple of 3, so every chunk but the last encodes without
// padding, and its base64 (EncodedChunkSize) is what one write sends:
// bulk Encode/Decode on chunks this size, not a base64.NewEncoder or
// NewDecoder pipeline.
const (
	ChunkSize        = 96 << 10
	EncodedChunkSize = ChunkSize / 3 * 4
)

var b64 = base64.StdEncoding

// ErrTooLarge is returned when decoded content exceeds the allowed size.
var ErrTooLarge = errors.New("content exceeds the size limit")

// Buffers are the fixed buffers one connection streams content through.
// A connection allocates them once and reuses them for every request, so a
// transfer of any size costs ChunkSize + EncodedChunkSize + len(extra)
// bytes beyond the reader's buffer.
type Buffers struct {
	Raw     []byte // ChunkSize: raw file bytes, read or decoded
	Encoded []byte // EncodedChunkSize plus room for a reply's prefix
}

// NewBuffers allocates the buffers of one connection.
func NewBuffers() *Buffers {
	return &Buffers{
		Raw:     make([]byte, ChunkSize),
		Encoded: make([]byte, 0, EncodedChunkSize+MaxHeadLen*2),
	}
}

// decoder decodes base64 that arrives in pieces of any length and writes
// the bytes to w. It keeps fewer than 4 undecoded characters between
// pieces, so that every Decode call sees whole quanta.
type decoder struct {
	w      io.Writer
	out    []byte
	carry  [4]byte
	nc     int
	n      int64 // decoded bytes written
	chars  int64 // base64 characters consumed, for error offsets
	limit  int64
	padded bool
	// canonical refuses a padded quantum with its unused bits set, which
	// decodes to the same bytes but no encoder writes (a client checking
	// a server's content, as a text check would refuse it too).
	canonical bool
}

// write consumes base64 characters.
func (d *decoder) write(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	if d.padded {
		return d.corrupt(0, "data after the padding")
	}
	if d.nc > 0 {
		k := copy(d.carry[d.nc:], p)
		d.nc += k
		p = p[k:]
		if d.nc < 4 {
			return nil
		}
		d.nc = 0
		if err := d.decode(d.carry[:]); err != nil {
			return err
		}
		if len(p) > 0 && d.padded {
			return d.corrupt(0, "data after the padding")
		}
	}
	max := len(d.out) / 3 * 4
	for len(p) >= 4 {
		k := min(len(p)/4*4, max)
		if err := d.decode(p[:k]); err != nil {
			return err
		}
		p = p[k:]
		if len(p) > 0 && d.padded {
			return d.corrupt(0, "data after the padding")
		}
	}
	d.nc = copy(d.carry[:], p)
	return nil
}

func (d *decoder) decode(q []byte) error {
	if q[len(q)-1] == '=' {
		d.padded = true
		if d.canonical && !canonicalEnd(q[len(q)-4:]) {
			return d.corrupt(int64(len(q)-4), "non-canonical padded quantum: unused bits set")
		}
	}
	m, err := decode(d.out, q)
	if err != nil {
		var ce base64.CorruptInputError
		if errors.As(err, &ce) {
			return d.corrupt(int64(ce), "invalid character or padding")
		}
		return err
	}
	if d.n+int64(m) > d.limit {
		return ErrTooLarge
	}
	d.chars += int64(len(q))
	if _, err := d.w.Write(d.out[:m]); err != nil {
		return err
	}
	d.n += int64(m)
	return nil
}

// canonicalEnd reports whether a padded quantum leaves its unused bits
// clear, as encoders write it: "xY==" with Y's low 4 bits 0, "xyZ=" with
// Z's low 2 bits 0. Anything else is left to the decoder to refuse.
func canonicalEnd(q []byte) bool {
	unused, c := byte(0x03), q[2]
	if q[2] == '=' {
		unused, c = 0x0f, q[1]
	}
	v := strings.IndexByte(stdAlphabet, c)
	return v < 0 || byte(v)&unused == 0
}

func (d *decoder) corrupt(at int64, what string) error {
	return &RequestError{Reason: fmt.Sprintf("invalid base64 at character %d: %s", d.chars+at, what)}
}

// finish checks that the content ended on a whole quantum.
func (d *decoder) finish() error {
	if d.nc != 0 {
		return &RequestError{Reason: fmt.Sprintf("invalid base64: length %d is not a multiple of 4 (missing padding?)", d.chars+int64(d.nc)), Terminated: true}
	}
	return nil
}

// EncodeStream writes prefix, the base64 of everything src yields, and
// suffix to w. It reads src in ChunkSize pieces through bufs, and sends
// prefix with the first chunk and suffix with the last, so a small file
// goes out in one write. It returns the raw bytes read from src.
func EncodeStream(w io.Writer, src io.Reader, bufs *Buffers, prefix, suffix string) (int64, error) {
	out := append(bufs.Encoded[:0], prefix...)
	var n int64
	for {
		k, rerr := io.ReadFull(src, bufs.Raw)
		if k > 0 {
			n += int64(k)
			// Within capacity (prefixes up to 2*MaxHeadLen) this does not
			// allocate; a longer prefix grows it once.
			out = appendEncode(out, bufs.Raw[:k])
		}
		last := rerr == io.EOF || rerr == io.ErrUnexpectedEOF
		if rerr != nil && !last {
			return n, fmt.Errorf("read content: %w", rerr)
		}
		if last {
			out = append(out, suffix...)
		}
		if len(out) > 0 {
			if _, err := w.Write(out); err != nil {
				return n, err
			}
		}
		if last {
			return n, nil
		}
		out = out[:0]
	}
}
