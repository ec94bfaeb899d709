package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
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

// journalPriority is the syslog priority journald reads from a "<N>"
// prefix, so that journalctl -p warning selects warnings and errors.
func journalPriority(l slog.Level) byte {
	switch {
	case l >= slog.LevelError:
		return '3'
	case l >= slog.LevelWarn:
		return '4'
	case l >= slog.LevelInfo:
		return '6'
	}
	return '7'
}

// journalWriter writes each log line to the journal behind the priority
// of the record it belongs to. A slog handler writes one line per record,
// from its Handle; levelPrefix holds record for the whole of Handle and
// sets priority first.
type journalWriter struct {
	w        io.Writer
	record   sync.Mutex // held by levelPrefix.Handle: guards priority and line
	priority byte       // guarded by record
	line     []byte     // guarded by record: the line being written, reused
}

func newJournalWriter(w io.Writer) *journalWriter { return &journalWriter{w: w, priority: '6'} }

// Write is called by the handler under j.record.
func (j *journalWriter) Write(p []byte) (int, error) {
	j.line = append(append(j.line[:0], '<', j.priority, '>'), p...)
	if _, err := j.w.Write(j.line); err != nil {
		return 0, err
	}
	return len(p), nil
}

// levelPrefix is a slog handler that gives its journalWriter the priority
// of each record before the handler under it writes the record.
type levelPrefix struct {
	slog.Handler
	j *journalWriter
}

func (h levelPrefix) Handle(ctx context.Context, r slog.Record) error {
	h.j.record.Lock()
	defer h.j.record.Unlock()
	h.j.priority = journalPriority(r.Level)
	return h.Handler.Handle(ctx, r)
}

func (h levelPrefix) WithAttrs(as []slog.Attr) slog.Handler {
	return levelPrefix{h.Handler.WithAttrs(as), h.j}
}

func (h levelPrefix) WithGroup(name string) slog.Handler {
	return levelPrefix{h.Handler.WithGroup(name), h.j}
}
