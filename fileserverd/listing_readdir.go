package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// passReadDir is a lister's pass where there is no getdents64 (macOS:
// listing_other.go), through os.File.ReadDir, readDirBatch entries at a
// time: memory stays bounded, but each name read allocates, which the
// Linux pass does not. It is built on Linux too, so that its tests run
// there beside the getdents64 pass.
func (l *lister) passReadDir(d *os.File) error {
	for {
		ents, err := d.ReadDir(readDirBatch)
		for _, e := range ents {
			name := []byte(e.Name())
			if len(name) == 0 || len(name) >= nameCell || name[0] == '.' ||
				e.Type()&fs.ModeType != 0 || bytes.Compare(name, l.last) <= 0 {
				continue
			}
			l.keep(name)
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read directory: %w", err)
		}
	}
}

// readDirBatch is how many entries passReadDir's ReadDir returns at most.
const readDirBatch = 256
