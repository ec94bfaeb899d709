package stress

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"fileserver/protocol"
)

// job is one worker's transfer. A process-pool child receives it as JSON.
type job struct {
	Worker int    `json:"worker"`
	Op     CellOp `json:"op"`
	Addr   string `json:"addr"`
	Name   string `json:"name"` // the server file, for upload and download
	Src    source `json:"src"`
	// WantSHA is the expected content's SHA-256: a download's, and that
	// of the generated content an upload sends (see uploadSums).
	WantSHA string `json:"want_sha256,omitempty"`
	// Dialect is how to speak to the server.
	Dialect protocol.Dialect `json:"dialect"`
	// Verify is how an upload is verified (-verify).
	Verify string `json:"verify,omitempty"`
}

// workerResult is what one worker did. A process-pool child reports it to
// its parent as one JSON line.
type workerResult struct {
	Worker  int     `json:"worker"`
	PID     int     `json:"pid,omitempty"` // the child process, in the process pool
	OK      bool    `json:"ok"`
	Kind    string  `json:"kind,omitempty"`
	Error   string  `json:"error,omitempty"`
	Bytes   int64   `json:"bytes"`   // file bytes moved
	Seconds float64 `json:"seconds"` // connect to last byte
	// Verified is how the transfer was verified: VerifyReply (an upload by
	// the reply's size and sha256, a download by its content), or, for an
	// upload, VerifyReadback (still to be done, after the window, while
	// the result is in a pool) or VerifyNone. Empty for list.
	Verified string `json:"verified,omitempty"`
	// SentSHA256 is the SHA-256 of what an upload sent, for the read-back.
	SentSHA256 string `json:"sent_sha256,omitempty"`
	// MaxRSSKiB is a child's peak resident set: its own reading when it
	// reported, replaced by the parent with the whole life's where the
	// platform keeps it for an exited child (getrusage; not Windows).
	MaxRSSKiB int64 `json:"max_rss_kib,omitempty"`
	// CPUMicros is a child's own CPU time, user and system, from its
	// release to its result, in microseconds: the parent adds it to its
	// own for client_cpu_s. Process pool only.
	CPUMicros int64 `json:"cpu_us,omitempty"`
	// Times is when the worker started, connected, sent its request and
	// read the reply's first and last bytes (see workerTimes); zero for a
	// worker that never reported.
	Times workerTimes `json:"times"`
	// cpuReported tells that the parent has the child's CPUMicros (the
	// child reported a result).
	cpuReported bool
	// err is the failure itself, for callers in this process.
	err error
}

// runTransfer does one job on a connection of its own, through
// protocol.Client, and times it from the start of the connect to the last
// byte of the reply, so that a server slow to accept is measured too.
// moved counts file bytes as they go, for the progress line.
func runTransfer(ctx context.Context, j job, moved *atomic.Int64) workerResult {
	return runWatched(ctx, j, moved, newStageWatch(j, nil))
}

// runWatched is runTransfer, following the transfer's stages with stage.
func runWatched(ctx context.Context, j job, moved *atomic.Int64, stage *stageWatch) workerResult {
	res := workerResult{Worker: j.Worker}
	start := time.Now()
	res.Times.Start = start.UnixNano()
	opts := protocol.Options{Dialect: j.Dialect}
	opts.Progress = func(n int64) {
		if moved != nil {
			moved.Add(n)
		}
		stage.progress(n)
	}
	var t transferResult
	c, err := protocol.DialWith(ctx, j.Addr, opts)
	if err != nil {
		err = &connectError{err}
	} else {
		stage.connected()
		res.Times.Connect = unixNanoFrom(start, time.Now())
		t, err = j.do(ctx, c)
		res.Seconds = time.Since(start).Seconds()
		c.Close()
		tr := c.Trace()
		res.Times.Sent = unixNanoFrom(start, tr.Sent)
		res.Times.First = unixNanoFrom(start, tr.First)
		res.Times.Last = unixNanoFrom(start, tr.Last)
	}
	res.Bytes = t.bytes
	if err != nil {
		res.Kind, res.Error, res.err = classify(ctx, err), err.Error(), err
		return res
	}
	res.OK, res.Verified, res.SentSHA256 = true, t.verified, t.sentSHA
	return res
}

// workerTimes is when a worker's transfer reached each stage, in
// nanoseconds since the Unix epoch; 0 for a stage it did not reach.
// Start is the wall clock when the worker began to connect; the others
// are Start plus the monotonic time since, so that they keep their order
// (start <= connect <= first <= last) even if the wall clock is stepped
// meanwhile, and last - start is the worker's time per client but for the
// checking of the last bytes.
type workerTimes struct {
	Start   int64 `json:"start,omitempty"`   // before the connect
	Connect int64 `json:"connect,omitempty"` // the connection made
	Sent    int64 `json:"sent,omitempty"`    // the request's last byte written
	First   int64 `json:"first,omitempty"`   // the reply's first byte read
	Last    int64 `json:"last,omitempty"`    // the reply's last byte read
}

