package main

import (
	"bytes"
	"os"
	"slices"
	"testing"
)

// TestPassReadDirKeepsWhatGetdentsKeeps checks the lister's pass where
// there is no getdents64 (macOS), passReadDir, against the Linux pass on
// the same directory: from each pass's start (the last name emitted), both
// keep the same batch of names, so LIST lists the same files in the same
// order, leaving out dot files, directories, links and FIFOs alike.
func TestPassReadDirKeepsWhatGetdentsKeeps(t *testing.T) {
	const batch = 50
	dir := t.TempDir()
	fillListDir(t, dir, 3*batch+7)

	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	fd := int(d.Fd())
	getdents := newLister(make([]byte, (batch+1)*nameCell), make([]byte, 4096))
	readDir := newLister(make([]byte, (batch+1)*nameCell), nil)
	run := func(l *lister, pass func() error) []string {
		t.Helper()
		if _, err := d.Seek(0, 0); err != nil {
			t.Fatal(err)
		}
		l.batch = l.batch[:0]
		must(t, pass())
		slices.SortFunc(l.batch, bytes.Compare)
		var names []string
		for _, n := range l.batch {
			names = append(names, string(n))
		}
		return names
	}
	seen := 0
	for passes := 1; ; passes++ {
		want := run(getdents, func() error { return getdents.pass(d, fd) })
		got := run(readDir, func() error { return readDir.passReadDir(d) })
		if !slices.Equal(got, want) {
			t.Fatalf("pass %d: passReadDir kept %q, the getdents64 pass %q", passes, got, want)
		}
		seen += len(got)
		if len(got) < batch {
			break
		}
		getdents.last = append(getdents.last[:0], getdents.batch[len(getdents.batch)-1]...)
		readDir.last = append(readDir.last[:0], readDir.batch[len(readDir.batch)-1]...)
		if passes > 10 {
			t.Fatal("more passes than the directory needs")
		}
	}
	if seen != 3*batch+7 {
		t.Errorf("%d names kept over all passes, want the %d files", seen, 3*batch+7)
	}
}
