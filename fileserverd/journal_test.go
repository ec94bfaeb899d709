package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// TestJournalStream: when JOURNAL_STREAM names the daemon's stderr, as
// systemd sets it when stderr is the journal, no log line carries a time
// (journald adds its own), in the parent and in worker children alike;
// when it names something else, inherited from elsewhere, times stay.
func TestJournalStream(t *testing.T) {
	cases := []struct {
		name, mode string
		matching   bool
	}{
		{"thread", "thread", true},
		{"process", "process", true},
		{"other-stream", "thread", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newDaemon(t, testkit.ServerOptions{Mode: tc.mode, Workers: 2, Setup: func(cmd *exec.Cmd) {
				js := "1:1"
				if tc.matching {
					fi, err := cmd.Stderr.(*os.File).Stat()
					if err != nil {
						t.Fatal(err)
					}
					st := fi.Sys().(*syscall.Stat_t)
					js = fmt.Sprintf("%d:%d", st.Dev, st.Ino)
				}
				cmd.Env = append(os.Environ(), "JOURNAL_STREAM="+js)
			}})
			d.list(t) // a line from the worker, a child in process mode
			if err := d.Stop(10 * time.Second); err != nil {
				t.Fatalf("exit: %v\n%s", err, d.Log)
			}
			lines := strings.Split(d.Log.String(), "\n")
			if len(lines) < 4 {
				t.Fatalf("too few log lines:\n%s", d.Log)
			}
			for _, l := range lines {
				timed := strings.HasPrefix(l, "time=")
				if timed == tc.matching {
					t.Errorf("JOURNAL_STREAM naming stderr: %v; line has a time: %v: %s", tc.matching, timed, l)
				}
			}
		})
	}
}

// TestNewLoggerJournal checks both log formats against a file standing in
// for the journal's stream.
func TestNewLoggerJournal(t *testing.T) {
	f, st := journalFile(t)
	for _, format := range []string{"text", "json"} {
		for _, js := range []string{fmt.Sprintf("%d:%d", st.Dev, st.Ino), fmt.Sprintf("%d:%d", st.Dev, st.Ino+1), ""} {
			t.Setenv("JOURNAL_STREAM", js)
			rewind(t, f)
			log := newLogger(format, f)
			log.Info("hello", "n", 1)
			log.With("w", 2).Warn("careful")
			log.Error("broken")
			b, _ := os.ReadFile(f.Name())
			timed := strings.Contains(string(b), "time=") || strings.Contains(string(b), `"time":`)
			journal := js == fmt.Sprintf("%d:%d", st.Dev, st.Ino)
			if timed == journal || !strings.Contains(string(b), "hello") {
				t.Errorf("format %s, JOURNAL_STREAM=%q: %q; want a time: %v", format, js, b, !journal)
			}
			// In the journal each line starts with its syslog priority,
			// so that journalctl -p warning selects warnings.
			lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
			for i, prio := range []string{"<6>", "<4>", "<3>"} {
				if i >= len(lines) || strings.HasPrefix(lines[i], prio) != journal || (!journal && strings.HasPrefix(lines[i], "<")) {
					t.Errorf("format %s, JOURNAL_STREAM=%q: line %d of %q; want a %s prefix: %v", format, js, i+1, b, prio, journal)
				}
			}
		}
	}
}

// journalFile is a file standing in for the journal's stream, and its
// device and inode, which $JOURNAL_STREAM names; cleanup closes it.
func journalFile(t *testing.T) (*os.File, *syscall.Stat_t) {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return f, fi.Sys().(*syscall.Stat_t)
}

// rewind empties f for the next write.
func rewind(t *testing.T, f *os.File) {
	t.Helper()
	must(t, f.Truncate(0))
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
}
