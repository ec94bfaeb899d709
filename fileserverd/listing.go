package main

import (
	"bytes"
	"fmt"
	"slices"
)

// nameCell holds one name: NAME_MAX bytes and a NUL, for fstatat.
const nameCell = 256

// lister walks the storage directory in sorted order in a fixed amount of
// memory. LIST emits names in sorted order without holding them all: each
// pass reads the whole directory through the dirents buffer and keeps
// only the batch smallest names after the last one emitted, so a
// directory of n names takes n/batch+1 passes. The names sit in fixed
// cells, so a LIST of any directory allocates nothing and leaves no
// garbage (a process-mode child's heap would grow for every LIST). A
// worker's lister works in the worker's transfer buffers, which LIST does
// not otherwise use.
type lister struct {
	dirents []byte   // getdents64 buffer (Linux)
	cells   []byte   // name cells: cap(batch) of them, then last
	batch   [][]byte // a max-heap of the kept names, each in its own cell
	last    []byte   // the last name emitted, in its own cell
}

// newLister makes a lister that works in cells and dirents, which must
// hold at least two name cells and one directory entry.
func newLister(cells, dirents []byte) *lister {
	n := len(cells)/nameCell - 1
	l := &lister{dirents: dirents, cells: cells, batch: make([][]byte, 0, n)}
	l.last = l.cells[n*nameCell : n*nameCell : (n+1)*nameCell]
	return l
}

// each calls visit for every stored file in sorted order: regular files
// whose names do not start with '.', and only those with one link unless
// hard links are served. A name created or removed during the walk may or
// may not be seen; the names seen are still strictly increasing. visit
// must not keep name.
func (l *lister) each(s *store, visit func(name []byte) error) error {
	d, err := s.root.Open(".")
	if err != nil {
		return err
	}
	defer d.Close()
	fd := int(d.Fd())
	l.last = l.last[:0] // names are never empty, so every one is greater
	for {
		if _, err := d.Seek(0, 0); err != nil {
			return fmt.Errorf("rewind directory: %w", err)
		}
		l.batch = l.batch[:0]
		if err := l.pass(d, fd); err != nil {
			return err
		}
		full := len(l.batch) == cap(l.batch)
		slices.SortFunc(l.batch, bytes.Compare)
		for _, name := range l.batch {
			if !s.listable(fd, name) {
				continue
			}
			if err := visit(name); err != nil {
				return err
			}
		}
		if !full {
			return nil
		}
		l.last = append(l.last[:0], l.batch[len(l.batch)-1]...)
	}
}

// keep adds name to the batch, or puts it in place of the largest kept
// name when the batch is full and name is smaller.
func (l *lister) keep(name []byte) {
	h := l.batch
	if len(h) < cap(h) {
		i := len(h)
		cell := l.cells[i*nameCell : i*nameCell : (i+1)*nameCell]
		h = append(h, append(cell, name...))
		for i > 0 { // sift up
			p := (i - 1) / 2
			if bytes.Compare(h[p], h[i]) >= 0 {
				break
			}
			h[p], h[i] = h[i], h[p]
			i = p
		}
		l.batch = h
		return
	}
	if bytes.Compare(name, h[0]) >= 0 {
		return
	}
	h[0] = append(h[0][:0], name...)
	for i := 0; ; { // sift down
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && bytes.Compare(h[c+1], h[c]) > 0 {
			c++
		}
		if bytes.Compare(h[i], h[c]) >= 0 {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
}
