// Package results owns the matrix CSV: its columns, the Row each line
// holds, the writer filestressd appends a row with, and the reader the
// report renders from, side by side as vegeta's lib/results.go keeps a
// format's encoder next to its decoder, so that the two cannot disagree.
// README.md defines each column. CSVs written before the last columns
// were added still read, and are still appended to, cut to their own
// columns.
package results

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
)

// columns is the matrix's header, in order. A column added later goes at
// the end, with an entry in legacyColumns.
var columns = []string{
	"no", "timestamp", "operation", "volume", "volume_bytes", "client_workers", "client_pool",
	"server_workers", "server_mode", "time_per_client_s", "throughput_per_client_Bps",
	"client_ok", "client_fail", "server_ok", "server_fail", "wall_s", "aggregate_Bps",
	"p50_s", "p95_s", "max_s", "errors", "verified", "server_cpu_s", "client_cpu_s",
	"repeat", "run_id", "host", "request_form", "server_peak_rss_bytes", "server_peak_rss_scope",
}

// Header returns the matrix's column names, in order.
func Header() []string { return slices.Clone(columns) }

// legacyColumns is, for each column added to the schema after CSVs were
// already written, how many columns those older CSVs have: the columns
// before it, oldest first.
var legacyColumns = []int{slices.Index(columns, "verified"), slices.Index(columns, "server_cpu_s"), slices.Index(columns, "repeat"), slices.Index(columns, "host"), slices.Index(columns, "request_form")}

// LegacyWidths returns how many columns the older CSVs that are still
// read and appended to have, oldest first.
func LegacyWidths() []int { return slices.Clone(legacyColumns) }

// required are the columns a CSV must have to be read at all.
var required = []string{"no", "operation", "volume_bytes", "client_workers", "server_workers", "server_mode", "time_per_client_s", "throughput_per_client_Bps", "client_ok", "client_fail"}

// Row is one cell of the matrix. A figure that does not exist is written
// as an empty field, not zero, and read back as the value each field's
// comment gives: no successful worker has no time, list moves no volume,
// and a server without STATS has no counts.
type Row struct {
	No            int
	Timestamp     string // RFC 3339
	Operation     string // upload, download or list
	Volume        string // "" for list
	VolumeBytes   int64  // empty for list
	ClientWorkers int
	ClientPool    string
	ServerWorkers int // 0, empty, when the server did not say (no STATS)
	ServerMode    string
	// TimePerClient is seconds, and ThroughputPerClient bytes per second
	// (empty for list too), means over successful workers: 0, empty, when
	// none succeeded.
	TimePerClient        float64
	ThroughputPerClient  float64
	ClientOK, ClientFail int
	ServerOK, ServerFail int // -1, empty, when unknown
	Wall                 float64
	Aggregate            float64 // bytes per second; empty for list
	// P50, P95 and Max are over successful workers: 0, empty, when none
	// succeeded.
	P50, P95, Max float64
	Errors        string
	// Verified is how the transfers were verified: reply, readback or
	// none (several joined by "+"); empty for list, when none succeeded,
	// and in CSVs written before the column existed.
	Verified string
	// ServerCPU and ClientCPU are the CPU seconds, user and system, the
	// server and filestressd used in the measured window; -1, empty, when
	// not recorded (a CSV written before the columns, or a server whose
	// STATS has no cpu_us).
	ServerCPU, ClientCPU float64
	// Repeat is which repetition of its cell the row is, from 1; 1 in
	// CSVs written before the column, where each cell ran once.
	Repeat int
	// RunID names the run_matrix.sh invocation that wrote the row;
	// empty in CSVs written before the column, or by filestressd alone.
	RunID string
	// Host is the client host that ran the row (run_matrix.sh
	// CLIENT_HOSTS, filestressd -host); after the report merges a cell's
	// rows from several hosts, their names joined by "+". Empty for a
	// cell run on one machine, and in CSVs written before the column.
	Host string
	// RequestForm is how filestressd spoke to the server: the request
	// form and, for uploads, the upload form that -request auto settled
	// on or the flags named. Empty in CSVs written before the column.
	RequestForm string
	// ServerPeakRSS is the peak resident memory, in bytes, of the
	// server's whole process tree (children included) as filestressd
	// measured it; -1, empty, when not measured. ServerPeakRSSScope says
	// what it covers: "window" (reset before the measured window) or
	// "start" (the peak since the server started); empty with no figure.
	ServerPeakRSS      int64
	ServerPeakRSSScope string
}

