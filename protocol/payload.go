package protocol

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"time"
)

// Where a text payload ends. The base64 of an UPLOAD may carry line
// breaks anywhere (Python's encodebytes puts one every 76 characters,
// base64 -w 64 every 64, a client that encodes 3000-byte chunks every
// 4000), so a line break alone never ends it, and a pause after one may
// be a slow client between two lines. The rule is that an OK reply stores
// exactly what the client sent: where the bytes, or their timing, allow
// two readings, the server waits longer or refuses; it never cuts.
//
// A payload ends:
//   - at a blank line (a line break right after one), or at EOF;
//   - before a request that follows it on the next line: a command word
//     and a space (GET a, UPLOAD b ..., LIST ), or '{' (JSON). A space and
//     '{' are not base64, so the payload cannot go on there;
//   - at a pause of EndPause, where no more base64 can belong to it: after a
//     line break that follows padding ('='), or once a declared length
//     is reached (decoded size);
//   - at a pause of EndPauseWrite after a line break, where it is whole as
//     it stands (some base64, in whole quanta, matching its declared
//     length);
//   - never at a pause in the middle of a line (a client streams base64
//     in writes of any size, and one that stalls between two must not
//     have half its file stored), nor where it is not whole (a partial
//     quantum, no content after "UPLOAD name" and a line break). Without
//     a line break after its base64, only EOF or its declared size end
//     an upload.
//
// Still ambiguous: a line holding only LIST or STATS (any case) after a
// line break. Both are valid base64, so the line may be the last of the
// payload (its 3 or 4 bytes) or a request pipelined behind it. Storing
// either way could store the wrong content, so unless the payload was
// already complete (padding before the line break, or its declared
// length reached), the upload is refused and the line is served as the
// request it may be. The README lists these cases.

// ReadPayload streams the content of req, which Read returned with
// HasPayload, to w: decoded from base64 chunk by chunk through bufs.Raw.
// A text payload ends as described above (EndedAtEOF tells an end at
// EOF); a JSON payload is the content string, after which the rest of the
// object is read, so that req is complete when ReadPayload returns.
//
// It stops with ErrTooLarge once more than limit bytes would be written,
// with a *RequestError for invalid base64, a declared length that does
// not match, or a payload the server will not guess the end of, and with
// w's error if a write fails. Only a nil error or a Terminated
// *RequestError leave the reader at the start of the next request; after
// any other, Skip the rest.
func (r *RequestReader) ReadPayload(req *Request, w io.Writer, bufs *Buffers, limit int64) (int64, error) {
	d := decoder{w: w, out: bufs.Raw, limit: limit}
	if req.JSON {
		return d.n, r.jsonPayload(req, &d)
	}
	if err := d.write(req.pending); err != nil {
		return d.n, err
	}
	var p textPayload
	atEOF, err := r.textPayload(req, &d, &p)
	req.EndedAtEOF = atEOF
	if err != nil {
		return d.n, err
	}
	switch {
	case req.afterBreak && d.chars == 0:
		return d.n, &RequestError{Reason: "UPLOAD needs a file name and its base64 content: UPLOAD name <base64>", Terminated: true}
	case req.Length >= 0 && !lengthMatches(req.Length, d.chars, p.breaks, d.n):
		return d.n, &RequestError{Reason: fmt.Sprintf("declared length %s is neither the base64 length %d nor the decoded size %d: nothing stored", req.LengthAsSent, d.chars, d.n), Terminated: true}
	}
	return d.n, nil
}

// jsonPayload reads a JSON request's content string, then the rest of
// the object: jsonMembers refuses a second content, so it returns at the
// object's end. An error inside the content leaves what Skip needs to
// find the object's end, and its members after the content.
func (r *RequestReader) jsonPayload(req *Request, d *decoder) error {
	err := decodeBase64String(r.br, d, jsonError)
	if err != nil {
		r.skip = jsonSkip{active: true, inString: true, req: req}
		return unterminated(err)
	}
	if err := d.finish(); err != nil {
		r.skip = jsonSkip{active: true, req: req}
		return unterminated(err) // the rest of the object follows
	}
	return r.jsonMembers(req)
}