// unixNanoFrom is t in nanoseconds since the Unix epoch, by start's wall
// clock and the monotonic time from start to t; 0 for a zero t.
func unixNanoFrom(start, t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return start.UnixNano() + t.Sub(start).Nanoseconds()
}

// transferResult is what a transfer moved, and how it was verified.
type transferResult struct {
	bytes    int64
	verified string // see workerResult.Verified
	sentSHA  string // an upload's
}

// do runs the operation on a fresh client: one request, as some course
// servers close the connection after every reply.
func (j job) do(ctx context.Context, c *protocol.Client) (transferResult, error) {
	switch j.Op {
	case CellUpload:
		return j.upload(ctx, c)
	case CellDownload:
		return j.download(ctx, c)
	case CellList:
		if _, err := c.ListEach(ctx, nil); err != nil { // counted, not held
			return transferResult{}, fmt.Errorf("list: %w", err)
		}
		return transferResult{}, nil
	}
	return transferResult{}, fmt.Errorf("unknown operation %q", j.Op)
}

// upload sends the content as one UPLOAD, in the dialect's form, and
// checks the reply (see verdict) against the expected size and SHA-256.
// Generated content goes out as its ready text (protocol.UploadBase64), its
// SHA-256 computed before the setup (j.WantSHA, see uploadSums); a -file
// is encoded and hashed as it goes out (protocol.Client.UploadSized: its
// size is known, for the upload forms that write it first).
func (j job) upload(ctx context.Context, c *protocol.Client) (transferResult, error) {
	var res protocol.UploadResult
	var err error
	if j.Src.generated() {
		res, err = c.UploadBase64(ctx, j.Name, newContent(j.Src.Size, j.Src.Seed), j.WantSHA)
	} else {
		src, oerr := j.Src.open()
		if oerr != nil {
			return transferResult{}, oerr
		}
		defer src.Close()
		res, err = c.UploadSized(ctx, j.Name, src, j.Src.Size)
	}
	t := transferResult{bytes: res.Sent, sentSHA: res.SentSHA256}
	var ie *protocol.IntegrityError
	noDigest := errors.Is(err, protocol.ErrNoDigest)
	switch {
	case err != nil && !noDigest && !errors.As(err, &ie):
		return t, err
	case res.Sent != j.Src.Size:
		return t, &protocol.IntegrityError{Reason: fmt.Sprintf("upload %q: sent %d bytes, want %d (did -file change?)", j.Name, res.Sent, j.Src.Size)}
	case ie != nil:
		return t, err
	}
	t.verified, err = verdict(j.Name, j.Verify, noDigest)
	return t, err
}

// verdict says how an upload whose reply was checked is verified. A reply
// that gives a size or a sha256 must give both, and the right ones, which
// protocol.Client checked (-verify readback reads the file back too). A
// reply with neither (noDigest), as course servers write them, leaves the
// upload to a read-back after the window, unless -verify says reply (then
// it is an integrity failure: it cannot be checked) or none.
func verdict(name, verify string, noDigest bool) (string, error) {
	if !noDigest {
		if verify == VerifyReadback {
			return VerifyReadback, nil
		}
		return VerifyReply, nil
	}
	switch verify {
	case VerifyReply:
		return "", &protocol.IntegrityError{Reason: fmt.Sprintf("upload %q: %v, so what the server stored cannot be checked (-verify auto or readback reads it back)", name, protocol.ErrNoDigest)}
	case VerifyNone:
		return VerifyNone, nil
	}
	return VerifyReadback, nil
}

// download asks for the file with GET and checks the content as it
// arrives (protocol.Client.GetVerified): generated content by comparing
// the base64 text with the expected text, the content of a -file or of
// -name by hashing the decoded bytes. A reply the server cut off inside
// the content is a truncated download: kind integrity, like any other
// wrong bytes.
func (j job) download(ctx context.Context, c *protocol.Client) (transferResult, error) {
	want := protocol.Expected{Size: j.Src.Size, SHA256: j.WantSHA}
	if j.Src.generated() {
		want.Base64 = newContent(j.Src.Size, j.Src.Seed)
	}
	n, err := c.GetVerified(ctx, j.Name, want)
	if protocol.IsNoContent(err) {
		err = fmt.Errorf("%w (name the key with -content-key)", err)
	}
	if err != nil {
		return transferResult{bytes: n}, err
	}
	return transferResult{bytes: n, verified: VerifyReply}, nil
}
