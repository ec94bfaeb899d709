// What filestressd puts on the server and takes off it: the names of its
// files, a download cell's test file (prepareDownload, before the window),
// and the uploads' deletion (deleteUploads, after it).

package stress

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"fileserver/protocol"
)

// downloadName is the server file a download cell reads: -name; or named
// after the volume, so cells of the same size share it and the setup
// upload happens once; or the base name of -file. Names filestressd makes
// up are lower-case: some course servers lower-case the whole request, so
// that stress-1MB.bin would be stored as stress-1mb.bin.
func downloadName(c Config) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.File != "":
		return filepath.Base(c.File)
	}
	return "stress-" + strings.ToLower(protocol.FormatSize(c.Size)) + ".bin"
}

// uploadName is worker w's own file, so that workers (and concurrent runs,
// told apart by pid) never overwrite each other.
func uploadName(c Config, pid, w int) string {
	base := protocol.FormatSize(c.Size) + ".bin"
	if c.File != "" {
		base = filepath.Base(c.File)
	}
	return strings.ToLower(fmt.Sprintf("stress-up-%d-%d-%s", pid, w, base))
}

// volumeLabel is the volume as the matrix names it, e.g. "50MB".
func volumeLabel(c Config) string {
	if c.Op == CellList {
		return ""
	}
	return protocol.FormatSize(c.Size)
}

// knownContent is what every download worker must receive.
type knownContent struct {
	sha256 string
	size   int64
	// reference is false when the content is only what the setup's own
	// download got (-name without -file): the workers are then checked for
	// consistency with it, not against a known original.
	reference bool
	// upload is the form the setup uploaded the test file in; nil when
	// the server held it already.
	upload *uploadChoice
}

// prepareDownload is a download cell's setup: it settles the content the
// workers must receive, and makes sure the server holds it: with -name
// the server's file is used as it is (checked against -file, if given);
// otherwise the test file is uploaded if the server lacks it. Other
// cells need none.
func prepareDownload(ctx context.Context, cfg Config, src source, stdout io.Writer) (knownContent, error) {
	if cfg.Op != CellDownload {
		return knownContent{}, nil
	}
	name := downloadName(cfg)
	if cfg.Name != "" && cfg.File == "" {
		return fetchKnownContent(ctx, cfg, name)
	}
	want := knownContent{size: src.Size, reference: true}
	if !src.generated() {
		// A -file is checked by its SHA-256; generated content by its
		// text, which needs none (see protocol.Base64).
		var err error
		if want.sha256, err = src.sha256(ctx); err != nil {
			return knownContent{}, err
		}
	}
	if cfg.Name != "" {
		check := runTransfer(ctx, job{Op: CellDownload, Addr: cfg.Addr, Name: name, Src: src, WantSHA: want.sha256, Dialect: cfg.Dialect}, nil)
		if !check.OK {
			if check.Kind == kindConnect {
				return want, check.err
			}
			return want, fmt.Errorf("-name %q is not the content of -file %q (nothing is uploaded with -name): %w", name, cfg.File, check.err)
		}
		return want, nil
	}
	upload, err := ensureTestFile(ctx, cfg, name, src, want.sha256)
	if err != nil {
		return want, err
	}
	if upload != nil {
		fmt.Fprintf(stdout, "setup: the server lacked %s with the expected content; uploaded it as %s\n", name, upload.form)
		want.upload = upload
	}
	return want, nil
}

// fetchKnownContent downloads -name once and takes what arrived as what every
// worker must receive.
func fetchKnownContent(ctx context.Context, cfg Config, name string) (knownContent, error) {
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return knownContent{}, &connectError{err}
	}
	defer c.Close()
	h := protocol.NewHash()
	n, err := c.Get(ctx, name, h)
	if err != nil {
		return knownContent{}, fmt.Errorf("download -name %q: %w%s", name, err, contentKeyHint(err))
	}
	return knownContent{sha256: hex.EncodeToString(h.Sum(nil)), size: n}, nil
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
// cannot tell what was stored; the upload form is settled first (see
// settleUpload), only then. It runs before the "before" STATS snapshot,
// so none of this is counted in the cell. wantSHA is the content's
// SHA-256, or "" for generated content, whose text is checked and whose
// SHA-256 is computed only if it has to be uploaded. It returns the form
// the file was uploaded in, nil when the server held it already.
func ensureTestFile(ctx context.Context, cfg Config, name string, src source, wantSHA string) (*uploadChoice, error) {
	j := job{Op: CellDownload, Addr: cfg.Addr, Name: name, Src: src, WantSHA: wantSHA, Dialect: cfg.Dialect, Verify: VerifyAuto}
	check := runTransfer(ctx, j, nil)
	switch {
	case check.OK:
		return nil, nil
	case check.Kind == kindConnect:
		return nil, check.err
	case check.Kind == kindTimeout:
		return nil, fmt.Errorf("check %q on the server: %w", name, check.err)
	}
	// Missing (an ERROR reply), different (integrity), or unreadable:
	// replace it. The upload checks the reply against the content's
	// SHA-256, which a download of generated content did not need.
	upload, err := settleUpload(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("upload the test file %q: %w", name, err)
	}
	if j.WantSHA == "" {
		if j.WantSHA, err = src.sha256(ctx); err != nil {
			return nil, err
		}
	}
	j.Op, j.Dialect.Upload = CellUpload, upload.form
	up := runTransfer(ctx, j, nil)
	if !up.OK {
		if up.Kind == kindConnect {
			return nil, up.err
		}
		return nil, fmt.Errorf("upload the test file %q as %s (with -name, a file already on the server is used instead): %w", name, upload.form, up.err)
	}
	if up.Verified == VerifyReadback {
		if err := readBackOne(ctx, cfg, name, src.Size, up.SentSHA256); err != nil {
			return nil, fmt.Errorf("the test file %q as uploaded in %s: %w", name, upload.form, err)
		}
	}
	return &upload, nil
}

