package stress

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratorIndependentOfReads checks that generated content is the
// same whatever sizes it is read in, and exactly as long as asked.
func TestGeneratorIndependentOfReads(t *testing.T) {
	const size = 100_003
	want := make([]byte, size)
	if _, err := io.ReadFull(newGenerator(contentSeed, size), want); err != nil {
		t.Fatal(err)
	}
	for _, chunk := range []int{1, 3, 7, 8, 9, 13, 4096, 96 << 10, size + 10} {
		var got bytes.Buffer
		g := newGenerator(contentSeed, size)
		buf := make([]byte, chunk)
		for i := 0; i <= size; i++ { // bounded: at least a byte per read
			n, err := g.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("reads of %d bytes: %d bytes, differing from reads of all at once", chunk, got.Len())
		}
	}
	other := make([]byte, 64)
	io.ReadFull(newGenerator(contentSeed+1, 64), other)
	if bytes.Equal(other, want[:64]) {
		t.Error("another seed gives the same content")
	}
	if n, _ := io.Copy(io.Discard, newGenerator(contentSeed, 0)); n != 0 {
		t.Errorf("empty content yields %d bytes", n)
	}
}

// TestSourceSHA256 checks the expected-content hash against a hash of
// the bytes held whole, for generated content and for a file, and that a
// file of another size is refused.
func TestSourceSHA256(t *testing.T) {
	const size = 1<<20 + 5
	r, err := source{Size: size, Seed: contentSeed}.open()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:])
	path := filepath.Join(t.TempDir(), "content.bin")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, src := range []source{{Size: size, Seed: contentSeed}, {Path: path, Size: size}} {
		got, err := src.sha256(context.Background())
		if err != nil || got != want {
			t.Errorf("%+v: sha256 %s, %v; want %s", src, got, err, want)
		}
	}
	if _, err := (source{Path: path, Size: size - 1}).sha256(context.Background()); err == nil {
		t.Error("a file of another size than the cell's was accepted")
	}
}

// TestNearestRankAndKinds checks the figures the CSV is built from.
func TestNearestRankAndKinds(t *testing.T) {
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20}
	if p := nearestRank(v, 0.50); p != 10 {
		t.Errorf("p50 = %v, want 10", p)
	}
	if p := nearestRank(v, 0.95); p != 19 {
		t.Errorf("p95 = %v, want 19", p)
	}
	if p := nearestRank([]float64{7}, 0.95); p != 7 {
		t.Errorf("p95 of one = %v, want 7", p)
	}
	got := formatKinds(map[string]int{"io": 2, "integrity": 1, "timeout": 3, "zz": 1, "server": 0})
	if want := "timeout=3;integrity=1;io=2;zz=1"; got != want {
		t.Errorf("formatKinds = %q, want %q", got, want)
	}
}

// TestWorkerSeeds checks that upload workers' generated contents differ
// from each other and from the download cells' test file, while a -file
// is the same for all.
func TestWorkerSeeds(t *testing.T) {
	src := source{Size: 4096, Seed: contentSeed}
	ctx := t.Context()
	want, err := src.sha256(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{want: 0}
	for w := 1; w <= 64; w++ {
		sum, err := src.forWorker(w).sha256(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if prev, dup := seen[sum]; dup {
			t.Fatalf("worker %d sends the same content as worker %d (0: the test file)", w, prev)
		}
		seen[sum] = w
	}
	if f := (source{Path: "x", Size: 1, Seed: contentSeed}); f.forWorker(3) != f {
		t.Error("a -file source changed per worker")
	}
}
