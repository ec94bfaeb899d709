package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

var modes = []string{"thread", "process"}

// pattern is n deterministic pseudo-random bytes drawn from seed, made on
// the fly so that tests move large files without holding them.
type pattern struct {
	state uint64
	left  int64
}

func newPattern(seed uint64, n int64) *pattern {
	return &pattern{state: seed*0x9e3779b97f4a7c15 + 1, left: n}
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	b = b[:min(int64(len(b)), p.left)]
	var w [8]byte
	for i := 0; i < len(b); i += 8 {
		p.state ^= p.state << 13
		p.state ^= p.state >> 7
		p.state ^= p.state << 17
		binary.LittleEndian.PutUint64(w[:], p.state)
		copy(b[i:], w[:])
	}
	p.left -= int64(len(b))
	return len(b), nil
}

// patternSum is the SHA-256 of newPattern(seed, n).
func patternSum(seed uint64, n int64) string {
	h := sha256.New()
	io.Copy(h, newPattern(seed, n))
	return hex.EncodeToString(h.Sum(nil))
}

// hashWriter counts and hashes what a download writes.
type hashWriter struct {
	n int64
	h hash.Hash
}

func newHashWriter() *hashWriter { return &hashWriter{h: sha256.New()} }

func (w *hashWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return w.h.Write(p)
}

func (w *hashWriter) sum() string { return hex.EncodeToString(w.h.Sum(nil)) }

// exchange sends raw bytes on a new connection, half-closes it if asked,
// and returns everything up to the first reply's terminator (or what came
// before the connection ended).
func exchange(t testing.TB, addr string, req []byte, closeWrite bool) string {
	t.Helper()
	conn := dial(t, addr)
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	werr := make(chan error, 1)
	go func() {
		_, err := conn.Write(req)
		if closeWrite && err == nil {
			err = conn.(*net.TCPConn).CloseWrite()
		}
		werr <- err
	}()
	reply := readReplyBytes(t, bufio.NewReader(conn))
	<-werr
	return reply
}

// readReplyBytes reads up to and including a CRLF CRLF, or to EOF.
func readReplyBytes(t testing.TB, br *bufio.Reader) string {
	t.Helper()
	var sb strings.Builder
	for !strings.HasSuffix(sb.String(), "\r\n\r\n") {
		line, err := br.ReadString('\n')
		sb.WriteString(line)
		if err != nil {
			break
		}
	}
	return sb.String()
}

// forModes runs f as a parallel subtest in each mode.
func forModes(t *testing.T, f func(t *testing.T, mode string)) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			f(t, mode)
		})
	}
}

// forModesInTurn is forModes with the subtests one after the other.
func forModesInTurn(t *testing.T, f func(t *testing.T, mode string)) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) { f(t, mode) })
	}
}
