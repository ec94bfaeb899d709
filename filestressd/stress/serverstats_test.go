package stress

import (
	"strings"
	"testing"

	"fileserver/protocol"
)

// TestServerCountsRestartAndClamp checks the server deltas' edge cases:
// another pid or start time is a restart (no counts); an ok count that
// went down on the same server (a request undone to failed) is clamped at
// 0 and explained, not taken for a restart.
func TestServerCountsRestartAndClamp(t *testing.T) {
	snap := func(pid int, started string, ok, failed uint64) *protocol.Stats {
		return &protocol.Stats{Mode: "thread", Workers: 2, PID: pid, Started: started,
			Requests: map[string]protocol.OpCount{"upload": {OK: ok, Failed: failed}}}
	}
	const t0, t1 = "2026-01-01T10:00:00Z", "2026-01-01T10:05:00Z"
	cases := []struct {
		name          string
		before, after *protocol.Stats
		ok, failed    uint64
		known         bool
		note          string
	}{
		{"plain", snap(10, t0, 5, 1), snap(10, t0, 9, 2), 4, 1, true, ""},
		{"another pid", snap(10, t0, 5, 1), snap(11, t0, 9, 2), 0, 0, false, "restarted"},
		{"another start", snap(10, t0, 5, 1), snap(10, t1, 9, 2), 0, 0, false, "restarted"},
		{"ok went down", snap(10, t0, 5, 1), snap(10, t0, 4, 3), 0, 2, true, "ok count of upload went down from 5 to 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := serverView{Before: c.before, After: c.after}
			ok, failed, known := v.counts(CellUpload)
			if ok != c.ok || failed != c.failed || known != c.known {
				t.Errorf("counts = %d, %d, %v; want %d, %d, %v", ok, failed, known, c.ok, c.failed, c.known)
			}
			note := v.note(CellUpload)
			if (c.note == "") != (note == "") || !strings.Contains(note, c.note) {
				t.Errorf("note %q, want one mentioning %q", note, c.note)
			}
		})
	}
}

// TestLimitsChanged checks the summary's list of the server's limits that
// closed or refused connections during the window.
func TestLimitsChanged(t *testing.T) {
	snap := func(pid int, head, perIP uint64) *protocol.Stats {
		return &protocol.Stats{PID: pid, Started: "2026-01-01T10:00:00Z",
			Limits: map[string]uint64{"head_timeout": head, "max_conns_per_ip": perIP}}
	}
	cases := []struct {
		name          string
		before, after *protocol.Stats
		want          string
	}{
		{"none changed", snap(1, 3, 0), snap(1, 3, 0), ""},
		{"two changed", snap(1, 3, 0), snap(1, 5, 7), "head_timeout +2, max_conns_per_ip +7"},
		{"restarted", snap(1, 3, 0), snap(2, 9, 0), ""},
		{"a server without limits", &protocol.Stats{PID: 1}, &protocol.Stats{PID: 1}, ""},
		{"no STATS", nil, nil, ""},
	}
	for _, c := range cases {
		if got := (serverView{Before: c.before, After: c.after}).limitsChanged(); got != c.want {
			t.Errorf("%s: limitsChanged = %q, want %q", c.name, got, c.want)
		}
	}
}
