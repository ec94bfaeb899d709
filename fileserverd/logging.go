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
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// versionString names the version, Go version and VCS revision.
func versionString() string {
	s := "fileserverd " + version
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return s
	}
	s += " " + bi.GoVersion
	for _, kv := range bi.Settings {
		switch kv.Key {
		case "vcs.revision", "vcs.time", "vcs.modified", "GOOS", "GOARCH", "CGO_ENABLED":
			s += fmt.Sprintf(" %s=%s", kv.Key, kv.Value)
		}
	}
	return s
}
