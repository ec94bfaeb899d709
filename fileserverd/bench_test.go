package main

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const benchSize = 100 << 20

// BenchmarkOneClient100MB moves 100 MB three ways in each iteration, so
// that the ratios compare figures taken in one run on a noisy machine:
//
//   - plain: a TCP copy over loopback, the sender using io.Copy from the
//     file (sendfile), the receiver hashing with SHA-256;
//   - get: GET through a running fileserverd (thread mode, one worker),
//     the client hashing the base64 text it receives, as the plain copy's
//     receiver hashes the bytes (a load generator that knows the text to
//     expect checks it so, see protocol.Base64Matcher; decoding is the
//     client's own cost, not the server's);
//   - upload: UPLOAD of the same file, the server decoding, hashing and
//     syncing to disk, the client checking the server's SHA-256;
//   - disk: the upload's reference, a plain TCP copy whose receiver writes
//     what it gets to a file with the server's durability (writeback
//     started every 8 MiB, fdatasync, rename, directory sync), then
//     answers one byte: the disk, not the protocol, bounds an upload.
//
// Run: go test -run '^$' -bench OneClient100MB -benchtime 5x ./fileserverd
func BenchmarkOneClient100MB(b *testing.B) {
	d := startDaemon(b, "thread", 1)
	src, want := benchSource(b)
	wantText := textSum(b, src)
	d.upload(b, "bench.bin", newPattern(42, benchSize))
	plain := startPlainSender(b, src)
	disk := startDiskReceiver(b)

	var tPlain, tGet, tUpload, tDisk time.Duration
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		if sum := plain.fetch(b); sum != want {
			b.Fatalf("plain copy hash %s, want %s", sum, want)
		}
		tPlain += time.Since(start)

		start = time.Now()
		if n, sum := d.getText(b, "bench.bin"); n != benchSize || sum != wantText {
			b.Fatalf("GET: %d bytes, text SHA-256 %s", n, sum)
		}
		tGet += time.Since(start)

		f, err := os.Open(src)
		if err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		res := d.upload(b, "up.bin", f)
		tUpload += time.Since(start)
		f.Close()
		if res.StoredSHA256 != want {
			b.Fatalf("UPLOAD stored %s", res.StoredSHA256)
		}

		start = time.Now()
		disk.send(b, src)
		tDisk += time.Since(start)
	}
	b.StopTimer()
	mbps := func(t time.Duration) float64 { return float64(b.N) * benchSize / (1 << 20) / t.Seconds() }
	b.ReportMetric(mbps(tPlain), "plain_MB/s")
	b.ReportMetric(mbps(tGet), "get_MB/s")
	b.ReportMetric(mbps(tUpload), "upload_MB/s")
	b.ReportMetric(mbps(tDisk), "disk_MB/s")
	b.ReportMetric(tPlain.Seconds()/tGet.Seconds(), "get/plain")
	b.ReportMetric(tPlain.Seconds()/tUpload.Seconds(), "upload/plain")
	b.ReportMetric(tDisk.Seconds()/tUpload.Seconds(), "upload/disk")
	b.ReportMetric(0, "ns/op")
}

// benchSource writes the benchmarks' 100 MB file and returns its path and
// SHA-256.
func benchSource(b *testing.B) (string, string) {
	src := filepath.Join(b.TempDir(), "src.bin")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(f, newPattern(42, benchSize)); err != nil {
		b.Fatal(err)
	}
	return src, patternSum(42, benchSize)
}

// plainSender serves a file over raw TCP to each connection, with io.Copy
// (sendfile on Linux): the speed of the machine, for reference.
type plainSender struct{ addr string }

func startPlainSender(b *testing.B, path string) *plainSender {
	return &plainSender{addr: acceptEach(b, func(conn net.Conn) {
		f, err := os.Open(path)
		if err == nil {
			io.Copy(conn, f)
			f.Close()
		}
		conn.Close()
	})}
}

