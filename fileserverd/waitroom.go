package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"fileserver/protocol"
)

// A worker serves one connection at a time, so a connection that sends
// nothing, or trickles its head a byte at a time, would hold a worker
// hostage. The waiting room keeps such connections away from the workers:
// a goroutine per connection waits, without a buffer, until the client
// sends something, then reads the request's head through a small reader,
// and only then hands the connection, with the bytes it read, to a worker.
// After a request, a connection with nothing more to read comes back here
// to wait for its next one. Thread mode has one waiting room for all its
// workers; in process mode the parent has it, for all its children, and
// hands them connections (handoff.go).
//
// The room accepts while every worker is busy: a connection whose request
// has arrived waits here for a free worker (STATS counts them as
// waiting_for_worker), where the caps and counts see it, not in the
// kernel's listen queue. A STATS request that arrives here is answered
// here, so that STATS works even then.

// headBufSize is the reader a waiting connection reads its head through,
// allocated only once the client has sent something.
const headBufSize = 4 << 10

// maxReplay bounds the bytes read while waiting for a head and replayed
// to the worker: a head, with the blank lines before it and what the last
// read brought after it.
const maxReplay = 16 << 10

// refusalLogEvery rate-limits the log lines of closed and refused
// connections: a flood of them would otherwise flood the journal.
const refusalLogEvery = time.Second

// waitingRoom holds the connections of one server process that are not
// being served.
type waitingRoom struct {
	// Set by newWaitingRoom, then only read.
	srv      *server
	counters workerCounters // this process's slot: waiting gauge and limits
	workers  int
	maxConns int               // -max-conns
	maxPerIP int               // -max-conns-per-ip
	baseFDs  int               // descriptors open when the room was made
	ready    chan *waitingConn // connections whose head arrived, for the workers
	stop     chan struct{}     // closed when the server stops

	mu        sync.Mutex
	held      map[net.Conn]string           // guarded by mu: every connection held, waiting or served, with its client address
	perIP     map[string]int                // guarded by mu: connections held per client address
	waitingOn map[net.Conn]bool             // guarded by mu: connections in the room, not with a worker
	stopped   bool                          // guarded by mu
	freed     *sync.Cond                    // on mu: a held connection was released, or the server stops
	lastLog   [protocol.NumLimits]time.Time // guarded by mu
	unlogged  [protocol.NumLimits]int       // guarded by mu: events since the last log line
}

// waitingConn is a connection and the bytes read from it while it waited.
type waitingConn struct {
	conn   net.Conn
	replay []byte
	// lastIn is when the last of them arrived: the worker's pauses count
	// from there, so that a pause the room waited for is not waited again.
	lastIn time.Time
	// Of the head readHead read: whether it is a STATS the room answers,
	// and how many of replay's bytes it took.
	stats   bool
	headLen int
}

func newWaitingRoom(s *server, slot int, workers int) *waitingRoom {
	r := &waitingRoom{
		srv: s, counters: s.counters.worker(slot), workers: workers,
		maxConns: s.cfg.MaxConns, maxPerIP: s.cfg.MaxConnsPerIP,
		ready: make(chan *waitingConn), stop: make(chan struct{}),
		held: map[net.Conn]string{}, perIP: map[string]int{}, waitingOn: map[net.Conn]bool{},
	}
	r.freed = sync.NewCond(&r.mu)
	if ents, err := os.ReadDir(openFDsDir); err == nil {
		r.baseFDs = len(ents)
	}
	return r
}

// fdRoom is how many connections the process's descriptor limit leaves
// room for, beside those it had at the start and a reserve for the files
// the workers open (a file, a temporary file and a directory each).
func (r *waitingRoom) fdRoom() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil || lim.Cur > 1<<30 {
		return 1 << 30
	}
	return max(1, int(lim.Cur)-r.baseFDs-3*r.workers-8)
}

