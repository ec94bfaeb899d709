package main

import (
	"io"
	"log/slog"
	"os"
	"strconv"
	"syscall"
)

// envJournalStream is set by systemd to "<device>:<inode>" of the stream
// it connects a service's stdout and stderr to when that is the journal.
const envJournalStream = "JOURNAL_STREAM"

// toJournal reports whether w is the journal. journald stamps every line
// with its own time, so ours would only repeat it. The variable alone is
// not enough: it is inherited by everything a service starts (a desktop
// session's terminals, for one), so it counts only when it names w.
func toJournal(w io.Writer) bool {
	js := os.Getenv(envJournalStream)
	f, ok := w.(*os.File)
	if js == "" || !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && js == journalStreamID(st)
}

// journalStreamID formats a file's identity as systemd does for
// JOURNAL_STREAM.
func journalStreamID(st *syscall.Stat_t) string {
	return strconv.FormatUint(uint64(st.Dev), 10) + ":" + strconv.FormatUint(st.Ino, 10)
}

// dropTime is a slog ReplaceAttr that removes the record's time.
func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
