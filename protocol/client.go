package protocol

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
)

// ReaderSize is the buffered reader each side puts on a connection.
const ReaderSize = 128 << 10

// AppendRequest appends a request without payload. A parameter holding a
// space is written in double quotes.
func AppendRequest(dst []byte, command string, args ...string) ([]byte, error) {
	dst = append(dst, command...)
	for _, a := range args {
		q, err := quoteParam(a)
		if err != nil {
			return dst, err
		}
		dst = append(dst, ' ')
		dst = append(dst, q...)
	}
	return append(dst, Terminator...), nil
}

func quoteParam(a string) (string, error) {
	if strings.ContainsAny(a, "\r\n") {
		return "", fmt.Errorf("parameter %q holds a line break", a)
	}
	if a == "" || strings.Contains(a, " ") || strings.HasPrefix(a, `"`) {
		if strings.Contains(a, `"`) {
			return "", fmt.Errorf("parameter %q holds both a space and a quote, which the protocol cannot carry", a)
		}
		return `"` + a + `"`, nil
	}
	return a, nil
}

// Client speaks the protocol to one server, one request at a time. It is
// not safe for concurrent use. A context that ends during a call leaves
// the connection unusable: close the client.
//
// With Options.Reconnect it copes with servers that close the connection
// after a reply, as many course servers do: before reusing a connection it
// checks that the server has neither closed it nor sent anything unasked,
// and dials again if so; a request other than an upload that finds a
// reused connection closed before any reply is sent again, once, on a new
// connection. Once the server has been seen closing, or sending what no
// request asked for, every request gets a connection of its own.
//
// It is the one client of both commands' tests and of filestressd, whose
// hot path it is: an upload of known content writes its ready base64
// (UploadBase64), and GetVerified checks a download as it arrives, so a
// load generator measures the server rather than itself.
type Client struct {
	addr string // for dialling again
	opts Options
	conn net.Conn
	w    clientWriter
	br   *bufio.Reader
	bufs *Buffers
	req  []byte
	got  int64 // bytes read from the server, to tell a reply from none
	// cut reports that a read of the current exchange met the server's
	// close or reset, to tell content cut short from a broken reply.
	cut   bool
	trace Trace
	// used reports that conn has carried a request.
	used bool
	// oneShot is set once the server was seen closing after a reply, or
	// sending bytes no request asked for.
	oneShot bool
}

// Options say how a Client speaks to its server. The zero value is
// fileserverd's protocol on one connection.
type Options struct {
	Dialect
	// Reconnect dials the server again where it closed the connection.
	Reconnect bool
	// Progress, if not nil, is passed the content bytes an upload sends
	// or a GetVerified receives as they go, for a progress line.
	Progress func(n int64)
}

// Trace is when a client's requests reached the stages a load generator
// times; a zero time is a stage not reached.
type Trace struct {
	// Sent is when the last write that wrote something returned.
	Sent time.Time
	// First and Last are when the first and the last read that read
	// something returned.
	First, Last time.Time
}

// Trace returns the stages reached since the client was made.
func (c *Client) Trace() Trace { return c.trace }

// Dial connects to addr.
func Dial(ctx context.Context, addr string) (*Client, error) {
	return DialWith(ctx, addr, Options{})
}

// DialWith connects to addr, to speak as opts say.
func DialWith(ctx context.Context, addr string, opts Options) (*Client, error) {
	c := newClient(nil, addr, opts)
	if err := c.dial(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// NewClient wraps an established connection, in fileserverd's protocol
// and without reconnecting.
func NewClient(conn net.Conn) *Client { return newClient(conn, "", Options{}) }

func newClient(conn net.Conn, addr string, opts Options) *Client {
	c := &Client{conn: conn, addr: addr, opts: opts, bufs: NewBuffers()}
	c.w = clientWriter{c}
	c.br = bufio.NewReaderSize(clientReader{c}, ReaderSize)
	return c
}

// clientReader reads from the client's current connection, counting,
// timing (Trace) and noting a close or reset (cut).
type clientReader struct{ c *Client }

func (r clientReader) Read(p []byte) (int, error) {
	c := r.c
	n, err := c.conn.Read(p)
	if n > 0 {
		c.got += int64(n)
		c.trace.Last = time.Now()
		if c.trace.First.IsZero() {
			c.trace.First = c.trace.Last
		}
	}
	if err != nil && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)) {
		c.cut = true
	}
	return n, err
}

