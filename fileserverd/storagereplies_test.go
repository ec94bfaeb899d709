//go:build linux

// Linux only: a small tmpfs mounted for a full disk.

package main

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/testkit"
)

// TestStorageErrorsNameNoPaths fills a 1 MiB file system and plants a
// symbolic link that leads out of the storage directory: the ERROR replies
// give the system's reason and the file as the client named it, never a
// path of the server or the system call that failed, and the log keeps the
// whole error for the administrator.
func TestStorageErrorsNameNoPaths(t *testing.T) {
	forModes(t, func(t *testing.T, mode string) {
		dir := testkit.Tmpfs(t, "1m") // unmounted after the daemon stops
		d := startDaemon(t, mode, 2, "-dir", dir)
		must(t, os.Symlink("/etc/passwd", filepath.Join(dir, "escape")))
		cases := []struct {
			name, want string
			do         func(c *protocol.Client) error
		}{
			{"full", `upload "full.bin": no space left on device`, func(c *protocol.Client) error {
				_, err := c.Upload(ctxTimeout(t, 20*time.Second), "full.bin", newPattern(1, 2<<20))
				return err
			}},
			{"escape", `get "escape": a symbolic link that leads outside the storage directory is not served`, func(c *protocol.Client) error {
				_, err := c.Get(ctxTimeout(t, 20*time.Second), "escape", newHashWriter())
				return err
			}},
		}
		for _, tc := range cases {
			c := d.Client(t)
			err := tc.do(c)
			c.Close()
			var se *protocol.ServerError
			if !errors.As(err, &se) {
				t.Errorf("%s: %v, want an ERROR reply", tc.name, err)
				continue
			}
			if se.Reason != tc.want {
				t.Errorf("%s: ERROR %q, want %q", tc.name, se.Reason, tc.want)
			}
			for _, leak := range []string{dir, "/", "openat", "write ", tempPrefix} {
				if strings.Contains(se.Reason, leak) {
					t.Errorf("%s: ERROR %q quotes %q", tc.name, se.Reason, leak)
				}
			}
		}
		if _, err := d.Log.WaitFor(regexp.MustCompile(`cause="write /[^"]*/\.upload-[^"]*: no space left on device"`), 10*time.Second); err != nil {
			t.Errorf("the log does not keep the whole disk-full error: %v\n%s", err, d.Log)
		}
		if names := dirNames(t, dir); len(names) != 1 || names[0] != "escape" {
			t.Errorf("storage holds %v after the failed upload, want only the planted link", names)
		}
		// The server goes on once space is back.
		os.Remove(filepath.Join(dir, "escape"))
		d.upload(t, "small.txt", strings.NewReader("fits"))
	})
}
