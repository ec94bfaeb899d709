package main

import (
	"fmt"
	"io"
	"log/slog"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func newLogger(format string, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelInfo}
	var j *journalWriter
	if toJournal(w) {
		// journald stamps lines itself, and reads a "<N>" priority.
		opts.ReplaceAttr = dropTime
		j = newJournalWriter(w)
		w = j
	}
	var h slog.Handler
	if format == "json" {
		// Client-chosen names must not reorder or hide text in a log
		// viewer; the text handler's quoting sees to it by itself (see
		// logescape.go).
		opts.ReplaceAttr = chainReplace(opts.ReplaceAttr, escapeFormatAttr)
		h = slog.NewJSONHandler(w, opts)
	} else {
		h = slog.NewTextHandler(w, opts)
	}
	if j != nil {
		h = levelPrefix{h, j}
	}
	return slog.New(h)
}

// versionString names the version, Go version, target and VCS revision,
// so that a binary copied to a lab VM tells what it was built from.
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return formatVersion(version, bi)
}

// formatVersion is versionString for given build information (nil when the
// binary has none). The VCS settings are there when go build ran in a
// checkout with -buildvcs on (the default); a module version replaces
// "dev" for binaries made by go install module@version.
func formatVersion(version string, bi *debug.BuildInfo) string {
	if bi == nil {
		return "fileserverd " + version
	}
	if v := bi.Main.Version; version == "dev" && v != "" && v != "(devel)" {
		version = v
	}
	s := "fileserverd " + version + " " + bi.GoVersion
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "CGO_ENABLED":
			s += fmt.Sprintf(" %s=%s", kv.Key, kv.Value)
		}
	}
	return s
}
