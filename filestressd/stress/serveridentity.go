package stress

import (
	"fmt"
	"strings"
	"time"
)

// serverIdentity is the server's mode and worker count, and where they
// come from: its STATS when it answers it; otherwise -server-mode and
// -server-workers, which run_matrix.sh passes for a server it started
// (SERVER_CMD), since a course server has no STATS. from is "STATS",
// "flags", or "" when neither says.
func (c Result) serverIdentity() (mode string, workers int, from string) {
	if m, w, ok := c.server.identity(); ok {
		return m, w, "STATS"
	}
	if c.cfg.ServerMode != "" || c.cfg.ServerWorkers > 0 {
		return c.cfg.ServerMode, c.cfg.ServerWorkers, "flags"
	}
	return "", 0, ""
}

// identityConflict says how STATS and -server-mode or -server-workers
// disagree, when they do: STATS wins, and the summary and stderr say so.
func (c Result) identityConflict() string {
	m, w, ok := c.server.identity()
	if !ok {
		return ""
	}
	if (c.cfg.ServerMode == "" || c.cfg.ServerMode == m) && (c.cfg.ServerWorkers == 0 || c.cfg.ServerWorkers == w) {
		return ""
	}
	var flags []string
	if c.cfg.ServerMode != "" && c.cfg.ServerMode != m {
		flags = append(flags, "-server-mode "+c.cfg.ServerMode)
	}
	if c.cfg.ServerWorkers > 0 && c.cfg.ServerWorkers != w {
		flags = append(flags, fmt.Sprintf("-server-workers %d", c.cfg.ServerWorkers))
	}
	return fmt.Sprintf("the server's STATS says %s mode with %d workers, where %s: the row takes STATS's", m, w, strings.Join(flags, " and "))
}

// identityText is "thread mode, 5 workers", saying which is not known.
func identityText(mode string, workers int) string {
	m, w := "mode not given", "workers not given"
	if mode != "" {
		m = mode + " mode"
	}
	if workers > 0 {
		w = fmt.Sprintf("%d workers", workers)
	}
	return m + ", " + w
}

// serverCPU is the server's CPU time over the window: its STATS's cpu_us
// when it has them (fileserverd's whole process tree), else its process
// tree's as /proc shows it (see serverCost). from says which, for the
// summary: "" for STATS, as it always was.
func (c Result) serverCPU() (d time.Duration, from string, ok bool) {
	if d, ok := c.server.cpu(); ok {
		return d, "", true
	}
	if c.cost.measured && !c.cost.tree.cpuLost {
		return c.cost.tree.cpu, " (its process tree in /proc)", true
	}
	return 0, "", false
}
