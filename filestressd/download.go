package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"hash"
	"sync/atomic"

	"fileserver/protocol"
)

// download asks for the file with GET, hashes the decoded content as it
// arrives and compares it with the expected content. A reply the server
// cut off (closed or reset the connection) inside the content, short of
// the expected size, while the deadline is still ahead, is a truncated
// download: kind integrity, like any other wrong bytes. It reads the reply
// itself, not through protocol.Client.Get, to know whether the content had
// begun.
func (j job) download(ctx context.Context, mc *meteredConn, moved *atomic.Int64) (transferred, error) {
	t := transferred{}
	req, err := j.Dialect.AppendRequest(nil, "GET", j.Name)
	if err != nil {
		return t, fmt.Errorf("download %q: %w", j.Name, err)
	}
	if err := send(mc, j.Dialect, req); err != nil {
		return t, fmt.Errorf("download %q: send GET: %w", j.Name, err)
	}
	hw := newHashWriter(j.Src.Size, moved)
	keys := j.Dialect.ContentKeys()
	r, err := protocol.ReadReplyKeys(bufio.NewReaderSize(mc, protocol.ReaderSize), keys, hw, protocol.NewBuffers())
	t.bytes = hw.n
	switch {
	case err != nil && r != nil && r.HasContent && mc.cut && hw.n < j.Src.Size && ctx.Err() == nil:
		return t, &integrityError{fmt.Sprintf("download %q truncated: the server closed or reset the connection after %d of %d bytes (%v)", j.Name, hw.n, j.Src.Size, err)}
	case err != nil:
		return t, fmt.Errorf("download %q: %w", j.Name, err)
	case r.Err() != nil:
		return transferred{}, fmt.Errorf("download %q: %w", j.Name, r.Err())
	case !r.HasContent:
		return transferred{}, fmt.Errorf("download %q: %w (name the key with -content-key)", j.Name, protocol.NoContentError(keys))
	}
	t.verified = verifyReply
	return t, hw.check(j.Name, r.ContentBytes, j.WantSHA)
}

// hashWriter hashes and counts downloaded bytes, and refuses bytes beyond
// the expected size, so a server that sends too much (or forever) fails
// as soon as it does.
type hashWriter struct {
	h     hash.Hash
	n     int64
	limit int64
	moved *atomic.Int64
}

func newHashWriter(limit int64, moved *atomic.Int64) *hashWriter {
	return &hashWriter{h: protocol.NewHash(), limit: limit, moved: moved}
}

func (w *hashWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > w.limit-w.n {
		return 0, &integrityError{fmt.Sprintf("the server sent more than the %d bytes expected", w.limit)}
	}
	w.h.Write(p)
	w.n += int64(len(p))
	if w.moved != nil {
		w.moved.Add(int64(len(p)))
	}
	return len(p), nil
}

// check compares what was received with the expected size and SHA-256.
func (w *hashWriter) check(name string, n int64, wantSHA string) error {
	got := hex.EncodeToString(w.h.Sum(nil))
	switch {
	case n != w.limit || w.n != w.limit:
		return &integrityError{fmt.Sprintf("download %q: received %d bytes, want %d", name, w.n, w.limit)}
	case got != wantSHA:
		return &integrityError{fmt.Sprintf("download %q: sha256 %s, want %s", name, got, wantSHA)}
	}
	return nil
}
