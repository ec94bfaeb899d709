package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"syscall"
	"unsafe"
)

// This file exists because getdents64, which reads a directory's entries
// into a buffer of ours without allocating, is Linux's; listing_other.go
// reads them through os.File.ReadDir elsewhere.

// pass reads the directory once, keeping in l.batch the cap(l.batch) smallest
// candidate names greater than l.last.
func (l *lister) pass(_ *os.File, fd int) error {
	for {
		n, err := syscall.Getdents(fd, l.dirents)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("read directory: %w", err)
		}
		if n <= 0 {
			return nil
		}
		buf := l.dirents[:n]
		for len(buf) > 0 {
			name, typ, size := parseDirent(buf)
			if size == 0 {
				break
			}
			buf = buf[size:]
			if len(name) == 0 || len(name) >= nameCell || name[0] == '.' ||
				(typ != syscall.DT_REG && typ != syscall.DT_UNKNOWN) ||
				bytes.Compare(name, l.last) <= 0 {
				continue
			}
			l.keep(name)
		}
	}
}

// parseDirent splits the first linux_dirent64 record of buf: the name, the
// type (DT_*), and the record's size (0 when buf is too short).
func parseDirent(buf []byte) (name []byte, typ uint8, size int) {
	const nameOff = int(unsafe.Offsetof(syscall.Dirent{}.Name))
	const reclenOff = int(unsafe.Offsetof(syscall.Dirent{}.Reclen))
	const typeOff = int(unsafe.Offsetof(syscall.Dirent{}.Type))
	if len(buf) < nameOff {
		return nil, 0, 0
	}
	size = int(binary.NativeEndian.Uint16(buf[reclenOff:]))
	if size < nameOff || size > len(buf) {
		return nil, 0, 0
	}
	name = buf[nameOff:size]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	return name, buf[typeOff], size
}
