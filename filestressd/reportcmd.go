package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"fileserver/filestressd/report"
)

const reportUsage = `filestressd report renders a matrix CSV into a Markdown report with
the assignment's table for each server mode, a thread-versus-process
comparison with a verdict, and SVG charts.

Usage:
  filestressd report [flags]

Examples:
  filestressd report                                  # results/matrix.csv -> results/README.md
  filestressd report -csv /tmp/m.csv -out /tmp/report -wall 1h2m

Flags:
`

// reportConfig is the report subcommand's command line.
type reportConfig struct {
	CSV, Out, Perf string
	Wall           time.Duration
}

func parseReportFlags(args []string, stderr io.Writer) (reportConfig, error) {
	var cfg reportConfig
	fs := flag.NewFlagSet("filestressd report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, reportUsage); fs.PrintDefaults() }
	fs.StringVar(&cfg.CSV, "csv", "results/matrix.csv", "matrix CSV to read (`file`)")
	fs.StringVar(&cfg.Out, "out", "", "`directory` for README.md and the charts (default: the CSV's directory)")
	fs.StringVar(&cfg.Perf, "perf", "", "Markdown `file` of benchmark figures to include as \"Performance against the machine\" (default: performance.md beside the CSV, if there)")
	fs.DurationVar(&cfg.Wall, "wall", 0, "the matrix's total wall time, to state in the report (default: the sum of the cells' wall times)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.Out == "" {
		cfg.Out = filepath.Dir(cfg.CSV)
	}
	return cfg, nil
}

// reportMain runs "filestressd report" and returns the exit status.
func reportMain(args []string, stdout, stderr io.Writer) int {
	cfg, err := parseReportFlags(args, stderr)
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
	f, err := os.Open(cfg.CSV)
	if err != nil {
		return err
	}
	defer f.Close()
	rows, err := report.ReadRows(f)
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.CSV, err)
	}
	perfPath, perf := cfg.Perf, []byte(nil)
	if perfPath == "" {
		perfPath = filepath.Join(filepath.Dir(cfg.CSV), "performance.md")
	}
	if perf, err = os.ReadFile(perfPath); err != nil && (cfg.Perf != "" || !errors.Is(err, os.ErrNotExist)) {
		return fmt.Errorf("-perf: %w", err)
	}
	files, err := report.Render(rows, report.Options{
		Source: filepath.Base(cfg.CSV), Machine: report.DetectMachine(time.Now()), WallTime: cfg.Wall,
		Performance: string(perf),
	})
	if err != nil {
		return fmt.Errorf("%s: %w", cfg.CSV, err)
	}
	if err := report.WriteDir(cfg.Out, files); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	fmt.Fprintf(stdout, "report: %s (%d rows) -> %s (README.md and %d charts)\n", cfg.CSV, len(rows), cfg.Out, len(files)-1)
	return nil
}
