package main

import (
	"context"
	"fmt"
	"io"
)

// prepareDownload is a download cell's setup: it hashes the expected
// content and makes sure the server holds it, and returns the hash. Other
// cells need none.
func prepareDownload(ctx context.Context, cfg config, src source, stdout io.Writer) (wantSHA string, err error) {
	if cfg.Op != opDownload {
		return "", nil
	}
	if wantSHA, err = src.sha256(ctx); err != nil {
		return "", err
	}
	name := downloadName(cfg)
	uploaded, err := ensureTestFile(ctx, cfg.Addr, name, src, wantSHA)
	if err != nil {
		return "", err
	}
	if uploaded {
		fmt.Fprintf(stdout, "setup: the server lacked %s with the expected content; uploaded it\n", name)
	}
	return wantSHA, nil
}

// ensureTestFile makes sure the server holds name with the expected
// content before a download cell: it downloads and checks it, and uploads
// it when it is missing or different. It runs before the "before" STATS
// snapshot, so none of this is counted in the cell.
func ensureTestFile(ctx context.Context, addr, name string, src source, wantSHA string) (uploaded bool, err error) {
	check := runTransfer(ctx, job{Op: opDownload, Addr: addr, Name: name, Src: src, WantSHA: wantSHA}, nil)
	switch {
	case check.OK:
		return false, nil
	case check.Kind == kindConnect:
		return false, check.err
	case check.Kind == kindTimeout:
		return false, fmt.Errorf("check %q on the server: %w", name, check.err)
	}
	// Missing (an ERROR reply), different (integrity), or unreadable:
	// replace it.
	up := runTransfer(ctx, job{Op: opUpload, Addr: addr, Name: name, Src: src}, nil)
	if !up.OK {
		if up.Kind == kindConnect {
			return false, up.err
		}
		return false, fmt.Errorf("upload the test file %q: %w", name, up.err)
	}
	return true, nil
}
