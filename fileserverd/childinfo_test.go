package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"fileserver/protocol/childproc/childtest"
)

// init, before TestMain, makes this test binary started as a worker child
// (by TestChildGetsWholeConfig) echo what childFromEnv decoded, and exit.
func init() {
	ci, isChild, err := childFromEnv()
	if !isChild {
		return
	}
	if err == nil && ci.Config.allow == nil {
		err = errors.New("-allow was not parsed again")
	}
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(ci)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// TestChildGetsWholeConfig fails when a field of config does not reach a
// worker child: each field set to a value of its own, the child started as
// execStarter starts one (with no exe: this test binary), what it decoded
// compared field by field.
func TestChildGetsWholeConfig(t *testing.T) {
	var cfg config
	if u := childtest.Fill(t, &cfg); !slices.Equal(u, []string{"allow"}) {
		t.Fatalf("config's unexported fields %q: a child gets the exported ones only; derive each in childFromEnv and list it here", u)
	}
	cfg.Allow = "10.0.0.0/8" // parsed again in the child
	e := &execStarter{cfg: cfg, started: time.Unix(1234, 5678)}
	cmd, err := e.command(7, nil)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("worker child: %v\n%s", err, out.String())
	}
	var got childInfo
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("the child's echo %q: %v", out.String(), err)
	}
	childtest.Compare(t, childInfo{Config: cfg, ID: 7, Parent: os.Getpid(), Started: e.started}, got)
}
