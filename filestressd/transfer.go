package main

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"time"

	"fileserver/protocol"
)

// job is one worker's transfer. A process-pool child receives it as JSON.
type job struct {
	Worker  int    `json:"worker"`
	Op      string `json:"op"`
	Addr    string `json:"addr"`
	Name    string `json:"name"` // the server file, for upload and download
	Src     source `json:"src"`
	WantSHA string `json:"want_sha256,omitempty"` // download: the expected content
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
	// MaxRSSKiB is a child's peak resident set, filled in by the parent.
	MaxRSSKiB int64 `json:"max_rss_kib,omitempty"`
	// err is the failure itself, for callers in this process.
	err error
}

// runTransfer does one job and times it from the start of the connect to
// the last byte of the reply, so that a server slow to accept is measured
// too. moved counts file bytes as they go, for the progress line.
func runTransfer(ctx context.Context, j job, moved *atomic.Int64) workerResult {
	res := workerResult{Worker: j.Worker}
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", j.Addr)
	if err != nil {
		err = &connectError{err}
	} else {
		mc := &meteredConn{Conn: conn}
		stop := bindContext(ctx, mc)
		res.Bytes, err = j.do(ctx, mc, moved)
		res.Seconds = time.Since(start).Seconds()
		stop()
		mc.Close()
	}
	if err != nil {
		res.Kind, res.Error, res.err = classify(ctx, err), err.Error(), err
		return res
	}
	res.OK = true
	return res
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

// do runs the operation on an open connection.
func (j job) do(ctx context.Context, mc *meteredConn, moved *atomic.Int64) (int64, error) {
	switch j.Op {
	case opUpload:
		return j.upload(ctx, mc, moved)
	case opDownload:
		return j.download(ctx, mc, moved)
	case opList:
		if _, err := protocol.NewClient(mc).List(ctx); err != nil {
			return 0, fmt.Errorf("list: %w", err)
		}
		return 0, nil
	}
	return 0, fmt.Errorf("unknown operation %q", j.Op)
}
