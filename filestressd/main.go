// Command filestressd measures one cell of the load matrix against a
// fileserverd (or any server of the course's protocol): N client workers,
// goroutines or child processes, each moving one verified file at once,
// summarised on stdout and appended as one CSV row. See -h. The cell is
// measured by package stress; this command reads its flags into a
// stress.Config and writes its stress.Result.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"fileserver/filestressd/stress"
)

// Exit statuses: a cell that ran is 0 even with failed workers, because
// failures are data; anything that kept the cell from running is not.
const (
	exitOK     = 0
	exitFailed = 1 // setup failed: unreachable server, unusable CSV, ...
	exitUsage  = 2 // bad flags, unparseable size, unreadable -file
)

func main() {
	if status, isChild := stress.ChildMain(); isChild {
		os.Exit(status)
	}
	if len(os.Args) > 1 && os.Args[1] == "report" {
		os.Exit(reportMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == "testfile" {
		os.Exit(testfileMain(os.Args[2:], os.Stdout, os.Stderr))
	}
	o, err := parseFlags(os.Args[1:], os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(exitOK)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "filestressd: %v (see -h)\n", err)
		os.Exit(exitUsage)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := runCell(ctx, o, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "filestressd:", stress.OneLine(err))
		os.Exit(exitFailed)
	}
}
