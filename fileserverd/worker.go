package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"
	"unsafe"

	"fileserver/protocol"
)

// Limits on skipping the rest of a bad request so that its client can read
// the ERROR reply: past them the connection is closed instead.
const (
	skipLimit = 256 << 20
	skipTime  = 30 * time.Second
)

// worker serves one connection at a time. It owns its buffers, allocated
// once, so a connection costs the same whatever it transfers.
type worker struct {
	srv      *server
	id       int
	log      *slog.Logger
	counters workerCounters
	br       *bufio.Reader
	requests *protocol.RequestReader // reads from br
	bufs     *protocol.Buffers
	reply    []byte  // at most listFlush plus one name, or a small reply
	lister   *lister // works in bufs
	hash     hash.Hash
}

func newWorker(s *server, id int) *worker {
	br := bufio.NewReaderSize(nil, protocol.ReaderSize)
	requests := protocol.NewRequestReader(br)
	requests.EndPause, requests.EndPauseWrite = s.cfg.EndPause, s.cfg.EndPauseWrite
	bufs := protocol.NewBuffers()
	return &worker{
		srv: s, id: id,
		log:      s.log.With("worker", id),
		counters: s.counters.worker(id),
		br:       br,
		requests: requests,
		bufs:     bufs,
		lister:   newLister(bufs.Encoded[:cap(bufs.Encoded)], bufs.Raw),
		hash:     sha256.New(),
	}
}

// run serves the connections the waiting room hands over, one at a time,
// until the server stops, and gives each back to the room or closes it.
func (w *worker) run() {
	for {
		c, ok := w.srv.room.next()
		if !ok {
			return
		}
		if w.serveConn(c) {
			w.srv.room.park(c)
		} else {
			c.close()
		}
	}
}

// serveConn serves the requests of a connection whose head arrived in
// the waiting room, in order, until the client closes, a request leaves
// the connection unusable, or the server stops. It reports whether the
// connection should go back to the waiting room: a request is done and
// nothing more has arrived, so the worker is free for another. The caller
// parks or closes it.
func (w *worker) serveConn(c *conn) (park bool) {
	if !c.setState(stateServing) {
		return
	}
	mc := &meteredConn{Conn: c.nc, idle: w.srv.cfg.IdleTimeout, replay: c.replay,
		rate: rateMeter{rate: float64(w.srv.cfg.MinRate), window: w.srv.cfg.MinRateWindow}}
	// The room's clock: a pause it saw end the head has passed here too.
	mc.clock.Last = c.lastIn
	w.br.Reset(mc)
	w.requests.SetPauseWait = mc.setPauseWait
	defer func() {
		w.br.Reset(nil)
		w.requests.SetPauseWait = nil
	}()
	for {
		if len(mc.replay) == 0 && !w.requests.Pending() {
			// Nothing more yet: wait for it in the waiting room.
			c.nc.SetDeadline(time.Time{})
			return !w.srv.isStopping()
		}
		if !c.setState(stateIdle) {
			return
		}
		err := w.requests.Next()
		if !c.setState(stateServing) {
			return
		}
		if err != nil {
			if protocol.IsTimeout(err) {
				w.log.Info("idle timeout", "remote", c.remote, "idle", w.srv.cfg.IdleTimeout)
				w.sendError(mc, fmt.Sprintf("idle timeout: no request for %s, closing", w.srv.cfg.IdleTimeout))
			} else if re, ok := protocol.IsRequestError(err); ok {
				w.log.Info("closing", "remote", c.remote, "error", re.Reason)
				w.sendError(mc, re.Reason+", closing")
			}
			return
		}
		if !w.serveRequest(c, mc) {
			return
		}
	}
}

// requestOutcome is what one request did, for the counters and the log.
type requestOutcome struct {
	op      protocol.Op
	command string
	name    string
	size    int64 // file bytes moved
	err     string
	cause   string // for the log: the error behind err, when err words it for the client
	keep    bool   // the connection can serve another request
	counted bool   // the counters have it
	// replySent counts the bytes of the reply already sent (the
	// replyPrefix, when clientGone had to ask), which ok and fail skip.
	replySent int
	// closing says why the connection is closed after the request, when
	// keep is false, for the log.
	closing string
}

