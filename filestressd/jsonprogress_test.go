package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"fileserver/filestressd/stress"
)

// readJSONLines reads a -json file: each line decoded into a map, and,
// strictly, into stress.WorkerRecord.
func readJSONLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s line %d: %v: %s", path, len(lines)+1, err, sc.Bytes())
		}
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		dec.DisallowUnknownFields()
		var l stress.WorkerRecord
		if err := dec.Decode(&l); err != nil {
			t.Fatalf("%s line %d is not a stress.WorkerRecord: %v", path, len(lines)+1, err)
		}
		lines = append(lines, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// stamp parses a -json timestamp, which must be RFC 3339 in UTC with nine
// decimals.
func stamp(t *testing.T, line map[string]any, key string) time.Time {
	t.Helper()
	s, _ := line[key].(string)
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil || len(s) != len("2006-01-02T15:04:05.000000000Z") || !strings.HasSuffix(s, "Z") {
		t.Fatalf("%s = %q (%v): want RFC 3339 UTC with nine decimals, in %v", key, s, err, line)
	}
	return ts
}

// TestJSONWorkerLines runs real cells against a real fileserverd, in both
// pools, with -json: each cell appends one line per worker, each a JSON
// object naming its cell (run_id, repeat, op, volume, client workers,
// pool, server address, mode and workers from STATS, CSV row) and its
// worker, with outcome ok, the volume in bytes, and timestamps in order:
// released <= start <= connect <= first byte <= last byte, the request
// sent between connect and the last byte, and the time per client that
// of the CSV's mean.
func TestJSONWorkerLines(t *testing.T) {
	s := startServer(t, "thread", 2)
	dir := t.TempDir()
	jsonPath, csvPath := filepath.Join(dir, "workers.jsonl"), filepath.Join(dir, "matrix.csv")
	type cellRun struct {
		op      stress.CellOp
		pool    string
		workers int
	}
	cells := []cellRun{{stress.CellDownload, stress.PoolThread, 3}, {stress.CellUpload, stress.PoolProcess, 3}, {stress.CellUpload, stress.PoolThread, 4}}
	total := 0
	for i, c := range cells {
		mustRun(t, "-addr", s.Addr, "-op", string(c.op), "-size", "1MB", "-workers", strconv.Itoa(c.workers), "-pool", c.pool,
			"-csv", csvPath, "-json", jsonPath, "-repeat", strconv.Itoa(i+1), "-run-id", "run-7", "-quiet")
		total += c.workers
	}
	lines := readJSONLines(t, jsonPath)
	if len(lines) != total {
		t.Fatalf("%d JSON lines, want %d (one per worker of each cell)", len(lines), total)
	}
	_, rows := readRows(t, csvPath)
	at := 0
	for i, c := range cells {
		cellLines := lines[at : at+c.workers]
		at += c.workers
		var workers []int
		var secondsSum float64
		for _, l := range cellLines {
			want := map[string]any{"run_id": "run-7", "repeat": float64(i + 1), "op": string(c.op), "volume": "1MB",
				"volume_bytes": float64(1 << 20), "client_workers": float64(c.workers), "client_pool": c.pool,
				"server_addr": s.Addr, "server_mode": "thread", "server_workers": float64(2), "csv_no": float64(i + 1),
				"outcome": "ok", "bytes": float64(1 << 20)}
			for k, v := range want {
				if l[k] != v {
					t.Errorf("cell %d: %s = %v, want %v, in %v", i+1, k, l[k], v, l)
				}
			}
			if _, ok := l["kind"]; ok {
				t.Errorf("cell %d: a kind for a worker that succeeded: %v", i+1, l)
			}
			w, _ := l["worker"].(float64)
			workers = append(workers, int(w))
			if _, hasPID := l["pid"]; hasPID != (c.pool == stress.PoolProcess) {
				t.Errorf("cell %d (%s pool): pid present %v: %v", i+1, c.pool, hasPID, l)
			}
			released, start, connect := stamp(t, l, "released"), stamp(t, l, "start"), stamp(t, l, "connect")
			sent, first, last := stamp(t, l, "sent"), stamp(t, l, "first_byte"), stamp(t, l, "last_byte")
			if released.After(start) || start.After(connect) || connect.After(first) || first.After(last) ||
				connect.After(sent) || sent.After(last) {
				t.Errorf("cell %d: timestamps out of order (want released <= start <= connect <= first_byte <= last_byte, connect <= sent <= last_byte): %v", i+1, l)
			}
			seconds, _ := l["seconds"].(float64)
			if d := last.Sub(start).Seconds(); seconds <= 0 || d > seconds+1e-6 {
				t.Errorf("cell %d: seconds %v, want positive and at least last_byte - start (%v)", i+1, seconds, d)
			}
			secondsSum += seconds
		}
		slices.Sort(workers)
		for w := range c.workers {
			if w >= len(workers) || workers[w] != w+1 {
				t.Errorf("cell %d: workers %v, want 1 to %d once each", i+1, workers, c.workers)
				break
			}
		}
		mean, _ := strconv.ParseFloat(rows[i]["time_per_client_s"], 64)
		if got := secondsSum / float64(c.workers); math.Abs(got-mean) > 2e-6 {
			t.Errorf("cell %d: the lines' mean seconds %.6f, the CSV's time_per_client_s %.6f", i+1, got, mean)
		}
		if rows[i]["repeat"] != strconv.Itoa(i+1) || rows[i]["run_id"] != "run-7" {
			t.Errorf("cell %d: CSV repeat %q, run_id %q", i+1, rows[i]["repeat"], rows[i]["run_id"])
		}
	}
}

// TestJSONFailedWorkers checks the lines of workers that failed, in both
// pools: outcome failed with the kind and the error, and the timestamps
// the transfer reached (against a server whose upload replies carry the
// wrong sha256, all of them); the line for a list without -csv names no
// CSV row and no volume.
func TestJSONFailedWorkers(t *testing.T) {
	for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
		t.Run(pool, func(t *testing.T) {
			f := startFakeServer(t, fakeBadUpload, 0)
			path := filepath.Join(t.TempDir(), "w.jsonl")
			mustRun(t, "-addr", f.addr, "-op", "upload", "-size", "64KB", "-workers", "2", "-pool", pool, "-json", path, "-quiet")
			lines := readJSONLines(t, path)
			if len(lines) != 2 {
				t.Fatalf("%d lines, want 2", len(lines))
			}
			for _, l := range lines {
				if l["outcome"] != "failed" || l["kind"] != "integrity" || !strings.Contains(fmt.Sprint(l["error"]), "server stored") {
					t.Errorf("want a failed line of kind integrity: %v", l)
				}
				for _, k := range []string{"csv_no", "server_mode", "server_workers", "seconds"} {
					if _, ok := l[k]; ok {
						t.Errorf("%s present without -csv, STATS or success: %v", k, l)
					}
				}
				if stamp(t, l, "start").After(stamp(t, l, "first_byte")) || stamp(t, l, "first_byte").After(stamp(t, l, "last_byte")) {
					t.Errorf("timestamps out of order: %v", l)
				}
			}
			mustRun(t, "-addr", f.addr, "-op", "list", "-workers", "1", "-pool", pool, "-json", path, "-quiet")
			lines = readJSONLines(t, path)
			if len(lines) != 3 || lines[2]["op"] != "list" || lines[2]["outcome"] != "ok" || lines[2]["repeat"] != float64(1) || lines[2]["run_id"] != "" {
				t.Fatalf("after a list cell: %v", lines)
			}
			for _, k := range []string{"volume", "volume_bytes"} {
				if _, ok := lines[2][k]; ok {
					t.Errorf("%s present for list: %v", k, lines[2])
				}
			}
		})
	}
}

