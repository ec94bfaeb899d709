package main

import (
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// TestVersionBuildInfo: -version names the Go version and target, and the
// VCS revision when the build recorded one.
func TestVersionBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "GOOS", Value: "linux"}, {Key: "GOARCH", Value: "arm64"}, {Key: "CGO_ENABLED", Value: "0"},
		{Key: "vcs.revision", Value: "71e705090a44"}, {Key: "vcs.modified", Value: "false"}, {Key: "-ldflags", Value: "-s"},
	}}
	got := formatVersion("dev", bi)
	for _, want := range []string{"fileserverd dev go1.26.0", "GOARCH=arm64", "CGO_ENABLED=0", "vcs.revision=71e705090a44", "vcs.modified=false"} {
		if !strings.Contains(got, want) {
			t.Errorf("version %q lacks %q", got, want)
		}
	}
	bi.Main.Version = "v1.2.3"
	if got := formatVersion("dev", bi); !strings.HasPrefix(got, "fileserverd v1.2.3 ") {
		t.Errorf("go install'ed version: %q", got)
	}
	if got := formatVersion("v2.0.0", bi); !strings.HasPrefix(got, "fileserverd v2.0.0 ") {
		t.Errorf("-X main.version: %q", got)
	}

	out, err := exec.Command(serverBin, "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{runtime.Version(), "GOOS=" + runtime.GOOS, "GOARCH=" + runtime.GOARCH} {
		if !strings.Contains(string(out), want) {
			t.Errorf("fileserverd -version: %q lacks %q", out, want)
		}
	}
}
