// Command fileserverd is the course's file server: raw TCP, the text
// protocol of package protocol, served by a fixed pool of goroutines or of
// child processes. See -h.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fileserverd:", err)
		os.Exit(2)
	}
	if cfg.Version {
		fmt.Println(versionString())
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals()...)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "fileserverd:", err)
		os.Exit(1)
	}
}

// stopSignals are the signals that stop this process gracefully. SIGHUP
// is one of them: a daemon has no configuration to reload, and a hang-up
// (a closed terminal or ssh session) must not kill it mid-upload and
// leave temporary files. A worker child ignores SIGINT and SIGHUP, which
// a terminal sends the whole process group: its parent decides when it
// stops, with SIGTERM.
func stopSignals() []os.Signal {
	if _, child := os.LookupEnv(envWorker); child {
		signal.Ignore(syscall.SIGINT, syscall.SIGHUP)
		return []os.Signal{syscall.SIGTERM}
	}
	return []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}
}

// run serves until ctx ends, in the role this process has: a worker child
// started by a process-mode parent, or the daemon itself.
func run(ctx context.Context, cfg config) error {
	log := newLogger(cfg.LogFormat, os.Stderr)
	if child, ok, err := childFromEnv(); ok || err != nil {
		if err != nil {
			return err
		}
		return serveWorkerChild(ctx, cfg, child, log)
	}
	if cfg.Mode == "process" {
		return serveProcessPool(ctx, cfg, log)
	}
	return serveThreadPool(ctx, cfg, log)
}
