package main

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
)

// csvState is what an existing CSV file tells before a row is appended.
type csvState struct {
	empty bool // new or empty: the header comes first
	next  int  // one past the last row's number
	// newline reports that the file does not end in a line break.
	newline bool
	// columns is how many of csvColumns the file has: fewer in a CSV
	// written before the last columns were added.
	columns int
}

// legacyColumns is, for each column added to the schema after CSVs were
// already written, how many columns those older CSVs have: the columns
// before it in the header. "verified" came first, then "server_cpu_s"
// with "client_cpu_s", then "repeat" with "run_id", then "host". Rows are appended to
// an older CSV cut to its columns: without the column and any after it.
var legacyColumns = []int{slices.Index(csvHeader(), "verified"), slices.Index(csvHeader(), "server_cpu_s"), slices.Index(csvHeader(), "repeat"), slices.Index(csvHeader(), "host")}

// readCSV checks that path is new, empty, or a CSV with csvHeader, and
// finds the next row number: one past the last row's "no", or, when that
// is not a number, one past the count of rows. It reads one record at a
// time.
func readCSV(path string) (csvState, error) {
	st := csvState{empty: true, next: 1, columns: len(csvHeader())}
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
	st.empty = false
	var last [1]byte
	if _, err := f.ReadAt(last[:], info.Size()-1); err != nil {
		return st, fmt.Errorf("-csv %q: %w", path, err)
	}
	st.newline = last[0] != '\n'
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		return st, fmt.Errorf("-csv %q: %w", path, err)
	}
	known := slices.Equal(header, csvHeader())
	for _, n := range legacyColumns {
		if !known && slices.Equal(header, csvHeader()[:n]) {
			known, st.columns = true, n
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
	st.next = rows + 1
	if lastNo >= 0 {
		st.next = lastNo + 1
	}
	return st, nil
}

// appendRow appends one row to the CSV, after the header if the file is
// new or empty, in a single write so that a reader never sees half a row.
// no 0 means the next number. It returns the number written, and the
// columns left out because the file predates them.
func appendRow(path string, no int, row func(no int) []string) (int, []string, error) {
	st, err := readCSV(path)
	if err != nil {
		return 0, nil, err
	}
	if no == 0 {
		no = st.next
	}
	var buf bytes.Buffer
	if st.newline {
		buf.WriteByte('\n')
	}
	w := csv.NewWriter(&buf)
	if st.empty {
		w.Write(csvHeader())
	}
	w.Write(row(no)[:st.columns])
	w.Flush()
	if err := w.Error(); err != nil {
		return 0, nil, fmt.Errorf("-csv: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return 0, nil, fmt.Errorf("-csv: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return 0, nil, fmt.Errorf("-csv %q: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return 0, nil, fmt.Errorf("-csv %q: %w", path, err)
	}
	return no, csvHeader()[st.columns:], nil
}