// acceptLoop accepts connections while the process has descriptors to
// spare, busy workers or not, and puts each in the waiting room. Past the
// descriptors, new connections wait in the kernel's listen queue: an
// accept that fails for want of descriptors would drop them.
func (r *waitingRoom) acceptLoop(ln net.Listener) {
	backoff := time.Duration(0)
	for {
		r.mu.Lock()
		for len(r.held) >= r.fdRoom() && !r.stopped {
			r.freed.Wait()
		}
		stopped := r.stopped
		r.mu.Unlock()
		if stopped {
			return
		}
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || r.srv.isStopping() {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			r.srv.log.Warn("accept failed", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if r.srv.refuse(conn) {
			continue
		}
		if l, ok := r.admit(conn); !ok {
			r.limited(l, conn, fmt.Sprintf("too many connections (%s), closing", limitFlag(l)))
			conn.Close()
			continue
		}
		r.counters.accepted()
		go r.wait(&waitingConn{conn: conn}, time.Now().Add(r.srv.cfg.HeadTimeout), protocol.LimitHeadTimeout)
	}
}

// admit holds conn unless a cap forbids it.
func (r *waitingRoom) admit(conn net.Conn) (protocol.Limit, bool) {
	ip := clientIP(conn)
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case len(r.held) >= r.maxConns:
		return protocol.LimitMaxConns, false
	case r.maxPerIP > 0 && r.perIP[ip] >= r.maxPerIP:
		return protocol.LimitMaxConnsPerIP, false
	}
	r.held[conn] = ip
	r.perIP[ip]++
	return 0, true
}

// release closes a held connection and forgets it.
func (r *waitingRoom) release(conn net.Conn) {
	r.mu.Lock()
	if ip, ok := r.held[conn]; ok {
		delete(r.held, conn)
		if r.perIP[ip]--; r.perIP[ip] <= 0 {
			delete(r.perIP, ip)
		}
	}
	delete(r.waitingOn, conn)
	r.mu.Unlock()
	conn.Close()
	r.freed.Broadcast()
}

func clientIP(conn net.Conn) string {
	if a, ok := conn.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return conn.RemoteAddr().String()
}

// park puts a connection back in the room after a request, to wait for
// its next one.
func (r *waitingRoom) park(conn net.Conn) {
	go r.wait(&waitingConn{conn: conn}, time.Now().Add(r.srv.cfg.KeepAlive), protocol.LimitKeepAlive)
}

// wait waits until the client sends something before deadline, reads the
// request's head within -head-timeout, and hands the connection to a
// worker; or closes it when a limit passes (l: which one). A STATS it
// answers itself, then waits for the next request.
func (r *waitingRoom) wait(wc *waitingConn, deadline time.Time, l protocol.Limit) {
	if !r.enter(wc.conn) {
		r.release(wc.conn)
		return
	}
	r.counters.waiting(+1)
	handed := false
	defer func() {
		r.counters.waiting(-1)
		if !handed {
			r.release(wc.conn)
		}
	}()
	for {
		if !r.readHead(wc, deadline, l) {
			return
		}
		if rest, ok := r.answerStats(wc); ok {
			if len(rest) == 0 {
				// Like a worker that is done: wait for the next request.
				wc.replay = nil
				deadline, l = time.Now().Add(r.srv.cfg.KeepAlive), protocol.LimitKeepAlive
				continue
			}
			wc.replay = rest // pipelined behind the STATS: for a worker
		}
		break
	}
	if !r.leave(wc.conn) {
		return
	}
	r.counters.queued(+1)
	defer r.counters.queued(-1)
	select {
	case r.ready <- wc:
		handed = true // the worker's from here
	case <-r.stop:
	}
}

// readHead waits until the client sends something before deadline, and
// reads a request's head within -head-timeout into wc.replay. It reports
// whether a worker (or answerStats) should see what it read; if not, a
// limit closed it, or the client did.
func (r *waitingRoom) readHead(wc *waitingConn, deadline time.Time, l protocol.Limit) bool {
	wc.conn.SetReadDeadline(deadline)
	if err := waitReadable(wc.conn); err != nil {
		if protocol.IsTimeout(err) {
			if l == protocol.LimitKeepAlive {
				// Said nothing: an ERROR now would be read as the
				// reply to the client's next request.
				r.limited(l, wc.conn, "")
			} else {
				r.limited(l, wc.conn, fmt.Sprintf("no request within %s (-head-timeout), closing", r.srv.cfg.HeadTimeout))
			}
		}
		return false
	}
	if l == protocol.LimitKeepAlive {
		deadline = time.Now().Add(r.srv.cfg.HeadTimeout)
		wc.conn.SetReadDeadline(deadline)
	}
	rec := &recorder{conn: wc.conn, head: deadline}
	br := bufio.NewReaderSize(rec, headBufSize)
	rr := protocol.NewRequestReader(br)
	rr.Quiet, rr.QuietWrite, rr.SetQuietWait = r.srv.cfg.EndPause, r.srv.cfg.EndPauseWrite, rec.clock.SetQuietWait
	req, err := rr.Read()
	switch {
	case err == io.EOF && len(rec.bytes) == 0:
		return false // closed before a request: nothing to answer
	case err != nil && protocol.IsTimeout(err):
		r.limited(protocol.LimitHeadTimeout, wc.conn, fmt.Sprintf("request head not complete within %s (-head-timeout), closing", r.srv.cfg.HeadTimeout))
		return false
	}
	// A request, or a malformed one, or a head cut by EOF: a worker
	// answers it, reading it again from what was recorded.
	wc.conn.SetReadDeadline(time.Time{})
	wc.replay, wc.lastIn = rec.bytes, rec.clock.Last
	wc.stats = err == nil && req.Command == "STATS" && len(req.Args) == 0 && !req.HasPayload
	wc.headLen = len(rec.bytes) - br.Buffered()
	return true
}

// answerStats answers a STATS that readHead read, and returns what came
// after it (blank lines left out): a request pipelined behind it. ok is
// false when the head was not a STATS, or the reply could not be sent.
func (r *waitingRoom) answerStats(wc *waitingConn) (rest []byte, ok bool) {
	if !wc.stats {
		return nil, false
	}
	start := time.Now()
	// Served, not waiting, while it is answered.
	r.counters.waiting(-1)
	r.counters.roomSTATS(+1)
	defer func() {
		r.counters.roomSTATS(-1)
		r.counters.waiting(+1)
	}()
	r.counters.begin(protocol.OpStats)
	if r.srv.counters.mapping != nil {
		r.srv.counters.supervisorCPU() // the children's CPU is in their slots
	}
	reply := protocol.AppendReply(nil, protocol.Field{Key: "status", Value: protocol.StatusOK},
		protocol.Field{Key: "data", Value: statsFields(r.srv.counters.snapshot())})
	r.counters.done(protocol.OpStats, true)
	wc.conn.SetWriteDeadline(time.Now().Add(r.replyTimeout()))
	_, err := wc.conn.Write(reply)
	wc.conn.SetWriteDeadline(time.Time{})
	r.counters.transferred(int64(wc.headLen), int64(len(reply)))
	remote := wc.conn.RemoteAddr().String()
	if err != nil {
		r.counters.undo(protocol.OpStats)
		r.srv.log.Warn("request failed", "remote", remote, "cmd", "STATS", "outcome", "error", "error", fmt.Sprintf("write reply: %v", err), "closing", "the reply could not be sent")
		return nil, false
	}
	r.srv.log.Info("request", "remote", remote, "cmd", "STATS", "bytes", 0, "in", wc.headLen, "out", len(reply),
		"duration", time.Since(start).Round(time.Microsecond), "outcome", "ok", "served_by", "waiting room")
	rest = wc.replay[wc.headLen:]
	for len(rest) > 0 && (rest[0] == '\r' || rest[0] == '\n') {
		rest = rest[1:]
	}
	return rest, true
}

// replyTimeout bounds a reply the room writes itself.
func (r *waitingRoom) replyTimeout() time.Duration {
	if r.srv.cfg.IdleTimeout > 0 {
		return r.srv.cfg.IdleTimeout
	}
	return time.Minute
}

// enter marks a held connection as waiting; false once the server stops.
func (r *waitingRoom) enter(conn net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped {
		return false
	}
	r.waitingOn[conn] = true
	return true
}

// leave marks a connection as no longer waiting; false once the server
// stops (shutdown closed it).
func (r *waitingRoom) leave(conn net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.waitingOn, conn)
	return !r.stopped
}

