package stress

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"fileserver/protocol"
)

// readBackWorkers bounds the read-backs running at once: each holds a
// client's buffers (workerBufferKiB), and a pool may have 1024 workers.
const readBackWorkers = 8

// readBack verifies, after the window, the uploads whose reply could not
// tell what the server stored: each file is read back with GET and its
// size and SHA-256 compared with what was sent. A file that cannot be
// read back, or differs, turns its worker's success into an integrity
// failure, since its bytes cannot be shown right. It changes results in
// place; ctx, whose deadline is budget from now, bounds all of it: an
// upload not read back when it runs out stays a failure, whose message
// says the read-back timed out.
func readBack(ctx context.Context, cfg Config, jobs []job, results []workerResult, budget time.Duration) {
	sem := make(chan struct{}, readBackWorkers)
	var wg sync.WaitGroup
	for i := range results {
		r := &results[i]
		if !r.OK || r.Verified != VerifyReadback {
			continue
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := readBackOne(ctx, cfg, jobs[i].Name, r.Bytes, r.SentSHA256); err != nil {
				if budgetSpent(ctx) {
					err = &protocol.IntegrityError{Reason: fmt.Sprintf("read back %q: the read-back timed out after %s (the budget all read-backs share, -timeout), so the upload could not be verified", jobs[i].Name, budget)}
				}
				r.OK, r.Kind, r.Error, r.err = false, kindIntegrity, err.Error(), err
			}
		})
	}
	wg.Wait()
}

// readBackOne downloads name and compares it with the size and SHA-256
// that were sent. Any failure is a *protocol.IntegrityError: the upload cannot be
// shown to have stored the right bytes.
func readBackOne(ctx context.Context, cfg Config, name string, size int64, sentSHA string) error {
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return &protocol.IntegrityError{Reason: fmt.Sprintf("read back %q: connect: %v", name, err)}
	}
	defer c.Close()
	if _, err := c.GetVerified(ctx, name, protocol.Expected{Size: size, SHA256: sentSHA}); err != nil {
		var ie *protocol.IntegrityError
		if errors.As(err, &ie) {
			return &protocol.IntegrityError{Reason: "read back after the upload: " + ie.Reason}
		}
		return &protocol.IntegrityError{Reason: fmt.Sprintf("read back %q: %v%s", name, err, contentKeyHint(err))}
	}
	return nil
}

// budgetSpent reports whether ctx's deadline has passed. A connection
// carries the deadline, so its time-out may surface a moment before ctx
// itself says it ended.
func budgetSpent(ctx context.Context) bool {
	d, ok := ctx.Deadline()
	return errors.Is(ctx.Err(), context.DeadlineExceeded) || ok && !time.Now().Before(d)
}
