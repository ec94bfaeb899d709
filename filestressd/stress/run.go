package stress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"fileserver/filestressd/results"
)

// postBudget bounds everything after the window (the "after" snapshot and
// deleting uploads), so that the command returns within a few seconds of
// the deadline even against a server still busy with the cut transfers.
const postBudget = 3 * time.Second

// run measures one cell: for an upload of generated content, the SHA-256
// of what each worker will send (see uploadSums); the setup (the request
// form, the upload form, the download's test file, the "before" STATS snapshot, the
// process pool's children) within a budget of -timeout of its own; the
// window, whose hard deadline is -timeout after the workers' release, so
// that what counts as a time-out does not depend on how long the setup
// took; the "after" snapshot within postBudget; the read-back of uploads
// the server's reply could not verify, within -timeout of its own;
// cleanup within postBudget; then the summary and the CSV row. An error
// means the cell did not run and no row was written.
func run(ctx context.Context, cfg config, stdout, stderr io.Writer) error {
	if cfg.Quiet {
		stdout = io.Discard
	}
	verbose := io.Discard
	if cfg.Verbose {
		verbose = stderr
	}
	if cfg.CSV != "" {
		if _, err := results.Stat(cfg.CSV); err != nil {
			return err
		}
	}
	if cfg.HostFailed != "" {
		return writeCell(cfg, newCell(cfg, hostFailedWindow(cfg), serverView{}), stdout, verbose)
	}
	src := newSource(cfg)
	sums, err := uploadSums(ctx, cfg, src)
	if err != nil {
		return setupError(ctx, cfg, err)
	}
	setup, cancelSetup := context.WithTimeout(ctx, cfg.Timeout)
	defer cancelSetup()
	if cfg.Dialect.Form, err = settleForm(setup, cfg); err != nil {
		return setupError(ctx, cfg, err)
	}
	var uploads *uploadChoice
	if cfg.Op == cellUpload {
		u, err := settleUpload(setup, cfg)
		if err != nil {
			return setupError(ctx, cfg, err)
		}
		cfg.Dialect.Upload, uploads = u.form, &u
	}
	want, err := prepareDownload(setup, cfg, src, stdout)
	if err != nil {
		return setupError(ctx, cfg, err)
	}
	if want.upload != nil {
		uploads = want.upload
	}
	if cfg.Op == cellDownload {
		cfg.Size, src.Size = want.size, want.size // -name without -file: the server's file's
		src.Unknown = !want.reference
	}
	var sv serverView
	if sv.Before, err = fetchStats(setup, cfg); err != nil {
		var ce *connectError
		if errors.As(err, &ce) || setup.Err() != nil {
			return setupError(ctx, cfg, err)
		}
		sv.Note = fmt.Sprintf("the server does not answer STATS (%s): server columns left empty", oneLine(err))
	}

	jobs := makeJobs(cfg, src, want.sha256, sums)
	// The server's tree is read just before the window and just after it,
	// never during it.
	meter := startServerCost(cfg)
	w, err := runWindow(ctx, setup, cfg, jobs, stderr, verbose)
	if err != nil {
		return err
	}
	cost := meter.stop()

	// interrupted ends a cell cut short by a signal: its uploads are
	// still deleted, within budget.
	interrupted := func(budget context.Context) error {
		if cfg.Op == cellUpload && !cfg.Keep {
			deleteUploads(budget, cfg, uploadedNames(jobs, w.results))
		}
		return errors.New("interrupted: no row written")
	}
	post, cancelPost := context.WithTimeout(context.WithoutCancel(ctx), postBudget)
	defer cancelPost()
	if ctx.Err() != nil {
		return interrupted(post)
	}
	if sv.Before != nil {
		someFailed := slices.ContainsFunc(w.results, func(r workerResult) bool { return !r.OK })
		if sv.After, err = afterStats(post, cfg, someFailed); err != nil {
			sv.Note = fmt.Sprintf("STATS after the window failed (%s): server counts left empty", oneLine(err))
		}
	}
	if cfg.Op == cellUpload {
		// A budget of its own, like the setup's: reading back is not
		// measured, and takes as long as the files take.
		rb, cancelRB := context.WithTimeout(ctx, cfg.Timeout)
		readBack(rb, cfg, jobs, w.results, cfg.Timeout)
		cancelRB()
	}
	clean, cancelClean := context.WithTimeout(context.WithoutCancel(ctx), postBudget)
	defer cancelClean()
	if ctx.Err() != nil {
		return interrupted(clean)
	}
	if cfg.Op == cellUpload && !cfg.Keep {
		if err := deleteUploads(clean, cfg, uploadedNames(jobs, w.results)); err != nil {
			fmt.Fprintf(stderr, "filestressd: warning: %s\n", oneLine(err))
		}
	}

	c := newCell(cfg, w, sv)
	c.want, c.uploads, c.cost = want, uploads, cost
	if conflict := c.identityConflict(); conflict != "" {
		fmt.Fprintf(stderr, "filestressd: warning: %s\n", conflict)
	}
	return writeCell(cfg, c, stdout, verbose)
}

