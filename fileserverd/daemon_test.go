package main

import (
	"context"
	"io"
	"os"
	"testing"
	"time"

	"fileserver/protocol"
	"fileserver/protocol/testkit"
)

// serverBin is the fileserverd built once for the whole test run.
var serverBin string

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		runHelper()
		return
	}
	if os.Getenv(failFsyncEnv) != "" {
		execFailingFsync()
	}
	if name, ok := os.LookupEnv(envFchdirRoot); ok {
		os.Exit(runFchdirRoot(name))
	}
	testkit.Main(m, testkit.Binary{Pkg: testkit.ServerPkg, Path: &serverBin})
}

// daemon is a fileserverd process started by a test, with the helpers
// these tests add to testkit's.
type daemon struct{ *testkit.Server }

// startDaemon runs fileserverd on a free loopback port with a fresh
// storage directory, and waits until it serves. Cleanup stops it.
func startDaemon(t testing.TB, mode string, workers int, extra ...string) *daemon {
	t.Helper()
	return newDaemon(t, testkit.ServerOptions{Mode: mode, Workers: workers, Args: extra})
}

// newDaemon is startDaemon with every option testkit has.
func newDaemon(t testing.TB, opts testkit.ServerOptions) *daemon {
	t.Helper()
	return &daemon{testkit.StartServer(t, opts)}
}

// waitStats polls STATS until cond holds, for at most timeout.
func (d *daemon) waitStats(t testing.TB, timeout time.Duration, cond func(*protocol.Stats) bool) *protocol.Stats {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s := d.Stats(t)
		if cond(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("counters never reached the expected state; last: %+v", s)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// files lists every entry of the storage directory, hidden ones included.
func (d *daemon) files(t testing.TB) []string {
	t.Helper()
	return dirNames(t, d.Dir)
}

// dirNames lists a directory's entries, hidden ones included.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// upload stores r as name through a connection of its own.
func (d *daemon) upload(t testing.TB, name string, r io.Reader) protocol.UploadResult {
	t.Helper()
	c := d.Client(t)
	defer c.Close()
	res, err := c.Upload(ctxTimeout(t, time.Minute), name, r)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// get downloads name through a connection of its own and returns its size
// and SHA-256.
func (d *daemon) get(t testing.TB, name string) (int64, string) {
	t.Helper()
	c := d.Client(t)
	defer c.Close()
	w := newHashWriter()
	n, err := c.Get(ctxTimeout(t, time.Minute), name, w)
	if err != nil {
		t.Fatal(err)
	}
	if n != w.n {
		t.Fatalf("Get returned %d bytes but wrote %d", n, w.n)
	}
	return n, w.sum()
}

// list returns LIST through a connection of its own.
func (d *daemon) list(t testing.TB) []string {
	t.Helper()
	c := d.Client(t)
	defer c.Close()
	names, err := c.List(ctxTimeout(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// waitUntil polls cond for up to 10 s, and fails the test with failure()
// if it never holds.
func waitUntil(t testing.TB, cond func() bool, failure func() string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal(failure())
		}
	}
}

// must fails the test at once on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