// close marks the outcome as ending the connection, and why.
func (o *requestOutcome) close(why string) {
	o.keep = false
	if o.closing == "" {
		o.closing = why
	}
}

// serveRequest reads, serves and logs one request.
func (w *worker) serveRequest(c *conn, mc *meteredConn) bool {
	start := time.Now()
	mc.rate.start()
	o := w.handle(c, mc)
	mc.rate.stop()
	w.count(&o)
	in, out := mc.take()
	w.counters.transferred(in, out)
	w.counters.cpuUsed()
	attrs := []any{"remote", c.remote, "cmd", o.command}
	if o.name != "" {
		attrs = append(attrs, "name", o.name)
	}
	attrs = append(attrs, "bytes", o.size, "in", in, "out", out, "duration", time.Since(start).Round(time.Microsecond))
	if !o.keep {
		if o.closing == "" {
			o.closing = "the connection cannot go on"
		}
		attrs = append(attrs, "closing", o.closing)
	}
	if o.err != "" {
		attrs = append(attrs, "outcome", "error", "error", o.err)
		if o.cause != "" {
			attrs = append(attrs, "cause", o.cause)
		}
		w.log.Warn("request failed", attrs...)
	} else {
		w.log.Info("request", append(attrs, "outcome", "ok")...)
	}
	return o.keep
}

func (w *worker) handle(c *conn, mc *meteredConn) requestOutcome {
	w.counters.begin(protocol.OpOther)
	req, err := w.requests.Read()
	c.serving(w.id, req)
	if err != nil {
		// keep: like any bad request, a malformed head is answered and
		// skipped, and the connection goes on (badRequest closes it when
		// the error is not the request's).
		return w.badRequest(mc, requestOutcome{op: protocol.OpOther, command: "?", keep: true}, err)
	}
	op, params := req.Op()
	o := requestOutcome{op: op, command: req.Command, keep: true}
	if o.command == "" {
		o.command = "UPLOAD" // a JSON request whose content came before its command
	}
	w.counters.begin(o.op)
	if req.HasPayload {
		return w.upload(mc, o, req)
	}
	// Only an UPLOAD takes content, and the reader refuses one without.
	if len(req.Args) != params {
		return w.fail(mc, o, fmt.Sprintf("%s takes %d parameter(s), got %d", req.Command, params, len(req.Args)))
	}
	if len(req.Args) == 1 {
		o.name = req.Args[0]
		if err := protocol.ValidateName(o.name); err != nil {
			o.name = sanitize(o.name)
			return w.fail(mc, o, fmt.Sprintf("invalid file name %q: %v", o.name, err))
		}
	}
	switch o.op {
	case protocol.OpList:
		return w.list(mc, o)
	case protocol.OpStats:
		w.counters.cpuUsed()
		return w.ok(mc, o, protocol.Field{Key: "data", Value: statsFields(w.srv.counters.snapshot())})
	case protocol.OpDelete:
		unsynced, err := w.srv.store.remove(o.name)
		if err != nil {
			return w.fail(mc, o, o.storageFailure("delete", err))
		}
		w.warnUnsynced(o, unsynced)
		return w.ok(mc, o, protocol.Field{Key: "data", Value: "deleted " + o.name})
	default:
		key := protocol.GetContentKey
		if req.Command == "DOWNLOAD" {
			key = protocol.DownloadContentKey
		}
		return w.get(mc, o, key)
	}
}

// get streams a stored file as base64 inside the reply.
func (w *worker) get(mc *meteredConn, o requestOutcome, key string) requestOutcome {
	f, err := w.srv.store.open(o.name)
	if err != nil {
		return w.fail(mc, o, o.storageFailure("get", err))
	}
	defer f.Close()
	prefix, suffix := protocol.ContentFrame(o.name, key)
	o.size, err = protocol.EncodeStream(mc, f, w.bufs, prefix, "")
	if err != nil {
		// The reply has begun: nothing can be said now but to close.
		o.err = fmt.Sprintf("get %q after %d bytes: %v", o.name, o.size, err)
		w.countSlow(err)
		o.close("the reply had begun")
		return o
	}
	return w.finalWrite(mc, o, []byte(suffix))
}

