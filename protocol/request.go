package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
)

// MaxHeadLen bounds a request before its payload: the command and its
// parameters, including the terminator of a request without payload.
const MaxHeadLen = 4096

// Terminator ends every request and every reply.
const Terminator = "\r\n\r\n"

// Request is one parsed request. For UPLOAD the base64 payload is not part
// of it: it follows on the reader, for DecodePayload to stream.
type Request struct {
	Command string   // upper case, as the command is case-insensitive
	Args    []string // parameters, quotes removed
	// HasPayload reports that a payload follows (only UPLOAD has one).
	HasPayload bool
}

// RequestError is a malformed request: the server answers it with an ERROR
// reply. Terminated reports whether the request's terminator was consumed,
// so that the next request starts right after it; if not, the rest of the
// request must be skipped (SkipRequest) before the connection can go on.
type RequestError struct {
	Reason     string
	Terminated bool
}

func (e *RequestError) Error() string { return e.Reason }

// IsRequestError reports whether err is (or wraps) a *RequestError.
func IsRequestError(err error) (*RequestError, bool) {
	var re *RequestError
	ok := errors.As(err, &re)
	return re, ok
}

// ReadRequest reads one request head from br. It returns io.EOF when the
// connection ends cleanly before a request begins, a *RequestError for a
// malformed request, and other read errors wrapped.
func ReadRequest(br *bufio.Reader) (*Request, error) {
	h := headReader{br: br}
	if _, err := br.Peek(1); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("read request: %w", err)
	}

	cmd, end, err := h.param(false)
	if err != nil {
		return nil, err
	}
	if cmd == "" {
		if end {
			return nil, &RequestError{Reason: "empty request", Terminated: true}
		}
		return nil, &RequestError{Reason: "request starts with a space"}
	}
	req := &Request{Command: strings.ToUpper(cmd)}
	upload := req.Command == "UPLOAD"
	for !end {
		var p string
		p, end, err = h.param(true)
		if err != nil {
			return nil, err
		}
		if p == "" && end {
			break // a trailing space before the terminator
		}
		if p == "" {
			return nil, &RequestError{Reason: "empty parameter: parameters are separated by single spaces"}
		}
		req.Args = append(req.Args, p)
		if upload && !end {
			req.HasPayload = true
			return req, nil
		}
	}
	if upload {
		// "UPLOAD name \r\n\r\n" (an empty file) returned above with
		// HasPayload; here the content is missing altogether.
		return nil, &RequestError{Reason: "UPLOAD needs a file name and its base64 content: UPLOAD name <base64>", Terminated: true}
	}
	return req, nil
}

// headReader reads the parameters of a request head byte by byte, counting
// them against MaxHeadLen.
type headReader struct {
	br *bufio.Reader
	n  int
	sb strings.Builder
}

func (h *headReader) readByte() (byte, error) {
	if h.n >= MaxHeadLen {
		return 0, &RequestError{Reason: fmt.Sprintf("request head longer than %d bytes", MaxHeadLen)}
	}
	c, err := h.br.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, &RequestError{Reason: "incomplete request: the connection ended before the CRLF CRLF terminator"}
		}
		return 0, fmt.Errorf("read request: %w", err)
	}
	h.n++
	return c, nil
}

// terminator consumes the terminator that the next bytes must be. The
// head's bytes are peeked first and consumed only when they are the whole
// terminator within MaxHeadLen, so that on any error SkipRequest still
// finds a real terminator that starts among them.
func (h *headReader) terminator() error {
	b, err := h.br.Peek(len(Terminator))
	if string(b) == Terminator {
		if h.n+len(Terminator) > MaxHeadLen {
			return &RequestError{Reason: fmt.Sprintf("request head longer than %d bytes", MaxHeadLen)}
		}
		h.br.Discard(len(Terminator))
		h.n += len(Terminator)
		return nil
	}
	if err != nil && err != io.EOF {
		return fmt.Errorf("read request: %w", err)
	}
	if err == io.EOF && string(b) == Terminator[:len(b)] {
		return &RequestError{Reason: "incomplete request: the connection ended before the CRLF CRLF terminator"}
	}
	return &RequestError{Reason: "malformed request: a line break inside the request (requests end in CRLF CRLF)"}
}

// peekByte returns the next byte without consuming it.
func (h *headReader) peekByte() (byte, error) {
	b, err := h.br.Peek(1)
	if err != nil {
		if err == io.EOF {
			return 0, &RequestError{Reason: "incomplete request: the connection ended before the CRLF CRLF terminator"}
		}
		return 0, fmt.Errorf("read request: %w", err)
	}
	return b[0], nil
}

// param reads one parameter (or the command) and the delimiter after it:
// end is true when the terminator followed. A parameter may be written in
// double quotes to hold spaces when quotes is true. Delimiters are peeked
// before they are consumed (see terminator).
func (h *headReader) param(quotes bool) (p string, end bool, err error) {
	h.sb.Reset()
	c, err := h.peekByte()
	if err != nil {
		return "", false, err
	}
	quoted := quotes && c == '"'
	if quoted {
		h.readByte()
		for {
			if c, err = h.peekByte(); err != nil {
				return "", false, err
			}
			if c == '\r' || c == '\n' {
				return "", false, &RequestError{Reason: "malformed request: unterminated quoted parameter"}
			}
			if _, err = h.readByte(); err != nil {
				return "", false, err
			}
			if c == '"' {
				break
			}
			h.sb.WriteByte(c)
		}
		if h.sb.Len() == 0 {
			return "", false, &RequestError{Reason: "empty quoted parameter"}
		}
	}
	for {
		if c, err = h.peekByte(); err != nil {
			return "", false, err
		}
		switch c {
		case ' ':
			if _, err := h.readByte(); err != nil {
				return "", false, err
			}
			return h.sb.String(), false, nil
		case '\r':
			if err := h.terminator(); err != nil {
				return "", false, err
			}
			return h.sb.String(), true, nil
		case '\n':
			return "", false, &RequestError{Reason: "malformed request: a bare LF inside the request (requests end in CRLF CRLF)"}
		}
		if quoted {
			return "", false, &RequestError{Reason: "malformed request: a closing quote must be followed by a space or the end of the request"}
		}
		if _, err := h.readByte(); err != nil {
			return "", false, err
		}
		h.sb.WriteByte(c)
	}
}