// Record lays r out in the header's columns.
func (r Row) Record() []string {
	hasVolume := r.Operation != "list"
	anyOK := r.ClientOK > 0
	// opt is s, or an empty field for a figure that does not exist.
	opt := func(ok bool, s string) string {
		if !ok {
			return ""
		}
		return s
	}
	rate := func(v float64, ok bool) string { return opt(ok, strconv.FormatFloat(v, 'f', 0, 64)) }
	seconds := func(v float64, ok bool) string { return opt(ok, strconv.FormatFloat(v, 'f', 6, 64)) }
	count := func(n int, ok bool) string { return opt(ok, strconv.Itoa(n)) }
	count64 := func(n int64, ok bool) string { return opt(ok, strconv.FormatInt(n, 10)) }
	volumeBytes := count64(r.VolumeBytes, hasVolume)
	return []string{
		strconv.Itoa(r.No), r.Timestamp, r.Operation, r.Volume, volumeBytes,
		strconv.Itoa(r.ClientWorkers), r.ClientPool,
		count(r.ServerWorkers, r.ServerWorkers > 0), r.ServerMode,
		seconds(r.TimePerClient, anyOK), rate(r.ThroughputPerClient, anyOK && hasVolume),
		strconv.Itoa(r.ClientOK), strconv.Itoa(r.ClientFail),
		count(r.ServerOK, r.ServerOK >= 0), count(r.ServerFail, r.ServerFail >= 0),
		seconds(r.Wall, true), rate(r.Aggregate, hasVolume),
		seconds(r.P50, anyOK), seconds(r.P95, anyOK), seconds(r.Max, anyOK),
		r.Errors, r.Verified,
		seconds(r.ServerCPU, r.ServerCPU >= 0), seconds(r.ClientCPU, r.ClientCPU >= 0),
		strconv.Itoa(r.Repeat), r.RunID, r.Host, r.RequestForm,
		count64(r.ServerPeakRSS, r.ServerPeakRSS >= 0), r.ServerPeakRSSScope,
	}
}

// ReadRows parses a matrix CSV by its header's column names, so that
// columns added later do not break old reports. It reads strictly: a row
// with more or fewer fields than the header, a negative or non-finite
// (NaN, Inf) figure, a fraction where a count belongs, or a peak-memory
// scope other than window or start is refused, naming the line and the
// column.
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
	for _, need := range required {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("not a matrix CSV: no %q column", need)
		}
	}
	var rows []Row
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != len(header) {
			return nil, fmt.Errorf("line %d: %d fields where the header has %d columns (%s)", line, len(rec), len(header), widthHint(header, len(rec)))
		}
		p := fieldParser{rec: rec, col: col}
		row := Row{
			No: p.count("no", 0), Timestamp: p.str("timestamp"), Operation: p.str("operation"),
			Volume: p.str("volume"), VolumeBytes: p.count64("volume_bytes", 0),
			ClientWorkers: p.count("client_workers", 0), ClientPool: p.str("client_pool"),
			ServerWorkers: p.count("server_workers", 0), ServerMode: p.str("server_mode"),
			TimePerClient: p.figure("time_per_client_s", 0), ThroughputPerClient: p.figure("throughput_per_client_Bps", 0),
			ClientOK: p.count("client_ok", 0), ClientFail: p.count("client_fail", 0),
			ServerOK: p.count("server_ok", -1), ServerFail: p.count("server_fail", -1),
			Wall: p.figure("wall_s", 0), Aggregate: p.figure("aggregate_Bps", 0),
			P50: p.figure("p50_s", 0), P95: p.figure("p95_s", 0), Max: p.figure("max_s", 0),
			Errors: p.str("errors"), Verified: p.str("verified"),
			ServerCPU: p.figure("server_cpu_s", -1), ClientCPU: p.figure("client_cpu_s", -1),
			Repeat: p.count("repeat", 1), RunID: p.str("run_id"), Host: p.str("host"),
			RequestForm: p.str("request_form"), ServerPeakRSS: p.count64("server_peak_rss_bytes", -1),
			ServerPeakRSSScope: p.oneOf("server_peak_rss_scope", "", "window", "start"),
		}
		if row.Repeat < 1 && p.err == nil {
			p.err = fmt.Errorf("column repeat: %d is not a repeat number (they start at 1)", row.Repeat)
		}
		if p.err != nil {
			return nil, fmt.Errorf("line %d, %w", line, p.err)
		}
		rows = append(rows, row)
	}
}

// widthHint says which columns a row of n fields lacks, or has too many.
func widthHint(header []string, n int) string {
	if n < len(header) {
		return fmt.Sprintf("no %s", header[n])
	}
	return fmt.Sprintf("%d more than the header", n-len(header))
}

// ReadFile reads the rows of the matrix CSV at path (see ReadRows).
func ReadFile(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := ReadRows(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rows, nil
}

// fieldParser reads named fields of one record, keeping the first error.
// A column the header does not have reads as an empty field.
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

func (p *fieldParser) fail(name, format string, args ...any) {
	if p.err == nil {
		p.err = fmt.Errorf("column %s: %s", name, fmt.Sprintf(format, args...))
	}
}

// figure is a time, rate or CPU time: a finite number, not negative; def
// for an empty field.
func (p *fieldParser) figure(name string, def float64) float64 {
	return nonNegative(p, name, def, func(s string) (float64, string) {
		f, err := strconv.ParseFloat(s, 64)
		switch {
		case err != nil && !errors.Is(err, strconv.ErrRange):
			return 0, "a number"
		case math.IsNaN(f) || math.IsInf(f, 0):
			return 0, "a finite number"
		}
		return f, ""
	})
}

// count64 is a count or a size in bytes: a whole number, not negative;
// def for an empty field.
func (p *fieldParser) count64(name string, def int64) int64 {
	return nonNegative(p, name, def, func(s string) (int64, string) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, "a whole number"
		}
		return n, ""
	})
}

