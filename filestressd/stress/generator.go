package stress

import (
	"encoding/binary"
	"io"
)

// contentSeed fixes generated content: it seeds the base period (see
// content), and is the tag of the download cells' test file, so the same
// volume always has the same bytes and a download cell can reuse the file
// an earlier cell left.
const contentSeed = 0x66696c6573747265 // "filestre"

// generator yields size bytes of deterministic pseudo-random content
// without holding any of it: byte i is byte i%8 of mix(seed, i/8), so the
// content does not depend on how it is read, and it does not compress,
// which keeps any layer from making the transfer look cheaper than it is.
// It makes the base period that generated content repeats.
type generator struct {
	seed      uint64
	off, size int64
}

func newGenerator(seed uint64, size int64) *generator {
	return &generator{seed: seed, size: size}
}

// mix is the SplitMix64 output function of word k.
func mix(seed, k uint64) uint64 {
	z := seed + (k+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

func (g *generator) Read(p []byte) (int, error) {
	if g.off >= g.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), g.size-g.off)]
	n := len(p)
	off := g.off
	var w [8]byte
	// An unaligned start takes the tail of the current word.
	if r := int(off % 8); r != 0 {
		binary.LittleEndian.PutUint64(w[:], mix(g.seed, uint64(off/8)))
		k := copy(p, w[r:])
		p = p[k:]
		off += int64(k)
	}
	k := uint64(off / 8)
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, mix(g.seed, k))
		p = p[8:]
		k++
	}
	if len(p) > 0 {
		binary.LittleEndian.PutUint64(w[:], mix(g.seed, k))
		copy(p, w[:])
	}
	g.off += int64(n)
	return n, nil
}
