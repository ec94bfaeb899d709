package stress

import (
	"fmt"
	"io"
	"time"
)

// mb is the report's megabyte, as in the course's reports.
const mb = 1 << 20

// WriteSummary writes the cell's human summary to w and, to verbose
// (filestressd -v), every upload form the probe tried in vain and one
// line per worker.
func (c Result) WriteSummary(w, verbose io.Writer) {
	if c.uploads != nil {
		for _, a := range c.uploads.failed {
			fmt.Fprintf(verbose, "filestressd: upload probe: %s\n", a)
		}
	}
	printWorkers(verbose, c.results)
	s, cfg := c.sum, c.cfg
	what := string(cfg.Op)
	if s.hasVolume {
		what += " " + volumeLabel(cfg)
		if cfg.File != "" {
			what += " (" + cfg.File + ")"
		}
	}
	fmt.Fprintf(w, "%s x %d workers (%s pool) against %s\n", what, cfg.Workers, cfg.Pool, cfg.Addr)
	switch mode, workers, from := c.serverIdentity(); from {
	case "STATS":
		fmt.Fprintf(w, "server:           %s mode, %d workers (from STATS)\n", mode, workers)
	case "flags":
		fmt.Fprintf(w, "server:           %s (from -server-mode and -server-workers: the server has no STATS)\n", identityText(mode, workers))
	}
	if conflict := c.identityConflict(); conflict != "" {
		fmt.Fprintf(w, "note: %s\n", conflict)
	}
	if form := c.requestForm(); form != "" {
		line := form
		if c.uploads != nil {
			line += " (uploads: " + c.uploads.how() + ")"
		}
		fmt.Fprintf(w, "request form:     %s\n", line)
		if c.uploads != nil && c.uploads.note != "" {
			fmt.Fprintf(w, "note: %s\n", c.uploads.note)
		}
	}
	fmt.Fprintf(w, "clients:          %d ok, %d failed\n", s.ok, s.failed)
	if s.failed > 0 {
		fmt.Fprintf(w, "failures by kind: %s\n", formatKinds(s.kinds))
	}
	if s.ok > 0 {
		fmt.Fprintf(w, "time per client:  mean %s  p50 %s  p95 %s  max %s\n", seconds(s.mean), seconds(s.p50), seconds(s.p95), seconds(s.max))
		if s.hasVolume {
			fmt.Fprintf(w, "throughput:       %.1f MB/s per client (mean), %.1f MB/s aggregate\n", s.perClient/mb, s.aggregate/mb)
		}
	}
	fmt.Fprintf(w, "wall time:        %s\n", seconds(c.wall.Seconds()))
	if v := c.verified(); v != "" {
		fmt.Fprintf(w, "verified:         %s (%s)\n", v, verifiedMeaning(cfg, v))
	}
	if cfg.Op == CellDownload && !c.want.reference {
		fmt.Fprintf(w, "content:          %s is %d bytes, sha256 %s as the setup downloaded it; the workers were checked for consistency with it, not against a reference (give -file for that)\n",
			downloadName(cfg), c.want.size, c.want.sha256)
	}
	if ok, failed, known := c.server.counts(cfg.Op); known {
		fmt.Fprintf(w, "server counted:   %d ok, %d failed (%s)\n", ok, failed, cfg.Op.statsOp())
	}
	if line := c.cpuLine(); line != "" {
		fmt.Fprintf(w, "cpu:              %s\n", line)
	}
	statsCPU, statsCPUKnown := c.server.cpu()
	fmt.Fprintf(w, "server cost:      %s\n", c.cost.line(statsCPU, statsCPUKnown))
	if l := c.server.limitsChanged(); l != "" {
		fmt.Fprintf(w, "server limits:    %s (connections the server closed or refused during the window)\n", l)
	}
	if note := c.server.note(cfg.Op); note != "" {
		fmt.Fprintf(w, "note: %s\n", note)
	}
	fmt.Fprintln(w, peakRSSLine(cfg, s))
}

// peakRSSLine says the client's peak memory: filestressd's own and, in
// the process pool, the largest child's, or why a figure is missing.
func peakRSSLine(cfg Config, s summary) string {
	line := "client peak RSS:  "
	if kib, ok := selfPeakRSS(); ok {
		line += fmt.Sprintf("%.1f MiB (filestressd)", float64(kib)/1024)
	} else {
		line += "not known for filestressd (" + peakRSSUnknown + ")"
	}
	switch {
	case s.maxChildRSS > 0:
		line += fmt.Sprintf(", %.1f MiB (largest child)", float64(s.maxChildRSS)/1024)
	case cfg.Pool == PoolProcess:
		line += "; the children's not known (none reported one)"
	}
	return line
}

// verifiedMeaning says what a cell's verified column means.
func verifiedMeaning(cfg Config, v string) string {
	switch {
	case cfg.Op == CellDownload && cfg.File == "" && cfg.Name == "":
		return "the base64 received, compared with the expected content's"
	case cfg.Op == CellDownload:
		return "size and sha256 of the content received"
	case v == VerifyReply:
		return "size and sha256 in the server's reply"
	case v == VerifyReadback:
		return "each file read back with GET after the window"
	case v == VerifyNone:
		return "-verify none: the server's OK was taken on trust"
	}
	return "mixed"
}

// printWorkers writes one line per worker, for -v.
func printWorkers(w io.Writer, results []workerResult) {
	for _, r := range results {
		pid := ""
		if r.PID != 0 {
			pid = fmt.Sprintf(" (pid %d)", r.PID)
		}
		if r.OK {
			fmt.Fprintf(w, "filestressd: worker %d%s: ok, %d bytes in %.3fs\n", r.Worker, pid, r.Bytes, r.Seconds)
		} else {
			fmt.Fprintf(w, "filestressd: worker %d%s: %s: %s\n", r.Worker, pid, r.Kind, r.Error)
		}
	}
}

// seconds writes a duration readably whether it is a LIST's microseconds
// or a large upload's minutes.
func seconds(s float64) string {
	if s < 0.1 {
		return fmt.Sprintf("%.2fms", s*1000)
	}
	return fmt.Sprintf("%.3fs", s)
}

// cpuLine says the CPU time server and client used in the window, per MB
// of the cell (workers x size) when it moves a volume, and the ratio
// client / server; empty when neither is known.
func (c Result) cpuLine() string {
	srv, srvFrom, srvOK := c.serverCPU()
	if !srvOK && !c.clientCPUKnown {
		return ""
	}
	cellMB := float64(c.cfg.Workers) * float64(c.cfg.Size) / mb
	figure := func(who string, d time.Duration) string {
		s := fmt.Sprintf("%s %.3fs", who, d.Seconds())
		if c.sum.hasVolume && cellMB > 0 {
			s += fmt.Sprintf(" (%.2f ms/MB)", float64(d.Microseconds())/1000/cellMB)
		}
		return s
	}
	var line string
	switch {
	case srvOK && c.clientCPUKnown:
		line = figure("server", srv) + srvFrom + ", " + figure("client", c.clientCPU)
		if srv > 0 {
			line += fmt.Sprintf(", client / server %.2f", c.clientCPU.Seconds()/srv.Seconds())
		}
	case srvOK:
		line = figure("server", srv) + srvFrom + "; client's not known (" + cpuTimeCall + " failed)"
	default:
		line = figure("client", c.clientCPU) + "; server's not known (" + c.server.cpuUnknown() + "; " + c.cost.cpuUnknown() + ")"
	}
	if c.cpuMissing > 0 {
		line += fmt.Sprintf("; %d children killed before they reported theirs are left out", c.cpuMissing)
	}
	return line
}
