package main

import (
	"fmt"
	"path/filepath"

	"fileserver/protocol"
)

// downloadName is the server file a download cell reads: named after the
// volume, so cells of the same size share it and the setup upload happens
// once; or the base name of -file.
func downloadName(c config) string {
	if c.File != "" {
		return filepath.Base(c.File)
	}
	return "stress-" + protocol.FormatSize(c.Size) + ".bin"
}

// uploadName is worker w's own file, so that workers (and concurrent runs,
// told apart by pid) never overwrite each other.
func uploadName(c config, pid, w int) string {
	base := protocol.FormatSize(c.Size) + ".bin"
	if c.File != "" {
		base = filepath.Base(c.File)
	}
	return fmt.Sprintf("stress-up-%d-%d-%s", pid, w, base)
}

// volumeLabel is the volume as the matrix names it, e.g. "50MB".
func volumeLabel(c config) string {
	if c.Op == opList {
		return ""
	}
	return protocol.FormatSize(c.Size)
}
