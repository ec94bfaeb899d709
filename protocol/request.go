package protocol

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// MaxHeadLen bounds a request before its payload: the command and its
// parameters, or a JSON request without its content string.
const MaxHeadLen = 4096

// Terminator ends every reply, and the requests this package writes.
// Requests read may end in other ways: see RequestReader.
const Terminator = "\r\n\r\n"

// maxCommandLen bounds a command word: the longest known one is 8 bytes,
// so anything much longer is reported as unknown at once instead of being
// read on as a head (it may be a payload sent without a command).
const maxCommandLen = 32

// maxBlankBytes bounds the blank lines skipped between two requests.
const maxBlankBytes = 64 << 10

// Request is one parsed request. Its content is not part of it: it
// follows on the reader, for RequestReader.ReadPayload to stream.
type Request struct {
	// Command is upper case and canonical: POST and PUT read as UPLOAD.
	// A JSON request whose content came before its "command" has none
	// until ReadPayload has read the rest.
	Command string
	Args    []string // parameters, quotes removed
	// HasPayload reports that content follows (an UPLOAD's).
	HasPayload bool
	// Length is the decimal length sent before the payload, or -1. It
	// must equal the base64 text's length or the decoded size. A length
	// too large for an int64 reads as math.MaxInt64.
	Length int64
	// LengthAsSent is the length as the client wrote it, for messages.
	LengthAsSent string
	// JSON reports that the request is a JSON object.
	JSON bool
	// EndedAtEOF reports that the payload ended at EOF, not at a blank
	// line or a pause. A client that ends its request so cannot be told
	// from one killed mid-upload, so the server checks that the client is
	// still there before it stores the content.
	EndedAtEOF bool

	// afterBreak: the payload begins after a line break, not a space, so
	// an empty one means the content was left out, not an empty file.
	afterBreak bool
	// pending holds payload characters read while looking for a length.
	pending []byte
	// json is where a JSON request stopped, at its content string.
	json *jsonState
}

// RequestError is a malformed request: the server answers it with an ERROR
// reply. Terminated reports whether the request's end was consumed, so
// that the next request starts right after it; if not, the rest of the
// request must be skipped (RequestReader.Skip) before the connection can
// go on.
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

// commands maps every command word a client may send, upper-cased, to the
// command it means, the number of parameters it takes (-1: UPLOAD, a name
// and content) and the operation it counts as.
var commands = map[string]struct {
	canonical string
	params    int
	op        Op
}{
	"LIST":     {"LIST", 0, OpList},
	"STATS":    {"STATS", 0, OpStats},
	"GET":      {"GET", 1, OpGet},
	"DOWNLOAD": {"DOWNLOAD", 1, OpGet},
	"DELETE":   {"DELETE", 1, OpDelete},
	"UPLOAD":   {"UPLOAD", -1, OpUpload},
	"POST":     {"UPLOAD", -1, OpUpload},
	"PUT":      {"UPLOAD", -1, OpUpload},
}

// Op is the operation the request counts as, and params the number of
// parameters its command takes (-1: UPLOAD, a name and content); a JSON
// request whose content came before its command is an UPLOAD.
func (r *Request) Op() (op Op, params int) {
	c, ok := commands[r.Command]
	if !ok {
		return OpUpload, -1
	}
	return c.op, c.params
}

// CommandList names the commands for error messages.
const CommandList = "LIST, GET, DOWNLOAD, UPLOAD (or POST, PUT), DELETE or STATS"

// upperASCII upper-cases ASCII letters only: a command is ASCII, and
// Unicode case rules would read "lıst" (dotless i) as LIST.
func upperASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// lookupCommand returns the canonical command for a word and the number of
// parameters it takes; ok is false for an unknown word.
func lookupCommand(word string) (canonical string, params int, ok bool) {
	c, ok := commands[upperASCII(word)]
	return c.canonical, c.params, ok
}

// unknownCommand is the error for a command word that is not one of ours.
func unknownCommand(word string, terminated bool) *RequestError {
	if len(word) > 64 {
		word = word[:64] + "..."
	}
	return &RequestError{Reason: fmt.Sprintf("unknown command %q: use %s", word, CommandList), Terminated: terminated}
}

