package stress

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"fileserver/protocol/childproc/childtest"
)

// init, before TestMain, makes this test binary started as a process-pool
// child (by TestChildGetsWholeSpec) echo the spec it decoded, and exit.
func init() {
	spec, isChild, err := childSpecFromEnv()
	if !isChild {
		return
	}
	if err == nil {
		err = json.NewEncoder(os.Stdout).Encode(spec)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(childFailed)
	}
	os.Exit(childOK)
}

// TestChildGetsWholeSpec fails when a field of childSpec, its job's
// included, does not reach a child: each set to a value of its own, the
// child started by startChild (with no exe: this test binary), what it
// decoded compared field by field.
func TestChildGetsWholeSpec(t *testing.T) {
	var want childSpec
	if u := childtest.Fill(t, &want); len(u) > 0 {
		t.Fatalf("childSpec's unexported fields %q: a child gets the exported ones only", u)
	}
	setup, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := startChild(setup, setup, "", want, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	var got childSpec
	if err := json.NewDecoder(c.stdout).Decode(&got); err != nil {
		t.Fatalf("the child's echo: %v", err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
	childtest.Compare(t, want, got)
}
