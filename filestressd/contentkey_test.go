package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"fileserver/filestressd/stress"
)

// TestCourseServerMessageUnderData downloads files by -name from a server
// whose GET reply carries a message that is valid base64 ("berhasil")
// under "data" and the content under "file_data": the content is the one
// under file_data, for a small file (whose value is kept and decoded at
// the end) and a large one (streamed), whether the workers are checked
// against -file or against what the setup downloaded.
func TestCourseServerMessageUnderData(t *testing.T) {
	s := startCourseServer(t, "content_key.py", "file_data", "berhasil")
	for _, size := range []int{1000, 64 << 10, 256 << 10} {
		name := fmt.Sprintf("msg-%d.bin", size)
		data := make([]byte, size)
		rand.Read(data)
		orig := filepath.Join(t.TempDir(), name)
		for _, p := range []string{orig, filepath.Join(s.dir, name)} {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]string{"client_ok": "3", "client_fail": "0", "volume_bytes": fmt.Sprint(size), "verified": stress.VerifyReply}
		r, row := runRow(t, "-addr", s.addr, "-op", "download", "-name", name, "-workers", "3", "-timeout", "30s")
		expect(t, row, want)
		_, sum := fileSHA(t, orig)
		if t.Failed() {
			t.Fatalf("-name %s: the content's sha256 is %s\nstdout:\n%s\nstderr:\n%s", name, sum, r.stdout, r.stderr)
		}
		r, row = runRow(t, "-addr", s.addr, "-op", "download", "-name", name, "-file", orig, "-workers", "3", "-pool", stress.PoolProcess, "-timeout", "30s")
		expect(t, row, want)
		if t.Failed() {
			t.Fatalf("-name %s -file:\nstdout:\n%s\nstderr:\n%s", name, r.stdout, r.stderr)
		}
	}
}
