// Command filestressd measures one cell of the load matrix against a
// fileserverd (or any server of the course's protocol): N client workers,
// goroutines or child processes, each moving one verified file at once,
// summarised on stdout and appended as one CSV row. See -h.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// Exit statuses: a cell that ran is 0 even with failed workers, because
// failures are data; anything that kept the cell from running is not.
const (
	exitOK     = 0
	exitFailed = 1 // setup failed: unreachable server, unusable CSV, ...
	exitUsage  = 2 // bad flags, unparseable size, unreadable -file
)

func main() {
	if spec, ok, err := childSpecFromEnv(); ok {
		os.Exit(runChildMain(spec, err))
	}
	if len(os.Args) > 1 && os.Args[1] == "report" {
		os.Exit(reportMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "testfile" {
		os.Exit(testfileMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	cfg, err := parseFlags(os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(exitOK)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "filestressd: %v (see -h)\n", err)
		os.Exit(exitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "filestressd:", oneLine(err))
		os.Exit(exitFailed)
	}
}

// oneLine keeps an error message on one line, as scripts read it.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
