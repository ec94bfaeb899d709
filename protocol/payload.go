package protocol

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// ReadPayload streams the content of req, which Read returned with
// HasPayload, to w: decoded from base64 chunk by chunk through bufs.Raw.
// A text payload ends at a blank line, at EOF (EndedAtEOF), or at a line
// break after which nothing arrives for the quiet time, unless the line
// was a full line of wrapped base64; line breaks inside it are skipped. A JSON payload is the content string, after which the rest of
// the object is read, so that req is complete when ReadPayload returns.
//
// It stops with ErrTooLarge once more than limit bytes would be written,
// with a *RequestError for invalid base64 or a declared length that does
// not match, and with w's error if a write fails. Only a nil error or a
// Terminated *RequestError leave the reader at the start of the next
// request; after any other, Skip the rest.
func (r *RequestReader) ReadPayload(req *Request, w io.Writer, bufs *Buffers, limit int64) (int64, error) {
	d := decoder{w: w, out: bufs.Raw, limit: limit}
	if req.JSON {
		// After the content, the rest of the object: jsonMembers refuses
		// a second content, so it returns at the object's end.
		err := decodeBase64String(r.br, &d, jsonError)
		if err == nil {
			err = r.jsonMembers(req)
		}
		return d.n, err
	}
	if err := d.write(req.pending); err != nil {
		return d.n, err
	}
	breaks, atEOF, err := r.textPayload(&d, req.afterBreak)
	req.EndedAtEOF = atEOF
	if err != nil {
		return d.n, err
	}
	switch {
	case req.afterBreak && d.chars == 0:
		return d.n, &RequestError{Reason: "UPLOAD needs a file name and its base64 content: UPLOAD name <base64>", Terminated: true}
	case req.Length >= 0 && !lengthMatches(req.Length, d.chars, breaks, d.n):
		return d.n, &RequestError{Reason: fmt.Sprintf("declared length %d is neither the base64 length %d nor the decoded size %d: nothing stored", req.Length, d.chars, d.n), Terminated: true}
	}
	return d.n, nil
}

// lengthMatches reports whether a declared length fits the payload: the
// base64 text's length, without its line breaks or with them (and with
// the one after its last line, as base64.encodebytes ends it), or the
// decoded size.
func lengthMatches(length, chars, innerBreaks, decoded int64) bool {
	if length == chars || length == decoded {
		return true
	}
	return innerBreaks > 0 && length >= chars+innerBreaks && length <= chars+innerBreaks+2
}

// wrapWidth is the line width of base64.encodebytes and MIME: a pause
// right after a line this long is taken for a pause inside the payload.
const wrapWidth = 76

// payloadLines follows the lines of a text payload, to tell a pause at
// its end from one in its middle: wrapped base64 has lines of one width,
// all but the last.
type payloadLines struct {
	line  int64 // characters on the current line
	width int64 // characters on the first line, once it ended
	ended int   // lines ended
	last  int64 // characters on the line that ended last
}

func (l *payloadLines) lineBreak() {
	if l.ended == 0 {
		l.width = l.line
	}
	l.last, l.line = l.line, 0
	l.ended++
}

// mayEndAtPause reports whether a pause right after the last line break
// may end the payload: some base64 came, in whole quanta, and the line
// was not a full line of wrapped base64.
func (l *payloadLines) mayEndAtPause(d *decoder) bool {
	full := l.last == wrapWidth || (l.ended >= 2 && l.last == l.width)
	return d.chars > 0 && d.nc == 0 && !full
}

