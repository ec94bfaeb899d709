package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"fileserver/filestressd/report"
	"fileserver/filestressd/results"
)

const reportUsage = `filestressd report renders matrix CSVs into a Markdown report: the
assignment's table for each server mode (or run), each compared with a
baseline cell by cell with a verdict, and SVG charts.

By default it reads one CSV (-csv) and compares process mode with thread
mode. With -run it puts any runs side by side, each compared with the
-baseline run (by default the first -run):

  -run LABEL=FILE        the rows of FILE whose server mode is LABEL if
                         FILE has any (thread=m.csv: m.csv's thread rows),
                         else all the rows of FILE
  -run LABEL=FILE:MODE   the rows of FILE whose server mode is MODE; MODE
                         "none" selects rows without one (a server that
                         does not answer STATS)

A run must hold one server mode, and -out is required with -run. Cells
match on operation, volume, client and server workers; a run whose server
workers are unknown (no STATS) is compared with each of the baseline's
server worker counts. A difference is declared only beyond the A/A noise
floor, and a floor beyond ±5% declares no winner at all.

A cell measured several times (the repeat column, run_matrix.sh REPEAT=k)
shows the median and range of its repeats; a comparison gives the ratio
of medians with a 95% bootstrap interval, counts a cell as faster or
slower only when the interval excludes 1, and prints the A/A noise floor
beside the verdict: each run's first repeat against its second or, for
runs measured interleaved (thread and process of one run_matrix.sh run),
the ratio's first repeat against its second, so drift divides out. A CSV
with one sample per cell renders as before, judged by a ±5% band.

Usage:
  filestressd report [flags]

Examples:
  filestressd report                                  # results/matrix.csv -> results/README.md
  filestressd report -csv /tmp/m.csv -out /tmp/report -wall 1h2m
  filestressd report -csv results/matrix.csv -baseline process -out /tmp/r
  filestressd report -run thread=results/matrix.csv -run process=results/matrix.csv \
      -run student=results/student.csv -baseline thread -out /tmp/side-by-side
  filestressd report -run vm1=lab-vm1.csv:thread -run vm2=lab-vm2.csv:thread -out /tmp/hosts

Flags:
`

// reportConfig is the report subcommand's command line.
type reportConfig struct {
	CSV, Out, Perf string
	Wall           time.Duration
	Runs           []report.RunSpec
	Baseline       string
	Notes          [][2]string
}

// parseReportFlags reads the report's command line; -h prints the usage
// to help (stdout, as filestressd -h does) and returns flag.ErrHelp.
func parseReportFlags(args []string, help io.Writer) (reportConfig, error) {
	var cfg reportConfig
	fs := flag.NewFlagSet("filestressd report", flag.ContinueOnError)
	fs.StringVar(&cfg.CSV, "csv", "results/matrix.csv", "matrix CSV to read (`file`); not with -run")
	fs.StringVar(&cfg.Out, "out", "", "`directory` for README.md and the charts (default: the CSV's directory; required with -run)")
	fs.StringVar(&cfg.Perf, "perf", "", "Markdown `file` of benchmark figures to include as \"Performance against the machine\" (default: performance.md beside the CSV, if there)")
	fs.DurationVar(&cfg.Wall, "wall", 0, "the matrix's total wall time, to state in the report (default: the sum of the cells' wall times)")
	fs.Func("run", "a run to show, as `LABEL=FILE[:MODE]`; repeat the flag for each run (see above)", func(s string) error {
		spec, err := report.ParseRunSpec(s)
		if err == nil {
			cfg.Runs = append(cfg.Runs, spec)
		}
		return err
	})
	fs.Func("note", "a line of the report's \"Machine and run\" table, as `NAME=TEXT`, e.g. -note \"Network=lan1g: tbf 1gbit on every veth\"; repeat the flag for more (run_matrix.sh LAB=1 names the network and the hosts)", func(s string) error {
		name, text, ok := strings.Cut(s, "=")
		if !ok || name == "" || strings.ContainsAny(s, "|\n") {
			return fmt.Errorf("want NAME=TEXT without | or line breaks, got %q", s)
		}
		cfg.Notes = append(cfg.Notes, [2]string{name, text})
		return nil
	})
	fs.StringVar(&cfg.Baseline, "baseline", "", "`label` of the run the others are compared with (default: thread with -csv, the first -run with -run)")
	if err := parseOrHelp(fs, args, reportUsage, help); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	csvSet := false
	fs.Visit(func(f *flag.Flag) { csvSet = csvSet || f.Name == "csv" })
	if csvSet && len(cfg.Runs) > 0 {
		return cfg, fmt.Errorf("-csv and -run do not go together: give the CSV as -run runs, e.g. -run thread=%s -run process=%s", cfg.CSV, cfg.CSV)
	}
	if len(cfg.Runs) > 0 && cfg.Out == "" {
		return cfg, fmt.Errorf("-run needs -out: a side-by-side report beside a run's CSV would replace that CSV's own report")
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Dir(cfg.CSV)
	}
	return cfg, nil
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
		fmt.Fprintln(stderr, "filestressd report:", oneLine(err))
		return exitFailed
	}
	return exitOK
}

