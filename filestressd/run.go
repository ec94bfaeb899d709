package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
)

// postBudget bounds everything after the window (the "after" snapshot and
// deleting uploads), so that the command returns within a few seconds of
// -timeout even against a server still busy with the cut transfers.
const postBudget = 3 * time.Second

// run measures one cell: setup, the "before" STATS snapshot, the window in
// which every worker moves its file, the "after" snapshot, cleanup, then
// the summary and the CSV row. An error means the cell did not run and no
// row was written.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.Quiet {
		stdout = io.Discard
	}
	verbose := io.Discard
	if cfg.Verbose {
		verbose = stderr
	}
	if cfg.CSV != "" {
		if _, err := readCSV(cfg.CSV); err != nil {
			return err
		}
	}
	cellCtx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	src := newSource(cfg)
	var wantSHA string
	if cfg.Op == opDownload {
		var err error
		if wantSHA, err = src.sha256(cellCtx); err != nil {
			return setupError(ctx, cfg, err)
		}
		name := downloadName(cfg)
		uploaded, err := ensureTestFile(cellCtx, cfg.Addr, name, src, wantSHA)
		if err != nil {
			return setupError(ctx, cfg, err)
		}
		if uploaded {
			fmt.Fprintf(stdout, "setup: the server lacked %s with the expected content; uploaded it\n", name)
		}
	}
	var sv serverView
	var err error
	if sv.Before, err = settledStats(cellCtx, cfg.Addr, settleBudget); err != nil {
		var ce *connectError
		if errors.As(err, &ce) || cellCtx.Err() != nil {
			return setupError(ctx, cfg, err)
		}
		sv.Note = fmt.Sprintf("the server does not answer STATS (%s): server columns left empty", oneLine(err))
	}

	jobs := makeJobs(cfg, src, wantSHA)
	pc := &progressCounters{}
	showProgress := !cfg.Quiet && isTerminal(stderr)
	stopProgress := func() {}
	if showProgress {
		stopProgress = startProgress(stderr, cfg.Workers, pc)
	}
	var w window
	var poolErr error
	if cfg.Pool == poolProcess {
		w, poolErr = runProcessPool(cellCtx, jobs, pc, showProgress, stderr, verbose)
	} else {
		w = runThreadPool(cellCtx, jobs, pc)
	}
	stopProgress()
	if poolErr != nil {
		return poolErr
	}

	post, cancelPost := context.WithTimeout(context.WithoutCancel(ctx), postBudget)
	defer cancelPost()
	if ctx.Err() != nil {
		if cfg.Op == opUpload && !cfg.Keep {
			deleteUploads(post, cfg.Addr, uploadedNames(jobs, w.results))
		}
		return errors.New("interrupted: no row written")
	}
	if sv.Before != nil {
		if sv.After, err = settledStats(post, cfg.Addr, settleBudget); err != nil {
			sv.Note = fmt.Sprintf("STATS after the window failed (%s): server counts left empty", oneLine(err))
		}
	}
	if cfg.Op == opUpload && !cfg.Keep {
		if err := deleteUploads(post, cfg.Addr, uploadedNames(jobs, w.results)); err != nil {
			fmt.Fprintf(stderr, "filestressd: warning: %s\n", oneLine(err))
		}
	}

	c := cell{cfg: cfg, timestamp: w.start, wall: w.end.Sub(w.start), results: w.results, server: sv}
	printWorkers(verbose, w.results)
	printSummary(stdout, c)
	if cfg.CSV != "" {
		no, err := appendRow(cfg.CSV, cfg.No, c.csvRow)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "csv:              row %d appended to %s\n", no, cfg.CSV)
	}
	return nil
}

// makeJobs gives every worker its job: for upload its own file name.
func makeJobs(cfg config, src source, wantSHA string) []job {
	jobs := make([]job, cfg.Workers)
	for i := range jobs {
		j := job{Worker: i + 1, Op: cfg.Op, Addr: cfg.Addr, Src: src, WantSHA: wantSHA}
		switch cfg.Op {
		case opUpload:
			j.Name = uploadName(cfg, os.Getpid(), i+1)
		case opDownload:
			j.Name = downloadName(cfg)
		}
		jobs[i] = j
	}
	return jobs
}

// setupError words a failure before the window.
func setupError(ctx context.Context, cfg config, err error) error {
	var ce *connectError
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted during setup: no row written")
	case errors.As(err, &ce):
		return fmt.Errorf("server %s unreachable: %w", cfg.Addr, err)
	}
	return fmt.Errorf("setup (within -timeout %s): %w", cfg.Timeout, err)
}
