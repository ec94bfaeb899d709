package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"fileserver/filestressd/results"
	"fileserver/filestressd/stress"
)

// runCell measures the cell o names (stress.MeasureCell) and writes it:
// its summary on stdout (nothing with -quiet), the progress line on
// stderr, and its JSON lines and CSV row. An error means the cell did
// not run and no row was written.
func runCell(ctx context.Context, o options, stdout, stderr io.Writer) error {
	if o.Quiet {
		stdout = io.Discard
	}
	verbose := io.Discard
	if o.Verbose {
		verbose = stderr
	}
	if o.CSV != "" {
		if _, err := results.Stat(o.CSV); err != nil {
			return err
		}
	}
	h := stress.Hooks{Notes: stdout, Warnings: stderr, Verbose: verbose, Progress: progressHook(o, stderr)}
	c, err := stress.MeasureCell(ctx, o.Config, h)
	if err != nil {
		return err
	}
	return writeCell(o, c, stdout, verbose)
}

// writeCell prints the cell's summary and appends its JSON lines and CSV
// row.
func writeCell(o options, c stress.Result, stdout, verbose io.Writer) error {
	c.WriteSummary(stdout, verbose)
	// The JSON lines go first, naming the row the CSV is about to get, so
	// that a -json that cannot be written leaves the CSV without the row
	// (exit 1: nothing appended to it).
	no := o.No
	if o.CSV != "" && no == 0 {
		st, err := results.Stat(o.CSV)
		if err != nil {
			return err
		}
		no = st.Next
	}
	if o.JSON != "" {
		lines := c.Records(no)
		if err := appendJSONLines(o.JSON, lines); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "json:             %d worker lines appended to %s\n", len(lines), o.JSON)
	}
	if o.CSV != "" {
		no, left, err := results.Append(o.CSV, no, c.Row)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "csv:              row %d appended to %s\n", no, o.CSV)
		if len(left) > 0 {
			fmt.Fprintf(stdout, "note: %s predates the column(s) %s, left out of the row: use a new CSV to have them\n", o.CSV, strings.Join(left, ", "))
		}
	}
	return nil
}

// appendJSONLines appends lines to path, one JSON object a line, in a
// single write so that a reader never sees half a cell; a failed write
// leaves the file as it was (see results.AppendAll).
func appendJSONLines(path string, lines []stress.WorkerRecord) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil { // Encode ends each with a newline
			return fmt.Errorf("-json: %w", err)
		}
	}
	if err := results.AppendAll(path, buf.Bytes()); err != nil {
		return fmt.Errorf("-json: %w", err)
	}
	return nil
}
