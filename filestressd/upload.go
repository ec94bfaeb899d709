package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"

	"fileserver/protocol"
)

// uploadReplySize is the reader an upload's reply is read through: the
// reply is a few hundred bytes, and the protocol parser reads it a byte at
// a time, so a larger buffer would only cost memory.
const uploadReplySize = 4 << 10

// upload streams the content as one UPLOAD request and checks the reply:
// the size and SHA-256 the server says it stored must be those of the
// bytes sent. An OK reply without a usable size cannot be checked, and is
// an integrity failure too. (protocol.Client.Upload does the same, but
// reports an OK reply without a size as a plain error.)
func (j job) upload(ctx context.Context, conn net.Conn, moved *atomic.Int64) (int64, error) {
	src, err := j.Src.open()
	if err != nil {
		return 0, err
	}
	defer src.Close()
	head, err := protocol.AppendRequest(nil, "UPLOAD", j.Name)
	if err != nil {
		return 0, fmt.Errorf("upload %q: %w", j.Name, err)
	}
	prefix := strings.TrimSuffix(string(head), protocol.Terminator) + " "
	h := protocol.NewHash()
	bufs := protocol.NewBuffers()
	sent, werr := protocol.EncodeStream(conn, io.TeeReader(&countingReader{r: src, moved: moved}, h), bufs, prefix, protocol.Terminator)
	if werr != nil && ctx.Err() != nil {
		return sent, fmt.Errorf("upload %q: send: %w", j.Name, werr)
	}
	// Read the reply even when sending failed: a server that refused the
	// upload early (too large, say) says why before it closes.
	r, err := protocol.ReadReply(bufio.NewReaderSize(conn, uploadReplySize), "", nil, bufs)
	switch {
	case err != nil && werr != nil:
		return sent, fmt.Errorf("upload %q: send: %w", j.Name, werr)
	case err != nil:
		return sent, fmt.Errorf("upload %q: reply: %w", j.Name, err)
	case r.Err() != nil:
		return sent, fmt.Errorf("upload %q: %w", j.Name, r.Err())
	case werr != nil:
		return sent, fmt.Errorf("upload %q: OK reply although sending failed: %w", j.Name, werr)
	case sent != j.Src.Size:
		return sent, &integrityError{fmt.Sprintf("upload %q: sent %d bytes, want %d (did -file change?)", j.Name, sent, j.Src.Size)}
	}
	return sent, checkStored(j.Name, r, sent, hex.EncodeToString(h.Sum(nil)))
}

// checkStored compares what an OK upload reply says was stored with what
// was sent.
func checkStored(name string, r *protocol.Reply, sent int64, sentSHA string) error {
	var stored int64
	if err := r.Decode("size", &stored); err != nil {
		return &integrityError{fmt.Sprintf("upload %q: the OK reply gives no usable size, so what the server stored cannot be checked: %v", name, err)}
	}
	storedSHA := r.String("sha256")
	if stored != sent || storedSHA != sentSHA {
		return &integrityError{fmt.Sprintf("upload %q: sent %d bytes sha256 %s, server stored %d bytes sha256 %s", name, sent, sentSHA, stored, storedSHA)}
	}
	return nil
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
