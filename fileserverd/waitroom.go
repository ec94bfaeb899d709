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
// nothing, or trickles its head, would hold a worker hostage. The waiting
// room keeps them away: a goroutine per connection waits, without a
// buffer, for the client to send, reads the request's head through a
// small reader, and only then hands the connection, with what it read, to
// a free worker (or child: handoff.go), answering a STATS itself. Waiting
// here, not in the listen queue, connections are seen by the caps and
// STATS. conn.go has the whole life of a connection.

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

// waitingRoom is where a server process's connections wait, for their
// request and then for a free worker (see connState).
type waitingRoom struct {
	// Set by newWaitingRoom, then only read.
	srv      *server
	counters workerCounters // slot 0: connections accepted, limits, the STATS it answers
	workers  int
	baseFDs  int           // descriptors open when the room was made
	ready    chan *conn    // connections whose head arrived, for the workers
	stop     chan struct{} // closed when the server stops

	logMu    sync.Mutex
	lastLog  [protocol.NumLimits]time.Time // guarded by logMu
	unlogged [protocol.NumLimits]int       // guarded by logMu: events since the last log line
}

func newWaitingRoom(s *server, workers int) *waitingRoom {
	r := &waitingRoom{srv: s, counters: s.counters.worker(0), workers: workers, ready: make(chan *conn), stop: make(chan struct{})}
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
	s, backoff := r.srv, time.Duration(0)
	for {
		s.mu.Lock()
		for len(s.conns) >= r.fdRoom() && !s.stopping {
			s.freed.Wait()
		}
		stopped := s.stopping
		s.mu.Unlock()
		if stopped {
			return
		}
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.isStopping() {
				return
			}
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed", "error", err, "retry_in", backoff)
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if s.refuse(nc) {
			continue
		}
		c := newConn(nc)
		if l, ok := s.admit(c, true); !ok {
			r.limited(l, nc, fmt.Sprintf("too many connections (%s), closing", limitFlag(l)))
			nc.Close()
			continue
		}
		r.counters.accepted()
		go r.wait(c, time.Now().Add(s.cfg.HeadTimeout), protocol.LimitHeadTimeout)
	}
}

// park puts a connection back in the room after a request, to wait for
// its next one.
func (r *waitingRoom) park(c *conn) {
	go r.wait(c, time.Now().Add(r.srv.cfg.KeepAlive), protocol.LimitKeepAlive)
}

// wait waits until the client sends something before deadline, reads the
// request's head within -head-timeout, and hands the connection to a
// worker; or closes it when a limit passes (l: which one). A STATS it
// answers itself, then waits for the next request.
func (r *waitingRoom) wait(c *conn, deadline time.Time, l protocol.Limit) {
	if !c.setState(stateWaiting) {
		return
	}
	for {
		if !r.readHead(c, deadline, l) {
			c.close()
			return
		}
		if rest, ok := r.answerStats(c); ok {
			if len(rest) == 0 {
				// Like a worker that is done: wait for the next request.
				c.replay = nil
				deadline, l = time.Now().Add(r.srv.cfg.KeepAlive), protocol.LimitKeepAlive
				continue
			}
			c.replay = rest // pipelined behind the STATS: for a worker
		}
		break
	}
	r.queue(c)
}

// queue waits for a free worker to take c, whose head has arrived.
func (r *waitingRoom) queue(c *conn) {
	if !c.setState(stateReady) {
		return
	}
	select {
	case r.ready <- c: // the worker's from here
	case <-r.stop:
		c.close()
	}
}

