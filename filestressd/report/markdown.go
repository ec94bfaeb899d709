package report

import (
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// mb is the report's megabyte, as in the course's reports.
const mb = 1 << 20

// Options are what the report says besides the rows.
type Options struct {
	Source  string // the CSV's name, as the report cites it
	Machine Machine
	// WallTime is the whole matrix's wall time as its runner measured it;
	// zero means the sum of the cells' wall times.
	WallTime time.Duration
	// Performance is Markdown measured apart from the matrix (benchmarks
	// against a plain TCP copy), shown in its own section when not empty.
	Performance string
}

// Render builds the report: README.md and the charts it shows, by file
// name.
func Render(all []Row, opt Options) (map[string][]byte, error) {
	if len(all) == 0 {
		return nil, fmt.Errorf("no rows to report")
	}
	rows := latest(all)
	files := map[string][]byte{}
	var b strings.Builder
	fmt.Fprintf(&b, "# Stress matrix results\n\n")
	fmt.Fprintf(&b, "Rendered by `filestressd report` from `%s`: %d cells", opt.Source, len(rows))
	if len(all) > len(rows) {
		fmt.Fprintf(&b, " (the newest of %d rows for each cell)", len(all))
	}
	fmt.Fprintf(&b, ". A megabyte is 1,048,576 bytes. Time per client is the mean, over the client workers that succeeded, of the seconds from connecting to the last byte (waiting in the server's listen queue included); throughput per client is the mean of their volume divided by that time. Server workers ok / failed are the server's own counts of requests for the operation during the measured window, read with STATS.\n\n")

	writeMachine(&b, rows, opt)
	writeVerdict(&b, rows)
	for _, mode := range modes(rows) {
		writeModeTable(&b, mode, rowsOf(rows, mode))
	}
	writeComparison(&b, rows)
	if opt.Performance != "" {
		fmt.Fprintf(&b, "## Performance against the machine\n\n%s\n\n", strings.TrimSpace(opt.Performance))
	}
	writeCharts(&b, rows, files)
	files["README.md"] = []byte(b.String())
	return files, nil
}

func writeMachine(b *strings.Builder, rows []Row, opt Options) {
	m := opt.Machine
	wall, how := opt.WallTime, "as measured by run_matrix.sh"
	if wall == 0 {
		for _, r := range rows {
			wall += time.Duration(r.Wall * float64(time.Second))
		}
		how = "the sum of the cells' wall times"
	}
	failedClients, failedServer := 0, 0
	for _, r := range rows {
		failedClients += r.ClientFail
		failedServer += max(r.ServerFail, 0)
	}
	fmt.Fprintf(b, "## Machine and run\n\n| | |\n| --- | --- |\n")
	fmt.Fprintf(b, "| CPU | %s, %d cores |\n", or(m.CPU, "unknown"), m.Cores)
	fmt.Fprintf(b, "| Memory | %s |\n", m.memory())
	fmt.Fprintf(b, "| OS | %s |\n", or(m.OS, "unknown"))
	fmt.Fprintf(b, "| Go | %s |\n", or(m.GoVersion, "unknown"))
	fmt.Fprintf(b, "| Date | %s |\n", or(m.Date, "unknown"))
	fmt.Fprintf(b, "| Matrix wall time | %s (%s) |\n", wall.Round(time.Second), how)
	fmt.Fprintf(b, "| Failed client workers | %d |\n", failedClients)
	fmt.Fprintf(b, "| Failed server requests | %d |\n\n", failedServer)
}

func writeVerdict(b *strings.Builder, rows []Row) {
	ps := pairs(rows)
	fmt.Fprintf(b, "## Verdict: thread versus process\n\n")
	v := judge(ps)
	if v.cells == 0 {
		fmt.Fprintf(b, "The matrix has no cell measured in both modes, so there is nothing to compare.\n\n")
		return
	}
	fmt.Fprintf(b, "Over the %d cells measured in both modes, process mode moves **%.2f×** the per-client throughput of thread mode (geometric mean of the process / thread ratios). ", v.cells, v.geomean)
	fmt.Fprintf(b, "Thread mode is faster by more than %.0f%% in %d cells, process mode in %d, and %d are within ±%.0f%%, which is within this machine's noise.\n\n",
		tieBand*100, v.threadWins, v.processWins, v.ties, tieBand*100)
	for _, op := range []string{"upload", "download"} {
		var sub []pair
		for _, p := range ps {
			if p.k.op == op {
				sub = append(sub, p)
			}
		}
		sv := judge(sub)
		if sv.cells == 0 {
			continue
		}
		fmt.Fprintf(b, "- **%s**: process / thread %.2f× (geometric mean of %d cells); thread faster in %d, process in %d, ties %d. ",
			op, sv.geomean, sv.cells, sv.threadWins, sv.processWins, sv.ties)
		fmt.Fprintf(b, "Widest gaps: %s (%.2f×) and %s (%.2f×).\n", cellName(sv.best.k), sv.best.ratio, cellName(sv.worst.k), sv.worst.ratio)
	}
	if cv := judgeCPU(ps); cv.cells > 0 {
		fmt.Fprintf(b, "- **server CPU per MB**: process / thread %.2f× (geometric mean of %d cells recorded in both modes; above 1, process mode costs more CPU per MB).\n", cv.geomean, cv.cells)
	}
	fmt.Fprintln(b)
}

func cellName(k key) string {
	return fmt.Sprintf("%s %s, %d client / %d server workers", k.op, volumeLabel(k.volume), k.clients, k.servers)
}

func volumeLabel(n int64) string {
	if n%mb == 0 {
		return fmt.Sprintf("%d MB", n/mb)
	}
	return fmt.Sprintf("%.2f MB", float64(n)/mb)
}

func writeModeTable(b *strings.Builder, mode string, rows []Row) {
	title := map[string]string{
		"thread":  "Thread mode: the server's workers are goroutines",
		"process": "Process mode: the server's workers are child processes",
		"":        "Server without STATS (mode and workers unknown)",
	}[mode]
	fmt.Fprintf(b, "## %s\n\n", or(title, "Mode "+mode))
	showCPU := slices.ContainsFunc(rows, func(r Row) bool { return r.ServerCPU >= 0 || r.ClientCPU >= 0 })
	fmt.Fprintf(b, "| No | Operation | Volume | Client workers | Server workers | Time per client (s) | Throughput per client (MB/s) | Client workers ok / failed | Server workers ok / failed |")
	if showCPU {
		fmt.Fprintf(b, " Server CPU (ms/MB) | Client CPU (ms/MB) |")
	}
	fmt.Fprintf(b, "\n| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	if showCPU {
		fmt.Fprintf(b, " ---: | ---: |")
	}
	fmt.Fprintln(b)
	unrecorded := 0
	for _, r := range rows {
		server := "n/a"
		if r.ServerOK >= 0 && r.ServerFail >= 0 {
			server = fmt.Sprintf("%d / %d", r.ServerOK, r.ServerFail)
		}
		fmt.Fprintf(b, "| %d | %s | %s | %d | %s | %.3f | %.1f | %d / %d | %s |",
			r.No, r.Operation, volumeLabel(r.VolumeBytes), r.ClientWorkers, workers(r.ServerWorkers),
			r.TimePerClient, r.ThroughputPerClient/mb, r.ClientOK, r.ClientFail, server)
		if showCPU {
			fmt.Fprintf(b, " %s | %s |", cpuCell(r, r.ServerCPU), cpuCell(r, r.ClientCPU))
		}
		fmt.Fprintln(b)
		if r.ServerCPU < 0 || r.ClientCPU < 0 {
			unrecorded++
		}
	}
	fmt.Fprintln(b)
	switch {
	case !showCPU:
		fmt.Fprintf(b, "CPU was not recorded for these cells: the CSV has no `server_cpu_s` or `client_cpu_s` figures (written before those columns, or against a server without `cpu_us` in its STATS).\n\n")
	case unrecorded > 0:
		fmt.Fprintf(b, "CPU per MB is the CPU seconds, user and system, used during the measured window per MB the cell moved (client workers × volume). It was not recorded for %d of these cells: the server's STATS had no `cpu_us` (or the server restarted during the cell), or the row predates the CPU columns.\n\n", unrecorded)
	default:
		fmt.Fprintf(b, "CPU per MB is the CPU seconds, user and system, used during the measured window per MB the cell moved (client workers × volume): the server's whole process tree, and filestressd with its children.\n\n")
	}
}

// cpuCell is a row's CPU per MB as the tables show it.
func cpuCell(r Row, seconds float64) string {
	if seconds < 0 {
		return "not recorded"
	}
	v, ok := r.cpuPerMB(seconds)
	if !ok {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", v)
}

func workers(n int) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}

func writeComparison(b *strings.Builder, rows []Row) {
	ps := pairs(rows)
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(b, "## Thread versus process, cell by cell\n\n")
	fmt.Fprintf(b, "Throughput per client in MB/s; the ratio is process / thread (above 1: process mode is faster).\n\n")
	fmt.Fprintf(b, "| Operation | Volume | Client workers | Server workers | Thread | Process | Process / thread |\n")
	fmt.Fprintf(b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range ps {
		ratio := "n/a"
		if !math.IsNaN(p.ratio) {
			ratio = fmt.Sprintf("%.2f", p.ratio)
		}
		fmt.Fprintf(b, "| %s | %s | %d | %d | %.1f | %.1f | %s |\n", p.k.op, volumeLabel(p.k.volume), p.k.clients, p.k.servers,
			p.thread.ThroughputPerClient/mb, p.process.ThroughputPerClient/mb, ratio)
	}
	fmt.Fprintln(b)
	writeCPUComparison(b, ps)
}

// writeCPUComparison compares the server's CPU per MB in the two modes,
// cell by cell, where both rows recorded it.
func writeCPUComparison(b *strings.Builder, ps []pair) {
	var withCPU []pair
	for _, p := range ps {
		if !math.IsNaN(p.cpuRatio) {
			withCPU = append(withCPU, p)
		}
	}
	fmt.Fprintf(b, "### Server CPU per MB, thread versus process\n\n")
	if len(withCPU) == 0 {
		fmt.Fprintf(b, "Server CPU was not recorded in both modes for any cell (`server_cpu_s` is empty: a CSV written before the column, or a server without `cpu_us` in its STATS), so the modes' CPU cost cannot be compared.\n\n")
		return
	}
	v := judgeCPU(withCPU)
	fmt.Fprintf(b, "The server's CPU milliseconds, user and system, per MB the cell moved (client workers × volume); the ratio is process / thread (above 1: process mode costs more CPU per MB). Over the %d cells recorded in both modes, process mode uses **%.2f×** thread mode's CPU per MB (geometric mean).", v.cells, v.geomean)
	switch left := len(ps) - len(withCPU); {
	case left == 1:
		fmt.Fprintf(b, " 1 cell measured in both modes is left out: CPU was not recorded in one of its rows.")
	case left > 1:
		fmt.Fprintf(b, " %d cells measured in both modes are left out: CPU was not recorded in one of their rows.", left)
	}
	fmt.Fprintf(b, "\n\n| Operation | Volume | Client workers | Server workers | Thread (ms/MB) | Process (ms/MB) | Process / thread |\n")
	fmt.Fprintf(b, "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, p := range withCPU {
		fmt.Fprintf(b, "| %s | %s | %d | %d | %s | %s | %.2f |\n", p.k.op, volumeLabel(p.k.volume), p.k.clients, p.k.servers,
			cpuCell(p.thread, p.thread.ServerCPU), cpuCell(p.process, p.process.ServerCPU), p.cpuRatio)
	}
	fmt.Fprintln(b)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// WriteDir writes the rendered files into dir, each atomically (a
// temporary file renamed into place), so a reader never sees half a report.
func WriteDir(dir string, files map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	names := slices.Sorted(maps.Keys(files))
	for _, name := range names {
		tmp := filepath.Join(dir, "."+name+".tmp")
		if err := os.WriteFile(tmp, files[name], 0o644); err != nil {
			return err
		}
		if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
			os.Remove(tmp)
			return err
		}
	}
	return nil
}
