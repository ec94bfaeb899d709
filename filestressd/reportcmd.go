package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fileserver/filestressd/report"
	"fileserver/filestressd/results"
	"fileserver/filestressd/stress"
)

const reportUsage = `filestressd report renders matrix CSVs into a Markdown report that leads
with the verdict (a sentence, a chart of every cell's ratio with its 95%
interval and the A/A noise floor, the widest gaps), then throughput
charts, the server's CPU per MB and peak memory, queue-wave timelines from
per-worker JSON lines, the assignment's tables, and how to read it all.

By default it reads one CSV (-csv) and compares process mode with thread
mode. -server puts several servers' matrices side by side (each with both
modes; the first, or -baseline, is the baseline), -run any runs, each
compared with the -baseline run (by default the first -run):

  -server LABEL=FILE     FILE is one server's matrix CSV (both modes)
  -run LABEL=FILE[:MODE] the rows of FILE whose server mode is MODE, or
                         LABEL if FILE has any, else all; MODE "none"
                         selects rows without one (a server without STATS)

A run must hold one server mode, and -out is required with -run. How cells
are matched and when a difference is declared (a 95% bootstrap interval
beyond the A/A noise floor): the README's "Reading the report". The
timelines read -workers-json, by default FILE-workers.jsonl beside each
FILE.csv.

Usage:
  filestressd report [flags]

Examples:
  filestressd report                                  # results/matrix.csv -> results/README.md
  filestressd report -csv /tmp/m.csv -out /tmp/report -wall 1h2m
  filestressd report -csv results/matrix.csv -baseline process -out /tmp/r
  filestressd report -server fileserverd=results/matrix.csv -server student=/tmp/student.csv -out /tmp/both
  filestressd report -csv m.csv -workers-json m-workers.jsonl -timeline download-100MB-50x5 -out /tmp/r
  filestressd report -run thread=results/matrix.csv -run process=results/matrix.csv \
      -run student=results/student.csv -baseline thread -out /tmp/side-by-side

Flags:
`

// reportConfig is the report subcommand's command line.
type reportConfig struct {
	CSV, Out, Perf string
	Wall           time.Duration
	Runs           []report.RunSpec
	Servers        []report.ServerSpec
	Baseline       string
	Notes          [][2]string
	// WorkersJSON are -workers-json files, each "FILE" or, with -server,
	// "LABEL=FILE"; noWorkers is -workers-json "", which turns the
	// default file off.
	WorkersJSON []string
	noWorkers   bool
	Timelines   []report.CellSpec
}

