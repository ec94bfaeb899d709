package main

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// TestStartWriteback checks the early writeback of an upload's content
// (sync_file_range on Linux, arm_sync_file_range on 32-bit ARM, whose
// 64-bit arguments go in register pairs): it is accepted for written
// bytes, and refused for an offset that is negative only in its high
// word, which a call with the words swapped would take for a valid one.
func TestStartWriteback(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "upload.tmp"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(make([]byte, 1<<20)); err != nil {
		t.Fatal(err)
	}
	if err := startWriteback(f, 0, 1<<20); err != nil {
		t.Errorf("writeback of the bytes written: %v", err)
	}
	if runtime.GOOS != "linux" {
		return // nothing is asked of the system there
	}
	if err := startWriteback(f, -1<<32, 1<<20); err == nil {
		t.Error("writeback from offset -2^32 accepted: the offset's words are swapped")
	}
}
