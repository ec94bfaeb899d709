package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"

	"fileserver/protocol"
)

// TestListerSortedInPasses lists directories smaller and larger than one
// pass's batch, with entries LIST must leave out: every regular file is
// seen once, in order, and nothing else.
func TestListerSortedInPasses(t *testing.T) {
	const listBatch = 100
	for _, files := range []int{0, 1, listBatch - 1, listBatch, listBatch + 1, 3*listBatch + 7} {
		for _, hardLinks := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d files, hard links %v", files, hardLinks), func(t *testing.T) {
				dir := t.TempDir()
				want := fillListDir(t, dir, files)
				outside := filepath.Join(t.TempDir(), "outside")
				os.WriteFile(outside, nil, 0o644)
				must(t, os.Link(outside, filepath.Join(dir, "hardlink")))
				if hardLinks {
					want = append(want, "hardlink")
				}
				slices.Sort(want)

				st, err := openStore(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer st.Close()
				st.hardLinks = hardLinks
				l := newLister(make([]byte, (listBatch+1)*nameCell), make([]byte, 4096))
				for round := range 2 { // a lister is reused
					var got []string
					if err := l.each(st, func(name []byte) error {
						got = append(got, string(name))
						return nil
					}); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, want) {
						t.Fatalf("round %d: got %d names, want %d: first got %.3q, want %.3q", round, len(got), len(want), got, want)
					}
				}
			})
		}
	}
}

// fillListDir makes n regular files in dir, in no order, a third of them
// with multi-byte names (which sort by bytes), beside what LIST leaves
// out: a temporary file, a directory, a symbolic link and a FIFO. It
// returns the files' names.
func fillListDir(t *testing.T, dir string, n int) []string {
	t.Helper()
	var names []string
	for i := range n {
		name := fmt.Sprintf("f%05d", (i*7919)%max(n, 1))
		if i%3 == 0 {
			name += "-é😀"
		}
		names = append(names, name)
		must(t, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	os.WriteFile(filepath.Join(dir, ".upload-1-x.tmp"), nil, 0o644)
	os.Mkdir(filepath.Join(dir, "subdir"), 0o755)
	os.Symlink("f00000", filepath.Join(dir, "symlink"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	return names
}

// BenchmarkList lists 20,000 files of 253-byte names, a hostile LIST.
func BenchmarkList(b *testing.B) {
	dir := b.TempDir()
	for i := range 20000 {
		name := fmt.Sprintf("%s%05d", string(slices.Repeat([]rune{'😀'}, 62)), i)
		must(b, os.WriteFile(filepath.Join(dir, name), nil, 0o644))
	}
	st, err := openStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	bufs := protocol.NewBuffers()
	l := newLister(bufs.Encoded[:cap(bufs.Encoded)], bufs.Raw)
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		l.each(st, func([]byte) error { n++; return nil })
		if n != 20000 {
			b.Fatalf("%d names", n)
		}
	}
}