// nonNegative is the named field as parse reads it, def for an empty
// field and, with p's error set, for one that is not what parse wants (it
// says what: "a number") or is negative.
func nonNegative[T int64 | float64](p *fieldParser, name string, def T, parse func(string) (T, string)) T {
	s := p.str(name)
	if s == "" {
		return def
	}
	v, want := parse(s)
	switch {
	case want != "":
		p.fail(name, "%q is not %s", s, want)
	case v < 0:
		p.fail(name, "%s is negative", s)
	default:
		return v
	}
	return def
}

func (p *fieldParser) count(name string, def int) int {
	n := p.count64(name, int64(def))
	if n > math.MaxInt32 {
		p.fail(name, "%d is beyond any count the matrix makes", n)
		return def
	}
	return int(n)
}

// oneOf is a field that must be one of the words given.
func (p *fieldParser) oneOf(name string, words ...string) string {
	s := p.str(name)
	if !slices.Contains(words, s) {
		p.fail(name, "%q is none of %q", s, words[1:])
		return ""
	}
	return s
}

// File is what an existing CSV file tells before a row is appended.
type File struct {
	// Empty reports a new or empty file: the header comes first.
	Empty bool
	// Next is one past the last row's number.
	Next int
	// Columns is how many of the header's columns the file has: fewer in
	// a CSV written before the last columns were added.
	Columns int
	// unterminated reports that the file does not end in a line break.
	unterminated bool
}

// Stat checks that path is new, empty, or a CSV with the header (or a
// legacy one), and finds the next row number: one past the last row's
// "no", or, when that is not a number, one past the count of rows. It
// reads one record at a time.
func Stat(path string) (File, error) {
	st := File{Empty: true, Next: 1, Columns: len(columns)}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("-csv: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return st, fmt.Errorf("-csv: %w", err)
	}
	if info.Size() == 0 {
		return st, nil
	}
	st.Empty = false
	var last [1]byte
	if _, err := f.ReadAt(last[:], info.Size()-1); err != nil {
		return st, fmt.Errorf("-csv %q: %w", path, err)
	}
	st.unterminated = last[0] != '\n'
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return st, fmt.Errorf("-csv %q: %w", path, err)
	}
	known := slices.Equal(header, columns)
	for _, n := range legacyColumns {
		if !known && slices.Equal(header, columns[:n]) {
			known, st.Columns = true, n
		}
	}
	if !known {
		return st, fmt.Errorf("-csv %q: not a filestressd CSV (its header differs); use another file", path)
	}
	rows := 0
	lastNo := -1
	for { // ends at EOF: every Read consumes input
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return st, fmt.Errorf("-csv %q: %w", path, err)
		}
		rows++
		lastNo = -1
		if n, err := strconv.Atoi(rec[0]); err == nil && n >= 0 {
			lastNo = n
		}
	}
	st.Next = rows + 1
	if lastNo >= 0 {
		st.Next = lastNo + 1
	}
	return st, nil
}

// Append appends one row to the CSV, after the header if the file is new
// or empty, in a single write so that a reader never sees half a row. no
// 0 means the next number. It returns the number written, and the
// columns left out because the file predates them.
func Append(path string, no int, row func(no int) Row) (int, []string, error) {
	st, err := Stat(path)
	if err != nil {
		return 0, nil, err
	}
	if no == 0 {
		no = st.Next
	}
	var buf bytes.Buffer
	if st.unterminated {
		buf.WriteByte('\n')
	}
	w := csv.NewWriter(&buf)
	if st.Empty {
		w.Write(columns)
	}
	w.Write(row(no).Record()[:st.Columns])
	w.Flush()
	if err := w.Error(); err != nil {
		return 0, nil, fmt.Errorf("-csv: %w", err)
	}
	if err := AppendAll(path, buf.Bytes()); err != nil {
		return 0, nil, fmt.Errorf("-csv: %w", err)
	}
	return no, slices.Clone(columns[st.Columns:]), nil
}

// AppendAll appends data to the file at path, creating it if need be, in
// one write so that a reader never sees part of it, or leaves the file as
// it was: a write or close that fails (a full disk, say) removes the file
// this call created, and cuts one that existed back to its length, so
// that neither an empty file nor half a row is left behind.
func AppendAll(path string, data []byte) error {
	created := true
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, os.ErrExist) {
		created = false
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o644)
	}
	if err != nil {
		return err
	}
	var size int64
	if !created {
		info, err := f.Stat()
		if err != nil {
			f.Close()
			return err
		}
		size = info.Size()
	}
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		return nil
	}
	undo, done := os.Truncate(path, size), "the file is left as it was"
	if created {
		undo, done = os.Remove(path), "the new file is removed"
	}
	if undo != nil {
		return fmt.Errorf("%w (and restoring the file failed: %v)", err, undo)
	}
	return fmt.Errorf("%w (%s)", err, done)
}
