package protocol

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// DecodePayload streams an UPLOAD payload from br to w: base64 characters
// up to the request terminator, decoded chunk by chunk through bufs.Raw.
// It stops with ErrTooLarge once more than limit bytes would be written,
// with a *RequestError for invalid base64, and with w's error if a write
// fails. Only a nil error or a Terminated *RequestError leave br at the
// start of the next request.
func DecodePayload(br *bufio.Reader, w io.Writer, bufs *Buffers, limit int64) (int64, error) {
	d := decoder{w: w, out: bufs.Raw, limit: limit}
	for {
		buf, err := peekBuffered(br)
		if err != nil {
			if err == io.EOF {
				return d.n, &RequestError{Reason: "incomplete upload: the connection ended before the CRLF CRLF terminator"}
			}
			return d.n, fmt.Errorf("read payload: %w", err)
		}
		cr := bytes.IndexByte(buf, '\r')
		seg := buf
		if cr >= 0 {
			seg = buf[:cr]
		}
		if lf := bytes.IndexByte(seg, '\n'); lf >= 0 {
			return d.n, d.corrupt(int64(d.nc+lf), "line break inside the base64 content")
		}
		if err := d.write(seg); err != nil {
			return d.n, err
		}
		br.Discard(len(seg))
		if cr < 0 {
			continue
		}
		t, err := br.Peek(len(Terminator))
		if err != nil && !errors.Is(err, io.EOF) {
			return d.n, fmt.Errorf("read payload: %w", err)
		}
		if string(t) != Terminator {
			if err != nil {
				return d.n, &RequestError{Reason: "incomplete upload: the connection ended before the CRLF CRLF terminator"}
			}
			return d.n, d.corrupt(int64(d.nc), "stray CR inside the base64 content")
		}
		br.Discard(len(Terminator))
		return d.n, d.finish()
	}
}

// peekBuffered returns what br holds, reading once if it holds nothing.
func peekBuffered(br *bufio.Reader) ([]byte, error) {
	if br.Buffered() == 0 {
		if _, err := br.Peek(1); err != nil {
			return nil, err
		}
	}
	return br.Peek(br.Buffered())
}

// SkipRequest discards input up to and including the next terminator, so
// a connection can go on after a malformed request. It reads at most limit
// bytes; past that, or at EOF, it returns an error and the connection
// should be closed.
func SkipRequest(br *bufio.Reader, limit int64) error {
	var skipped int64
	// matched counts terminator bytes seen at the end of the previous
	// buffer, so a terminator split across reads is found.
	matched := 0
	for skipped < limit {
		buf, err := peekBuffered(br)
		if err != nil {
			return fmt.Errorf("skip request: %w", err)
		}
		if matched > 0 {
			k := 0
			for matched < len(Terminator) && k < len(buf) && buf[k] == Terminator[matched] {
				matched++
				k++
			}
			if matched == len(Terminator) {
				br.Discard(k)
				return nil
			}
			if k < len(buf) {
				matched = 0
			}
			if k > 0 {
				br.Discard(k)
				skipped += int64(k)
				continue
			}
		}
		if i := bytes.Index(buf, []byte(Terminator)); i >= 0 {
			br.Discard(i + len(Terminator))
			return nil
		}
		// Keep the tail that may start a terminator.
		for t := min(len(Terminator)-1, len(buf)); t > 0; t-- {
			if bytes.HasSuffix(buf, []byte(Terminator[:t])) {
				matched = t
				break
			}
		}
		br.Discard(len(buf))
		skipped += int64(len(buf))
	}
	return fmt.Errorf("skip request: no terminator within %d bytes", limit)
}
