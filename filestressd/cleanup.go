package main

import (
	"context"
	"errors"
	"fmt"

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
// cell. A file the server does not hold is not an error: a worker cut off
// at the deadline may not have stored it.
func deleteUploads(ctx context.Context, cfg config, names []string) error {
	if len(names) == 0 {
		return nil
	}
	c, err := protocol.DialWith(ctx, cfg.Addr, cfg.clientOptions())
	if err != nil {
		return fmt.Errorf("delete uploaded files: %w", err)
	}
	defer c.Close()
	for i, name := range names {
		err := c.Delete(ctx, name)
		var se *protocol.ServerError
		if err != nil && !errors.As(err, &se) {
			return fmt.Errorf("delete %q: %w (%d uploaded files left on the server)", name, err, len(names)-i)
		}
	}
	return nil
}
