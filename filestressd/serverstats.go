package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"fileserver/protocol"
)

// Bounds on reading the server's counts.
const (
	statsTimeout = 5 * time.Second // one STATS request
	settleEvery  = 20 * time.Millisecond
	// settleBudget bounds the wait for a snapshot to settle; see settledStats.
	settleBudget = 1500 * time.Millisecond
)

// statsKey is the STATS operation an op is counted under: fileserverd
// counts GET and DOWNLOAD together as "get".
func statsKey(op string) string {
	if op == opDownload {
		return "get"
	}
	return op
}

// fetchStats asks for STATS on a connection of its own. A dial failure is
// a *connectError; any other error means no usable STATS.
func fetchStats(ctx context.Context, addr string) (*protocol.Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, statsTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, &connectError{err}
	}
	c := protocol.NewClient(conn)
	defer c.Close()
	s, err := c.Stats(ctx)
	if err != nil {
		return nil, fmt.Errorf("STATS: %w", err)
	}
	if s.Requests == nil || s.Mode == "" {
		return nil, errors.New("STATS: the reply has no mode or request counts")
	}
	return s, nil
}

// settledStats reads STATS once no other connection is active. The server
// counts a request only after it has sent the reply, and a connection as
// closed after that, so a snapshot taken while an answered connection is
// still open might miss its request. It waits at most budget (and only
// then takes a snapshot that may still miss some): on a server others are
// using, connections never settle.
func settledStats(ctx context.Context, addr string, budget time.Duration) (*protocol.Stats, error) {
	s, err := fetchStats(ctx, addr)
	if err != nil {
		return nil, err
	}
	maxPolls := int(budget / settleEvery)
	t := time.NewTicker(settleEvery)
	defer t.Stop()
	for i := 0; i < maxPolls && s.ActiveConnections > 1; i++ { // 1: the STATS connection itself
		select {
		case <-ctx.Done():
			return s, nil
		case <-t.C:
		}
		next, err := fetchStats(ctx, addr)
		if err != nil {
			return s, nil
		}
		s = next
	}
	return s, nil
}

// serverView is what the server said of itself around the window.
type serverView struct {
	Before, After *protocol.Stats
	Note          string // why counts are missing, when they are
}

// counts returns the server's ok and failed counts of op during the
// window, and whether they are known.
func (v serverView) counts(op string) (ok, failed uint64, known bool) {
	if v.Before == nil || v.After == nil || v.Before.PID != v.After.PID || v.Before.Started != v.After.Started {
		return 0, 0, false
	}
	b, a := v.Before.Requests[statsKey(op)], v.After.Requests[statsKey(op)]
	if a.OK < b.OK || a.Failed < b.Failed {
		return 0, 0, false
	}
	return a.OK - b.OK, a.Failed - b.Failed, true
}

// identity returns the server's mode and worker count, from STATS.
func (v serverView) identity() (mode string, workers int, known bool) {
	for _, s := range []*protocol.Stats{v.After, v.Before} {
		if s != nil {
			return s.Mode, s.Workers, true
		}
	}
	return "", 0, false
}

// note explains missing counts, also when both snapshots exist but do not
// belong to the same server run.
func (v serverView) note(op string) string {
	if v.Note != "" {
		return v.Note
	}
	if _, _, ok := v.counts(op); !ok && v.Before != nil && v.After != nil {
		return "the server restarted during the window: server counts left empty"
	}
	return ""
}
