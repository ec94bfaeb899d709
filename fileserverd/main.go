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
	ci, isChild, err := childFromEnv()
	if !isChild {
		ci.Config, err = parseFlags(os.Args[1:], os.Stdout, os.Stderr)
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "fileserverd:", err)
			os.Exit(2)
		}
	}
	if ci.Config.Version {
		fmt.Println(versionString())
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), stopSignals(isChild)...)
	defer stop()
	if err == nil { // a worker child's bad configuration is an error of its start
		err = run(ctx, ci, isChild)
	}
	if err != nil {
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
func stopSignals(isChild bool) []os.Signal {
	if isChild {
		signal.Ignore(syscall.SIGINT, syscall.SIGHUP)
		return []os.Signal{syscall.SIGTERM}
	}
	return []os.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP}
}

// run serves until ctx ends, in the role this process has: a worker child
// started by a process-mode parent (ci is what it was told), or the daemon
// itself (ci.Config is its command line).
func run(ctx context.Context, ci childInfo, isChild bool) error {
	cfg := ci.Config
	log := newLogger(cfg.LogFormat, os.Stderr)
	switch {
	case isChild:
		return serveWorkerChild(ctx, ci, log)
	case cfg.Mode == "process":
		return serveProcessPool(ctx, cfg, log)
	}
	return serveThreadPool(ctx, cfg, log)
}