// clientWriter writes to the client's current connection, timing.
type clientWriter struct{ c *Client }

func (w clientWriter) Write(p []byte) (int, error) {
	n, err := w.c.conn.Write(p)
	if n > 0 {
		w.c.trace.Sent = time.Now()
	}
	return n, err
}

func (c *Client) dial(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	c.conn, c.used = conn, false
	c.br.Reset(clientReader{c})
	return nil
}

// Conn returns the underlying connection: the current one, with
// Options.Reconnect.
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error {
	if c.conn == nil {
		return nil
	}
	return c.conn.Close()
}

// drop closes the connection, so that the next request dials again.
func (c *Client) drop() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// prepare makes the connection ready for a request, dialling again where
// the server closed it, and reports whether the request goes on a
// connection that carried one before.
func (c *Client) prepare(ctx context.Context) (reused bool, err error) {
	if c.opts.Reconnect && c.conn != nil && c.used && (c.oneShot || !c.nothingToRead()) {
		c.drop()
	}
	if c.conn == nil {
		if c.addr == "" {
			return false, errors.New("the connection is closed")
		}
		if err := c.dial(ctx); err != nil {
			return false, err
		}
	}
	reused, c.used = c.used, true
	return reused, nil
}

// nothingToRead reports whether the connection is open with nothing to
// read: a server that closed it, or sent something no request asked for
// (a second reply to one request, say), cannot take the next request on
// it. It looks at the socket without blocking and without reading (see
// peekConn). A read with a deadline already past would not do: Go returns
// the time-out without trying to read, so it would find nothing to read
// on every connection. A connection that is no socket (a net.Pipe, say)
// is given peekWait for bytes to show up instead.
func (c *Client) nothingToRead() bool {
	if c.br.Buffered() > 0 {
		return false
	}
	pending, closed, ok := peekConn(c.conn)
	if !ok {
		c.conn.SetReadDeadline(time.Now().Add(peekWait))
		_, err := c.br.Peek(1)
		c.conn.SetReadDeadline(time.Time{})
		pending, closed = err == nil, err != nil && !IsTimeout(err)
	}
	if closed || pending {
		// Closed or reset after its reply; or a server that sends
		// replies nobody asked for, which may come late enough to pass
		// for the next request's reply on any connection it reuses.
		c.oneShot = true
	}
	return !pending && !closed
}

// peekWait is how long nothingToRead waits for bytes on a connection it
// cannot look at without reading.
const peekWait = time.Millisecond

// replied ends a request whose reply was read: a connection the server
// will close, or that was half-closed, is closed now.
func (c *Client) replied() {
	if c.opts.Reconnect && (c.oneShot || c.opts.End == EndNone) {
		c.drop()
	}
}

// watch applies ctx's deadline and cancellation to the connection until
// the returned function is called.
func (c *Client) watch(ctx context.Context) func() {
	conn := c.conn
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	} else {
		conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return func() { stop() }
}

// ctxErr prefers the context's error to the I/O error it caused. The
// connection's deadline is the context's, so a time-out may surface a
// moment before the context itself says it ended.
func ctxErr(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	if d, ok := ctx.Deadline(); ok && IsTimeout(err) && !time.Now().Before(d) {
		return fmt.Errorf("%w (%v)", context.DeadlineExceeded, err)
	}
	return err
}

// roundTrip sends a request without payload and reads the reply as spec
// says (streaming its content, say). A reused connection that turns out
// closed before any reply gets the request again, once, on a new
// connection: the server never read it.
func (c *Client) roundTrip(ctx context.Context, spec replySpec, command string, args ...string) (*Reply, error) {
	var err error
	if c.req, err = c.opts.AppendRequest(c.req[:0], command, args...); err != nil {
		return nil, err
	}
	r, retry, err := c.exchange(ctx, spec, command)
	if retry {
		c.oneShot = true
		c.drop()
		r, _, err = c.exchange(ctx, spec, command)
	}
	if err != nil {
		// The rest of the reply is unread, or the connection broken:
		// the next request must not read what is left as its own.
		c.drop()
		return r, err
	}
	c.replied()
	return r, r.Err()
}

