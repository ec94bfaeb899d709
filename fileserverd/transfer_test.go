package main

import (
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"
)

// TestRoundTrip uploads and downloads a large file (100 MB; 8 MB with
// -short) and compares SHA-256 on both sides, through GET and DOWNLOAD.
func TestRoundTrip(t *testing.T) {
	size := int64(100 << 20)
	if testing.Short() {
		size = 8 << 20
	}
	forModesInTurn(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2)
		want := patternSum(7, size)
		res := d.upload(t, "round trip.bin", newPattern(7, size))
		if res.Stored != size || res.StoredSHA256 != want {
			t.Fatalf("server stored %d bytes %s, want %d bytes %s", res.Stored, res.StoredSHA256, size, want)
		}
		if n, sum := d.get(t, "round trip.bin"); n != size || sum != want {
			t.Errorf("GET returned %d bytes %s, want %d bytes %s", n, sum, size, want)
		}
		c := d.Client(t)
		w := newHashWriter()
		if _, err := c.Download(ctxTimeout(t, time.Minute), "round trip.bin", w); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if w.n != size || w.sum() != want {
			t.Errorf("DOWNLOAD returned %d bytes %s, want %d bytes %s", w.n, w.sum(), size, want)
		}
		st, err := os.Stat(filepath.Join(d.Dir, "round trip.bin"))
		if err != nil || st.Size() != size {
			t.Errorf("stored file: %v, size %d", err, st.Size())
		}
	})
}

// TestConcurrentUploadsToOneName races several uploads of different
// content to one name: one complete version must remain, never a mix, and
// no temporary file.
func TestConcurrentUploadsToOneName(t *testing.T) {
	const uploaders = 8
	const size = 3 << 20
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, uploaders)
		sums := map[string]bool{}
		for i := range uploaders {
			sums[patternSum(uint64(100+i), size)] = true
		}
		var wg sync.WaitGroup
		for i := range uploaders {
			wg.Go(func() { d.upload(t, "same.bin", newPattern(uint64(100+i), size)) })
		}
		wg.Wait()
		if n, sum := d.get(t, "same.bin"); n != size || !sums[sum] {
			t.Errorf("same.bin is %d bytes %s: not one of the uploaded versions", n, sum)
		}
		if f := d.files(t); !slices.Equal(f, []string{"same.bin"}) {
			t.Errorf("storage holds %v, want only same.bin", f)
		}
		if s := d.Stats(t); s.Requests["upload"].OK != uploaders {
			t.Errorf("upload ok = %d, want %d", s.Requests["upload"].OK, uploaders)
		}
	})
}

// overwriteOnFirstWrite runs fn once, when the download has delivered its
// first bytes, and then keeps hashing.
type overwriteOnFirstWrite struct {
	*hashWriter
	once sync.Once
	fn   func()
}

func (w *overwriteOnFirstWrite) Write(p []byte) (int, error) {
	w.once.Do(w.fn)
	return w.hashWriter.Write(p)
}

// TestDownloadSurvivesOverwriteAndDelete overwrites and then deletes a
// file while it is being downloaded: the download gets the old version
// whole.
func TestDownloadSurvivesOverwriteAndDelete(t *testing.T) {
	const size = 16 << 20
	forModes(t, func(t *testing.T, mode string) {
		d := startDaemon(t, mode, 2)
		d.upload(t, "moving.bin", newPattern(1, size))
		w := &overwriteOnFirstWrite{hashWriter: newHashWriter(), fn: func() {
			d.upload(t, "moving.bin", newPattern(2, size))
			c := d.Client(t)
			defer c.Close()
			if err := c.Delete(ctxTimeout(t, 10*time.Second), "moving.bin"); err != nil {
				t.Error(err)
			}
		}}
		c := d.Client(t)
		if _, err := c.Get(ctxTimeout(t, time.Minute), "moving.bin", w); err != nil {
			t.Fatal(err)
		}
		if w.n != size || w.sum() != patternSum(1, size) {
			t.Errorf("download during overwrite got %d bytes, not the old version whole", w.n)
		}
		if names := d.list(t); len(names) != 0 {
			t.Errorf("LIST after delete = %v", names)
		}
	})
}

// TestListShowsOnlyStoredFiles checks LIST hides temporary files and
// directories, sorts names, and that a restart removes leftover temporary
// files.
func TestListShowsOnlyStoredFiles(t *testing.T) {
	d := startDaemon(t, "thread", 1)
	for _, n := range []string{"b.txt", "a.txt", "C.txt"} {
		d.upload(t, n, newPattern(3, 10))
	}
	os.WriteFile(filepath.Join(d.Dir, ".upload-999-abc.tmp"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(d.Dir, "sub"), 0o755)
	if got, want := d.list(t), []string{"C.txt", "a.txt", "b.txt"}; !slices.Equal(got, want) {
		t.Errorf("LIST = %v, want %v", got, want)
	}
	if err := d.Stop(10 * time.Second); err != nil {
		t.Fatalf("exit: %v", err)
	}
	// A new server on the same directory clears the leftover.
	cmdDir := d.Dir
	d2 := startDaemon(t, "thread", 1, "-dir", cmdDir)
	if _, err := os.Stat(filepath.Join(cmdDir, ".upload-999-abc.tmp")); !os.IsNotExist(err) {
		t.Errorf("leftover temporary file not removed at startup: %v", err)
	}
	if got := d2.list(t); len(got) != 3 {
		t.Errorf("LIST after restart = %v", got)
	}
}
