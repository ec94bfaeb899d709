// Package report renders matrix CSVs written by filestressd into the
// Markdown report and SVG charts of results/: the verdict of thread
// against process (or of labelled runs, or of several servers) first, as
// a sentence and a chart, then the charts and tables behind it.
//
// The statistics are in files of their own (stats.go, floor.go,
// decide.go, timeline.go); the Markdown (markdown.go, prose.go,
// tables.go) and the charts (svg.go and chart*.go) only format what they
// decided.
package report

import (
	"fmt"
	"slices"
	"strings"

	"fileserver/filestressd/results"
)

// Row is one cell of the matrix: package results owns the CSV's columns,
// and reads them for the report (results.ReadRows).
type Row = results.Row

// cpuPerMB is seconds of CPU per MB the cell moved (client workers x
// volume), in milliseconds, and whether there is such a figure: not when
// it was not recorded, nor for a cell that moves no volume.
func cpuPerMB(r Row, seconds float64) (float64, bool) {
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

func keyOf(r Row) key { return key{r.Operation, r.VolumeBytes, r.ClientWorkers, r.ServerWorkers} }

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
	label, file, err := parseLabelled("-run", s, "LABEL=FILE or LABEL=FILE:MODE")
	if err != nil {
		return RunSpec{}, err
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
func (sp RunSpec) Select(rows []Row, source string) Side {
	s := Side{Label: sp.Label, Source: source, Mode: sp.Mode}
	mode := sp.Mode
	if mode == "none" {
		mode = ""
	}
	if sp.Mode == "" {
		if !slices.ContainsFunc(rows, func(r Row) bool { return r.ServerMode == sp.Label }) {
			s.Rows = rows
			return s
		}
		mode, s.Mode = sp.Label, sp.Label
	}
	s.Rows = rowsOf(rows, mode)
	return s
}

// checkLabel refuses labels that would not read as one word of a
// sentence or a file name's part: empty, control characters, or Markdown's
// table and emphasis marks.
func checkLabel(label string) error {
	if strings.ContainsAny(label, "|`*") {
		return fmt.Errorf("a label cannot hold | ` or *, which Markdown would read")
	}
	if oneLine(label) != label {
		return fmt.Errorf("a label cannot hold line breaks or control characters")
	}
	return nil
}

// ServerSpec is one -server of the report command: LABEL=FILE, one
// server's matrix CSV with both modes.
type ServerSpec struct{ Label, File string }

// ParseServerSpec parses LABEL=FILE.
func ParseServerSpec(s string) (ServerSpec, error) {
	label, file, err := parseLabelled("-server", s, "LABEL=FILE")
	return ServerSpec{label, file}, err
}

// parseLabelled splits s, the value of flag, at its first '=' into a
// label (see checkLabel) and a file, both there; want is the form for
// the error.
func parseLabelled(flag, s, want string) (label, file string, err error) {
	label, file, ok := strings.Cut(s, "=")
	if !ok || label == "" || file == "" {
		return "", "", fmt.Errorf("%s %q: want %s", flag, s, want)
	}
	if err := checkLabel(label); err != nil {
		return "", "", fmt.Errorf("%s %q: %w", flag, s, err)
	}
	return label, file, nil
}

// Server is one server's rows, both modes, as -server gives them.
type Server struct {
	Label, Source string
	Rows          []Row
}