// RequestReader reads requests from one connection, in every form the
// package doc lists. Where a request may be complete without a
// terminator, a pause may end it, but only where ending it early cannot
// do the wrong thing: EndPause ends a request that only reads (LIST,
// STATS, GET name), EndPauseWrite, much longer, one that changes storage
// (DELETE name, an UPLOAD's payload). The rules for payloads are in
// payload.go.
type RequestReader struct {
	br *bufio.Reader
	// EndPause is how long nothing must arrive before a request that only
	// reads, and may be whole (LIST, STATS, GET name), has ended. Zero:
	// only a terminator or EOF ends it.
	EndPause time.Duration
	// EndPauseWrite is the same for a request that changes storage: DELETE
	// name, and an UPLOAD's payload where it may be whole but could go on
	// (see textPayload). Zero: only a terminator, EOF or a length ends it.
	EndPauseWrite time.Duration
	// SetPauseWait makes reads on the connection under br return
	// ErrPause once nothing has arrived for d since the last byte that
	// did; zero restores the usual deadline. The pauses need it (see
	// PauseClock). Counting from the last byte, not from the call, makes
	// one clock of every wait for the same pause: a request whose head a
	// waiting room read and ended at a pause ends at once when a worker
	// reads it again.
	SetPauseWait func(d time.Duration)

	n  int // head bytes read for the current request
	sb strings.Builder
	// skip is where a JSON request stopped when reading it failed, so
	// that Skip can find the object's end.
	skip jsonSkip
}

// NewRequestReader reads requests from br.
func NewRequestReader(br *bufio.Reader) *RequestReader {
	return &RequestReader{br: br}
}

// Next waits until a request begins, skipping blank lines between
// requests. It returns io.EOF when the connection ends before one, and
// the read error unwrapped otherwise, so that a time-out can be told.
func (r *RequestReader) Next() error {
	for skipped := 0; ; skipped++ {
		b, err := r.br.Peek(1)
		if err != nil {
			return err
		}
		if b[0] != '\r' && b[0] != '\n' {
			return nil
		}
		if skipped >= maxBlankBytes {
			return &RequestError{Reason: fmt.Sprintf("more than %d bytes of blank lines", maxBlankBytes)}
		}
		r.br.Discard(1)
	}
}

// Pending discards the blank lines already buffered, without waiting for
// more, and reports whether the next request has begun to arrive: a server
// whose client sent CRLF CRLF where one CRLF ended the request must not
// wait on the second.
func (r *RequestReader) Pending() bool {
	for r.br.Buffered() > 0 {
		b, _ := r.br.Peek(1)
		if b[0] != '\r' && b[0] != '\n' {
			return true
		}
		r.br.Discard(1)
	}
	return false
}

// Read reads one request head. It returns io.EOF when the connection ends
// cleanly before a request begins, a *RequestError for a malformed request
// (an unknown command among them), and other read errors wrapped. When
// the request has content (HasPayload), ReadPayload must read it next.
func (r *RequestReader) Read() (*Request, error) {
	r.n = 0
	r.skip = jsonSkip{}
	if err := r.Next(); err != nil {
		if err == io.EOF {
			return nil, io.EOF
		}
		if _, ok := IsRequestError(err); ok {
			return nil, err
		}
		return nil, fmt.Errorf("read request: %w", err)
	}
	b, _ := r.br.Peek(1)
	if b[0] == '{' {
		return r.readJSON()
	}
	return r.readText()
}

// delim is what ended a parameter.
type delim int

const (
	space      delim = iota // more parameters follow
	lineEnd                 // a line break, consumed: the request ends
	requestEnd              // EOF, or the end pause passed
)

