// Package report renders a matrix CSV written by filestressd into the
// Markdown report and SVG charts of results/: the assignment's table per
// server mode, thread against process cell by cell, and throughput charts.
package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Row is one cell of the matrix, as filestressd appends it.
type Row struct {
	No                   int
	Timestamp            string
	Operation            string
	Volume               string
	VolumeBytes          int64
	ClientWorkers        int
	ClientPool           string
	ServerWorkers        int // 0 when the server did not say (no STATS)
	ServerMode           string
	TimePerClient        float64 // seconds, mean over successful workers
	ThroughputPerClient  float64 // bytes per second, mean over successful workers
	ClientOK, ClientFail int
	ServerOK, ServerFail int // -1 when unknown
	Wall                 float64
	Aggregate            float64
	P50, P95, Max        float64
	Errors               string
	// Verified is how the transfers were verified: reply, readback or
	// none; empty in CSVs written before the column existed.
	Verified string
	// ServerCPU and ClientCPU are the CPU seconds, user and system, the
	// server and filestressd used in the measured window; -1 when not
	// recorded (a CSV written before the columns, or a server whose STATS
	// has no cpu_us).
	ServerCPU, ClientCPU float64
	// Repeat is which repetition of its cell the row is, from 1; 1 in
	// CSVs written before the column, where each cell ran once.
	Repeat int
	// RunID names the run_matrix.sh invocation that wrote the row;
	// empty in CSVs written before the column, or by filestressd alone.
	RunID string
	// Host is the client host that ran the row (run_matrix.sh
	// CLIENT_HOSTS); after ReadRows merges a cell's rows from several
	// hosts, their names joined by "+". Empty for a cell run on one
	// machine, and in CSVs written before the column.
	Host string
}

// cpuPerMB is seconds of CPU per MB the cell moved (client workers x
// volume), in milliseconds, and whether there is such a figure: not when
// it was not recorded, nor for a cell that moves no volume.
func (r Row) cpuPerMB(seconds float64) (float64, bool) {
	moved := float64(r.ClientWorkers) * float64(r.VolumeBytes) / mb
	if seconds < 0 || moved <= 0 {
		return 0, false
	}
	return seconds * 1000 / moved, true
}

// key names a cell of the matrix regardless of the server mode.
type key struct {
	op               string
	volume           int64
	clients, servers int
}

func (r Row) key() key { return key{r.Operation, r.VolumeBytes, r.ClientWorkers, r.ServerWorkers} }

// ReadRows parses a matrix CSV by its header's column names, so columns
// added later do not break old reports, and merges the rows of a cell
// that several client hosts ran into one (see mergeHosts).
func ReadRows(r io.Reader) ([]Row, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	for _, need := range []string{"no", "operation", "volume_bytes", "client_workers", "server_workers", "server_mode", "time_per_client_s", "throughput_per_client_Bps", "client_ok", "client_fail"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("not a matrix CSV: no %q column", need)
		}
	}
	var rows []Row
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return mergeHosts(rows), nil
		}
		if err != nil {
			return nil, err
		}
		p := fieldParser{rec: rec, col: col}
		row := Row{
			No: p.int("no"), Timestamp: p.str("timestamp"), Operation: p.str("operation"),
			Volume: p.str("volume"), VolumeBytes: int64(p.float("volume_bytes")),
			ClientWorkers: p.int("client_workers"), ClientPool: p.str("client_pool"),
			ServerWorkers: p.intOr("server_workers", 0), ServerMode: p.str("server_mode"),
			TimePerClient: p.float("time_per_client_s"), ThroughputPerClient: p.float("throughput_per_client_Bps"),
			ClientOK: p.int("client_ok"), ClientFail: p.int("client_fail"),
			ServerOK: p.intOr("server_ok", -1), ServerFail: p.intOr("server_fail", -1),
			Wall: p.float("wall_s"), Aggregate: p.float("aggregate_Bps"),
			P50: p.float("p50_s"), P95: p.float("p95_s"), Max: p.float("max_s"),
			Errors: p.str("errors"), Verified: p.str("verified"),
			ServerCPU: p.floatOr("server_cpu_s", -1), ClientCPU: p.floatOr("client_cpu_s", -1),
			Repeat: p.intOr("repeat", 1), RunID: p.str("run_id"), Host: p.str("host"),
		}
		if row.Repeat < 1 && p.err == nil {
			p.err = fmt.Errorf("column repeat: %d is not a repeat number (they start at 1)", row.Repeat)
		}
		if p.err != nil {
			return nil, fmt.Errorf("line %d: %w", line, p.err)
		}
		rows = append(rows, row)
	}
}

// fieldParser reads named fields of one record, keeping the first error.
type fieldParser struct {
	rec []string
	col map[string]int
	err error
}

func (p *fieldParser) str(name string) string {
	if i, ok := p.col[name]; ok && i < len(p.rec) {
		return p.rec[i]
	}
	return ""
}

func (p *fieldParser) float(name string) float64 {
	s := p.str(name)
	if s == "" {
		return 0
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && p.err == nil {
		p.err = fmt.Errorf("column %s: %q is not a number", name, s)
	}
	return f
}

func (p *fieldParser) int(name string) int { return int(p.float(name)) }

// intOr returns def for an empty field.
func (p *fieldParser) intOr(name string, def int) int {
	if p.str(name) == "" {
		return def
	}
	return p.int(name)
}

// floatOr returns def for an empty or missing field.
func (p *fieldParser) floatOr(name string, def float64) float64 {
	if p.str(name) == "" {
		return def
	}
	return p.float(name)
}

// RunSpec is one -run of the report command: LABEL=FILE or
// LABEL=FILE:MODE.
type RunSpec struct {
	Label, File string
	// Mode is the server mode after FILE's colon: "none" selects the rows
	// without one (a server without STATS); empty when not given.
	Mode string
}

// ParseRunSpec parses LABEL=FILE[:MODE]. The mode is what follows FILE's
// last colon when it is a plain word (letters, digits, '-' and '_'), so a
// colon elsewhere in a path is left alone.
func ParseRunSpec(s string) (RunSpec, error) {
	label, file, ok := strings.Cut(s, "=")
	if !ok || label == "" || file == "" {
		return RunSpec{}, fmt.Errorf("-run %q: want LABEL=FILE or LABEL=FILE:MODE", s)
	}
	if strings.ContainsAny(label, "|`*") {
		return RunSpec{}, fmt.Errorf("-run %q: a label cannot hold | ` or *, which Markdown would read", s)
	}
	spec := RunSpec{Label: label, File: file}
	if i := strings.LastIndexByte(file, ':'); i >= 0 && isWord(file[i+1:]) {
		spec.File, spec.Mode = file[:i], file[i+1:]
		if spec.File == "" {
			return RunSpec{}, fmt.Errorf("-run %q: no file before the mode", s)
		}
	}
	return spec, nil
}

func isWord(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Select picks the spec's rows of its file: those of the server mode it
// names; without one, those of the mode its label names if the file has
// rows of that mode, else all of them.
func (sp RunSpec) Select(rows []Row, source string) Run {
	run := Run{Label: sp.Label, Source: source, Mode: sp.Mode}
	mode := sp.Mode
	if mode == "none" {
		mode = ""
	}
	if sp.Mode == "" {
		if !slices.ContainsFunc(rows, func(r Row) bool { return r.ServerMode == sp.Label }) {
			run.Rows = rows
			return run
		}
		mode, run.Mode = sp.Label, sp.Label
	}
	run.Rows = rowsOf(rows, mode)
	return run
}
