package protocol

import (
	"fmt"
	"net"
	"slices"
	"strconv"
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

// lineBreak is the line break within a request that ends so: LF where
// the request ends in LF, CRLF otherwise.
func (e End) lineBreak() string {
	if e == EndLF {
		return "\n"
	}
	return "\r\n"
}

// Dialect is how to speak to one server. The zero value is fileserverd's
// protocol: text requests ended by CRLF CRLF, uploads as
// `UPLOAD name <base64>`, and a GET reply's content under whichever of
// ContentKeys it carries.
type Dialect struct {
	Form Form `json:"form,omitempty"` // "" is FormText
	End  End  `json:"end,omitempty"`  // "" is EndCRLFCRLF
	// ContentKey is the one key a GET reply's content is read from; ""
	// accepts any of ContentKeys.
	ContentKey string `json:"content_key,omitempty"`
	// Upload is how an upload is written, independent of Form: a server
	// may take its uploads as JSON and its other requests as text. The
	// zero value follows Form (see UploadForm).
	Upload UploadForm `json:"upload"`
}

// UploadForm is the upload form the dialect writes: Upload, with a
// layout left empty taken from Form (sameline for text, json-params for
// JSON), so that a dialect that names no upload form uploads as it
// always did.
func (d Dialect) UploadForm() UploadForm {
	u := d.Upload
	if u.Layout == "" {
		u.Layout = LayoutSameLine
		if d.Form == FormJSON {
			u.Layout = LayoutJSONParams
		}
	}
	if u.Verb == "" {
		u.Verb = VerbUpload
	}
	return u
}

// String describes the dialect for messages, e.g. "json requests ending
// in crlfcrlf, content under data" (the upload form is not in it: see
// UploadForm.String).
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

// UploadLayout is where an upload request puts its payload, and how.
// Course servers each take one: fileserverd takes them all.
type UploadLayout string

// Upload layouts: text with the payload on the command's line, on the
// next line, or after a decimal length; or a JSON object whose last
// string is the payload.
const (
	LayoutSameLine UploadLayout = "sameline" // UPLOAD name <base64>
	LayoutNextLine UploadLayout = "nextline" // UPLOAD name\r\n<base64>
	// LayoutLength writes the base64 text's length before it:
	// UPLOAD name 68 <base64>.
	LayoutLength UploadLayout = "length"
	// LayoutSize writes the decoded size before it: UPLOAD name 50 <base64>.
	LayoutSize UploadLayout = "size"
	// LayoutJSONParams is {"command": "upload", "params": ["name", "<base64>"]}.
	LayoutJSONParams UploadLayout = "json-params"
	// LayoutJSONNamed is {"command": "upload", "filename": "name",
	// "content": "<base64>"}, with the keys of UploadForm.
	LayoutJSONNamed UploadLayout = "json-named"
)

// UploadLayouts lists the layouts, in the order a probe tries them.
func UploadLayouts() []UploadLayout {
	return []UploadLayout{LayoutSameLine, LayoutNextLine, LayoutLength, LayoutSize, LayoutJSONParams, LayoutJSONNamed}
}

// JSON reports whether the layout is a JSON object.
func (l UploadLayout) JSON() bool { return l == LayoutJSONParams || l == LayoutJSONNamed }

// ParseUploadLayout reads a layout by name.
func ParseUploadLayout(s string) (UploadLayout, error) {
	if l := UploadLayout(s); slices.Contains(UploadLayouts(), l) {
		return l, nil
	}
	return "", fmt.Errorf("upload layout %q: want %s", s, joinNames(UploadLayouts()))
}

// Upload verbs, the command word of an upload: UPLOAD as the course
// names it, POST or PUT as some servers want it. In JSON the command is
// written lower-case.
const (
	VerbUpload = "UPLOAD"
	VerbPost   = "POST"
	VerbPut    = "PUT"
)

// UploadVerbs lists the verbs, in the order a probe tries them.
func UploadVerbs() []string { return []string{VerbUpload, VerbPost, VerbPut} }

// ParseUploadVerb reads a verb, in any case, and returns it upper-case.
func ParseUploadVerb(s string) (string, error) {
	if v := strings.ToUpper(s); slices.Contains(UploadVerbs(), v) {
		return v, nil
	}
	return "", fmt.Errorf("upload verb %q: want %s", s, joinNames(UploadVerbs()))
}

// UploadNameKeys and UploadPayloadKeys are the keys a json-named upload
// may put the file name and the payload under: those fileserverd reads,
// so that whatever a client sends, fileserverd takes. The first of each
// is the default.
func UploadNameKeys() []string    { return slices.Clone(jsonNameKeys) }
func UploadPayloadKeys() []string { return slices.Clone(jsonContentKeys) }

// ParseUploadKeys reads json-named's keys written as "NAME,PAYLOAD", e.g.
// "filename,content".
func ParseUploadKeys(s string) (nameKey, payloadKey string, err error) {
	nameKey, payloadKey, ok := strings.Cut(s, ",")
	switch {
	case !ok:
		return "", "", fmt.Errorf("upload keys %q: want NAME,PAYLOAD, e.g. filename,content", s)
	case !slices.Contains(jsonNameKeys, nameKey):
		return "", "", fmt.Errorf("upload keys %q: the name key must be one of %s", s, joinNames(jsonNameKeys))
	case !slices.Contains(jsonContentKeys, payloadKey):
		return "", "", fmt.Errorf("upload keys %q: the payload key must be one of %s", s, joinNames(jsonContentKeys))
	}
	return nameKey, payloadKey, nil
}

// joinNames writes names as "a, b or c".
func joinNames[S ~string](names []S) string {
	s := make([]string, len(names))
	for i, n := range names {
		s[i] = string(n)
	}
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// UploadForm is how an upload request is written: its verb and where its
// payload goes. Every form streams: the payload goes out as it is
// encoded, the length or size before it computed from the content's
// size, never by holding it.
type UploadForm struct {
	Verb   string       `json:"verb,omitempty"`   // UPLOAD, POST or PUT; "" is UPLOAD
	Layout UploadLayout `json:"layout,omitempty"` // "": see Dialect.UploadForm
	// NameKey and PayloadKey are the keys of LayoutJSONNamed: "" is the
	// first of UploadNameKeys and of UploadPayloadKeys.
	NameKey    string `json:"name_key,omitempty"`
	PayloadKey string `json:"payload_key,omitempty"`
}

func (u UploadForm) verb() string {
	if u.Verb == "" {
		return VerbUpload
	}
	return u.Verb
}

func (u UploadForm) keys() (nameKey, payloadKey string) {
	nameKey, payloadKey = u.NameKey, u.PayloadKey
	if nameKey == "" {
		nameKey = jsonNameKeys[0]
	}
	if payloadKey == "" {
		payloadKey = jsonContentKeys[0]
	}
	return nameKey, payloadKey
}

// String names the form as filestressd's request_form column does:
// VERB-LAYOUT, and for json-named its keys, e.g. "POST-nextline",
// "UPLOAD-json-named:filename:content". An empty layout is written
// "sameline".
func (u UploadForm) String() string {
	layout := u.Layout
	if layout == "" {
		layout = LayoutSameLine
	}
	s := u.verb() + "-" + string(layout)
	if layout == LayoutJSONNamed {
		nameKey, payloadKey := u.keys()
		s += ":" + nameKey + ":" + payloadKey
	}
	return s
}

// AppendRequest appends a request without payload in the dialect's form,
// with its end. Text-form parameters holding a space are written in double
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

// UploadFrame returns what an upload request writes before and after the
// base64 of the content, in the dialect's upload form (see UploadForm),
// so that the content streams between them: `UPLOAD name ` and the end,
// or the JSON object around its last string. size is the content's length
// in bytes, which the length and size layouts write before the payload;
// -1 when it is not known, which those two layouts refuse.
func (d Dialect) UploadFrame(name string, size int64) (prefix, suffix string, err error) {
	u := d.UploadForm()
	verb := u.verb()
	switch u.Layout {
	case LayoutJSONParams, LayoutJSONNamed:
		fields := []Field{{"command", strings.ToLower(verb)}, {"params", []string{name, ""}}}
		if u.Layout == LayoutJSONNamed {
			nameKey, payloadKey := u.keys()
			fields = []Field{fields[0], {nameKey, name}, {payloadKey, ""}}
		}
		b := AppendObject(nil, fields...)
		// b ends in `""]}` or `""}`: the content goes between those two
		// quotes, the last string of the object.
		closing := `"]}`
		if u.Layout == LayoutJSONNamed {
			closing = `"}`
		}
		return string(b[:len(b)-len(closing)]), closing + d.End.bytes(), nil
	}
	q, err := quoteParam(name)
	if err != nil {
		return "", "", err
	}
	head := verb + " " + q
	switch u.Layout {
	case LayoutNextLine:
		head += d.End.lineBreak()
	case LayoutLength, LayoutSize:
		if size < 0 {
			return "", "", fmt.Errorf("upload form %s writes the content's length before it, which is not known", u)
		}
		n := size
		if u.Layout == LayoutLength {
			n = Base64Len(size)
		}
		head += " " + strconv.FormatInt(n, 10) + " "
	default:
		head += " "
	}
	return head, d.End.bytes(), nil
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
