package stress

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// source is the content of a cell: generated (see content), or a real
// file. Each worker opens its own reader, so nothing is held but the
// shared base period of generated content.
type source struct {
	Path string `json:"path,omitempty"` // "" for generated content
	Size int64  `json:"size"`
	// Seed is generated content's tag (see periodHeader).
	Seed uint64 `json:"seed"`
	// Unknown marks the server's own file (-name without -file): no
	// content of filestressd's, known only by the size and SHA-256 the
	// setup's download found.
	Unknown bool `json:"unknown,omitempty"`
}

// generated reports whether the content is generated, so that its text
// is known and an upload can send it, and a download compare it, as text.
func (s source) generated() bool { return s.Path == "" && !s.Unknown }

func newSource(c Config) source {
	return source{Path: c.File, Size: c.Size, Seed: contentSeed}
}

// forWorker is the content upload worker w sends: generated content gets
// a tag of its own (see workerSeed), so that no two workers send the same
// bytes and a server that stores every upload under one name, or serves
// one file for every GET, fails the read-back. A -file is the same for
// all.
func (s source) forWorker(w int) source {
	if s.Path == "" {
		s.Seed = workerSeed(s.Seed, w)
	}
	return s
}

// workerSeed derives worker w's seed from seed: through mix, so that
// neighbouring workers' contents share nothing, and never seed itself,
// the download cells' test file.
func workerSeed(seed uint64, w int) uint64 {
	return seed ^ (mix(seed, uint64(w)) | 1)
}

// open returns a fresh reader of the whole content.
func (s source) open() (io.ReadCloser, error) {
	if s.Path == "" {
		return io.NopCloser(newContent(s.Size, s.Seed).reader()), nil
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("open -file: %w", err)
	}
	return f, nil
}

// sha256 returns the SHA-256 of the content: generated content's from
// its periods (see expectedSHA256), a file's by streaming it once,
// checking that it still has the size the cell was set up with. It stops
// when ctx ends: a large file takes seconds, which count against the
// setup's budget.
func (s source) sha256(ctx context.Context) (string, error) {
	if s.Path == "" {
		sum, err := expectedSHA256(s.Size, s.Seed, ctx.Err)
		if err != nil {
			return "", fmt.Errorf("hash the expected content: %w", err)
		}
		return hex.EncodeToString(sum), nil
	}
	r, err := s.open()
	if err != nil {
		return "", err
	}
	defer r.Close()
	h := sha256.New()
	n, err := io.CopyBuffer(h, ctxReader{ctx, r}, make([]byte, 64<<10))
	if err != nil {
		return "", fmt.Errorf("hash the expected content: %w", err)
	}
	if n != s.Size {
		return "", fmt.Errorf("content of %d bytes, want %d (did -file %q change?)", n, s.Size, s.Path)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// ctxReader stops reading once ctx ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (cr ctxReader) Read(p []byte) (int, error) {
	if err := cr.ctx.Err(); err != nil {
		return 0, err
	}
	return cr.r.Read(p)
}
