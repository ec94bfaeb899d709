// Package stress measures one cell of the load matrix against a server
// of the course's protocol: a Config in, MeasureCell, a Result out (its
// summary, CSV row and per-worker records), Hooks to watch it run.
// filestressd is its command line, as vegeta's CLI is of its lib. The
// process pool re-executes the running program as its children, so a
// program that uses it calls ChildMain first:
//
//	if status, isChild := stress.ChildMain(); isChild {
//		os.Exit(status)
//	}
//	res, err := stress.MeasureCell(ctx, cfg, stress.Hooks{Notes: os.Stdout})
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
)

// postBudget bounds everything after the window (the "after" snapshot and
// deleting uploads), so that the command returns within a few seconds of
// the deadline even against a server still busy with the cut transfers.
const postBudget = 3 * time.Second

// Hooks are what a caller sees of a cell while it runs. Every field may
// be nil: nothing is shown.
type Hooks struct {
	// Notes receives the setup's notes, such as a download's test file
	// uploaded (filestressd's stdout).
	Notes io.Writer
	// Warnings receives what went wrong without stopping the cell, and
	// the children's own stderr (filestressd's stderr).
	Warnings io.Writer
	// Verbose receives each child's pid and the release (filestressd -v).
	Verbose io.Writer
	// Progress is called as the pool starts, with its live counters, and
	// what it returns when the window ends. Without it the process pool's
	// children do not report their progress.
	Progress func(*Progress) (stop func())
}

// MeasureCell measures one cell: for an upload of generated content, the
// SHA-256 of what each worker will send (see uploadSums); the setup
// (setupCell) within a budget of cfg.Timeout of its own; the window,
// whose hard deadline is cfg.Timeout after the workers' release, so that
// what counts as a time-out does not depend on how long the setup took;
// then what follows it (afterWindow). With cfg.HostFailed it contacts no
// server and every worker failed. An error means the cell did not run:
// there is no Result to write.
func MeasureCell(ctx context.Context, cfg Config, h Hooks) (Result, error) {
	for _, w := range []*io.Writer{&h.Notes, &h.Warnings, &h.Verbose} {
		if *w == nil {
			*w = io.Discard
		}
	}
	if cfg.HostFailed != "" {
		return newResult(cfg, hostFailedWindow(cfg), serverView{}), nil
	}
	src := newSource(cfg)
	sums, err := uploadSums(ctx, cfg, src)
	if err != nil {
		return Result{}, setupError(ctx, cfg, err)
	}
	setup, cancelSetup := context.WithTimeout(ctx, cfg.Timeout)
	defer cancelSetup()
	c, err := setupCell(setup, cfg, &src, h)
	if err != nil {
		return Result{}, setupError(ctx, c.cfg, err)
	}
	jobs := makeJobs(c.cfg, src, c.want.sha256, sums)
	// The server's tree is read just before the window and just after it,
	// never during it.
	meter := startServerCost(c.cfg)
	w, err := runWindow(ctx, setup, c.cfg, jobs, h)
	if err != nil {
		return Result{}, err
	}
	c.cost = meter.stop()
	return afterWindow(ctx, c, jobs, w, h)
}

// setupCell settles the request form and the upload form, gives a
// download its test file, and takes the "before" STATS snapshot. Its
// result has no window yet.
func setupCell(setup context.Context, cfg Config, src *source, h Hooks) (Result, error) {
	c := Result{cfg: cfg}
	var err error
	if c.cfg.Dialect.Form, err = settleForm(setup, cfg); err != nil {
		return c, err
	}
	if cfg.Op == CellUpload {
		u, err := settleUpload(setup, c.cfg)
		if err != nil {
			return c, err
		}
		c.cfg.Dialect.Upload, c.uploads = u.form, &u
	}
	if c.want, err = prepareDownload(setup, c.cfg, *src, h.Notes); err != nil {
		return c, err
	}
	if c.want.upload != nil {
		c.uploads = c.want.upload
	}
	if cfg.Op == CellDownload {
		c.cfg.Size, src.Size = c.want.size, c.want.size // -name without -file: the server's file's
		src.Unknown = !c.want.reference
	}
	if c.server.Before, err = fetchStats(setup, c.cfg); err != nil {
		var ce *connectError
		if errors.As(err, &ce) || setup.Err() != nil {
			return c, err
		}
		c.server.Note = fmt.Sprintf("the server does not answer STATS (%s): server columns left empty", OneLine(err))
	}
	return c, nil
}