func (r *RequestReader) readText() (*Request, error) {
	req := &Request{Length: -1}
	word, d, err := r.param(false, func(tok string) time.Duration {
		if wholeCommand(tok) {
			return r.EndPause
		}
		return 0
	})
	if err != nil {
		return nil, err
	}
	if word == "" {
		return nil, &RequestError{Reason: "request starts with a space"}
	}
	cmd, params, ok := lookupCommand(word)
	if !ok {
		return nil, unknownCommand(word, d != space)
	}
	req.Command = cmd
	if params < 0 {
		return r.readUploadHead(req, d)
	}
	// A pause may end a request that reads once its parameters are all
	// there; DELETE only after the longer EndPauseWrite: "DELETE a", a
	// pause, then "b" must not delete a.
	pause := r.EndPause
	if cmd == "DELETE" {
		pause = r.EndPauseWrite
	}
	for d == space {
		var p string
		p, d, err = r.param(true, func(tok string) time.Duration {
			if len(req.Args)+btoi(tok != "") >= params {
				return pause
			}
			return 0
		})
		if err != nil {
			return nil, err
		}
		if p == "" && d != space {
			break // a trailing space before the end
		}
		if p == "" {
			return nil, &RequestError{Reason: "empty parameter: parameters are separated by single spaces"}
		}
		req.Args = append(req.Args, p)
	}
	return req, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// wholeCommand reports whether a command word could be a whole request:
// a command without parameters, or a word no command starts with (to be
// answered as unknown). A prefix of a command, or one that needs
// parameters, waits for more.
func wholeCommand(word string) bool {
	if word == "" {
		return false
	}
	if _, params, ok := lookupCommand(word); ok {
		return params == 0
	}
	up := upperASCII(word)
	for c := range commands {
		if strings.HasPrefix(c, up) {
			return false
		}
	}
	return true
}

// readUploadHead reads an UPLOAD's name and what comes before its
// content: a space or a line break, and perhaps a decimal length.
func (r *RequestReader) readUploadHead(req *Request, d delim) (*Request, error) {
	noContent := &RequestError{Reason: "UPLOAD needs a file name and its base64 content: UPLOAD name <base64>", Terminated: true}
	if d != space {
		return nil, noContent
	}
	name, d, err := r.param(true, func(string) time.Duration { return 0 })
	if err != nil {
		return nil, err
	}
	if name == "" {
		return nil, noContent
	}
	req.Args = []string{name}
	switch d {
	case requestEnd:
		return nil, noContent
	case lineEnd:
		req.HasPayload, req.afterBreak = true, true
		return req, nil
	}
	req.HasPayload = true
	// Digits then a space are a length; digits then anything else are
	// the start of the payload (digits are base64 too). Digits that end
	// at EOF or at a pause of EndPauseWrite are the payload.
	for len(req.pending) < 19 {
		b, ended, err := r.peek(r.EndPauseWrite)
		if err != nil || ended || b < '0' || b > '9' {
			break // a read error is the payload's to report
		}
		req.pending = append(req.pending, b)
		r.br.Discard(1)
	}
	if b, err := r.br.Peek(1); err == nil && b[0] == ' ' && len(req.pending) > 0 {
		r.br.Discard(1)
		req.LengthAsSent = string(req.pending)
		req.Length, err = strconv.ParseInt(req.LengthAsSent, 10, 64)
		if err != nil {
			req.Length = math.MaxInt64 // 19 digits beyond int64: no payload is that long
		}
		req.pending = nil
	}
	return req, nil
}

// readByte consumes one head byte, counting it against MaxHeadLen.
func (r *RequestReader) readByte() (byte, error) {
	if r.n >= MaxHeadLen {
		return 0, &RequestError{Reason: fmt.Sprintf("request head longer than %d bytes", MaxHeadLen)}
	}
	c, err := r.br.ReadByte()
	if err != nil {
		if err == io.EOF {
			return 0, &RequestError{Reason: "incomplete request: the connection ended inside it", Terminated: true}
		}
		return 0, fmt.Errorf("read request: %w", err)
	}
	r.n++
	return c, nil
}

// peek returns the next byte without consuming it. ended reports that the
// request ended before it: at EOF, or after a pause of pause when that is
// not zero.
func (r *RequestReader) peek(pause time.Duration) (c byte, ended bool, err error) {
	if pause > 0 && r.br.Buffered() == 0 {
		if paused, eof, err := r.waitMore(0, pause); paused || eof || err != nil {
			return 0, paused || eof, err
		}
	}
	b, err := r.br.Peek(1)
	if err == io.EOF {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read request: %w", err)
	}
	return b[0], false, nil
}

// waitMore waits for more than have bytes to be buffered, for at most a
// pause of d (counted from the last byte that arrived). It reports
// whether the pause passed with nothing more, or the connection ended
// (eof, which stays for the next read to see). Without a pause to wait
// for (d or SetPauseWait unset) it returns at once, having read nothing.
func (r *RequestReader) waitMore(have int, d time.Duration) (paused, eof bool, err error) {
	if r.br.Buffered() > have || d <= 0 || r.SetPauseWait == nil {
		return false, false, nil
	}
	r.SetPauseWait(d)
	_, err = r.br.Peek(have + 1)
	r.SetPauseWait(0)
	switch {
	case err == nil:
		return false, false, nil
	case err == io.EOF:
		return false, true, nil
	case isPause(err):
		return true, false, nil
	}
	return false, false, fmt.Errorf("read request: %w", err)
}

// lineBreak consumes a line break, CRLF or LF, whose first byte is next.
// A CR that is not followed by LF is an error.
func (r *RequestReader) lineBreak() error {
	c, err := r.readByte()
	if err != nil || c == '\n' {
		return err
	}
	b, err := r.br.Peek(1)
	if err == io.EOF {
		return nil // a CR at the very end: the request ended anyway
	}
	if err != nil {
		return fmt.Errorf("read request: %w", err)
	}
	if b[0] != '\n' {
		return &RequestError{Reason: "malformed request: a CR not followed by LF"}
	}
	_, err = r.readByte()
	return err
}

// pauseIfWaiting is endPause(tok) when nothing is buffered, the only time
// a pause can matter, and zero otherwise, so that a head already received
// is read without asking at every byte.
func (r *RequestReader) pauseIfWaiting(endPause func(string) time.Duration, tok string) time.Duration {
	if r.br.Buffered() > 0 {
		return 0
	}
	return endPause(tok)
}

// param reads one parameter (or the command) and what ended it. A
// parameter may be written in double quotes to hold spaces when quotes is
// true. endPause is the pause that ends the request if it ended after the
// parameter read so far, or zero where it cannot be whole.
func (r *RequestReader) param(quotes bool, endPause func(string) time.Duration) (string, delim, error) {
	r.sb.Reset()
	c, ended, err := r.peek(r.pauseIfWaiting(endPause, ""))
	if err != nil || ended {
		return "", requestEnd, err
	}
	quoted := quotes && c == '"'
	if quoted {
		r.readByte()
		for {
			c, ended, err := r.peek(0)
			if err != nil {
				return "", 0, err
			}
			if ended {
				return "", 0, &RequestError{Reason: "incomplete request: the connection ended inside a quoted parameter", Terminated: true}
			}
			if c == '\r' || c == '\n' {
				return "", 0, &RequestError{Reason: "malformed request: unterminated quoted parameter"}
			}
			if _, err := r.readByte(); err != nil {
				return "", 0, err
			}
			if c == '"' {
				break
			}
			r.sb.WriteByte(c)
		}
		if r.sb.Len() == 0 {
			return "", 0, &RequestError{Reason: "empty quoted parameter"}
		}
	}
	for {
		c, ended, err := r.peek(r.pauseIfWaiting(endPause, r.sb.String()))
		if err != nil {
			return "", 0, err
		}
		if ended {
			return r.sb.String(), requestEnd, nil
		}
		switch c {
		case ' ':
			if _, err := r.readByte(); err != nil {
				return "", 0, err
			}
			return r.sb.String(), space, nil
		case '\r', '\n':
			if err := r.lineBreak(); err != nil {
				return "", 0, err
			}
			return r.sb.String(), lineEnd, nil
		}
		if quoted {
			return "", 0, &RequestError{Reason: "malformed request: a closing quote must be followed by a space or the end of the request"}
		}
		if !quotes && r.sb.Len() >= maxCommandLen {
			return "", 0, unknownCommand(r.sb.String(), false)
		}
		if _, err := r.readByte(); err != nil {
			return "", 0, err
		}
		r.sb.WriteByte(c)
	}
}