// uploadedNames are the files an upload cell may have left on the server:
// every worker's but those that never connected or that the server
// refused.
func uploadedNames(jobs []job, results []workerResult) []string {
	var names []string
	for i, r := range results {
		if r.OK || (r.Kind != kindConnect && r.Kind != kindServer) {
			names = append(names, jobs[i].Name)
		}
	}
	return names
}

// deleteUploads removes the workers' files, on one connection while the
// server keeps it open, dialling again where it closes it. It runs
// after the "after" STATS snapshot, so the deletes are not counted in the
// cell. A file the server says it does not hold is not an error: a worker
// cut off at the deadline may not have stored it. Any other refusal may
// be a stale reply to something else (a server that reads a request per
// line answers the blank line after one ended by CRLF CRLF too, a moment
// later), after which no reply on that connection can be trusted: that
// delete and every one after it go on a connection of their own, whose
// first reply is the server's answer. A refusal there is counted, and
// the error names how many files may be left.
func deleteUploads(ctx context.Context, cfg Config, names []string) error {
	if len(names) == 0 {
		return nil
	}
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return fmt.Errorf("delete uploaded files: %w (%d uploaded files may be left on the server)", err, len(names))
	}
	defer c.Close()
	alone := false
	refused := 0
	var first error
	for i, name := range names {
		var err error
		if !alone {
			if err = c.Delete(ctx, name); refusal(err) {
				alone = true
				c.Close()
			}
		}
		if alone {
			err = deleteAlone(ctx, cfg, name)
		}
		var se *protocol.ServerError
		switch {
		case err == nil || !refusal(err) && errors.As(err, &se):
		case refusal(err):
			refused++
			if first == nil {
				first = fmt.Errorf("delete %q: %w", name, err)
			}
		default:
			return fmt.Errorf("delete %q: %w (%d uploaded files may be left on the server)", name, err, refused+len(names)-i)
		}
	}
	if refused > 0 {
		return fmt.Errorf("the server refused %d of %d deletes (the first: %v): %d uploaded files may be left on the server", refused, len(names), first, refused)
	}
	return nil
}

// refusal reports whether err is an ERROR reply other than "not found".
func refusal(err error) bool {
	var se *protocol.ServerError
	return errors.As(err, &se) && !notFound(se.Reason)
}

// deleteAlone deletes name on a connection of its own.
func deleteAlone(ctx context.Context, cfg Config, name string) error {
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Delete(ctx, name)
}

// notFoundReasons are what servers say, lower-cased, when asked for a
// file they do not hold: fileserverd, Python's FileNotFoundError, and
// course servers in English and Indonesian.
var notFoundReasons = []string{"not found", "no such file", "does not exist", "doesn't exist", "not exist", "errno 2]", "tidak ditemukan", "tidak ada"}

// notFound reports whether an ERROR's reason says the file is not there.
func notFound(reason string) bool {
	reason = strings.ToLower(reason)
	for _, r := range notFoundReasons {
		if strings.Contains(reason, r) {
			return true
		}
	}
	return false
}

// TestFileContent is the content of a download cell's test file of size
// bytes: what WriteTestFile writes and the setup uploads.
func TestFileContent(size int64) io.Reader {
	return newContent(size, contentSeed).reader()
}

// WriteTestFile writes the test file of a download cell of size bytes
// into dir: downloadName's name, TestFileContent, as `filestressd testfile` does; it
// returns the file's path.
func WriteTestFile(dir string, size int64) (string, error) {
	name := downloadName(Config{Op: CellDownload, Size: size})
	path := filepath.Join(dir, name)
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return "", fmt.Errorf("test file %q: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there
	_, err = io.CopyBuffer(tmp, TestFileContent(size), make([]byte, 1<<20))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("test file %q: %w", path, err)
	}
	return path, nil
}