// writeCell prints the cell's summary and appends its JSON lines and CSV
// row.
func writeCell(cfg config, c cell, stdout, verbose io.Writer) error {
	if c.uploads != nil {
		for _, a := range c.uploads.failed {
			fmt.Fprintf(verbose, "filestressd: upload probe: %s\n", a)
		}
	}
	printWorkers(verbose, c.results)
	printSummary(stdout, c)
	// The JSON lines go first, naming the row the CSV is about to get, so
	// that a -json that cannot be written leaves the CSV without the row
	// (exit 1: nothing appended to it).
	no := cfg.No
	if cfg.CSV != "" && no == 0 {
		st, err := results.Stat(cfg.CSV)
		if err != nil {
			return err
		}
		no = st.Next
	}
	if cfg.JSON != "" {
		if err := appendJSONLines(cfg.JSON, c.jsonLines(no)); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "json:             %d worker lines appended to %s\n", len(c.results), cfg.JSON)
	}
	if cfg.CSV != "" {
		no, left, err := results.Append(cfg.CSV, no, c.row)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "csv:              row %d appended to %s\n", no, cfg.CSV)
		if len(left) > 0 {
			fmt.Fprintf(stdout, "note: %s predates the column(s) %s, left out of the row: use a new CSV to have them\n", cfg.CSV, strings.Join(left, ", "))
		}
	}
	return nil
}

// runWindow runs the cell's pool, with the progress line when there is
// one: redrawn on a terminal (unless -quiet), or, with -progress, a plain
// line at that interval on anything else (even with -quiet, which
// -progress overrides since it is asked for). setup bounds what the pool
// does before the release.
func runWindow(ctx, setup context.Context, cfg config, jobs []job, stderr, verbose io.Writer) (window, error) {
	pc := &progressCounters{}
	terminal := isTerminal(stderr)
	showProgress := false
	switch {
	case terminal && !cfg.Quiet:
		stop := startProgress(stderr, cfg.Workers, pc)
		defer stop()
		showProgress = true
	case !terminal && cfg.Progress > 0:
		stop := startPlainProgress(stderr, cfg.Progress, cfg.Workers, pc)
		defer stop()
		showProgress = true
	}
	if cfg.Pool == poolProcess {
		w, err := runChildPool(ctx, setup, cfg.Timeout, jobs, pc, childOptions{progress: showProgress, stderr: stderr, verbose: verbose, startAt: cfg.StartAt})
		return fromStartAt(w, cfg.StartAt), err
	}
	timeout := releaseAt(ctx, cfg.StartAt, cfg.Timeout)
	return fromStartAt(runGoroutinePool(ctx, timeout, jobs, pc), cfg.StartAt), nil
}

// uploadSums returns, for an upload cell of generated content, the
// SHA-256 of the content each worker will send (worker i+1's at i), which
// its upload checks the server's reply against. They are computed before
// the setup and its budget: the time they take is in proportion to the
// volume (the periods all workers share are hashed once, see
// expectedSHA256: about 0.7 s per GB here) and owes nothing to the
// server, and none of it falls in the window. Other cells need none.
func uploadSums(ctx context.Context, cfg config, src source) ([]string, error) {
	if cfg.Op != cellUpload || !src.generated() {
		return nil, nil
	}
	sums := make([]string, cfg.Workers)
	for i := range sums {
		sum, err := src.forWorker(i + 1).sha256(ctx)
		if err != nil {
			return nil, err
		}
		sums[i] = sum
	}
	return sums, nil
}

// makeJobs gives every worker its job: for upload its own file name and,
// generated, its own content, and that content's SHA-256 from sums (see
// uploadSums).
func makeJobs(cfg config, src source, wantSHA string, sums []string) []job {
	jobs := make([]job, cfg.Workers)
	for i := range jobs {
		j := job{Worker: i + 1, Op: cfg.Op, Addr: cfg.Addr, Src: src, WantSHA: wantSHA, Dialect: cfg.Dialect, Verify: cfg.Verify}
		switch cfg.Op {
		case cellUpload:
			j.Name = uploadName(cfg, os.Getpid(), i+1)
			j.Src = src.forWorker(i + 1)
			j.WantSHA = ""
			if sums != nil {
				j.WantSHA = sums[i]
			}
		case cellDownload:
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
	return fmt.Errorf("setup (within its budget, -timeout %s): %w", cfg.Timeout, err)
}
