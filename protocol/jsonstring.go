package protocol

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
)

// jsonSpecial marks the bytes that interrupt a run of base64 inside a JSON
// string: its end, an escape, and line breaks.
var jsonSpecial = [256]bool{'"': true, '\\': true, '\n': true, '\r': true}

// decodeBase64String streams the rest of a JSON string whose opening quote
// was read, as base64, through d, and consumes the closing quote. Escapes
// that stand for base64 characters are honoured (\/ as most servers but
// Python write it, \u00XX). Line breaks, raw or escaped as \n and \r, are
// skipped: base64 from Python's encodebytes carries one every 76
// characters. fail makes the error for a malformed string; errors of the
// base64 itself are d's. The caller checks that the base64 ended on a
// whole quantum (d.finish): the string is read by then.
//
// Plain base64 goes through in runs as long as the buffer, found with
// IndexByte; only a buffer that holds escapes or line breaks is scanned
// byte by byte, and still once.
func decodeBase64String(br *bufio.Reader, d *decoder, fail func(string, ...any) error) error {
	for {
		buf, err := peekBuffered(br)
		if err != nil {
			if err == io.EOF {
				return fail("the connection ended inside the content, after %d bytes", d.n)
			}
			return fmt.Errorf("read content: %w", err)
		}
		q := bytes.IndexByte(buf, '"')
		seg := buf
		if q >= 0 {
			seg = buf[:q]
		}
		done, err := decodeRuns(d, seg)
		if err != nil {
			return err
		}
		br.Discard(done)
		if done < len(seg) { // an escape that seg holds only part of
			if err := unescapeInto(br, d, fail); err != nil {
				return err
			}
			continue
		}
		if q >= 0 {
			br.Discard(1)
			return nil
		}
	}
}

// decodeRuns feeds seg, which holds no closing quote, to d, skipping line
// breaks and decoding escapes. It returns how many bytes it used: fewer
// than len(seg) when seg ends inside an escape.
func decodeRuns(d *decoder, seg []byte) (int, error) {
	if bytes.IndexByte(seg, '\\') < 0 && bytes.IndexByte(seg, '\n') < 0 && bytes.IndexByte(seg, '\r') < 0 {
		return len(seg), d.write(seg)
	}
	i := 0
	for i < len(seg) {
		j := i
		for j < len(seg) && !jsonSpecial[seg[j]] {
			j++
		}
		if err := d.write(seg[i:j]); err != nil {
			return i, err
		}
		if j == len(seg) {
			return j, nil
		}
		if seg[j] != '\\' {
			i = j + 1 // a raw line break
			continue
		}
		c, width, ok := escapeAt(seg[j:])
		if !ok {
			return j, nil // read it from the reader
		}
		if c != 0 {
			if err := d.write([]byte{c}); err != nil {
				return j, err
			}
		}
		i = j + width
	}
	return i, nil
}

// escapeAt decodes the escape at the start of e when e holds all of it and
// it stands for a base64 character (c) or a line break (c == 0).
func escapeAt(e []byte) (c byte, width int, ok bool) {
	if len(e) < 2 {
		return 0, 0, false
	}
	switch e[1] {
	case '/', '\\', '"':
		return e[1], 2, true
	case 'n', 'r':
		return 0, 2, true
	case 'u':
		if len(e) < 6 || e[2] != '0' || e[3] != '0' {
			return 0, 0, false
		}
		v, ok := hexValue(e[4:6])
		if !ok {
			return 0, 0, false
		}
		if v == '\n' || v == '\r' {
			return 0, 6, true
		}
		if v == 0 || v >= 0x80 {
			return 0, 0, false
		}
		return byte(v), 6, true
	}
	return 0, 0, false
}

// unescapeInto reads one escape from br (its backslash first) and feeds
// what it stands for to d.
func unescapeInto(br *bufio.Reader, d *decoder, fail func(string, ...any) error) error {
	// Peek no further than the escape: a short one may end the request.
	e, err := br.Peek(2)
	if err == nil && e[1] == 'u' {
		e, err = br.Peek(6)
	}
	if err == io.EOF {
		return fail("the connection ended inside an escape")
	}
	if err != nil {
		return fmt.Errorf("read content: %w", err)
	}
	c, width, ok := escapeAt(e)
	if !ok {
		return fail("content: escape %q is not a base64 character", e[:min(len(e), 6)])
	}
	br.Discard(width)
	if c == 0 {
		return nil
	}
	return d.write([]byte{c})
}

// decodeJSONString streams the rest of a reply's JSON string (its opening
// quote read) as decoded base64 to w, and consumes the closing quote.
// A Base64Matcher gets the text itself (see matchJSONString).
func decodeJSONString(br *bufio.Reader, w io.Writer, bufs *Buffers) (int64, error) {
	if m, ok := w.(Base64Matcher); ok {
		return matchJSONString(br, m)
	}
	d := decoder{w: w, out: bufs.Raw, limit: 1<<63 - 1, canonical: true}
	err := decodeBase64String(br, &d, malformed)
	if err == nil {
		err = d.finish()
	}
	return d.n, contentError(err)
}