// readHead waits until the client sends something before deadline, and
// reads a request's head within -head-timeout into c.replay. It reports
// whether a worker (or answerStats) should see what it read; if not, a
// limit closed it, or the client did.
func (r *waitingRoom) readHead(c *conn, deadline time.Time, l protocol.Limit) bool {
	c.nc.SetReadDeadline(deadline)
	if err := waitReadable(c.nc); err != nil {
		if protocol.IsTimeout(err) {
			if l == protocol.LimitKeepAlive {
				// Said nothing: an ERROR now would be read as the
				// reply to the client's next request.
				r.limited(l, c.nc, "")
			} else {
				r.limited(l, c.nc, fmt.Sprintf("no request within %s (-head-timeout), closing", r.srv.cfg.HeadTimeout))
			}
		}
		return false
	}
	if l == protocol.LimitKeepAlive {
		deadline = time.Now().Add(r.srv.cfg.HeadTimeout)
		c.nc.SetReadDeadline(deadline)
	}
	rec := &recorder{conn: c.nc, head: deadline}
	br := bufio.NewReaderSize(rec, headBufSize)
	rr := protocol.NewRequestReader(br)
	rr.EndPause, rr.EndPauseWrite, rr.SetPauseWait = r.srv.cfg.EndPause, r.srv.cfg.EndPauseWrite, rec.clock.SetPauseWait
	req, err := rr.Read()
	switch {
	case err == io.EOF && len(rec.bytes) == 0:
		return false // closed before a request: nothing to answer
	case err != nil && protocol.IsTimeout(err):
		r.limited(protocol.LimitHeadTimeout, c.nc, fmt.Sprintf("request head not complete within %s (-head-timeout), closing", r.srv.cfg.HeadTimeout))
		return false
	}
	// A request, or a malformed one, or a head cut by EOF: a worker
	// answers it, reading it again from what was recorded.
	c.nc.SetReadDeadline(time.Time{})
	c.replay, c.lastIn = rec.bytes, rec.clock.Last
	c.isStats = err == nil && req.Command == "STATS" && len(req.Args) == 0 && !req.HasPayload
	c.headLen = len(rec.bytes) - br.Buffered()
	return true
}

// answerStats answers a STATS that readHead read, and returns what came
// after it (blank lines left out): a request pipelined behind it. ok is
// false when the head was not a STATS, or the reply could not be sent.
func (r *waitingRoom) answerStats(c *conn) (rest []byte, ok bool) {
	if !c.isStats {
		return nil, false
	}
	if !c.setState(stateAnswering) {
		return nil, false
	}
	defer c.setState(stateWaiting) // or closed, once stopping
	start := time.Now()
	r.counters.begin(protocol.OpStats)
	if r.srv.counters.mapping != nil {
		r.srv.counters.supervisorCPU() // the children's CPU is in their slots
	}
	reply := protocol.AppendReply(nil, protocol.Field{Key: "status", Value: protocol.StatusOK},
		protocol.Field{Key: "data", Value: statsFields(r.srv.counters.snapshot())})
	r.counters.done(protocol.OpStats, true)
	timeout := r.srv.cfg.IdleTimeout // or a minute, for a reply the room writes itself
	if timeout <= 0 {
		timeout = time.Minute
	}
	c.nc.SetWriteDeadline(time.Now().Add(timeout))
	_, err := c.nc.Write(reply)
	c.nc.SetWriteDeadline(time.Time{})
	r.counters.transferred(int64(c.headLen), int64(len(reply)))
	if err != nil {
		r.counters.undo(protocol.OpStats)
		r.srv.log.Warn("request failed", "remote", c.remote, "cmd", "STATS", "outcome", "error", "error", fmt.Sprintf("write reply: %v", err), "closing", "the reply could not be sent")
		return nil, false
	}
	r.srv.log.Info("request", "remote", c.remote, "cmd", "STATS", "bytes", 0, "in", c.headLen, "out", len(reply),
		"duration", time.Since(start).Round(time.Microsecond), "outcome", "ok", "served_by", "waiting room")
	rest = c.replay[c.headLen:]
	for len(rest) > 0 && (rest[0] == '\r' || rest[0] == '\n') {
		rest = rest[1:]
	}
	return rest, true
}

// next gives a worker the next connection whose head arrived; ok is false
// when the server stops.
func (r *waitingRoom) next() (c *conn, ok bool) {
	select {
	case c = <-r.ready:
		return c, true
	case <-r.stop:
		return nil, false
	}
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
	r.logMu.Lock()
	r.unlogged[l]++
	now := time.Now()
	if now.Sub(r.lastLog[l]) < refusalLogEvery {
		r.logMu.Unlock()
		return
	}
	n := r.unlogged[l]
	r.lastLog[l], r.unlogged[l] = now, 0
	r.logMu.Unlock()
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
	clock protocol.PauseClock
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