// listFlush is how much of a LIST reply is gathered before it is sent.
const listFlush = 32 << 10

// list streams the sorted names of the stored files as they are read, so
// a directory of any size costs a fixed buffer (see lister).
func (w *worker) list(mc *meteredConn, o requestOutcome) requestOutcome {
	prefix, suffix := protocol.ListFrame()
	w.reply = append(w.reply[:0], prefix...)
	names, sent := 0, false
	err := w.lister.each(w.srv.store, func(name []byte) error {
		if names > 0 {
			w.reply = append(w.reply, ", "...)
		}
		names++
		// AppendString only reads the name: no copy is needed.
		w.reply = protocol.AppendString(w.reply, unsafe.String(&name[0], len(name)))
		if len(w.reply) < listFlush {
			return nil
		}
		sent = true
		_, err := mc.Write(w.reply)
		w.reply = w.reply[:0]
		return err
	})
	switch {
	case err == nil:
		return w.finalWrite(mc, o, append(w.reply, suffix...))
	case !sent:
		return w.fail(mc, o, o.storageFailure("list", err))
	default:
		// The reply has begun: nothing can be said now but to close.
		o.err = fmt.Sprintf("list after %d names: %v", names, err)
		w.countSlow(err)
		o.close("the reply had begun")
		return o
	}
}

// count records the outcome in the counters, once.
func (w *worker) count(o *requestOutcome) {
	if !o.counted {
		w.counters.done(o.op, o.err == "")
		o.counted = true
	}
}

// finalWrite counts the request, then sends the last bytes of its reply.
func (w *worker) finalWrite(mc *meteredConn, o requestOutcome, last []byte) requestOutcome {
	w.count(&o)
	if _, err := mc.Write(last); err != nil {
		if o.err == "" {
			w.counters.undo(o.op)
			o.err = fmt.Sprintf("write reply: %v", err)
		}
		w.countSlow(err)
		o.close(fmt.Sprintf("the reply could not be sent: %v", err))
	}
	return o
}

// countSlow counts a transfer that the minimum rate cut.
func (w *worker) countSlow(err error) {
	if isTooSlow(err) {
		w.counters.limited(protocol.LimitMinRate)
	}
}

// fileHasher writes an upload to its temporary file and hashes it.
type fileHasher struct {
	u *pendingUpload
	h hash.Hash
}

// storageError marks a failure of the disk, not of the client.
type storageError struct{ err error }

func (e *storageError) Error() string { return e.err.Error() }

func (fh fileHasher) Write(p []byte) (int, error) {
	n, err := fh.u.Write(p)
	fh.h.Write(p[:n])
	if err != nil {
		return n, &storageError{err}
	}
	return n, nil
}

// upload stores the payload under a temporary name and renames it into
// place only once all of it was received, decoded and synced to disk. A
// JSON request may name the file, and even say it is an UPLOAD, only after
// its content: so the name is checked before the content when it is
// known, and after it otherwise.
func (w *worker) upload(mc *meteredConn, o requestOutcome, req *protocol.Request) requestOutcome {
	if req.Command != "" && req.Command != "UPLOAD" {
		return w.refusePayload(mc, o, req, fmt.Sprintf("%s takes no content", req.Command))
	}
	if len(req.Args) > 0 {
		if reason, ok := w.checkName(&o, req.Args[0]); !ok {
			return w.refusePayload(mc, o, req, reason)
		}
	}
	pu, err := w.srv.store.create()
	if err != nil {
		return w.refusePayload(mc, o, req, o.storageFailure("upload", err))
	}
	w.hash.Reset()
	n, err := w.requests.ReadPayload(req, fileHasher{pu, w.hash}, w.bufs, w.srv.cfg.MaxSize)
	o.size = n
	if err != nil {
		pu.abort()
		if o.name == "" && req.JSON && !isTooSlow(err) && isRequestLevel(err) {
			// The name comes after the content: read on to it, so
			// that the ERROR can say which upload it is about.
			return w.refuseUnnamed(mc, o, req, err)
		}
		return w.badRequest(mc, o, w.uploadError(&o, err))
	}
	if req.Command != "UPLOAD" {
		pu.abort()
		return w.fail(mc, o, fmt.Sprintf("%s takes no content", req.Command))
	}
	if o.name == "" {
		if reason, ok := w.checkName(&o, req.Args[0]); !ok {
			pu.abort()
			return w.fail(mc, o, reason)
		}
	}
	if req.EndedAtEOF {
		var gone bool
		if o.replySent, gone = mc.clientGone(); gone {
			pu.abort()
			o.err = "the client closed the connection in the middle of the upload (EOF, then a reset): nothing stored"
			o.close("the client is gone")
			return o
		}
	}
	unsynced, err := pu.commit(o.name)
	if err != nil {
		return w.fail(mc, o, o.storageFailure("upload", err))
	}
	w.warnUnsynced(o, unsynced)
	return w.ok(mc, o,
		protocol.Field{Key: "data", Value: fmt.Sprintf("stored %s (%d bytes)", o.name, n)},
		protocol.Field{Key: "size", Value: n},
		protocol.Field{Key: "sha256", Value: hex.EncodeToString(w.hash.Sum(nil))})
}

