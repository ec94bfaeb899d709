package protocol

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The pauses a client makes are part of what it sends: these helpers
// drive a RequestReader with bytes and pauses on a fake clock, so that a
// test or a fuzz target can play any timing at once and exactly.

// Fake-clock settings, as fileserverd's defaults.
const (
	fakeEndPause      = 75 * time.Millisecond
	fakeEndPauseWrite = time.Second
)

// sent is bytes a client sends, then a pause before what follows.
type sent struct {
	data  string
	pause time.Duration
}

// scriptConn delivers pieces on a fake clock: sent k arrives when the
// pauses after the pieces before it have passed, and EOF after the last
// one's pause. A read while a pause wait is asked for returns ErrPause
// when the next bytes would come later than the wait allows.
type scriptConn struct {
	pieces []sent
	k, off int           // next byte: pieces[k].data[off]
	at     time.Duration // when pieces[k] arrives
	last   time.Duration // when the last bytes read arrived
	wait   time.Duration // the pause wait asked for, or 0
	chunk  int           // most bytes per read, 0: a sent at a time
	read   int64         // bytes delivered
}

func newScriptConn(chunk int, pieces ...sent) *scriptConn {
	return &scriptConn{pieces: pieces, chunk: chunk}
}

func (c *scriptConn) setPauseWait(d time.Duration) { c.wait = d }

func (c *scriptConn) Read(p []byte) (int, error) {
	for c.k < len(c.pieces) && c.off == len(c.pieces[c.k].data) {
		c.at += c.pieces[c.k].pause
		c.k, c.off = c.k+1, 0
	}
	if c.wait > 0 && c.at > c.last+c.wait {
		return 0, ErrPause // EOF or the next sent comes after the pause
	}
	if c.k == len(c.pieces) {
		return 0, io.EOF
	}
	if c.chunk > 0 && len(p) > c.chunk {
		p = p[:c.chunk]
	}
	n := copy(p, c.pieces[c.k].data[c.off:])
	c.off += n
	c.read += int64(n)
	c.last = c.at
	return n, nil
}

// consumed is how many bytes a reader over c has used.
func (c *scriptConn) consumed(br *bufio.Reader) int64 { return c.read - int64(br.Buffered()) }

// newFakeReader is a RequestReader over pieces, with fileserverd's pauses.
func newFakeReader(bufSize, chunk int, pieces ...sent) (*RequestReader, *scriptConn, *bufio.Reader) {
	c := newScriptConn(chunk, pieces...)
	br := bufio.NewReaderSize(c, bufSize)
	rr := NewRequestReader(br)
	rr.EndPause, rr.EndPauseWrite, rr.SetPauseWait = fakeEndPause, fakeEndPauseWrite, c.setPauseWait
	return rr, c, br
}

// outcome is what a server did with one request, as far as the protocol
// decides it: served (ok) with this command, name and content, or refused.
type outcome struct {
	start   int64 // offset in the stream where the request began
	end     int64 // where it ended (the next request's bytes start after)
	ok      bool
	command string
	name    string
	content string // an UPLOAD's decoded bytes
	reason  string // why it was refused
}

func (o outcome) String() string {
	if !o.ok {
		return fmt.Sprintf("[%d,%d) ERROR %q", o.start, o.end, o.reason)
	}
	sum := sha256.Sum256([]byte(o.content))
	return fmt.Sprintf("[%d,%d) %s %q (%d bytes %s)", o.start, o.end, o.command, o.name, len(o.content), hex.EncodeToString(sum[:4]))
}

// changesStorage tells an outcome whose OK would store or delete.
func (o outcome) changesStorage() bool { return o.command == "UPLOAD" || o.command == "DELETE" }

// serveAll reads every request as fileserverd's worker does (without
// storage: a request is served if the protocol reads it whole), skipping
// what it refuses, until EOF or a broken connection; at most limit
// requests.
func serveAll(rr *RequestReader, c *scriptConn, br *bufio.Reader, bufs *Buffers, limit int) []outcome {
	var out []outcome
	for len(out) < limit {
		if err := rr.Next(); err != nil {
			if re, ok := IsRequestError(err); ok {
				out = append(out, outcome{start: c.consumed(br), end: c.consumed(br), reason: re.Reason})
			}
			return out
		}
		o := outcome{start: c.consumed(br)}
		req, err := rr.Read()
		var content bytes.Buffer
		if err == nil && req.HasPayload {
			_, err = rr.ReadPayload(req, &content, bufs, 1<<20)
		}
		switch {
		case err == nil:
			o.ok, o.command, o.content = true, req.Command, content.String()
			if len(req.Args) > 0 {
				o.name = req.Args[0]
			}
			// What the worker checks beyond the protocol.
			if want := map[string]int{"LIST": 0, "STATS": 0, "GET": 1, "DOWNLOAD": 1, "DELETE": 1, "UPLOAD": 1}[req.Command]; len(req.Args) != want {
				o.ok, o.reason = false, "parameter count"
			}
		case errors.Is(err, io.EOF):
			return out
		default:
			re, isReq := IsRequestError(err)
			if !isReq && !errors.Is(err, ErrTooLarge) {
				o.reason = err.Error()
				o.end = c.consumed(br)
				return append(out, o) // the connection is broken
			}
			if isReq {
				o.reason = re.Reason
			} else {
				o.reason = err.Error()
			}
			if !isReq || !re.Terminated {
				if rr.Skip(1<<20) != nil {
					o.end = c.consumed(br)
					return append(out, o)
				}
			}
		}
		o.end = c.consumed(br)
		out = append(out, o)
	}
	return out
}

// serveScript runs serveAll over pieces.
func serveScript(bufSize, chunk int, pieces ...sent) []outcome {
	rr, c, br := newFakeReader(bufSize, chunk, pieces...)
	return serveAll(rr, c, br, NewBuffers(), 1000)
}

// describe lists outcomes for a failure message.
func describe(outs []outcome) string {
	var sb strings.Builder
	for _, o := range outs {
		sb.WriteString("\n\t" + o.String())
	}
	return sb.String()
}