// unterminated marks a RequestError as not having read its request to the
// end.
func unterminated(err error) error {
	if re, ok := IsRequestError(err); ok && re.Terminated {
		return &RequestError{Reason: re.Reason}
	}
	return err
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

// textPayload is what reading a text payload has seen of its line breaks.
type textPayload struct {
	breaks  int64 // bytes of the line breaks inside it (followed by more base64)
	pending int64 // line break bytes not yet followed by base64
	// afterBreak: a line break was the last thing read (or, at the start,
	// the head's: the payload is on the line after the name).
	afterBreak bool
}

// whole reports whether the payload read so far may be all of it: some
// base64 (or none, if that is the declared length), in whole quanta,
// matching the declared length if there is one.
func (p *textPayload) whole(req *Request, d *decoder) bool {
	return (d.chars > 0 || req.Length == 0) && d.nc == 0 && (req.Length < 0 || lengthMatches(req.Length, d.chars, p.breaks, d.n))
}

// complete reports whether no more base64 can belong to a whole payload:
// it ended in padding and a line break, or reached its declared length
// as decoded bytes (every reading of the length is then used up).
func (p *textPayload) complete(req *Request, d *decoder) bool {
	return p.whole(req, d) && ((d.padded && p.afterBreak) || (req.Length >= 0 && req.Length <= d.n))
}

// pause is how long a pause must last to end the payload here, or zero
// where none does (see the rules above).
func (r *RequestReader) pause(req *Request, d *decoder, p *textPayload) time.Duration {
	switch {
	case p.complete(req, d) && r.EndPause > 0:
		return r.EndPause
	case p.whole(req, d) && p.afterBreak:
		return r.EndPauseWrite
	}
	return 0
}

// textPayload feeds base64 to d up to the end of a text payload, and
// reports whether it ended at EOF rather than at a blank line, a request
// or a pause.
func (r *RequestReader) textPayload(req *Request, d *decoder, p *textPayload) (atEOF bool, err error) {
	p.afterBreak = req.afterBreak
	for {
		if r.br.Buffered() == 0 {
			if wait := r.pause(req, d, p); wait > 0 {
				paused, eof, err := r.waitMore(0, wait)
				if paused || eof || err != nil {
					return eof, finishAt(d, err)
				}
			}
			if _, err := r.br.Peek(1); err != nil {
				if err == io.EOF {
					return true, d.finish()
				}
				return false, fmt.Errorf("read payload: %w", err)
			}
		}
		if p.afterBreak {
			kind, err := r.classifyLine(r.EndPauseWrite)
			if err != nil {
				return false, err
			}
			switch kind {
			case lineBlank:
				k, stray, err := r.lineBreakAt()
				if err != nil || stray {
					return false, strayCR(d, err)
				}
				r.br.Discard(k)
				return false, d.finish()
			case lineRequest:
				return false, d.finish()
			case lineCommandAlone:
				if p.complete(req, d) {
					return false, nil
				}
				return false, r.ambiguousLine()
			}
			p.afterBreak = false
		}
		buf, _ := r.br.Peek(r.br.Buffered())
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
			p.breaks, p.pending = p.breaks+p.pending, 0
		}
		if err := d.write(seg); err != nil {
			return false, err
		}
		r.br.Discard(len(seg))
		if len(seg) == len(buf) {
			continue
		}
		k, stray, err := r.lineBreakAt()
		if err != nil || stray || k == 0 {
			return false, strayCR(d, err)
		}
		r.br.Discard(k)
		p.pending += int64(k)
		p.afterBreak = true
	}
}

// ambiguousLine is the error for a payload followed by a line that may be
// its last line of base64 or a request: nothing is stored, and the line is
// left to be read as the request it may be.
func (r *RequestReader) ambiguousLine() error {
	b, _ := r.br.Peek(min(r.br.Buffered(), maxCommandLen))
	word, _, _ := bytes.Cut(b, []byte{'\n'})
	word = bytes.TrimSuffix(word, []byte{'\r'})
	return &RequestError{Terminated: true, Reason: fmt.Sprintf("the line %q after the content may be its last line of base64 or a %s request: nothing stored; "+
		"end an upload with a blank line (CRLF CRLF)", word, upperASCII(string(word)))}
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
// connection can go on after its ERROR reply: for a JSON request, to the
// end of its object where it can find it; otherwise up to a blank line,
// a request on the next line (as a payload ends, see textPayload), EOF
// (an error: close), or a line break followed by a pause of EndPause. It
// reads at most limit bytes; past that it returns an error and the
// connection should be closed. A JSON request that failed inside its
// content has the rest of its members read, so that its name is known.
func (r *RequestReader) Skip(limit int64) error {
	if r.skip.active {
		done, err := r.skipJSON(limit)
		if done || err != nil {
			return err
		}
	}
	var skipped int64
	afterBreak := false
	for skipped < limit {
		if afterBreak {
			// As for a payload, a pause ends the request only at a line
			// break: a request still arriving is not cut in two.
			paused, eof, err := r.waitMore(0, r.EndPause)
			switch {
			case err != nil:
				return fmt.Errorf("skip request: %w", err)
			case eof:
				return fmt.Errorf("skip request: %w", io.EOF) // the connection ends
			case paused:
				return nil
			}
			kind, err := r.classifyLine(r.EndPause)
			if err != nil {
				return fmt.Errorf("skip request: %w", err)
			}
			switch kind {
			case lineRequest, lineCommandAlone:
				return nil
			case lineBlank:
				k, stray, err := r.lineBreakAt()
				switch {
				case err != nil:
					return fmt.Errorf("skip request: %w", err)
				case k == 1 && !stray:
					if b, _ := r.br.Peek(1); b[0] == '\r' {
						return fmt.Errorf("skip request: %w", io.EOF) // a CR, then the end
					}
				}
				if k > 0 {
					r.br.Discard(k)
					return nil
				}
			}
			afterBreak = false
		}
		buf, err := peekBuffered(r.br)
		if err != nil {
			return fmt.Errorf("skip request: %w", err)
		}
		n := len(buf)
		if lf := bytes.IndexByte(buf, '\n'); lf >= 0 {
			n, afterBreak = lf+1, true
		}
		r.br.Discard(n)
		skipped += int64(n)
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
