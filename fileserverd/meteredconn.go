package main

import (
	"errors"
	"net"
	"syscall"
	"time"

	"fileserver/protocol"
)

// meteredConn is a connection that counts its bytes and keeps deadlines:
// every Read and Write must make progress within idle, and while a request
// is served (rate is on) the client must move its bytes at -min-rate on
// average, so a silent, stalled or dripping client frees its worker. A
// non-zero until caps the deadlines, to bound how long skipping a bad
// request may take; while the request reader waits to see whether a
// request without a terminator has ended, the read deadline is its pause
// clock's. It belongs to the one worker serving the connection: nothing
// else touches it.
type meteredConn struct {
	net.Conn
	idle    time.Duration
	until   time.Time
	clock   protocol.PauseClock // when bytes last arrived, and the pause waited for
	rate    rateMeter
	replay  []byte // read first: what the waiting room read of the head
	in, out int64
	raw     syscall.RawConn // for the send queue's length; set on first use
}

// deadline is the earliest of the idle deadline (from now), until, and
// the extra limits given.
func (c *meteredConn) deadline(extra ...time.Time) time.Time {
	var d time.Time
	if c.idle > 0 {
		d = time.Now().Add(c.idle)
	}
	for _, limit := range append(extra, c.until) {
		if !limit.IsZero() && (d.IsZero() || limit.Before(d)) {
			d = limit
		}
	}
	return d
}

// setDeadline sets a read or write deadline (set) to limit, or to the
// minimum rate's next check when that is sooner, and reports which.
func (c *meteredConn) setDeadline(set func(time.Time) error, limit time.Time) (timedByRate bool) {
	check := c.rate.checkAt()
	if !check.IsZero() && (limit.IsZero() || check.Before(limit)) {
		set(check)
		return true
	}
	set(limit)
	return false
}

// setPauseWait is the request reader's hook for its pauses.
func (c *meteredConn) setPauseWait(d time.Duration) { c.clock.SetPauseWait(d) }

func (c *meteredConn) Read(p []byte) (int, error) {
	if len(c.replay) > 0 {
		n := copy(p, c.replay)
		c.replay = c.replay[n:]
		c.in += int64(n)
		return n, nil
	}
	for {
		timedByRate := c.setDeadline(c.Conn.SetReadDeadline, c.deadline(c.clock.Deadline()))
		start := time.Now()
		n, err := c.Conn.Read(p)
		c.in += int64(n)
		c.clock.Arrived(n)
		if slow := c.rate.moved(n, time.Since(start)); slow != nil {
			return n, slow
		}
		err, retry := c.clock.Pause(err, c.Conn)
		switch {
		case n > 0:
			return n, err
		case retry:
			continue // bytes came while this goroutine ran late
		case err != nil && timedByRate && protocol.IsTimeout(err) && !errors.Is(err, protocol.ErrPause):
			continue // the rate was checked, and holds: read on
		}
		return n, err
	}
}

// Write writes p with a deadline that moves on while the client takes
// bytes. A write blocks until the kernel has room for all of p, and the
// kernel makes room only once the client has drained a good part of a
// send buffer of up to megabytes: a client that reads slowly but steadily
// would time out although it never stopped. So a write that times out
// goes on for another idle period as long as the client acknowledged
// bytes during the last one. The minimum rate counts the bytes the client
// acknowledged, not those the kernel took.
func (c *meteredConn) Write(p []byte) (int, error) {
	written := 0
	for {
		acked, known := c.acked()
		timedByRate := c.setDeadline(c.Conn.SetWriteDeadline, c.deadline())
		start := time.Now()
		n, err := c.Conn.Write(p[written:])
		written += n
		c.out += int64(n)
		took := time.Since(start)
		if c.rate.on() {
			gained := int64(n) // unknown acknowledgements: count what the kernel took
			if now, ok := c.acked(); known && ok {
				gained = now - acked
			}
			if slow := c.rate.moved(int(gained), took); slow != nil {
				return written, slow
			}
		}
		if err != nil && protocol.IsTimeout(err) && timedByRate {
			continue // the rate holds: write on
		}
		if now, ok := c.acked(); err != nil && protocol.IsTimeout(err) && known && ok && now > acked &&
			(c.until.IsZero() || time.Now().Before(c.until)) {
			continue
		}
		return written, err
	}
}

// acked returns how many of the bytes written the client's side has
// acknowledged (those no longer in the kernel's send queue), counted from
// the last take, so only differences mean something; ok is false when
// that is unknown.
func (c *meteredConn) acked() (n int64, ok bool) {
	if c.idle <= 0 && !c.rate.on() {
		return 0, false
	}
	rc := c.rawConn()
	if rc == nil {
		return 0, false
	}
	queued := -1
	rc.Control(func(fd uintptr) { queued = protocol.SendQueued(fd) })
	if queued < 0 {
		return 0, false
	}
	return c.out - int64(queued), true
}

// take returns the bytes counted since the last call.
func (c *meteredConn) take() (in, out int64) {
	in, out, c.in, c.out = c.in, c.out, 0, 0
	return in, out
}

// rateMeter enforces -min-rate over -min-rate-window on the time the
// server spends waiting for the client (blocked in a read or a write), so
// that a server slowed by its own disk never blames the client. It is a
// bucket of credit in bytes: full (rate x window) when a request begins,
// drained at the rate while the server waits, refilled by every byte the
// client moves, never above full. Empty means the client moved less than
// the rate's worth over the last window of waiting: too slow.
type rateMeter struct {
	rate   float64 // bytes per second; 0: no minimum
	window time.Duration
	credit float64 // bytes; meaningful while active
	active bool
}

// errTooSlow is a transfer cut by the minimum rate. It is not a time-out,
// which the request reader would take for a pause.
type errTooSlow struct {
	rate   int64
	window time.Duration
}

func (e *errTooSlow) Error() string {
	return "transfer too slow: below -min-rate " + protocol.FormatSize(e.rate) + "/s over " + e.window.String()
}

// start arms the meter for a request, with full credit.
func (m *rateMeter) start() {
	if m.rate > 0 && m.window > 0 {
		m.active, m.credit = true, m.full()
	}
}

// stop disarms it.
func (m *rateMeter) stop() { m.active = false }

func (m *rateMeter) on() bool { return m.active }

func (m *rateMeter) full() float64 { return m.rate * m.window.Seconds() }

// checkAt is when the credit runs out if the client moves nothing, or
// the zero time when the meter is off. It is at least a tenth of the
// window away: a client that moves a little in every wait would
// otherwise be checked ever sooner and never run out.
func (m *rateMeter) checkAt() time.Time {
	if !m.active {
		return time.Time{}
	}
	d := time.Duration(max(m.credit, 0) / m.rate * float64(time.Second))
	return time.Now().Add(max(d, m.window/10))
}

// moved accounts for n bytes moved after waiting waited, and returns
// errTooSlow once the credit is gone.
func (m *rateMeter) moved(n int, waited time.Duration) error {
	if !m.active {
		return nil
	}
	m.credit = min(m.credit-m.rate*waited.Seconds()+float64(n), m.full())
	if m.credit > 0 {
		return nil
	}
	m.active = false
	return &errTooSlow{rate: int64(m.rate), window: m.window}
}

// isTooSlow reports whether err is (or wraps) a cut by the minimum rate.
func isTooSlow(err error) bool {
	var e *errTooSlow
	return errors.As(err, &e)
}