// parseReportFlags reads the report's command line; -h prints the usage
// to help (stdout, as filestressd -h does) and returns flag.ErrHelp.
func parseReportFlags(args []string, help io.Writer) (reportConfig, error) {
	var cfg reportConfig
	fs := flag.NewFlagSet("filestressd report", flag.ContinueOnError)
	fs.StringVar(&cfg.CSV, "csv", "results/matrix.csv", "matrix CSV to read (`file`); not with -run or -server")
	fs.StringVar(&cfg.Out, "out", "", "`directory` for README.md and the charts (default: the CSV's directory, or the first -server's; required with -run)")
	fs.StringVar(&cfg.Perf, "perf", "", "Markdown `file` of benchmark figures for the report to link to\n(default: performance.md beside the CSV, if there)")
	fs.DurationVar(&cfg.Wall, "wall", 0, "the matrix's total wall time, to state in the report (default: the sum of the cells' wall times)")
	fs.Func("run", "a run to show, as `LABEL=FILE[:MODE]`; repeat the flag for each run (see above)",
		appendParsed(&cfg.Runs, report.ParseRunSpec))
	fs.Func("server", "a server's matrix CSV with both modes, as `LABEL=FILE`; repeat the flag for each server,\nthe first the baseline (see above)",
		appendParsed(&cfg.Servers, report.ParseServerSpec))
	fs.Func("workers-json", "per-worker JSON lines (filestressd -json) for the timelines, as `FILE` (with -server, LABEL=FILE);\nrepeat for more; \"\" draws none (default: FILE-workers.jsonl beside each FILE.csv, if there)", func(s string) error {
		if s == "" {
			cfg.noWorkers = true
			return nil
		}
		cfg.WorkersJSON = append(cfg.WorkersJSON, s)
		return nil
	})
	fs.Func("timeline", "a `cell` to draw the queue waves of, as OP-VOLUME-CLIENTSxSERVERS, e.g. download-100MB-50x5;\nrepeat for more (default: the largest cells of each -workers-json file)",
		appendParsed(&cfg.Timelines, report.ParseCellSpec))
	fs.Func("note", "a line of the report's \"Machine and run\" table, as `NAME=TEXT`, e.g. -note \"Network=lan1g: tbf 1gbit on every veth\";\nrepeat the flag for more", func(s string) error {
		name, text, ok := strings.Cut(s, "=")
		if !ok || name == "" || strings.ContainsAny(s, "|\n") {
			return fmt.Errorf("want NAME=TEXT without | or line breaks, got %q", s)
		}
		cfg.Notes = append(cfg.Notes, [2]string{name, text})
		return nil
	})
	fs.StringVar(&cfg.Baseline, "baseline", "", "`label` of the run (or server) the others are compared with (default: thread with -csv, the first -run or -server)")
	if err := parseOrHelp(fs, args, reportUsage, help); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	csvSet := false
	fs.Visit(func(f *flag.Flag) { csvSet = csvSet || f.Name == "csv" })
	switch {
	case csvSet && len(cfg.Runs) > 0:
		return cfg, fmt.Errorf("-csv and -run do not go together: give the CSV as -run runs, e.g. -run thread=%s -run process=%s", cfg.CSV, cfg.CSV)
	case csvSet && len(cfg.Servers) > 0:
		return cfg, fmt.Errorf("-csv and -server do not go together: give the CSV as a -server, e.g. -server fileserverd=%s", cfg.CSV)
	case len(cfg.Runs) > 0 && len(cfg.Servers) > 0:
		return cfg, fmt.Errorf("-run and -server do not go together: -server compares whole matrices, -run single runs")
	case len(cfg.Runs) > 0 && cfg.Out == "":
		return cfg, fmt.Errorf("-run needs -out: a side-by-side report beside a run's CSV would replace that CSV's own report")
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Dir(cfg.CSV)
		if len(cfg.Servers) > 0 {
			cfg.Out = filepath.Dir(cfg.Servers[0].File)
		}
	}
	return cfg, nil
}

// appendParsed is a repeatable flag's fs.Func: each value parsed, then
// appended to list.
func appendParsed[T any](list *[]T, parse func(string) (T, error)) func(string) error {
	return func(s string) error {
		v, err := parse(s)
		if err == nil {
			*list = append(*list, v)
		}
		return err
	}
}

// reportMain runs "filestressd report" and returns the exit status.
func reportMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseReportFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "filestressd report: %v (see -h)\n", err)
		return exitUsage
	}
	if err := runReport(cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "filestressd report:", stress.OneLine(err))
		return exitFailed
	}
	return exitOK
}