// rekey moves a held connection's place to its new net.Conn (a child
// served it through another descriptor).
func (r *waitingRoom) rekey(old, conn net.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if ip, ok := r.held[old]; ok {
		delete(r.held, old)
		r.held[conn] = ip
	}
}

// requeue puts back a connection that a dead child could not take, for
// another worker.
func (r *waitingRoom) requeue(wc *waitingConn) {
	go func() {
		r.counters.queued(+1)
		defer r.counters.queued(-1)
		select {
		case r.ready <- wc:
		case <-r.stop:
			r.release(wc.conn)
		}
	}()
}

// next gives a worker the next connection whose head arrived; ok is false
// when the server stops.
func (r *waitingRoom) next() (wc *waitingConn, ok bool) {
	select {
	case wc = <-r.ready:
		return wc, true
	case <-r.stop:
		return nil, false
	}
}

// shutdown stops the room: waiting connections are closed at once, as
// they have no request in flight.
func (r *waitingRoom) shutdown() {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	r.stopped = true
	close(r.stop)
	for conn := range r.waitingOn {
		conn.Close()
	}
	r.mu.Unlock()
	r.freed.Broadcast()
}

// limited counts a connection closed or refused by limit l, answers it
// with an ERROR unless reason is empty, and logs it, at most one line per
// limit each refusalLogEvery with the count of those not logged.
func (r *waitingRoom) limited(l protocol.Limit, conn net.Conn, reason string) {
	r.counters.limited(l)
	if reason != "" {
		conn.SetWriteDeadline(time.Now().Add(time.Second))
		conn.Write(protocol.AppendError(nil, reason))
	}
	r.mu.Lock()
	r.unlogged[l]++
	now := time.Now()
	if now.Sub(r.lastLog[l]) < refusalLogEvery {
		r.mu.Unlock()
		return
	}
	n := r.unlogged[l]
	r.lastLog[l], r.unlogged[l] = now, 0
	r.mu.Unlock()
	r.srv.log.Info("connection closed", "limit", l.String(), "by", limitFlag(l), "remote", conn.RemoteAddr().String(), "count", n)
}

