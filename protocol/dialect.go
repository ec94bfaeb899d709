package protocol

import (
	"fmt"
	"net"
	"strings"
)

// Form is how a client writes its requests.
type Form string

// Request forms. Course servers take one or the other.
const (
	FormText Form = "text" // UPLOAD name <base64>: fileserverd and most course servers
	FormJSON Form = "json" // {"command": "upload", "params": ["name", "<base64>"]}
)

// End is what ends a request a client sends.
type End string

// Request ends. fileserverd wants CRLF CRLF; course servers that read until
// "\r\n" take it too, but some want exactly one line end, or nothing.
const (
	EndCRLFCRLF End = "crlfcrlf"
	EndCRLF     End = "crlf"
	EndLF       End = "lf"
	// EndNone sends nothing after the request and half-closes the
	// connection instead, for servers that read until the end of input.
	EndNone End = "none"
)

// ParseForm reads a request form by name.
func ParseForm(s string) (Form, error) {
	switch f := Form(s); f {
	case FormText, FormJSON:
		return f, nil
	}
	return "", fmt.Errorf("request form %q: want text or json", s)
}

// ParseEnd reads a request end by name.
func ParseEnd(s string) (End, error) {
	switch e := End(s); e {
	case EndCRLFCRLF, EndCRLF, EndLF, EndNone:
		return e, nil
	}
	return "", fmt.Errorf("terminator %q: want crlfcrlf, crlf, lf or none", s)
}

// bytes is what the end writes.
func (e End) bytes() string {
	switch e {
	case EndCRLF:
		return "\r\n"
	case EndLF:
		return "\n"
	case EndNone:
		return ""
	}
	return Terminator
}

// Dialect is how to speak to one server. The zero value is fileserverd's
// protocol: text requests ended by CRLF CRLF, and a GET reply's content
// under whichever of ContentKeys it carries.
type Dialect struct {
	Form Form `json:"form,omitempty"` // "" is FormText
	End  End  `json:"end,omitempty"`  // "" is EndCRLFCRLF
	// ContentKey is the one key a GET reply's content is read from; ""
	// accepts any of ContentKeys.
	ContentKey string `json:"content_key,omitempty"`
}

// String describes the dialect for messages, e.g. "json requests ending
// in crlfcrlf, content under data".
func (d Dialect) String() string {
	form, end, key := d.Form, d.End, d.ContentKey
	if form == "" {
		form = FormText
	}
	if end == "" {
		end = EndCRLFCRLF
	}
	if key == "" {
		key = strings.Join(ContentKeys(), " or ")
	}
	return fmt.Sprintf("%s requests ending in %s, content under %s", form, end, key)
}

// ContentKeys are the keys a GET reply's content is looked for under.
func (d Dialect) ContentKeys() []string {
	if d.ContentKey != "" {
		return []string{d.ContentKey}
	}
	return ContentKeys()
}

// AppendRequest appends a request without payload in the dialect's form,
// with its end. Text parameters holding a space are written in double
// quotes; a JSON command is written lower-case, as course servers look
// it up.
func (d Dialect) AppendRequest(dst []byte, command string, args ...string) ([]byte, error) {
	if d.Form != FormJSON {
		b, err := AppendRequest(dst, command, args...)
		if err != nil {
			return b, err
		}
		return append(b[:len(b)-len(Terminator)], d.End.bytes()...), nil
	}
	params := args
	if params == nil {
		params = []string{}
	}
	dst = AppendObject(dst, Field{"command", strings.ToLower(command)}, Field{"params", params})
	return append(dst, d.End.bytes()...), nil
}

// UploadFrame returns what an UPLOAD request writes before and after the
// base64 of the content, so that the content streams between them:
// `UPLOAD name ` and the end, or the JSON object around its last string.
func (d Dialect) UploadFrame(name string) (prefix, suffix string, err error) {
	if d.Form != FormJSON {
		q, err := quoteParam(name)
		if err != nil {
			return "", "", err
		}
		return "UPLOAD " + q + " ", d.End.bytes(), nil
	}
	b := AppendObject(nil, Field{"command", "upload"}, Field{"params", []string{name, ""}})
	// b ends in `""]}`: the content goes between those two quotes.
	return string(b[:len(b)-3]), `"]}` + d.End.bytes(), nil
}

// FinishRequest is called once a request is sent: with EndNone it
// half-closes the connection, which is then the only way the server can
// tell the request is complete.
func (d Dialect) FinishRequest(conn net.Conn) error {
	if d.End != EndNone {
		return nil
	}
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	if u, ok := conn.(interface{ NetConn() net.Conn }); ok {
		return d.FinishRequest(u.NetConn())
	}
	return fmt.Errorf("terminator none: cannot half-close a %T", conn)
}
