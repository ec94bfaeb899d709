// filestressd testfile: a download cell's test file written straight
// into a server's storage directory, so that a server without a working
// UPLOAD can still be measured on downloads (run_matrix.sh SERVER_CMD).

package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"fileserver/filestressd/stress"
	"fileserver/protocol"
)

const testfileUsage = `filestressd testfile writes the test file that a download cell of a
volume reads, under the name the cell asks the server for
(stress-<volume>.bin, lower case, e.g. stress-10mb.bin) and with the
content the cell checks its workers against, into a server's storage
directory. The cell's setup then finds it there and uploads nothing, so a
server whose UPLOAD does not work can still be measured on downloads.
run_matrix.sh SERVER_CMD does this for every volume before it starts a
server. The file is written beside itself and renamed into place.

Usage:
  filestressd testfile -size SIZE -dir DIR

Examples:
  filestressd testfile -size 10MB -dir ~/ets/files     # writes ~/ets/files/stress-10mb.bin

Flags:
`

// testfileMain is filestressd testfile: it prints the path it wrote.
func testfileMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("filestressd testfile", flag.ContinueOnError)
	size := fs.String("size", "", "the download cell's `volume`, as -size takes it, e.g. 10MB")
	dir := fs.String("dir", "", "the server's storage `directory`, which must exist")
	err := parseOrHelp(fs, args, testfileUsage, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err == nil && fs.NArg() > 0 {
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var n int64
	if err == nil {
		n, err = protocol.ParseSize(*size)
	}
	if err == nil && *dir == "" {
		err = errors.New("-dir is required")
	}
	if err != nil {
		fmt.Fprintf(stderr, "filestressd testfile: %v (see -h)\n", err)
		return exitUsage
	}
	path, err := stress.WriteTestFile(*dir, n)
	if err != nil {
		fmt.Fprintln(stderr, "filestressd testfile:", stress.OneLine(err))
		return exitFailed
	}
	fmt.Fprintln(stdout, path)
	return exitOK
}