// textPayload feeds base64 to d up to the end of a text payload. It
// returns the bytes of the line breaks inside it (those followed by more
// base64), and whether it ended at EOF rather than at a blank line or a
// pause. afterBreak tells that a line break came right before.
func (r *RequestReader) textPayload(d *decoder, afterBreak bool) (breaks int64, atEOF bool, err error) {
	var pending int64 // line break bytes not yet followed by base64
	var lines payloadLines
	for {
		if r.br.Buffered() == 0 {
			if afterBreak && lines.mayEndAtPause(d) {
				pause, eof, err := r.quietEnd()
				if pause || eof || err != nil {
					return breaks, eof, finishAt(d, err)
				}
			}
			if _, err := r.br.Peek(1); err != nil {
				if err == io.EOF {
					return breaks, true, d.finish()
				}
				return breaks, false, fmt.Errorf("read payload: %w", err)
			}
		}
		buf, _ := r.br.Peek(r.br.Buffered())
		if afterBreak {
			// A line break right after one is a blank line: the end.
			k, stray, err := r.lineBreakAt()
			if err != nil || stray {
				return breaks, false, strayCR(d, err)
			}
			if k > 0 {
				r.br.Discard(k)
				return breaks, false, d.finish()
			}
			afterBreak = false
		}
		// The next line break: LF is searched first and bounds the
		// search for CR, so base64 with a break every 76 characters is
		// still scanned once.
		seg := buf
		if lf := bytes.IndexByte(seg, '\n'); lf >= 0 {
			seg = seg[:lf]
		}
		if cr := bytes.IndexByte(seg, '\r'); cr >= 0 {
			seg = seg[:cr]
		}
		if len(seg) > 0 && d.chars+int64(d.nc) > 0 {
			breaks, pending = breaks+pending, 0
		}
		if err := d.write(seg); err != nil {
			return breaks, false, err
		}
		r.br.Discard(len(seg))
		lines.line += int64(len(seg))
		if len(seg) == len(buf) {
			continue
		}
		k, stray, err := r.lineBreakAt()
		if err != nil || stray || k == 0 {
			return breaks, false, strayCR(d, err)
		}
		r.br.Discard(k)
		pending += int64(k)
		lines.lineBreak()
		afterBreak = true
	}
}

// lineBreakAt looks at the next bytes: k is the length of the line break
// they start (CRLF or LF; a CR at EOF counts too), or 0; stray reports a
// CR followed by something else than LF.
func (r *RequestReader) lineBreakAt() (k int, stray bool, err error) {
	b, err := r.br.Peek(1)
	if err == nil && b[0] != '\r' {
		return btoi(b[0] == '\n'), false, nil
	}
	if err == nil {
		b, err = r.br.Peek(2) // a CR: only now is its next byte needed
	}
	switch {
	case len(b) == 2 && b[0] == '\r' && b[1] == '\n':
		return 2, false, nil
	case len(b) == 1 && b[0] == '\r' && err == io.EOF:
		return 1, false, nil
	case len(b) == 2 && b[0] == '\r':
		return 0, true, nil
	}
	if err != nil && err != io.EOF {
		return 0, false, fmt.Errorf("read payload: %w", err)
	}
	return 0, false, nil
}

// strayCR is the error for a CR inside the base64 that starts no line
// break, unless reading failed first.
func strayCR(d *decoder, err error) error {
	if err != nil {
		return err
	}
	return d.corrupt(0, "stray CR inside the base64 content")
}

// finishAt ends a payload: with err if reading failed, else checking
// that the base64 ended on a whole quantum.
func finishAt(d *decoder, err error) error {
	if err != nil {
		return err
	}
	return d.finish()
}

// Skip discards the rest of a request that could not be served, so a
// connection can go on after its ERROR reply: up to a blank line, EOF
// (an error: close), or a line break followed by a pause of the quiet
// time. It reads at most
// limit bytes; past that it returns an error and the connection should
// be closed.
func (r *RequestReader) Skip(limit int64) error {
	var skipped int64
	// afterBreak: a line break was the last thing seen, perhaps followed
	// by a CR (pendingCR) that a blank line CRLF may begin with.
	afterBreak, pendingCR := false, false
	for skipped < limit {
		// As for a payload, a pause ends the request only at a line
		// break: a request still arriving is not cut in two.
		if r.br.Buffered() == 0 && afterBreak && !pendingCR {
			pause, eof, err := r.quietEnd()
			switch {
			case err != nil:
				return fmt.Errorf("skip request: %w", err)
			case eof:
				return fmt.Errorf("skip request: %w", io.EOF) // the connection ends
			case pause:
				return nil
			}
		}
		buf, err := peekBuffered(r.br)
		if err != nil {
			return fmt.Errorf("skip request: %w", err)
		}
		i := 0
		for {
			j := bytes.IndexByte(buf[i:], '\n')
			if j < 0 {
				rest := buf[i:]
				if afterBreak && !pendingCR {
					pendingCR = len(rest) == 1 && rest[0] == '\r'
					afterBreak = len(rest) == 0 || pendingCR
				} else {
					afterBreak = afterBreak && len(rest) == 0
				}
				break
			}
			line := j
			if pendingCR {
				line++
			}
			if afterBreak && (line == 0 || (line == 1 && (pendingCR || buf[i] == '\r'))) {
				r.br.Discard(i + j + 1)
				return nil
			}
			afterBreak, pendingCR = true, false
			i += j + 1
		}
		r.br.Discard(len(buf))
		skipped += int64(len(buf))
	}
	return fmt.Errorf("skip request: no end within %d bytes", limit)
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
