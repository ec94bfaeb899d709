package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"fileserver/protocol"
)

// uploadedNames are the files an upload cell may have left on the server:
// every worker's but those that never connected or that the server
// refused.
func uploadedNames(jobs []job, results []workerResult) []string {
	var names []string
	for i, r := range results {
		if r.OK || (r.Kind != kindConnect && r.Kind != kindServer) {
			names = append(names, jobs[i].Name)
		}
	}
	return names
}

// deleteUploads removes the workers' files, on one connection while the
// server keeps it open, dialling again where it closes it. It runs
// after the "after" STATS snapshot, so the deletes are not counted in the
// cell. A file the server says it does not hold is not an error: a worker
// cut off at the deadline may not have stored it. Any other refusal may
// be a stale reply to something else (a server that reads a request per
// line answers the blank line after one ended by CRLF CRLF too, a moment
// later), after which no reply on that connection can be trusted: that
// delete and every one after it go on a connection of their own, whose
// first reply is the server's answer. A refusal there is counted, and
// the error names how many files may be left.
func deleteUploads(ctx context.Context, cfg config, names []string) error {
	if len(names) == 0 {
		return nil
	}
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return fmt.Errorf("delete uploaded files: %w (%d uploaded files may be left on the server)", err, len(names))
	}
	defer c.Close()
	alone := false
	refused := 0
	var first error
	for i, name := range names {
		var err error
		if !alone {
			if err = c.Delete(ctx, name); refusal(err) {
				alone = true
				c.Close()
			}
		}
		if alone {
			err = deleteAlone(ctx, cfg, name)
		}
		var se *protocol.ServerError
		switch {
		case err == nil || !refusal(err) && errors.As(err, &se):
		case refusal(err):
			refused++
			if first == nil {
				first = fmt.Errorf("delete %q: %w", name, err)
			}
		default:
			return fmt.Errorf("delete %q: %w (%d uploaded files may be left on the server)", name, err, refused+len(names)-i)
		}
	}
	if refused > 0 {
		return fmt.Errorf("the server refused %d of %d deletes (the first: %v): %d uploaded files may be left on the server", refused, len(names), first, refused)
	}
	return nil
}

// refusal reports whether err is an ERROR reply other than "not found".
func refusal(err error) bool {
	var se *protocol.ServerError
	return errors.As(err, &se) && !notFound(se.Reason)
}

// deleteAlone deletes name on a connection of its own.
func deleteAlone(ctx context.Context, cfg config, name string) error {
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Delete(ctx, name)
}

// notFoundReasons are what servers say, lower-cased, when asked for a
// file they do not hold: fileserverd, Python's FileNotFoundError, and
// course servers in English and Indonesian.
var notFoundReasons = []string{"not found", "no such file", "does not exist", "doesn't exist", "not exist", "errno 2]", "tidak ditemukan", "tidak ada"}

// notFound reports whether an ERROR's reason says the file is not there.
func notFound(reason string) bool {
	reason = strings.ToLower(reason)
	for _, r := range notFoundReasons {
		if strings.Contains(reason, r) {
			return true
		}
	}
	return false
}