var progressRE = regexp.MustCompile(`^filestressd: progress (\d+\.\d)s: (\d+)/(\d+) workers done \((\d+) ok, (\d+) failed\), (\d+\.\d) MB moved$`)

// TestProgressLines runs a real cell whose GETs take slowGetDelay (0.6 s)
// with stderr a pipe, in both pools: -progress 100ms writes plain lines
// (no escapes) every 100 ms of the window, with elapsed time that does
// not go back and counts no larger than the cell's, even with -quiet;
// without -progress there are none.
func TestProgressLines(t *testing.T) {
	for _, pool := range []string{stress.PoolThread, stress.PoolProcess} {
		t.Run(pool, func(t *testing.T) {
			f := startFakeServer(t, fakeSlowGet, 64<<10)
			args := []string{"-addr", f.addr, "-op", "download", "-size", "64KB", "-workers", "2", "-pool", pool, "-timeout", "10s", "-quiet"}
			r := mustRun(t, append(args, "-progress", "100ms")...)
			if strings.Contains(r.stderr, "\033") || strings.Contains(r.stderr, "\r") {
				t.Errorf("escapes or carriage returns in a plain progress log:\n%q", r.stderr)
			}
			var got []string
			last := -1.0
			for line := range strings.Lines(r.stderr) {
				line = strings.TrimSuffix(line, "\n")
				if strings.Contains(line, "not released yet") {
					continue // the process pool's children starting
				}
				m := progressRE.FindStringSubmatch(line)
				if m == nil {
					t.Errorf("not a progress line: %q", line)
					continue
				}
				got = append(got, line)
				elapsed, _ := strconv.ParseFloat(m[1], 64)
				done, _ := strconv.Atoi(m[2])
				ok, _ := strconv.Atoi(m[4])
				failed, _ := strconv.Atoi(m[5])
				if elapsed < last || m[3] != "2" || done > 2 || ok+failed != done || failed != 0 {
					t.Errorf("progress line %q after elapsed %.1f", line, last)
				}
				last = elapsed
			}
			// The window lasts at least 0.6 s: the ticker fires at least
			// five times in it; three leave room for a slow machine.
			if len(got) < 3 {
				t.Errorf("%d progress lines in a window of at least %s at -progress 100ms, want 3 or more:\n%s", len(got), slowGetDelay, r.stderr)
			}
			if r := mustRun(t, args...); r.stderr != "" {
				t.Errorf("without -progress, stderr %q", r.stderr)
			}
		})
	}
}