func runReport(cfg reportConfig, stdout io.Writer) error {
	first := cfg.CSV
	if len(cfg.Runs) > 0 {
		first = cfg.Runs[0].File
	}
	perfPath, perf := cfg.Perf, []byte(nil)
	if perfPath == "" {
		perfPath = filepath.Join(filepath.Dir(first), "performance.md")
	}
	opt := report.Options{Machine: report.DetectMachine(time.Now()), WallTime: cfg.Wall, Baseline: cfg.Baseline, Notes: cfg.Notes}
	var files map[string][]byte
	var what string
	if len(cfg.Runs) == 0 {
		rows, err := results.ReadFile(cfg.CSV)
		if err != nil {
			return err
		}
		if perf, err = readPerf(perfPath, cfg.Perf != ""); err != nil {
			return err
		}
		opt.Source, opt.Performance = filepath.Base(cfg.CSV), string(perf)
		if files, err = report.Render(rows, opt); err != nil {
			return fmt.Errorf("%s: %w", cfg.CSV, err)
		}
		what = fmt.Sprintf("%s (%d rows)", cfg.CSV, len(rows))
	} else {
		read := map[string][]report.Row{}
		var runs []report.Run
		var parts []string
		for _, spec := range cfg.Runs {
			rows, ok := read[spec.File]
			if !ok {
				var err error
				if rows, err = results.ReadFile(spec.File); err != nil {
					return fmt.Errorf("-run %s: %w", spec.Label, err)
				}
				read[spec.File] = rows
			}
			run := spec.Select(rows, spec.File)
			runs = append(runs, run)
			parts = append(parts, fmt.Sprintf("%s=%s: %d rows", spec.Label, spec.File, len(run.Rows)))
		}
		var err error
		if perf, err = readPerf(perfPath, cfg.Perf != ""); err != nil {
			return err
		}
		opt.Performance = string(perf)
		if files, err = report.RenderRuns(runs, opt); err != nil {
			return err
		}
		what = fmt.Sprintf("%d runs (%s)", len(runs), strings.Join(parts, ", "))
	}
	if err := report.WriteDir(cfg.Out, files); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s -> %s (README.md and %d charts)\n", what, cfg.Out, len(files)-1)
	return nil
}

// readPerf reads the performance section: an error for a -perf that cannot
// be read, nothing for a default one that is not there.
func readPerf(path string, explicit bool) ([]byte, error) {
	perf, err := os.ReadFile(path)
	if err != nil && (explicit || !errors.Is(err, os.ErrNotExist)) {
		return nil, fmt.Errorf("-perf: %w", err)
	}
	return perf, nil
}