// uploadError words an error of an upload's payload for the client,
// naming the upload as the client named it.
func (w *worker) uploadError(o *requestOutcome, err error) error {
	var se *storageError
	re, isReq := protocol.IsRequestError(err)
	switch {
	case errors.As(err, &se):
		return errors.New(o.storageFailure("upload", se.err))
	case errors.Is(err, protocol.ErrTooLarge):
		return fmt.Errorf("upload %q is larger than the server's limit of %d bytes (-max-size)", o.name, w.srv.cfg.MaxSize)
	case isReq && o.name != "":
		return &protocol.RequestError{Reason: fmt.Sprintf("upload %q: %s", o.name, re.Reason), Terminated: re.Terminated}
	}
	return err
}

// refuseUnnamed refuses a JSON upload whose content failed before its
// name came: it reads the rest of the object first, then answers with
// the name in the ERROR.
func (w *worker) refuseUnnamed(mc *meteredConn, o requestOutcome, req *protocol.Request, err error) requestOutcome {
	skipped := w.skipRest(mc, o, err)
	if len(req.Args) > 0 {
		o.name = sanitize(req.Args[0])
	}
	o = w.fail(mc, o, w.uploadError(&o, err).Error())
	w.skipped(&o, skipped)
	return o
}

// skipRest skips the rest of a request that could not be served, within
// skipLimit and skipTime; err is why it failed.
func (w *worker) skipRest(mc *meteredConn, o requestOutcome, err error) error {
	if re, ok := protocol.IsRequestError(err); ok && re.Terminated {
		return nil
	}
	mc.until = time.Now().Add(skipTime)
	defer func() { mc.until = time.Time{} }()
	return w.requests.Skip(skipLimit)
}

// warnUnsynced logs a failed directory sync after a rename or unlink that
// is done: the reply still says what happened, but a crash before the
// system writes the directory back could undo it.
func (w *worker) warnUnsynced(o requestOutcome, err error) {
	if err != nil {
		w.log.Warn("directory sync failed: done, but a crash could undo it", "cmd", o.command, "name", o.name, "error", err)
	}
}

// checkName sets the outcome's file name, or says why it is refused.
func (w *worker) checkName(o *requestOutcome, name string) (reason string, ok bool) {
	if err := protocol.ValidateName(name); err != nil {
		o.name = sanitize(name)
		return fmt.Sprintf("invalid file name %q: %v", o.name, err), false
	}
	o.name = name
	return "", true
}

