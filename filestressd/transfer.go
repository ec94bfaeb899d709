package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"fileserver/protocol"
)

// job is one worker's transfer. A process-pool child receives it as JSON.
type job struct {
	Worker int    `json:"worker"`
	Op     string `json:"op"`
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
	// Verified is how the transfer was verified: verifyReply (an upload by
	// the reply's size and sha256, a download by its content), or, for an
	// upload, verifyReadback (still to be done, after the window, while
	// the result is in a pool) or verifyNone. Empty for list.
	Verified string `json:"verified,omitempty"`
	// SentSHA256 is the SHA-256 of what an upload sent, for the read-back.
	SentSHA256 string `json:"sent_sha256,omitempty"`
	// MaxRSSKiB is a child's peak resident set, filled in by the parent.
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

// runTransfer does one job on a connection of its own, and times it from
// the start of the connect to the last byte of the reply, so that a server
// slow to accept is measured too. moved counts file bytes as they go, for
// the progress line.
func runTransfer(ctx context.Context, j job, moved *atomic.Int64) workerResult {
	res := workerResult{Worker: j.Worker}
	start := time.Now()
	res.Times.Start = start.UnixNano()
	var d net.Dialer
	var t transferred
	conn, err := d.DialContext(ctx, "tcp", j.Addr)
	if err != nil {
		err = &connectError{err}
	} else {
		res.Times.Connect = unixNanoFrom(start, time.Now())
		mc := &meteredConn{Conn: conn}
		stop := bindContext(ctx, mc)
		t, err = j.do(ctx, mc, moved)
		res.Seconds = time.Since(start).Seconds()
		stop()
		mc.Close()
		res.Times.Sent = unixNanoFrom(start, mc.sent)
		res.Times.First = unixNanoFrom(start, mc.first)
		res.Times.Last = unixNanoFrom(start, mc.last)
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

// transferred is what a transfer moved, and how it was verified.
type transferred struct {
	bytes    int64
	verified string // see workerResult.Verified
	sentSHA  string // an upload's
}

// bindContext applies ctx to conn, its deadline and its cancellation,
// until the returned function is called.
func bindContext(ctx context.Context, conn net.Conn) (stop func()) {
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	unhook := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return func() { unhook() }
}

// do runs the operation on an open connection: one request, as some
// course servers close the connection after every reply.
func (j job) do(ctx context.Context, mc *meteredConn, moved *atomic.Int64) (transferred, error) {
	switch j.Op {
	case opUpload:
		return j.upload(ctx, mc, moved)
	case opDownload:
		return j.download(ctx, mc, moved)
	case opList:
		return transferred{}, j.list(mc)
	}
	return transferred{}, fmt.Errorf("unknown operation %q", j.Op)
}

// list asks for the list of files.
func (j job) list(conn net.Conn) error {
	req, err := j.Dialect.AppendRequest(nil, "LIST")
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if err := send(conn, j.Dialect, req); err != nil {
		return fmt.Errorf("list: send: %w", err)
	}
	r, err := protocol.ReadReply(bufio.NewReaderSize(conn, uploadReplySize), "", nil, nil)
	if err != nil {
		return fmt.Errorf("list: %w", err)
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("list: %w", err)
	}
	var names []string
	if err := r.Decode("data", &names); err != nil {
		return fmt.Errorf("list: %w", &protocol.ReplyError{Reason: err.Error()})
	}
	return nil
}

// send writes a whole request and ends it as the dialect says.
func send(conn net.Conn, d protocol.Dialect, req []byte) error {
	if _, err := conn.Write(req); err != nil {
		return err
	}
	return d.FinishRequest(conn)
}
