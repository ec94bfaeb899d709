package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// source is the content of a cell: generated, or a real file. Each worker
// opens its own reader, so nothing is shared and nothing is held.
type source struct {
	Path string `json:"path,omitempty"` // "" for generated content
	Size int64  `json:"size"`
	Seed uint64 `json:"seed"`
}

func newSource(c config) source {
	return source{Path: c.File, Size: c.Size, Seed: contentSeed}
}

// forWorker is the content upload worker w sends: generated content gets
// a seed of its own (see workerSeed), so that no two workers send the same
// bytes and a server that stores every upload under one name, or serves
// one file for every GET, fails the read-back. A -file is the same for
// all. Each worker's SHA-256 is that of what it sent, hashed as it goes
// out (see job.upload), so nothing else changes.
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
		return io.NopCloser(newGenerator(s.Seed, s.Size)), nil
	}
	f, err := os.Open(s.Path)
	if err != nil {
		return nil, fmt.Errorf("open -file: %w", err)
	}
	return f, nil
}

// sha256 streams the content once and returns its SHA-256, checking that
// a file still has the size the cell was set up with. It stops when ctx
// ends: a large volume takes seconds, which count against the setup's budget.
func (s source) sha256(ctx context.Context) (string, error) {
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
