package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sync/atomic"

	"fileserver/protocol"
)

// download asks for the file with GET and checks the content as it
// arrives: generated content by comparing the base64 text with the
// expected text (see textMatcher), the content of a -file or of -name by
// hashing the decoded bytes and comparing size and SHA-256 with the
// expected ones. A reply the server cut off (closed or reset the
// connection) inside the content, short of the expected size, while the
// deadline is still ahead, is a truncated download: kind integrity, like
// any other wrong bytes. It reads the reply itself, not through
// protocol.Client.Get, to know whether the content had begun.
func (j job) download(ctx context.Context, mc *meteredConn, moved *atomic.Int64) (transferred, error) {
	t := transferred{}
	req, err := j.Dialect.AppendRequest(nil, "GET", j.Name)
	if err != nil {
		return t, fmt.Errorf("download %q: %w", j.Name, err)
	}
	if err := send(mc, j.Dialect, req); err != nil {
		return t, fmt.Errorf("download %q: send GET: %w", j.Name, err)
	}
	var w contentCheck
	var bufs *protocol.Buffers
	if j.Src.generated() {
		w = newTextMatcher(newContent(j.Src.Size, j.Src.Seed), moved)
	} else {
		w, bufs = newHashWriter(j.Src.Size, moved), protocol.NewBuffers()
	}
	keys := j.Dialect.ContentKeys()
	r, err := protocol.ReadReplyKeys(bufio.NewReaderSize(mc, protocol.ReaderSize), keys, w, bufs)
	t.bytes = w.received()
	var ie *integrityError
	switch {
	case errors.As(err, &ie):
		return t, &integrityError{fmt.Sprintf("download %q: %s", j.Name, ie.reason)}
	case err != nil && r != nil && r.HasContent && mc.cut && t.bytes < j.Src.Size && ctx.Err() == nil:
		return t, &integrityError{fmt.Sprintf("download %q truncated: the server closed or reset the connection after %d of %d bytes (%v)", j.Name, t.bytes, j.Src.Size, err)}
	case err != nil:
		return t, fmt.Errorf("download %q: %w", j.Name, err)
	case r.Err() != nil:
		return transferred{}, fmt.Errorf("download %q: %w", j.Name, r.Err())
	case !r.HasContent:
		return transferred{}, fmt.Errorf("download %q: %w (name the key with -content-key)", j.Name, protocol.NoContentError(keys))
	}
	t.verified = verifyReply
	return t, w.check(j.Name, r.ContentBytes, j.WantSHA)
}

// contentCheck is how a download checks the content it receives.
type contentCheck interface {
	io.Writer
	// received is the content bytes received and found right so far.
	received() int64
	// check says whether the content, n bytes as the reply counted them,
	// was all there and right, once the reply was read.
	check(name string, n int64, wantSHA string) error
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

func (w *hashWriter) received() int64 { return w.n }

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
