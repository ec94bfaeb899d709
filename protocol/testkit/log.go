package testkit

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Log collects a process's output lines as they come and lets a test
// wait for one: no sleeps, a line is seen as soon as it is read.
type Log struct {
	mu      sync.Mutex
	lines   []string      // guarded by mu
	changed chan struct{} // guarded by mu: closed and replaced on every new line
	eof     chan struct{} // closed once the output ended
}

// NewLog reads r to its end in a goroutine of its own: a process whose
// output pipe fills up stops.
func NewLog(r io.Reader) *Log {
	l := &Log{changed: make(chan struct{}), eof: make(chan struct{})}
	go func() {
		defer close(l.eof)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l.mu.Lock()
			l.lines = append(l.lines, sc.Text())
			close(l.changed)
			l.changed = make(chan struct{})
			l.mu.Unlock()
		}
	}()
	return l
}

// StartLogged starts cmd with its stderr read into a Log, and kills it at
// the test's end unless it was waited for. Its stderr is an os.Pipe of
// the test's own, not cmd.StderrPipe, so that the Log reads to the end
// of every writer (children that inherited it included) whatever Wait
// does, and EOF tells when the last of them is gone.
func StartLogged(t testing.TB, cmd *exec.Cmd) *Log {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	cmd.Stderr = w
	err = cmd.Start()
	w.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return NewLog(r)
}

// String is every line so far, for failure messages.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// Tail is the last n lines so far, for failure messages about a long
// run, behind a line saying how many were left out.
func (l *Log) Tail(n int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) <= n {
		return strings.Join(l.lines, "\n")
	}
	return fmt.Sprintf("[earlier lines left out: %d]\n", len(l.lines)-n) + strings.Join(l.lines[len(l.lines)-n:], "\n")
}

// EOF is closed once the output has ended.
func (l *Log) EOF() <-chan struct{} { return l.eof }

// WaitFor returns the submatches of the first line matching re.
func (l *Log) WaitFor(re *regexp.Regexp, timeout time.Duration) ([]string, error) {
	ms, err := l.WaitForCount(re, 1, timeout)
	if err != nil {
		return nil, err
	}
	return ms[0], nil
}

// WaitForCount waits until n lines match re and returns their submatches.
func (l *Log) WaitForCount(re *regexp.Regexp, n int, timeout time.Duration) ([][]string, error) {
	return l.waitMatches(re.String(), n, timeout, re.FindStringSubmatch)
}

// waitMatches waits until match returns non-nil for n lines, and returns
// what it returned for each; what names the match in errors.
func (l *Log) waitMatches(what string, n int, timeout time.Duration, match func(line string) []string) ([][]string, error) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	ended := false
	for {
		l.mu.Lock()
		var ms [][]string
		for _, line := range l.lines {
			if m := match(line); m != nil {
				ms = append(ms, m)
			}
		}
		changed := l.changed
		l.mu.Unlock()
		if len(ms) >= n {
			return ms, nil
		}
		if ended {
			return ms, errors.New("process output ended before " + what)
		}
		select {
		case <-changed:
		case <-l.eof:
			ended = true // one more look at the complete output
		case <-deadline.C:
			return ms, fmt.Errorf("no %d lines matching %s within %s", n, what, timeout)
		}
	}
}