// exchange sends c.req and reads its reply; retry reports a failure that
// sending again on a new connection may cure.
func (c *Client) exchange(ctx context.Context, spec replySpec, command string) (r *Reply, retry bool, err error) {
	reused, err := c.prepare(ctx)
	if err != nil {
		return nil, false, err
	}
	defer c.watch(ctx)()
	got := c.got
	c.cut = false
	canRetry := func() bool { return reused && c.opts.Reconnect && ctx.Err() == nil && c.got == got }
	if _, err := c.w.Write(c.req); err != nil {
		return nil, canRetry(), ctxErr(ctx, fmt.Errorf("send %s: %w", command, err))
	}
	if err := c.opts.FinishRequest(c.conn); err != nil {
		return nil, false, fmt.Errorf("send %s: %w", command, err)
	}
	spec.bufs = c.bufs
	r, err = readReply(c.br, spec)
	if err != nil {
		return r, canRetry(), ctxErr(ctx, fmt.Errorf("%s reply: %w", command, err))
	}
	return r, false, nil
}

// ListEach streams the names the server holds to each, if not nil, as
// the reply arrives, and returns how many there were. A name is at most
// MaxNameLen bytes, and valid only during the call: nothing is held,
// whatever the length of the list. If the reply turns out not OK, the
// names each was given were not a listing.
func (c *Client) ListEach(ctx context.Context, each func(name []byte) error) (int, error) {
	n := 0
	r, err := c.roundTrip(ctx, replySpec{names: func(name []byte) error {
		n++
		if each != nil {
			return each(name)
		}
		return nil
	}}, "LIST")
	if err != nil {
		return n, err
	}
	if !r.listed {
		return 0, &ReplyError{Reason: "OK reply to LIST without a list of names under \"data\""}
	}
	return n, nil
}

// MaxListNames bounds what List collects.
const MaxListNames = 10000

