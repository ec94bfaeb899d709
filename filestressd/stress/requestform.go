package stress

import (
	"context"
	"errors"
	"fmt"
	"time"

	"fileserver/protocol"
)

// probeTimeout bounds each LIST that -request auto sends: a server that
// waits for another terminator never answers.
const probeTimeout = 5 * time.Second

// settleForm returns the request form to use. With -request auto it sends
// LIST as text, and if the server refuses it (an ERROR reply, a closed
// connection, no reply) as JSON, and keeps the form that works. A server
// that takes neither fails the setup with a message naming the flags.
func settleForm(ctx context.Context, cfg Config) (protocol.Form, error) {
	if cfg.Request != RequestAuto {
		return cfg.Dialect.Form, nil
	}
	var refusals []error
	for _, form := range []protocol.Form{protocol.FormText, protocol.FormJSON} {
		d := cfg.Dialect
		d.Form = form
		err := probeList(ctx, cfg.Addr, d)
		var ce *connectError
		switch {
		case err == nil:
			return form, nil
		case errors.As(err, &ce) || ctx.Err() != nil:
			return "", err
		}
		refusals = append(refusals, fmt.Errorf("as %s: %w", form, err))
	}
	return "", fmt.Errorf("-request auto: the server refused LIST %v and %v: name the request form with -request text or -request json, and what ends a request with -terminator crlfcrlf, crlf, lf or none",
		refusals[0], refusals[1])
}

// probeList sends one LIST in dialect d on a connection of its own.
func probeList(ctx context.Context, addr string, d protocol.Dialect) error {
	return probeExchange(ctx, addr, d, probeTimeout, func(ctx context.Context, c *protocol.Client) error {
		_, err := c.ListEach(ctx, nil)
		return err
	})
}

// probeExchange runs one exchange of a probe on a connection of its own,
// in dialect d, within timeout.
func probeExchange(ctx context.Context, addr string, d protocol.Dialect, timeout time.Duration, exchange func(context.Context, *protocol.Client) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := protocol.DialWith(ctx, addr, protocol.Options{Dialect: d})
	if err != nil {
		return &connectError{err}
	}
	defer c.Close()
	return exchange(ctx, c)
}
