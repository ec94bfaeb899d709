package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sync/atomic"

	"fileserver/protocol"
)

// uploadReplySize is the reader an upload's reply is read through: the
// reply is a few hundred bytes, and the protocol parser reads it a byte at
// a time, so a larger buffer would only cost memory.
const uploadReplySize = 4 << 10

// upload streams the content as one UPLOAD request, in the dialect's
// form, and checks the reply (see verdict) against the expected size and
// SHA-256. Generated content is written as its text (see sendText), its
// SHA-256 computed before the setup (j.WantSHA, see uploadSums); a -file
// is encoded and hashed as it goes out, through the connection's fixed
// buffers. The base64 streams inside the request, a JSON one included.
func (j job) upload(ctx context.Context, conn net.Conn, moved *atomic.Int64) (transferred, error) {
	t := transferred{}
	prefix, suffix, err := j.Dialect.UploadFrame(j.Name)
	if err != nil {
		return t, fmt.Errorf("upload %q: %w", j.Name, err)
	}
	var sent int64
	var werr error
	if j.Src.generated() {
		sent, werr = sendText(conn, newContent(j.Src.Size, j.Src.Seed), prefix, suffix, moved)
		t.sentSHA = j.WantSHA
	} else {
		src, err := j.Src.open()
		if err != nil {
			return t, err
		}
		defer src.Close()
		h := protocol.NewHash()
		sent, werr = protocol.EncodeStream(conn, io.TeeReader(&countingReader{r: src, moved: moved}, h), protocol.NewBuffers(), prefix, suffix)
		t.sentSHA = hex.EncodeToString(h.Sum(nil))
	}
	t.bytes = sent
	if werr != nil && ctx.Err() != nil {
		return t, fmt.Errorf("upload %q: send: %w", j.Name, werr)
	}
	if werr == nil {
		werr = j.Dialect.FinishRequest(conn)
	}
	// Read the reply even when sending failed: a server that refused the
	// upload early (too large, say) says why before it closes.
	r, err := protocol.ReadReply(bufio.NewReaderSize(conn, uploadReplySize), "", nil, nil)
	switch {
	case err != nil && werr != nil:
		return t, fmt.Errorf("upload %q: send: %w", j.Name, werr)
	case err != nil:
		return t, fmt.Errorf("upload %q: reply: %w", j.Name, err)
	case r.Err() != nil:
		return t, fmt.Errorf("upload %q: %w", j.Name, r.Err())
	case werr != nil:
		return t, fmt.Errorf("upload %q: OK reply although sending failed: %w", j.Name, werr)
	case sent != j.Src.Size:
		return t, &integrityError{fmt.Sprintf("upload %q: sent %d bytes, want %d (did -file change?)", j.Name, sent, j.Src.Size)}
	}
	t.verified, err = verdict(j.Name, j.Verify, r, sent, t.sentSHA)
	return t, err
}

// stageSize is what an upload of generated content copies of each
// period: its header's text and the start of the base text after it go
// out together from a buffer of the worker's own, and the rest of the
// period straight from the shared base text.
const stageSize = 32 << 10

// sendText writes prefix, the base64 text of c and suffix to w, with no
// per-byte work but the kernel's copy: of each period only the first
// stageSize bytes are copied (see stageSize). It returns the content
// bytes sent, counting whole quanta until all went, and adds them to
// moved as they go.
func sendText(w io.Writer, c *content, prefix, suffix string, moved *atomic.Int64) (int64, error) {
	stage := make([]byte, 0, max(stageSize, len(prefix)+headerText))
	stage = append(stage, prefix...)
	var at int64   // characters of the text staged or written
	var out int64  // bytes written, prefix included
	var done int64 // content bytes counted in moved
	write := func(p []byte) error {
		n, err := w.Write(p)
		out += int64(n)
		if sent := c.decodedAt(min(max(out-int64(len(prefix)), 0), c.chars)); sent > done {
			if moved != nil {
				moved.Add(sent - done)
			}
			done = sent
		}
		return err
	}
	for at < c.chars {
		p := c.textPiece(at)
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

// verdict checks an OK upload reply against what was sent, and says how
// the upload is verified. A reply that gives a size or a sha256 must give
// both, and the right ones (-verify readback reads the file back too). A
// reply with neither, as course servers write them, leaves the upload to
// a read-back after the window, unless -verify says reply (then it is an
// integrity failure: it cannot be checked) or none.
func verdict(name, mode string, r *protocol.Reply, sent int64, sentSHA string) (string, error) {
	if r.HasDigest() {
		if err := checkStored(name, r, sent, sentSHA); err != nil {
			return "", err
		}
		if mode == verifyReadback {
			return verifyReadback, nil
		}
		return verifyReply, nil
	}
	switch mode {
	case verifyReply:
		return "", &integrityError{fmt.Sprintf("upload %q: %v, so what the server stored cannot be checked (-verify auto or readback reads it back)", name, protocol.ErrNoDigest)}
	case verifyNone:
		return verifyNone, nil
	}
	return verifyReadback, nil
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