// afterWindow finishes the cell: the "after" snapshot within postBudget;
// the read-back of uploads the server's reply could not verify, within
// cfg.Timeout of its own; the uploads' deletion within postBudget. A cell
// cut short by a signal still deletes its uploads, and has no result.
func afterWindow(ctx context.Context, c Result, jobs []job, w window, h Hooks) (Result, error) {
	cfg := c.cfg
	interrupted := func(budget context.Context) (Result, error) {
		if cfg.Op == CellUpload && !cfg.Keep {
			deleteUploads(budget, cfg, uploadedNames(jobs, w.results))
		}
		return Result{}, errors.New("interrupted: no row written")
	}
	post, cancelPost := context.WithTimeout(context.WithoutCancel(ctx), postBudget)
	defer cancelPost()
	if ctx.Err() != nil {
		return interrupted(post)
	}
	sv := c.server
	if sv.Before != nil {
		someFailed := slices.ContainsFunc(w.results, func(r workerResult) bool { return !r.OK })
		var err error
		if sv.After, err = afterStats(post, cfg, someFailed); err != nil {
			sv.Note = fmt.Sprintf("STATS after the window failed (%s): server counts left empty", OneLine(err))
		}
	}
	if cfg.Op == CellUpload {
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
	if cfg.Op == CellUpload && !cfg.Keep {
		if err := deleteUploads(clean, cfg, uploadedNames(jobs, w.results)); err != nil {
			fmt.Fprintf(h.Warnings, "filestressd: warning: %s\n", OneLine(err))
		}
	}
	r := newResult(cfg, w, sv)
	r.want, r.uploads, r.cost = c.want, c.uploads, c.cost
	if conflict := r.identityConflict(); conflict != "" {
		fmt.Fprintf(h.Warnings, "filestressd: warning: %s\n", conflict)
	}
	return r, nil
}

// runWindow runs the cell's pool, with the progress hook when there is
// one. setup bounds what the pool does before the release.
func runWindow(ctx, setup context.Context, cfg Config, jobs []job, h Hooks) (window, error) {
	pc := &Progress{}
	if h.Progress != nil {
		defer h.Progress(pc)()
	}
	if cfg.Pool == PoolProcess {
		w, err := runProcessPool(ctx, setup, cfg.Timeout, cfg.StartAt, jobs, pc, h)
		return fromStartAt(w, cfg.StartAt), err
	}
	timeout := releaseAt(ctx, cfg.StartAt, cfg.Timeout)
	return fromStartAt(runThreadPool(ctx, timeout, jobs, pc), cfg.StartAt), nil
}

// OneLine keeps an error message on one line, as scripts read it.
func OneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// uploadSums returns, for an upload cell of generated content, the
// SHA-256 of the content each worker will send (worker i+1's at i), which
// its upload checks the server's reply against. They are computed before
// the setup and its budget: the time they take is in proportion to the
// volume (the periods all workers share are hashed once, see
// expectedSHA256) and owes nothing to the server, and none of it falls
// in the window. Other cells need none.
func uploadSums(ctx context.Context, cfg Config, src source) ([]string, error) {
	if cfg.Op != CellUpload || !src.generated() {
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
func makeJobs(cfg Config, src source, wantSHA string, sums []string) []job {
	jobs := make([]job, cfg.Workers)
	for i := range jobs {
		j := job{Worker: i + 1, Op: cfg.Op, Addr: cfg.Addr, Src: src, WantSHA: wantSHA, Dialect: cfg.Dialect, Verify: cfg.Verify}
		switch cfg.Op {
		case CellUpload:
			j.Name = uploadName(cfg, os.Getpid(), i+1)
			j.Src = src.forWorker(i + 1)
			j.WantSHA = ""
			if sums != nil {
				j.WantSHA = sums[i]
			}
		case CellDownload:
			j.Name = downloadName(cfg)
		}
		jobs[i] = j
	}
	return jobs
}

// setupError words a failure before the window.
func setupError(ctx context.Context, cfg Config, err error) error {
	var ce *connectError
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted during setup: no row written")
	case errors.As(err, &ce):
		return fmt.Errorf("server %s unreachable: %w", cfg.Addr, err)
	}
	return fmt.Errorf("setup (within its budget, -timeout %s): %w", cfg.Timeout, err)
}
