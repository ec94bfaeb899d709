package stress

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"time"

	"fileserver/protocol"
)

// uploadProbeTimeout bounds each exchange of a probe attempt (the
// upload, the read-back, the delete): a server that waits for more than
// the form it was sent gives no reply, and the probe moves on after it.
// The probe file is 50 bytes, so any server that took it answers well
// within it.
const uploadProbeTimeout = 2 * time.Second

// probeContent is the probe file: short, and chosen so that its base64
// (ZmlsZXN0cmVzc2Qg...ODk+7/8=) has upper- and lower-case letters,
// digits, "+", "/" and padding. A server that lower-cases its requests, or
// mangles any of them, stores other bytes, which the read-back catches.
// Its 50 bytes are 68 characters of base64, so a server that wants the
// length of one and is given the other does not read the payload right.
var probeContent = []byte("filestressd upload probe: Mixed Case 0123456789>\xef\xff")

// ProbeForms are the upload forms the probe tries, in order: what
// fileserverd and most course servers take first (UPLOAD with the
// payload on its line), then the other verbs, the other layouts, and the
// JSON shapes with the keys course servers use. A JSON dialect tries the
// JSON forms first.
func ProbeForms(form protocol.Form) []protocol.UploadForm {
	text := []protocol.UploadForm{
		{Verb: protocol.VerbUpload, Layout: protocol.LayoutSameLine},
		{Verb: protocol.VerbPost, Layout: protocol.LayoutSameLine},
		{Verb: protocol.VerbPut, Layout: protocol.LayoutSameLine},
		{Verb: protocol.VerbUpload, Layout: protocol.LayoutNextLine},
		{Verb: protocol.VerbUpload, Layout: protocol.LayoutLength},
		{Verb: protocol.VerbUpload, Layout: protocol.LayoutSize},
	}
	json := []protocol.UploadForm{
		{Verb: protocol.VerbUpload, Layout: protocol.LayoutJSONParams},
		{Verb: protocol.VerbUpload, Layout: protocol.LayoutJSONNamed, NameKey: "filename", PayloadKey: "content"},
		{Verb: protocol.VerbUpload, Layout: protocol.LayoutJSONNamed, NameKey: "name", PayloadKey: "data"},
		{Verb: protocol.VerbUpload, Layout: protocol.LayoutJSONNamed, NameKey: "namafile", PayloadKey: "isi"},
	}
	if form == protocol.FormJSON {
		return append(json, text...)
	}
	return append(text, json...)
}

// uploadChoice is the upload form a cell's uploads were written in, for
// the summary and the CSV's request_form column.
type uploadChoice struct {
	form protocol.UploadForm // resolved: verb and layout set
	// probed reports that the probe chose it, after the forms that did
	// not round-trip, each with what it got (failed); otherwise the flags
	// named it.
	probed bool
	failed []string
	// note says what the summary must tell: a probe file left behind.
	note string
}

// how says where the form came from, for the summary.
func (u uploadChoice) how() string {
	if !u.probed {
		return "named by the upload flags"
	}
	switch len(u.failed) {
	case 0:
		return "found by the probe, the first form tried"
	case 1:
		return "found by the probe, after 1 form that did not round-trip"
	}
	return fmt.Sprintf("found by the probe, after %d forms that did not round-trip", len(u.failed))
}

