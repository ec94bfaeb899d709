package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"fileserver/protocol"
)

// downloadName is the server file a download cell reads: -name; or named
// after the volume, so cells of the same size share it and the setup
// upload happens once; or the base name of -file. Names filestressd makes
// up are lower-case: some course servers lower-case the whole request, so
// that stress-1MB.bin would be stored as stress-1mb.bin.
func downloadName(c config) string {
	switch {
	case c.Name != "":
		return c.Name
	case c.File != "":
		return filepath.Base(c.File)
	}
	return "stress-" + strings.ToLower(protocol.FormatSize(c.Size)) + ".bin"
}

// uploadName is worker w's own file, so that workers (and concurrent runs,
// told apart by pid) never overwrite each other.
func uploadName(c config, pid, w int) string {
	base := protocol.FormatSize(c.Size) + ".bin"
	if c.File != "" {
		base = filepath.Base(c.File)
	}
	return strings.ToLower(fmt.Sprintf("stress-up-%d-%d-%s", pid, w, base))
}

// volumeLabel is the volume as the matrix names it, e.g. "50MB".
func volumeLabel(c config) string {
	if c.Op == opList {
		return ""
	}
	return protocol.FormatSize(c.Size)
}