// runReport renders the report cfg asks for into cfg.Out, removes the
// charts it no longer draws, and says on stdout what it read.
func runReport(cfg reportConfig, stdout io.Writer) error {
	first := cfg.CSV
	switch {
	case len(cfg.Runs) > 0:
		first = cfg.Runs[0].File
	case len(cfg.Servers) > 0:
		first = cfg.Servers[0].File
	}
	opt := report.Options{Machine: report.DetectMachine(time.Now()), WallTime: cfg.Wall, Baseline: cfg.Baseline, Notes: cfg.Notes, Timelines: cfg.Timelines}
	perf, err := perfLink(cfg.Perf, filepath.Join(filepath.Dir(first), "performance.md"), cfg.Out)
	if err != nil {
		return err
	}
	opt.Performance = perf
	render := renderCSV
	switch {
	case len(cfg.Servers) > 0:
		render = renderServers
	case len(cfg.Runs) > 0:
		render = renderRuns
	}
	files, what, err := render(cfg, opt)
	if err != nil {
		return err
	}
	if err := report.WriteDir(cfg.Out, files); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	removed, err := report.RemoveStale(cfg.Out, files)
	if err != nil {
		return fmt.Errorf("remove charts no longer drawn: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s -> %s (README.md and %d charts)\n", what, cfg.Out, len(files)-1)
	if len(removed) > 0 {
		fmt.Fprintf(stdout, "report: removed %d charts no longer drawn: %s\n", len(removed), strings.Join(removed, ", "))
	}
	return nil
}

// renderServers renders the report of -server: each server's CSV, and
// what was read, for the summary line.
func renderServers(cfg reportConfig, opt report.Options) (files map[string][]byte, what string, err error) {
	var ss []report.Server
	var parts []string
	for _, spec := range cfg.Servers {
		rows, err := results.ReadFile(spec.File)
		if err != nil {
			return nil, "", fmt.Errorf("-server %s: %w", spec.Label, err)
		}
		ss = append(ss, report.Server{Label: spec.Label, Source: spec.File, Rows: rows})
		parts = append(parts, fmt.Sprintf("%s=%s: %d rows", spec.Label, spec.File, len(rows)))
	}
	if opt.Workers, err = readWorkers(cfg, cfg.Servers); err != nil {
		return nil, "", err
	}
	files, err = report.RenderServers(ss, opt)
	return files, fmt.Sprintf("%d servers (%s)", len(ss), strings.Join(parts, ", ")), err
}

// renderRuns renders the report of -run: the runs, each CSV read once.
func renderRuns(cfg reportConfig, opt report.Options) (files map[string][]byte, what string, err error) {
	read := map[string][]report.Row{}
	var runs []report.Side
	var parts []string
	var sources []report.ServerSpec
	for _, spec := range cfg.Runs {
		rows, ok := read[spec.File]
		if !ok {
			if rows, err = results.ReadFile(spec.File); err != nil {
				return nil, "", fmt.Errorf("-run %s: %w", spec.Label, err)
			}
			read[spec.File] = rows
			sources = append(sources, report.ServerSpec{File: spec.File})
		}
		run := spec.Select(rows, spec.File)
		runs = append(runs, run)
		parts = append(parts, fmt.Sprintf("%s=%s: %d rows", spec.Label, spec.File, len(run.Rows)))
	}
	if opt.Workers, err = readWorkers(cfg, sources); err != nil {
		return nil, "", err
	}
	files, err = report.RenderRuns(runs, opt)
	return files, fmt.Sprintf("%d runs (%s)", len(runs), strings.Join(parts, ", ")), err
}

// renderCSV renders the report of one -csv.
func renderCSV(cfg reportConfig, opt report.Options) (files map[string][]byte, what string, err error) {
	rows, err := results.ReadFile(cfg.CSV)
	if err != nil {
		return nil, "", err
	}
	if opt.Workers, err = readWorkers(cfg, []report.ServerSpec{{File: cfg.CSV}}); err != nil {
		return nil, "", err
	}
	opt.Source = filepath.Base(cfg.CSV)
	if files, err = report.Render(rows, opt); err != nil {
		return nil, "", fmt.Errorf("%s: %w", cfg.CSV, err)
	}
	return files, fmt.Sprintf("%s (%d rows)", cfg.CSV, len(rows)), nil
}

// perfLink is the path, relative to the report's directory, of the
// performance section to link to: -perf, which must exist, or the
// default, if it exists; "" for none.
func perfLink(explicit, def, out string) (string, error) {
	path := explicit
	if path == "" {
		path = def
	}
	if _, err := os.Stat(path); err != nil {
		if explicit != "" || !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("-perf: %w", err)
		}
		return "", nil
	}
	absOut, err1 := filepath.Abs(out)
	absPath, err2 := filepath.Abs(path)
	rel, err3 := filepath.Rel(absOut, absPath)
	if err := errors.Join(err1, err2, err3); err != nil {
		return "", fmt.Errorf("-perf: %w", err)
	}
	return filepath.ToSlash(rel), nil
}

// readWorkers reads the per-worker JSON lines: the -workers-json files
// (LABEL=FILE names the -server it belongs to), or else each source's
// default file beside its CSV, where there is one.
func readWorkers(cfg reportConfig, sources []report.ServerSpec) ([]report.Workers, error) {
	type wanted struct{ server, path string }
	var files []wanted
	for _, arg := range cfg.WorkersJSON {
		w := wanted{path: arg}
		if label, path, ok := strings.Cut(arg, "="); ok && slices.ContainsFunc(sources, func(s report.ServerSpec) bool { return s.Label == label && label != "" }) {
			w = wanted{label, path}
		}
		files = append(files, w)
	}
	if len(cfg.WorkersJSON) == 0 && !cfg.noWorkers {
		for _, s := range sources {
			path := strings.TrimSuffix(s.File, ".csv") + "-workers.jsonl"
			if _, err := os.Stat(path); err == nil {
				files = append(files, wanted{s.Label, path})
			}
		}
	}
	var out []report.Workers
	for _, w := range files {
		f, err := os.Open(w.path)
		if err != nil {
			return nil, fmt.Errorf("-workers-json: %w", err)
		}
		ws, err := report.ReadWorkers(f, filepath.Base(w.path))
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("-workers-json: %w", err)
		}
		ws.Server = w.server
		out = append(out, ws)
	}
	return out, nil
}