// settleUpload returns the upload form of a cell that uploads: the one
// the upload flags name, or, when they name none (cfg.UploadProbe), the
// first of ProbeForms that round-trips the probe file (see probeUpload).
// It runs in the setup, before the "before" STATS snapshot, so nothing of
// it is in the window or the server's counts. A server that takes no form
// fails the setup with what each attempt got and the flags to set.
func settleUpload(ctx context.Context, cfg Config) (uploadChoice, error) {
	if !cfg.UploadProbe {
		return uploadChoice{form: cfg.Dialect.UploadForm()}, nil
	}
	name := probeName()
	var attempts []string
	forms := ProbeForms(cfg.Dialect.Form)
	for _, u := range forms {
		d := cfg.Dialect
		d.Upload = u
		err := probeUpload(ctx, cfg.Addr, d, name)
		// A refused upload may have left a file behind too.
		derr := deleteProbe(ctx, cfg.Addr, d, name)
		var ce *connectError
		switch {
		case err == nil:
			u := uploadChoice{form: d.UploadForm(), probed: true, failed: attempts}
			if derr != nil {
				u.note = fmt.Sprintf("the probe file %s may be left on the server: its DELETE failed (%s)", name, probeOutcome(derr))
			}
			return u, nil
		case errors.As(err, &ce):
			return uploadChoice{}, err
		case ctx.Err() != nil:
			return uploadChoice{}, fmt.Errorf("upload probe, form %s: %w", u, ctx.Err())
		}
		attempts = append(attempts, fmt.Sprintf("%s %s", u, err))
	}
	return uploadChoice{}, fmt.Errorf("the upload probe found no form in which the server stores %q and serves it back byte for byte; %s. "+
		"Name the form with -upload-verb UPLOAD|POST|PUT and -upload-form sameline|nextline|length|size|json-params|json-named (-upload-keys NAME,PAYLOAD), "+
		"the request form with -request and -terminator, or measure downloads of a file already on the server with -op download -name FILE",
		name, strings.Join(attempts, "; "))
}

// probeName is the probe file's name: lower-case, as some servers
// lower-case the whole request, and unique to this run.
func probeName() string {
	return fmt.Sprintf("stress-probe-%d-%08x.bin", os.Getpid(), rand.Uint32())
}

// probeUpload tries one upload form: it uploads the probe file, reads it
// back with GET, and compares it byte for byte, each on a connection of
// its own within uploadProbeTimeout. The error says what the attempt got:
// an ERROR reply, a closed connection, no reply in time, or other bytes.
// The caller deletes the file, after a failed attempt too.
func probeUpload(ctx context.Context, addr string, d protocol.Dialect, name string) error {
	sum := sha256.Sum256(probeContent)
	want := protocol.Expected{Size: int64(len(probeContent)), SHA256: hex.EncodeToString(sum[:])}
	err := probeExchange(ctx, addr, d, uploadProbeTimeout, func(ctx context.Context, c *protocol.Client) error {
		_, err := c.UploadSized(ctx, name, bytes.NewReader(probeContent), want.Size)
		if errors.Is(err, protocol.ErrNoDigest) {
			return nil // the read-back tells
		}
		return err
	})
	var ce *connectError
	if errors.As(err, &ce) {
		return err // the server is unreachable: no form will do
	}
	if err != nil {
		return fmt.Errorf("got %s", probeOutcome(err))
	}
	err = probeExchange(ctx, addr, d, uploadProbeTimeout, func(ctx context.Context, c *protocol.Client) error {
		_, err := c.GetVerified(ctx, name, want)
		return err
	})
	if errors.As(err, &ce) {
		return err
	}
	if err != nil {
		return fmt.Errorf("was stored, but the read-back got %s", probeOutcome(err))
	}
	return nil
}

// deleteProbe removes the probe file. A server that says it does not
// hold it is not an error: a refused upload stores nothing.
func deleteProbe(ctx context.Context, addr string, d protocol.Dialect, name string) error {
	err := probeExchange(ctx, addr, d, uploadProbeTimeout, func(ctx context.Context, c *protocol.Client) error {
		return c.Delete(ctx, name)
	})
	var se *protocol.ServerError
	if errors.As(err, &se) && notFound(se.Reason) {
		return nil
	}
	return err
}

// maxProbeReason bounds what a probe attempt quotes of a server's reason.
const maxProbeReason = 80

// probeOutcome words what an attempt's exchange got, on one line.
func probeOutcome(err error) string {
	var se *protocol.ServerError
	var ie *protocol.IntegrityError
	switch {
	case errors.As(err, &se):
		reason := se.Reason
		if len(reason) > maxProbeReason {
			reason = reason[:maxProbeReason] + "..."
		}
		return fmt.Sprintf("%s %q", se.Status, reason)
	case errors.Is(err, context.DeadlineExceeded) || protocol.IsTimeout(err):
		return fmt.Sprintf("no reply within %s (the server may be waiting for more)", uploadProbeTimeout)
	case errors.As(err, &ie):
		return "other bytes (" + OneLine(err) + ")"
	case isClosed(err):
		return "the connection closed without a reply"
	}
	return OneLine(err)
}

// isClosed reports whether err is the server closing or resetting the
// connection.
func isClosed(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
