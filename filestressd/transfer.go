package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"sync/atomic"
	"time"

	"fileserver/protocol"
)

// job is one worker's transfer. A process-pool child receives it as JSON.
type job struct {
	Worker  int    `json:"worker"`
	Op      string `json:"op"`
	Addr    string `json:"addr"`
	Name    string `json:"name"` // the server file, for upload and download
	Src     source `json:"src"`
	WantSHA string `json:"want_sha256,omitempty"` // download: the expected content
}

// workerResult is what one worker did. A process-pool child reports it to
// its parent as one JSON line.
type workerResult struct {
	Worker  int     `json:"worker"`
	PID     int     `json:"pid,omitempty"` // the child process, in the process pool
	OK      bool    `json:"ok"`
	Kind    string  `json:"kind,omitempty"`
	Error   string  `json:"error,omitempty"`
	Bytes   int64   `json:"bytes"`   // file bytes moved
	Seconds float64 `json:"seconds"` // connect to last byte
	// MaxRSSKiB is a child's peak resident set, filled in by the parent.
	MaxRSSKiB int64 `json:"max_rss_kib,omitempty"`
	// err is the failure itself, for callers in this process.
	err error
}

// runTransfer does one job and times it from the start of the connect to
// the last byte of the reply, so that a server slow to accept is measured
// too. moved counts file bytes as they go, for the progress line.
func runTransfer(ctx context.Context, j job, moved *atomic.Int64) workerResult {
	res := workerResult{Worker: j.Worker}
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", j.Addr)
	if err != nil {
		err = &connectError{err}
	} else {
		mc := &meteredConn{Conn: conn}
		c := protocol.NewClient(mc)
		res.Bytes, err = j.do(ctx, c, mc, moved)
		res.Seconds = time.Since(start).Seconds()
		c.Close()
	}
	if err != nil {
		res.Kind, res.Error, res.err = classify(ctx, err), err.Error(), err
		return res
	}
	res.OK = true
	return res
}

// do runs the operation on an open connection.
func (j job) do(ctx context.Context, c *protocol.Client, mc *meteredConn, moved *atomic.Int64) (int64, error) {
	switch j.Op {
	case opUpload:
		return j.upload(ctx, c, moved)
	case opDownload:
		return j.download(ctx, c, mc, moved)
	case opList:
		if _, err := c.List(ctx); err != nil {
			return 0, fmt.Errorf("list: %w", err)
		}
		return 0, nil
	}
	return 0, fmt.Errorf("unknown operation %q", j.Op)
}

// upload streams the content; protocol.Client.Upload checks the size and
// SHA-256 the server reports against what was sent.
func (j job) upload(ctx context.Context, c *protocol.Client, moved *atomic.Int64) (int64, error) {
	r, err := j.Src.open()
	if err != nil {
		return 0, err
	}
	defer r.Close()
	res, err := c.Upload(ctx, j.Name, &countingReader{r: r, moved: moved})
	if err != nil {
		return res.Sent, err
	}
	if res.Sent != j.Src.Size {
		return res.Sent, &integrityError{fmt.Sprintf("upload %q: sent %d bytes, want %d (did -file change?)", j.Name, res.Sent, j.Src.Size)}
	}
	return res.Sent, nil
}

// download hashes the decoded stream as it arrives and compares it with
// the expected content.
func (j job) download(ctx context.Context, c *protocol.Client, mc *meteredConn, moved *atomic.Int64) (int64, error) {
	hw := newHashWriter(j.Src.Size, moved)
	n, err := c.Get(ctx, j.Name, hw)
	if err != nil {
		var re *protocol.ReplyError
		if errors.As(err, &re) && mc.eof && hw.n > 0 && hw.n < j.Src.Size && ctx.Err() == nil {
			return hw.n, &integrityError{fmt.Sprintf("download %q truncated: the server closed the connection after %d of %d bytes", j.Name, hw.n, j.Src.Size)}
		}
		return hw.n, fmt.Errorf("download %q: %w", j.Name, err)
	}
	if err := hw.check(j.Name, n, j.WantSHA); err != nil {
		return n, err
	}
	return n, nil
}

// countingReader counts what a worker reads from its content.
type countingReader struct {
	r     io.Reader
	moved *atomic.Int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	if cr.moved != nil {
		cr.moved.Add(int64(n))
	}
	return n, err
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