// List returns the names the server holds: for a caller that knows the
// list is short, tests against a server of their own above all. A list
// of more than MaxListNames names is an error; ListEach takes any.
func (c *Client) List(ctx context.Context) ([]string, error) {
	names := []string{}
	_, err := c.ListEach(ctx, func(name []byte) error {
		if len(names) == MaxListNames {
			return fmt.Errorf("more than %d names: List collects no more (see ListEach)", MaxListNames)
		}
		names = append(names, string(name))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}

// Get streams the content of name to w and returns its size. The content
// is read from the dialect's content key, or any of ContentKeys.
func (c *Client) Get(ctx context.Context, name string, w io.Writer) (int64, error) {
	return c.fetch(ctx, "GET", c.opts.ContentKeys(), name, w)
}

// Download is Get through the DOWNLOAD variant, whose content is under "data".
func (c *Client) Download(ctx context.Context, name string, w io.Writer) (int64, error) {
	return c.fetch(ctx, "DOWNLOAD", []string{DownloadContentKey}, name, w)
}

func (c *Client) fetch(ctx context.Context, command string, keys []string, name string, w io.Writer) (int64, error) {
	r, err := c.roundTrip(ctx, replySpec{keys: keys, content: w}, command, name)
	if err != nil {
		if r != nil {
			return r.ContentBytes, err
		}
		return 0, err
	}
	if !r.HasContent {
		return 0, NoContentError(keys)
	}
	return r.ContentBytes, nil
}

// NoContentError is the error of an OK reply without content under any
// of keys.
func NoContentError(keys []string) *ReplyError {
	return &ReplyError{Reason: fmt.Sprintf("%s under %q", noContent, strings.Join(keys, `" or "`))}
}

// noContent starts the reason of every NoContentError.
const noContent = "OK reply without content"

// IsNoContent reports whether err is, or wraps, a NoContentError: the
// server may put the content under a key the client does not know.
func IsNoContent(err error) bool {
	var re *ReplyError
	return errors.As(err, &re) && strings.HasPrefix(re.Reason, noContent)
}

// Delete removes name from the server.
func (c *Client) Delete(ctx context.Context, name string) error {
	_, err := c.roundTrip(ctx, replySpec{}, "DELETE", name)
	return err
}

// maxStatsData bounds a STATS reply's "data", kept whole to be decoded:
// fileserverd's is under 1 KiB.
const maxStatsData = 64 << 10

// Stats returns the server's counters.
func (c *Client) Stats(ctx context.Context) (*Stats, error) {
	r, err := c.roundTrip(ctx, replySpec{dataLimit: maxStatsData}, "STATS")
	if err != nil {
		return nil, err
	}
	var s Stats
	return &s, r.Decode("data", &s)
}

// UploadResult describes an upload: what was sent, and what the server
// says it stored.
type UploadResult struct {
	Sent, Stored             int64
	SentSHA256, StoredSHA256 string
}

// IntegrityError is a transfer whose bytes differ from what was expected.
type IntegrityError struct{ Reason string }

func (e *IntegrityError) Error() string { return "integrity: " + e.Reason }

// ErrNoDigest is an OK upload reply with neither "size" nor "sha256", as
// course servers write them: what was stored can only be checked by
// reading it back.
var ErrNoDigest = errors.New("the OK reply gives neither size nor sha256")

// HasDigest reports whether an upload reply says what was stored, with a
// "size" or a "sha256" (a check then wants both).
func (r *Reply) HasDigest() bool { return r.Has("size") || r.Has("sha256") }

// Upload streams src to the server as name, encoded as it goes out
// through the client's buffers and hashed, and checks that the size and
// SHA-256 the server reports are those of the bytes sent; if not, it
// returns the result with an *IntegrityError, as it does for a reply
// whose size is unusable. A reply with neither is ErrNoDigest (the result
// still says what was sent). An upload is never sent twice: src cannot be
// replayed. The size of src is not known beforehand, so an upload form
// that writes it before the payload (LayoutLength, LayoutSize) needs
// UploadSized.
func (c *Client) Upload(ctx context.Context, name string, src io.Reader) (UploadResult, error) {
	return c.uploadStream(ctx, name, src, -1)
}

// UploadSized is Upload for src of exactly size bytes, as every upload
// form can send it: the length or size written before the payload is
// computed from size, not by reading src ahead. Content that ends before
// size bytes is an error, and the request is not finished (the server
// would wait for the rest, or store it short); bytes beyond size are not
// read.
func (c *Client) UploadSized(ctx context.Context, name string, src io.Reader, size int64) (UploadResult, error) {
	return c.uploadStream(ctx, name, &sizedReader{r: io.LimitReader(src, size), left: size}, size)
}

func (c *Client) uploadStream(ctx context.Context, name string, src io.Reader, size int64) (UploadResult, error) {
	if c.opts.Progress != nil {
		src = &progressReader{r: src, progress: c.opts.Progress}
	}
	h := sha256.New()
	return c.upload(ctx, name, size, func(w io.Writer, prefix, suffix string) (int64, error) {
		return EncodeStream(w, io.TeeReader(src, h), c.bufs, prefix, suffix)
	}, func() string { return hex.EncodeToString(h.Sum(nil)) })
}

// errShortContent is UploadSized's content ending before its size.
var errShortContent = errors.New("the content ended before the size the request announced")

// sizedReader reads exactly left more bytes from r, or fails with
// errShortContent.
type sizedReader struct {
	r    io.Reader
	left int64
}

func (s *sizedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.left -= int64(n)
	if err == io.EOF && s.left > 0 {
		err = fmt.Errorf("%w (%d bytes short)", errShortContent, s.left)
	}
	return n, err
}

// UploadBase64 is Upload for content whose text is known (see Base64): the
// text goes out as it is, and sha256 (hex), the content's SHA-256
// computed beforehand, is what the reply is checked against.
func (c *Client) UploadBase64(ctx context.Context, name string, t Base64, sha256 string) (UploadResult, error) {
	return c.upload(ctx, name, t.Size(), func(w io.Writer, prefix, suffix string) (int64, error) {
		return WriteBase64(w, t, prefix, suffix, c.opts.Progress)
	}, func() string { return sha256 })
}

// upload sends an upload in the dialect's upload form (see
// Dialect.UploadFrame; size is the content's, or -1), its content written
// by send between the frame's prefix and suffix, and checks the reply
// against the size sent and sum's SHA-256.
func (c *Client) upload(ctx context.Context, name string, size int64, send func(w io.Writer, prefix, suffix string) (int64, error), sum func() string) (UploadResult, error) {
	var res UploadResult
	prefix, suffix, err := c.opts.UploadFrame(name, size)
	if err != nil {
		return res, fmt.Errorf("upload %q: %w", name, err)
	}
	if _, err := c.prepare(ctx); err != nil {
		return res, fmt.Errorf("upload %q: %w", name, err)
	}
	defer c.watch(ctx)()
	c.cut = false
	n, werr := send(c.w, prefix, suffix)
	res.Sent, res.SentSHA256 = n, sum()
	if werr != nil && ctx.Err() != nil {
		return res, ctxErr(ctx, fmt.Errorf("upload %q: send: %w", name, werr))
	}
	if errors.Is(werr, errShortContent) {
		// The request is unfinished: no reply will come.
		c.drop()
		return res, fmt.Errorf("upload %q: %w", name, werr)
	}
	if werr == nil {
		werr = c.opts.FinishRequest(c.conn)
	}
	// Read the reply even when sending failed: a server that refused the
	// upload early (too large, say) says why before it closes.
	r, err := ReadReply(c.br, "", nil, c.bufs)
	if err != nil {
		if werr != nil {
			return res, fmt.Errorf("upload %q: send: %w", name, werr)
		}
		return res, ctxErr(ctx, fmt.Errorf("upload %q reply: %w", name, err))
	}
	c.replied()
	if err := r.Err(); err != nil {
		return res, fmt.Errorf("upload %q: %w", name, err)
	}
	if werr != nil {
		return res, fmt.Errorf("upload %q: OK reply although sending failed: %w", name, werr)
	}
	if !r.HasDigest() {
		return res, fmt.Errorf("upload %q: %w", name, ErrNoDigest)
	}
	if err := r.Decode("size", &res.Stored); err != nil {
		return res, &IntegrityError{Reason: fmt.Sprintf("upload %q: the OK reply gives no usable size, so what the server stored cannot be checked: %v", name, err)}
	}
	res.StoredSHA256 = r.String("sha256")
	if res.Stored != res.Sent || !sameHex(res.StoredSHA256, res.SentSHA256) {
		return res, &IntegrityError{Reason: fmt.Sprintf("upload %q: sent %d bytes sha256 %s, server stored %d bytes sha256 %s",
			name, res.Sent, res.SentSHA256, res.Stored, quoteDigest(res.StoredSHA256, r.Cut("sha256")))}
	}
	return res, nil
}

// progressReader passes what is read through it to progress.
type progressReader struct {
	r        io.Reader
	progress func(int64)
}

func (pr *progressReader) Read(p []byte) (int, error) {
	n, err := pr.r.Read(p)
	if n > 0 {
		pr.progress(int64(n))
	}
	return n, err
}

// Expected is what a download must receive: Size bytes, which are Base64's
// when Base64 is set (compared as text, see Base64), else whose SHA-256 (hex)
// is SHA256 (decoded and hashed).
type Expected struct {
	Size   int64
	SHA256 string
	Base64 Base64
}

// GetVerified is Get for a client that knows what it must receive: the
// content is checked as it arrives, and bytes beyond the expected size
// are refused at once. It returns the content bytes received and found
// right. Wrong, missing or extra content is an *IntegrityError, and so is
// content the server cut short (it closed or reset the connection inside
// it) while ctx is still live: what arrived was wrong, however it ended.
// After any failure but an ERROR reply the connection is closed; with an
// address to dial, the next request gets a new one.
func (c *Client) GetVerified(ctx context.Context, name string, want Expected) (int64, error) {
	var w contentCheck
	if want.Base64 != nil {
		w = newBase64Check(want.Base64, c.opts.Progress)
	} else {
		w = newHashCheck(want.Size, want.SHA256, c.opts.Progress)
	}
	keys := c.opts.ContentKeys()
	r, err := c.roundTrip(ctx, replySpec{keys: keys, content: w}, "GET", name)
	got := w.received()
	var se *ServerError
	if err != nil && !errors.As(err, &se) {
		// The rest of the reply is unread: the next request must not
		// read it as its own.
		c.drop()
	}
	var ie *IntegrityError
	switch {
	case errors.As(err, &ie):
		return got, &IntegrityError{Reason: fmt.Sprintf("download %q: %s", name, ie.Reason)}
	case err != nil && r != nil && r.HasContent && c.cut && !isBadContent(err) && got < want.Size && ctx.Err() == nil:
		return got, &IntegrityError{Reason: fmt.Sprintf("download %q truncated: the server closed or reset the connection after %d of %d bytes (%v)", name, got, want.Size, err)}
	case err != nil:
		return got, fmt.Errorf("download %q: %w", name, err)
	case !r.HasContent:
		return 0, fmt.Errorf("download %q: %w", name, NoContentError(keys))
	}
	if err := w.missing(); err != nil {
		if errors.As(err, &ie) {
			return got, &IntegrityError{Reason: fmt.Sprintf("download %q: %s", name, ie.Reason)}
		}
		c.drop()
		return got, fmt.Errorf("download %q: %w", name, err)
	}
	return got, nil
}

// NewHash returns the hash both sides verify content with.
func NewHash() hash.Hash { return sha256.New() }

// IsTimeout reports whether err is a network time-out.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