// acceptEach listens on a free loopback port and calls handle with each
// connection, one after another, until cleanup closes the listener; it
// returns the address.
func acceptEach(b *testing.B, handle func(net.Conn)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			handle(conn)
		}
	}()
	return ln.Addr().String()
}

// fetch reads the whole file and returns its SHA-256.
func (p *plainSender) fetch(b *testing.B) string {
	conn := dial(b, p.addr)
	defer conn.Close()
	h := sha256.New()
	if _, err := io.CopyBuffer(h, conn, make([]byte, 128<<10)); err != nil {
		b.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// diskReceiver stores what each connection sends as a file, the way
// fileserverd stores an upload but without a protocol: written as it
// comes, writeback started every writebackChunk, fdatasync, rename into
// place, directory sync; then one byte back says it is durable.
type diskReceiver struct {
	addr string
}

func startDiskReceiver(b *testing.B) *diskReceiver {
	dir := b.TempDir()
	st, err := openStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return &diskReceiver{addr: acceptEach(b, func(conn net.Conn) {
		go func() {
			defer conn.Close()
			u, err := st.create()
			if err != nil {
				return
			}
			if _, err := io.CopyBuffer(u, conn, make([]byte, 128<<10)); err != nil {
				u.abort()
				return
			}
			name := "copy-" + conn.RemoteAddr().(*net.TCPAddr).AddrPort().String()
			if _, err := u.commit(name); err != nil {
				return
			}
			st.root.Remove(name) // keep the disk from filling
			conn.Write([]byte{1})
		}()
	})}
}

// send copies the file at path (sendfile) and waits until it is durable.
func (d *diskReceiver) send(b *testing.B, path string) {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	conn := dial(b, d.addr)
	defer conn.Close()
	if _, err := io.Copy(conn, f); err != nil {
		b.Fatal(err)
	}
	conn.(*net.TCPConn).CloseWrite()
	var ack [1]byte
	if n, _ := conn.Read(ack[:]); n != 1 {
		b.Fatal("disk copy: the receiver did not confirm")
	}
}

// textSum is the SHA-256 of the base64 text of the file at path.
func textSum(b *testing.B, path string) string {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	enc := base64.NewEncoder(base64.StdEncoding, h)
	if _, err := io.Copy(enc, f); err != nil {
		b.Fatal(err)
	}
	enc.Close()
	return hex.EncodeToString(h.Sum(nil))
}

// getText downloads a file and returns its size and the SHA-256 of its
// base64 text as the reply carried it.
func (d *daemon) getText(t testing.TB, name string) (int64, string) {
	t.Helper()
	c := d.Client(t)
	defer c.Close()
	m := &base64Hasher{h: sha256.New()}
	n, err := c.Get(ctxTimeout(t, time.Minute), name, m)
	if err != nil {
		t.Fatal(err)
	}
	return n, hex.EncodeToString(m.h.Sum(nil))
}

// base64Hasher is a protocol.Base64Matcher that takes any base64 text and
// hashes it.
type base64Hasher struct {
	h    hash.Hash
	text int64
	pad  int64
}

func (m *base64Hasher) MatchBase64(text []byte) int {
	n := 0
	for n < len(text) && isBase64Char[text[n]] {
		n++
	}
	m.h.Write(text[:n])
	m.text += int64(n)
	if n > 0 && text[n-1] == '=' {
		m.pad++
		if n > 1 && text[n-2] == '=' {
			m.pad++
		}
	}
	return n
}

func (m *base64Hasher) Mismatch(text []byte) error {
	return fmt.Errorf("not base64 text: %.20q", text)
}

func (m *base64Hasher) Decoded() int64 { return m.text/4*3 - m.pad }

func (m *base64Hasher) Write(p []byte) (int, error) {
	return 0, errors.New("base64Hasher: content arrived decoded")
}

var isBase64Char = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") {
		t[c] = true
	}
	return t
}()
