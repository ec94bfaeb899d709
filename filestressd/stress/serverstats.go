package stress

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"fileserver/protocol"
)

// Bounds on reading the server's counts.
const (
	statsTimeout = 5 * time.Second // one STATS request
	settleEvery  = 20 * time.Millisecond
	// settleBudget bounds the wait for the "after" snapshot to settle; see
	// afterStats.
	settleBudget = 1500 * time.Millisecond
)

// fetchStats asks for STATS on a connection of its own. A dial failure is
// a *connectError; any other error means no usable STATS.
//
// fileserverd counts a request before the last byte of its reply goes out
// (and turns it into a failure if that byte cannot be sent), so a request
// whose client has its whole reply is always in the counts: one STATS
// after the setup is an exact "before" snapshot.
func fetchStats(ctx context.Context, cfg Config) (*protocol.Stats, error) {
	ctx, cancel := context.WithTimeout(ctx, statsTimeout)
	defer cancel()
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return nil, &connectError{err}
	}
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

// afterStats reads the "after" snapshot. When every worker has its whole
// reply, the server has counted every request (see fetchStats), and one
// STATS is exact. A worker that failed or was cut at the deadline may
// leave a connection the server is still working on, which it counts only
// when it is done with it: then afterStats waits until no connection but
// its own is active, for at most settleBudget, and takes the last snapshot
// whatever it says (on a server others are using, connections never
// settle).
func afterStats(ctx context.Context, cfg Config, settle bool) (*protocol.Stats, error) {
	s, err := fetchStats(ctx, cfg)
	if err != nil || !settle {
		return s, err
	}
	maxPolls := int(settleBudget / settleEvery)
	t := time.NewTicker(settleEvery)
	defer t.Stop()
	for i := 0; i < maxPolls && s.ActiveConnections > 1; i++ { // 1: the STATS connection itself
		select {
		case <-ctx.Done():
			return s, nil
		case <-t.C:
		}
		next, err := fetchStats(ctx, cfg)
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

// restarted tells whether the two snapshots come from different runs of
// the server: another pid or another start time.
func (v serverView) restarted() bool {
	return v.Before.PID != v.After.PID || v.Before.Started != v.After.Started
}

// counts returns the server's ok and failed counts of op during the
// window, and whether they are known. A count that went down (see note)
// gives 0, not a wrapped-around number.
func (v serverView) counts(op CellOp) (ok, failed uint64, known bool) {
	if v.Before == nil || v.After == nil || v.restarted() {
		return 0, 0, false
	}
	b, a := v.Before.Requests[op.statsOp().String()], v.After.Requests[op.statsOp().String()]
	return delta(b.OK, a.OK), delta(b.Failed, a.Failed), true
}

// delta is after minus before, clamped at 0.
func delta(before, after uint64) uint64 {
	if after < before {
		return 0
	}
	return after - before
}

// note explains server counts that are missing or clamped, and a mode
// left out.
func (v serverView) note(op CellOp) string {
	notes := []string{v.countsNote(op)}
	if m := v.statsMode(); m != "" && serverMode(m) == "" {
		notes = append(notes, fmt.Sprintf("the server's STATS gives its mode as %.80q, which is neither thread nor process: server_mode left empty", m))
	}
	return strings.Join(slices.DeleteFunc(notes, func(n string) bool { return n == "" }), "; ")
}

// countsNote explains server counts that are missing or clamped.
func (v serverView) countsNote(op CellOp) string {
	if v.Note != "" || v.Before == nil || v.After == nil {
		return v.Note
	}
	if v.restarted() {
		return fmt.Sprintf("the server restarted during the window (pid %d started %.40q, then pid %d started %.40q): server counts left empty",
			v.Before.PID, v.Before.Started, v.After.PID, v.After.Started)
	}
	key := op.statsOp().String()
	b, a := v.Before.Requests[key], v.After.Requests[key]
	switch {
	case a.OK < b.OK:
		return fmt.Sprintf("the server's ok count of %s went down from %d to %d during the window: "+
			"it turns a request it counted ok into a failed one when the last bytes of the reply cannot be sent, "+
			"so a request counted before the window failed during it; server_ok is clamped to 0 and may miss requests of the window",
			key, b.OK, a.OK)
	case a.Failed < b.Failed:
		return fmt.Sprintf("the server's failed count of %s went down from %d to %d during the window: server_fail is clamped to 0", key, b.Failed, a.Failed)
	}
	return ""
}

// limitsChanged lists the server's limits that closed or refused
// connections during the window, with how many ("head_timeout +3"), or
// says nothing when none did or the server does not count them.
func (v serverView) limitsChanged() string {
	if v.Before == nil || v.After == nil || v.restarted() {
		return ""
	}
	var parts []string
	for _, l := range protocol.Limits {
		if d := delta(v.Before.Limits[l], v.After.Limits[l]); d > 0 {
			parts = append(parts, fmt.Sprintf("%s +%d", l, d))
		}
	}
	return strings.Join(parts, ", ")
}

// cpu returns the server's CPU time, user and system, during the window
// (cpu_us after minus before), and whether it is known: not without STATS,
// not when the server restarted, and not from a server whose STATS has no
// cpu_us (an older fileserverd, or another server): a server that has it
// has used some CPU by the time it answers, so 0 means it did not say. A
// reading that went down gives 0.
func (v serverView) cpu() (time.Duration, bool) {
	if v.Before == nil || v.After == nil || v.restarted() || v.Before.CPUMicros == 0 || v.After.CPUMicros == 0 {
		return 0, false
	}
	return time.Duration(delta(v.Before.CPUMicros, v.After.CPUMicros)) * time.Microsecond, true
}

// cpuUnknown says why cpu is not known.
func (v serverView) cpuUnknown() string {
	switch {
	case v.Before == nil || v.After == nil:
		return "no STATS"
	case v.restarted():
		return "the server restarted"
	}
	return "its STATS has no cpu_us"
}

// identity returns the server's mode and worker count, from STATS. A
// mode that is not one of the words the matrix knows is left empty (see
// serverMode): it goes into the CSV, the JSON lines and the report.
func (v serverView) identity() (mode string, workers int, known bool) {
	for _, s := range []*protocol.Stats{v.After, v.Before} {
		if s != nil {
			return serverMode(s.Mode), s.Workers, true
		}
	}
	return "", 0, false
}

// statsMode is the mode as STATS gave it, unchecked; "" without STATS.
func (v serverView) statsMode() string {
	for _, s := range []*protocol.Stats{v.After, v.Before} {
		if s != nil {
			return s.Mode
		}
	}
	return ""
}

// serverMode is mode if it is one of the server modes the matrix
// compares, thread or process, and "" for anything else a server says:
// text from the server is data, never a CSV field or a heading of its own.
func serverMode(mode string) string {
	switch mode {
	case "thread", "process":
		return mode
	}
	return ""
}