// refusePayload answers an upload refused before its content was read,
// then reads the content to nowhere so that the connection can go on.
func (w *worker) refusePayload(mc *meteredConn, o requestOutcome, req *protocol.Request, reason string) requestOutcome {
	o = w.fail(mc, o, reason)
	if !o.keep {
		return o
	}
	mc.until = time.Now().Add(skipTime)
	defer func() { mc.until = time.Time{} }()
	_, err := w.requests.ReadPayload(req, io.Discard, w.bufs, skipLimit)
	if re, ok := protocol.IsRequestError(err); err == nil || (ok && re.Terminated) {
		return o
	}
	switch {
	case isTooSlow(err):
		w.countSlow(err)
		o.close(err.Error())
	case !isRequestLevel(err):
		o.close(fmt.Sprintf("reading the refused request: %v", err))
	default:
		w.skipped(&o, w.requests.Skip(skipLimit))
	}
	return o
}

// badRequest answers a request that went wrong while it was being read:
// it says why, then skips the rest of the request so the connection can
// go on, or closes it when it cannot.
func (w *worker) badRequest(mc *meteredConn, o requestOutcome, err error) requestOutcome {
	if re, ok := protocol.IsRequestError(err); ok && re.Terminated {
		return w.fail(mc, o, re.Reason)
	}
	switch {
	case isTooSlow(err):
		// An ERROR, if the client reads it; within a second, as the
		// client is not taking bytes.
		w.countSlow(err)
		mc.until = time.Now().Add(time.Second)
		o = w.fail(mc, o, err.Error()+", closing")
		mc.until = time.Time{}
		o.close(err.Error())
		return o
	case protocol.IsTimeout(err):
		o = w.fail(mc, o, fmt.Sprintf("idle timeout: nothing received for %s in the middle of the request", w.srv.cfg.IdleTimeout))
		o.close("idle timeout")
		return o
	case !isRequestLevel(err):
		// The client vanished: there is no one to answer.
		o.err = err.Error()
		o.close("the client's side failed")
		return o
	}
	o = w.fail(mc, o, err.Error())
	if !o.keep {
		return o
	}
	w.skipped(&o, w.skipRest(mc, o, err))
	return o
}

// skipped closes the connection after a refused request whose end a skip
// did not find (err is why), and counts a skip the minimum rate cut.
func (w *worker) skipped(o *requestOutcome, err error) {
	if err != nil {
		w.countSlow(err)
		o.close(fmt.Sprintf("the end of the refused request was not found: %v", err))
	}
}

// isRequestLevel tells an error the client can be told about from a broken
// connection.
func isRequestLevel(err error) bool {
	if _, ok := protocol.IsRequestError(err); ok {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return false
	}
	return true
}

func (w *worker) ok(mc *meteredConn, o requestOutcome, data ...protocol.Field) requestOutcome {
	w.reply = protocol.AppendReply(w.reply[:0], append([]protocol.Field{{Key: "status", Value: protocol.StatusOK}}, data...)...)
	return w.finalWrite(mc, o, w.reply[o.replySent:])
}

func (w *worker) fail(mc *meteredConn, o requestOutcome, reason string) requestOutcome {
	o.err = reason
	w.reply = protocol.AppendError(w.reply[:0], reason)
	return w.finalWrite(mc, o, w.reply[o.replySent:])
}

func (w *worker) sendError(mc *meteredConn, reason string) error {
	w.reply = protocol.AppendError(w.reply[:0], reason)
	_, err := mc.Write(w.reply)
	return err
}

// storageFailure words a storage failure for the client, and keeps the
// whole error for the log. The reply names the file as the client named
// it, with the system's reason ("no space left on device"), never the
// server's paths or the system call: an absolute path tells a stranger
// where the server keeps its files, and "openat" tells a student nothing.
func (o *requestOutcome) storageFailure(op string, err error) string {
	var reason string
	switch {
	case errors.Is(err, errNotFound):
		return fmt.Sprintf("%s: file %q not found", op, o.name)
	case errors.Is(err, errNotRegular), errors.Is(err, errHardLinked), errors.Is(err, errOutsideLink):
		reason = err.Error()
	default:
		o.cause = err.Error()
		reason = "storage failed"
		var errno syscall.Errno
		if errors.As(err, &errno) {
			reason = errno.Error()
		}
	}
	if o.name == "" {
		return op + ": " + reason
	}
	return fmt.Sprintf("%s %q: %s", op, o.name, reason)
}

// sanitize shortens client text quoted in replies and logs.
func sanitize(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
