package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"fileserver/filestressd/results"
	"fileserver/protocol/testkit"
)

// TestFullDiskLeavesFilesAsTheyWere runs list cells whose -csv or -json
// file is on a full 1 MiB tmpfs: filestressd exits 1 saying why, a file
// it would have created is not left behind (empty), and one that was
// there keeps its bytes, though the append began: each existing file ends
// a few bytes short of a page, so that the first bytes of the append fit
// and the rest does not.
func TestFullDiskLeavesFilesAsTheyWere(t *testing.T) {
	dir := testkit.Tmpfs(t, "1m")
	s := startHostileServer(t, 0, hostileHandlers{})

	page := os.Getpagesize()
	oldCSV, oldJSON := filepath.Join(dir, "old.csv"), filepath.Join(dir, "old.jsonl")
	csvText := strings.Join(results.Header(), ",") + "\n"
	for len(csvText) < 2*page-40 {
		csvText += "0\n"
	}
	writeFile(t, oldCSV, csvText)
	writeFile(t, oldJSON, strings.Repeat(`{"worker":0}`+"\n", (2*page-40)/13))
	fill(t, filepath.Join(dir, "fill"))

	cases := []struct {
		name string
		args []string
		file string // the file named
		old  bool   // it was there before
	}{
		{"new -csv", []string{"-csv", filepath.Join(dir, "new.csv")}, filepath.Join(dir, "new.csv"), false},
		{"new -json", []string{"-json", filepath.Join(dir, "new.jsonl")}, filepath.Join(dir, "new.jsonl"), false},
		{"old -csv", []string{"-csv", oldCSV}, oldCSV, true},
		{"old -json", []string{"-json", oldJSON}, oldJSON, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var before []byte
			if tc.old {
				before = readFile(t, tc.file)
			}
			r := runStress(t, append([]string{"-addr", s.addr, "-op", "list", "-workers", "4", "-request", "text"}, tc.args...)...)
			if r.code != exitFailed || !strings.Contains(r.stderr, "no space left on device") {
				t.Errorf("exit %d, stderr %q: want 1, naming the full disk", r.code, r.stderr)
			}
			after, err := os.ReadFile(tc.file)
			switch {
			case !tc.old && !errors.Is(err, os.ErrNotExist):
				t.Errorf("%s left behind (%d bytes, %v)", tc.file, len(after), err)
			case tc.old && !bytes.Equal(after, before):
				t.Errorf("%s changed: %d bytes, %d before", tc.file, len(after), len(before))
			}
		})
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fill writes path until its file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for range 1 << 20 { // far more than the file system holds
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return
			}
			t.Fatal(err)
		}
	}
	t.Fatal("the file system never filled")
}

// writeFile writes text to path or ends the test.
func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
