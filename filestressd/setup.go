package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"fileserver/protocol"
)

// expected is what every download worker must receive.
type expected struct {
	sha256 string
	size   int64
	// reference is false when the content is only what the setup's own
	// download got (-name without -file): the workers are then checked for
	// consistency with it, not against a known original.
	reference bool
}

// prepareDownload is a download cell's setup: it settles the content the
// workers must receive, and makes sure the server holds it: with -name
// the server's file is used as it is (checked against -file, if given);
// otherwise the test file is uploaded if the server lacks it. Other
// cells need none.
func prepareDownload(ctx context.Context, cfg config, src source, stdout io.Writer) (expected, error) {
	if cfg.Op != opDownload {
		return expected{}, nil
	}
	name := downloadName(cfg)
	if cfg.Name != "" && cfg.File == "" {
		return fetchExpected(ctx, cfg, name)
	}
	want := expected{size: src.Size, reference: true}
	if !src.generated() {
		// A -file is checked by its SHA-256; generated content by its
		// text, which needs none (see textMatcher).
		var err error
		if want.sha256, err = src.sha256(ctx); err != nil {
			return expected{}, err
		}
	}
	if cfg.Name != "" {
		check := runTransfer(ctx, job{Op: opDownload, Addr: cfg.Addr, Name: name, Src: src, WantSHA: want.sha256, Dialect: cfg.Dialect}, nil)
		if !check.OK {
			if check.Kind == kindConnect {
				return want, check.err
			}
			return want, fmt.Errorf("-name %q is not the content of -file %q (nothing is uploaded with -name): %w", name, cfg.File, check.err)
		}
		return want, nil
	}
	uploaded, err := ensureTestFile(ctx, cfg, name, src, want.sha256)
	if err != nil {
		return want, err
	}
	if uploaded {
		fmt.Fprintf(stdout, "setup: the server lacked %s with the expected content; uploaded it\n", name)
	}
	return want, nil
}

// fetchExpected downloads -name once and takes what arrived as what every
// worker must receive.
func fetchExpected(ctx context.Context, cfg config, name string) (expected, error) {
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return expected{}, &connectError{err}
	}
	defer c.Close()
	h := protocol.NewHash()
	n, err := c.Get(ctx, name, h)
	if err != nil {
		return expected{}, fmt.Errorf("download -name %q: %w%s", name, err, contentKeyHint(err))
	}
	return expected{sha256: hex.EncodeToString(h.Sum(nil)), size: n}, nil
}

// contentKeyHint names the flag that may cure an error, for setup errors.
func contentKeyHint(err error) string {
	var re *protocol.ReplyError
	if errors.As(err, &re) {
		return " (the reply's content may be under another key: see -content-key)"
	}
	return ""
}

// ensureTestFile makes sure the server holds name with the expected
// content before a download cell: it downloads and checks it, and uploads
// it when it is missing or different, reading it back when the reply
// cannot tell what was stored. It runs before the "before" STATS
// snapshot, so none of this is counted in the cell. wantSHA is the
// content's SHA-256, or "" for generated content, whose text is checked
// and whose SHA-256 is computed only if it has to be uploaded.
func ensureTestFile(ctx context.Context, cfg config, name string, src source, wantSHA string) (uploaded bool, err error) {
	j := job{Op: opDownload, Addr: cfg.Addr, Name: name, Src: src, WantSHA: wantSHA, Dialect: cfg.Dialect, Verify: verifyAuto}
	check := runTransfer(ctx, j, nil)
	switch {
	case check.OK:
		return false, nil
	case check.Kind == kindConnect:
		return false, check.err
	case check.Kind == kindTimeout:
		return false, fmt.Errorf("check %q on the server: %w", name, check.err)
	}
	// Missing (an ERROR reply), different (integrity), or unreadable:
	// replace it. The upload checks the reply against the content's
	// SHA-256, which a download of generated content did not need.
	if j.WantSHA == "" {
		if j.WantSHA, err = src.sha256(ctx); err != nil {
			return false, err
		}
	}
	j.Op = opUpload
	up := runTransfer(ctx, j, nil)
	if !up.OK {
		if up.Kind == kindConnect {
			return false, up.err
		}
		return false, fmt.Errorf("upload the test file %q (with -name, a file already on the server is used instead): %w", name, up.err)
	}
	if up.Verified == verifyReadback {
		if err := readBackOne(ctx, cfg, name, src.Size, up.SentSHA256); err != nil {
			return false, fmt.Errorf("the test file %q as uploaded: %w", name, err)
		}
	}
	return true, nil
}
