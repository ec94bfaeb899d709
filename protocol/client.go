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

// Client speaks the protocol over one connection, one request at a time.
// It is not safe for concurrent use. A context that ends during a call
// leaves the connection unusable: close the client.
type Client struct {
	conn net.Conn
	br   *bufio.Reader
	bufs *Buffers
	req  []byte
}

// Dial connects to addr.
func Dial(ctx context.Context, addr string) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewClient(conn), nil
}

// NewClient wraps an established connection.
func NewClient(conn net.Conn) *Client {
	return &Client{conn: conn, br: bufio.NewReaderSize(conn, ReaderSize), bufs: NewBuffers()}
}

// Conn returns the underlying connection.
func (c *Client) Conn() net.Conn { return c.conn }

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// watch applies ctx's deadline and cancellation to the connection until
// the returned function is called.
func (c *Client) watch(ctx context.Context) func() {
	if d, ok := ctx.Deadline(); ok {
		c.conn.SetDeadline(d)
	} else {
		c.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { c.conn.SetDeadline(time.Unix(1, 0)) })
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

// roundTrip sends a request without payload and reads the reply,
// streaming content under contentKey to content.
func (c *Client) roundTrip(ctx context.Context, contentKey string, content io.Writer, command string, args ...string) (*Reply, error) {
	defer c.watch(ctx)()
	var err error
	if c.req, err = AppendRequest(c.req[:0], command, args...); err != nil {
		return nil, err
	}
	if _, err := c.conn.Write(c.req); err != nil {
		return nil, ctxErr(ctx, fmt.Errorf("send %s: %w", command, err))
	}
	r, err := ReadReply(c.br, contentKey, content, c.bufs)
	if err != nil {
		return r, ctxErr(ctx, fmt.Errorf("%s reply: %w", command, err))
	}
	return r, r.Err()
}

// List returns the names the server holds.
func (c *Client) List(ctx context.Context) ([]string, error) {
	r, err := c.roundTrip(ctx, "", nil, "LIST")
	if err != nil {
		return nil, err
	}
	var names []string
	return names, r.Decode("data", &names)
}

// Get streams the content of name to w and returns its size.
func (c *Client) Get(ctx context.Context, name string, w io.Writer) (int64, error) {
	return c.fetch(ctx, "GET", GetContentKey, name, w)
}

// Download is Get through the DOWNLOAD variant, whose content is under "data".
func (c *Client) Download(ctx context.Context, name string, w io.Writer) (int64, error) {
	return c.fetch(ctx, "DOWNLOAD", DownloadContentKey, name, w)
}

func (c *Client) fetch(ctx context.Context, command, key, name string, w io.Writer) (int64, error) {
	r, err := c.roundTrip(ctx, key, w, command, name)
	if err != nil {
		if r != nil {
			return r.ContentBytes, err
		}
		return 0, err
	}
	if !r.HasContent {
		return 0, &ReplyError{Reason: fmt.Sprintf("OK reply without %q", key)}
	}
	return r.ContentBytes, nil
}

// Delete removes name from the server.
func (c *Client) Delete(ctx context.Context, name string) error {
	_, err := c.roundTrip(ctx, "", nil, "DELETE", name)
	return err
}

// Stats returns the server's counters.
func (c *Client) Stats(ctx context.Context) (*Stats, error) {
	r, err := c.roundTrip(ctx, "", nil, "STATS")
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

// Upload streams src to the server as name and checks that the size and
// SHA-256 the server reports are those of the bytes sent; if not, it
// returns the result with an *IntegrityError.
func (c *Client) Upload(ctx context.Context, name string, src io.Reader) (UploadResult, error) {
	var res UploadResult
	q, err := quoteParam(name)
	if err != nil {
		return res, err
	}
	defer c.watch(ctx)()
	h := sha256.New()
	n, werr := EncodeStream(c.conn, io.TeeReader(src, h), c.bufs, "UPLOAD "+q+" ", Terminator)
	res.Sent, res.SentSHA256 = n, hex.EncodeToString(h.Sum(nil))
	if werr != nil && ctx.Err() != nil {
		return res, ctxErr(ctx, fmt.Errorf("upload %q: %w", name, werr))
	}
	// Read the reply even when sending failed: a server that refused the
	// upload early (too large, say) says why before it closes.
	r, err := ReadReply(c.br, "", nil, c.bufs)
	if err != nil {
		if werr != nil {
			return res, fmt.Errorf("upload %q: %w", name, werr)
		}
		return res, ctxErr(ctx, fmt.Errorf("upload %q reply: %w", name, err))
	}
	if err := r.Err(); err != nil {
		return res, fmt.Errorf("upload %q: %w", name, err)
	}
	if werr != nil {
		return res, fmt.Errorf("upload %q: OK reply although sending failed: %w", name, werr)
	}
	if err := r.Decode("size", &res.Stored); err != nil {
		return res, fmt.Errorf("upload %q: %w", name, err)
	}
	res.StoredSHA256 = r.String("sha256")
	if res.Stored != res.Sent || res.StoredSHA256 != res.SentSHA256 {
		return res, &IntegrityError{Reason: fmt.Sprintf("upload %q: sent %d bytes sha256 %s, server stored %d bytes sha256 %s",
			name, res.Sent, res.SentSHA256, res.Stored, res.StoredSHA256)}
	}
	return res, nil
}

// NewHash returns the hash both sides verify content with.
func NewHash() hash.Hash { return sha256.New() }

// IsTimeout reports whether err is a network time-out.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
