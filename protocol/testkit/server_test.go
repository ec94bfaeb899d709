package testkit

import (
	"strings"
	"testing"
)

// TestLogLines: the lines StartServer waits for are read in both log
// formats, and behind the journal's priority prefix.
func TestLogLines(t *testing.T) {
	cases := []struct {
		line         string
		addr         string
		worker, pid  int
		listen, work bool
	}{
		{line: `time=2026-11-30T18:00:00Z level=INFO msg=listening addr=127.0.0.1:4242 mode=thread`, addr: "127.0.0.1:4242", listen: true},
		{line: `<6>level=INFO msg=listening addr=[::1]:80 mode=process`, addr: "[::1]:80", listen: true},
		{line: `{"time":"2026-11-30T18:00:00Z","level":"INFO","msg":"listening","addr":"127.0.0.1:4243","mode":"thread"}`, addr: "127.0.0.1:4243", listen: true},
		{line: `level=INFO msg="worker started" worker=3 pid=1234`, worker: 3, pid: 1234, work: true},
		{line: `<6>{"level":"INFO","msg":"worker started","worker":2,"pid":99}`, worker: 2, pid: 99, work: true},
		{line: `level=INFO msg=stopped connections=3`},
		{line: `{"msg":"request","addr":"127.0.0.1:1"}`},
	}
	for _, tc := range cases {
		addr, ok := ListeningAddr(tc.line)
		if ok != tc.listen || addr != tc.addr {
			t.Errorf("ListeningAddr(%q) = %q, %v; want %q, %v", tc.line, addr, ok, tc.addr, tc.listen)
		}
		worker, pid, ok := WorkerStarted(tc.line)
		if ok != tc.work || worker != tc.worker || pid != tc.pid {
			t.Errorf("WorkerStarted(%q) = %d, %d, %v; want %d, %d, %v", tc.line, worker, pid, ok, tc.worker, tc.pid, tc.work)
		}
	}
}

// TestLogTail: Tail quotes the last lines, and says how many it left out.
func TestLogTail(t *testing.T) {
	l := NewLog(strings.NewReader("a\nb\nc\n"))
	<-l.EOF()
	for _, tc := range []struct {
		n    int
		want string
	}{
		{5, "a\nb\nc"},
		{3, "a\nb\nc"},
		{2, "[earlier lines left out: 1]\nb\nc"},
		{0, "[earlier lines left out: 3]\n"},
	} {
		if got := l.Tail(tc.n); got != tc.want {
			t.Errorf("Tail(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
