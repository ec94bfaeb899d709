package protocol

import (
	"errors"
	"time"
)

// ErrPause is what a read returns once the pause a RequestReader waits for
// (SetPauseWait) has passed with nothing arriving. Other time-outs (an
// idle or a head deadline that came first) are errors, not pauses: the
// request has not ended because the server stopped waiting.
var ErrPause error = pauseError{}

type pauseError struct{}

func (pauseError) Error() string { return "pause: nothing arrived for the time waited" }

// Timeout and Temporary make it a net.Error time-out, for code that does
// not look for it by name.
func (pauseError) Timeout() bool   { return true }
func (pauseError) Temporary() bool { return true }

// isPause reports whether err is ErrPause.
func isPause(err error) bool { return errors.Is(err, ErrPause) }

// PauseClock keeps, for one connection, when bytes last arrived, so that
// the pause a RequestReader waits for (SetPauseWait) counts from there:
// the connection sets its read deadline to Deadline while one is asked
// for (or sooner), calls Arrived after each read, and passes a read's
// error through Pause. Two readers of the same bytes (the waiting room,
// then a worker) thus wait for the same instant.
type PauseClock struct {
	// Last is when bytes last arrived; the zero time: when the wait was
	// asked for.
	Last time.Time
	wait time.Duration
	set  time.Time // the deadline Deadline last gave
}

// minCheck is how far ahead a deadline that has already passed is set, so
// that the read still looks at the socket: bytes that came while the
// reader was busy elsewhere (after Last, but unread) are data, not
// silence. Pause looks again should the goroutine be late for it.
const minCheck = time.Millisecond

// SetPauseWait is the RequestReader's hook: a read should time out once
// nothing has arrived for d; zero ends the wait.
func (q *PauseClock) SetPauseWait(d time.Duration) {
	q.wait = d
	if d > 0 && q.Last.IsZero() {
		q.Last = time.Now()
	}
}

// Deadline is when the wait asked for ends, or the zero time when none
// is.
func (q *PauseClock) Deadline() time.Time {
	if q.wait <= 0 {
		return time.Time{}
	}
	q.set = q.Last.Add(q.wait)
	if soon := time.Now().Add(minCheck); q.set.Before(soon) {
		q.set = soon
	}
	return q.set
}

// Pause turns the time-out of a read on conn into ErrPause when the pause
// waited for has passed and conn has nothing to read; any other error, or
// a time-out that came first, is returned as it is. retry reports a
// time-out that came while bytes (or EOF) were waiting, which happens
// when the reader runs late: read again.
func (q *PauseClock) Pause(err error, conn any) (_ error, retry bool) {
	var ne interface{ Timeout() bool }
	if err == nil || q.wait <= 0 || !errors.As(err, &ne) || !ne.Timeout() || q.set.IsZero() || time.Now().Before(q.set) {
		return err, false
	}
	if pending, closed, ok := peekConn(conn); ok && (pending || closed) {
		return err, true
	}
	return ErrPause, false
}

// Arrived records a read of n bytes.
func (q *PauseClock) Arrived(n int) {
	if n > 0 {
		q.Last = time.Now()
	}
}
