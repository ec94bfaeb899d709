//go:build !linux

package main

import "os"

// This file exists because getdents64 is Linux's (listing_linux.go):
// elsewhere a pass reads the directory through os.File.ReadDir
// (passReadDir).

// pass reads the directory d once, keeping in l.batch the cap(l.batch)
// smallest candidate names greater than l.last.
func (l *lister) pass(d *os.File, _ int) error { return l.passReadDir(d) }