// limitFlag names the flag that sets a limit.
func limitFlag(l protocol.Limit) string { return "-" + strings.ReplaceAll(l.String(), "_", "-") }

// waitReadable blocks until conn has something to read (or EOF, or an
// error) or its read deadline passes, reading nothing: a waiting
// connection needs no buffer until then. It peeks without blocking, and
// waits on the runtime's poller only while there is nothing: the poller
// reports edges, not levels, so bytes that came before the wait began
// must be seen by the peek.
func waitReadable(conn net.Conn) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var b [1]byte
	return rc.Read(func(fd uintptr) bool {
		_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		return err != syscall.EAGAIN && err != syscall.EINTR
	})
}

// recorder reads a waiting connection's head and keeps what it read, for
// the worker to read again. Its read deadline is the head's, or the
// request reader's pause when that is sooner. It belongs to the one
// goroutine waiting on the connection: nothing else touches it.
type recorder struct {
	conn  net.Conn
	head  time.Time
	bytes []byte
	clock protocol.QuietClock
}

var errReplayFull = errors.New("head longer than the waiting room keeps")

func (r *recorder) Read(p []byte) (int, error) {
	if len(r.bytes) >= maxReplay {
		return 0, errReplayFull
	}
	p = p[:min(len(p), maxReplay-len(r.bytes))]
	for {
		t := r.clock.Deadline()
		if t.IsZero() || t.After(r.head) {
			t = r.head
		}
		r.conn.SetReadDeadline(t)
		n, err := r.conn.Read(p)
		r.clock.Arrived(n)
		r.bytes = append(r.bytes, p[:n]...)
		if err, retry := r.clock.Pause(err, r.conn); !retry || n > 0 {
			return n, err
		}
	}
}
