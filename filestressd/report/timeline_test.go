package report

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// workerJSON is a -json line of a download cell of 4 clients against 2
// server workers, its stages in seconds after the release.
func workerJSON(mode string, worker int, connect, first, last float64) string {
	at := func(s float64) string {
		return fmt.Sprintf("2026-12-01T10:00:%012.9fZ", s)
	}
	return fmt.Sprintf(`{"run_id":"r1","repeat":1,"op":"download","volume":"1MB","volume_bytes":1048576,"client_workers":4,"client_pool":"thread",`+
		`"server_addr":"127.0.0.1:1","server_mode":%q,"server_workers":2,"released":%q,"worker":%d,"outcome":"ok","bytes":1048576,`+
		`"start":%q,"connect":%q,"sent":%q,"first_byte":%q,"last_byte":%q}`,
		mode, at(0), worker, at(connect), at(connect), at(connect), at(first), at(last))
}

// TestQueue reads two waves of 2 by hand: workers 1 and 2 transfer from
// 0 to 1 s, 3 and 4 wait until 1 s and transfer to 2 s, the last of them
// waiting 1 s for its first byte after connecting at 0.
func TestQueue(t *testing.T) {
	lines := []string{
		workerJSON("thread", 1, 0, 0, 1), workerJSON("thread", 2, 0, 0, 1),
		workerJSON("thread", 3, 0, 1, 2), workerJSON("thread", 4, 0, 1, 2),
		"", // a blank line is skipped
		workerJSON("process", 1, 0, 0, 3),
	}
	ws, err := ReadWorkers(strings.NewReader(strings.Join(lines, "\n")+"\n"), "w.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	spec := CellSpec{Op: "download", Volume: "1MB", Clients: 4, Servers: 2}
	if got := ws.largest(); len(got) != 1 || got[0] != spec {
		t.Errorf("largest = %v, want %v", got, spec)
	}
	windows := ws.windows(spec)
	if len(windows) != 2 || windows[0].mode != "thread" || len(windows[0].workers) != 4 || windows[1].mode != "process" {
		t.Fatalf("windows: %+v", windows)
	}
	q := queueOf(windows[0])
	if q.atOnce != 2 || q.atOnceMax != 2 || !near(q.lastWait, 1) || !near(q.end, 2) || q.ok != 4 {
		t.Errorf("queue %+v, want 2 at once, the last waiting 1 s, the end at 2 s", q)
	}
}

// TestConcurrency: spans [0,2), [0,2), [1,3) are 2 open for 1 s, 3 for
// 1 s and 1 for 1 s: the median over the 3 s is 2, the most 3. A span
// that ends as another starts does not overlap it.
func TestConcurrency(t *testing.T) {
	for _, tc := range []struct {
		spans        [][2]float64
		median, most int
	}{
		{[][2]float64{{0, 2}, {0, 2}, {1, 3}}, 2, 3},
		{[][2]float64{{0, 1}, {1, 2}, {2, 3}}, 1, 1},
		{[][2]float64{{0, 1}, {2, 3}}, 1, 1}, // 0 open for 1 s of 3
		{[][2]float64{{0, 10}, {0, 1}, {0, 1}}, 1, 3},
		{nil, 0, 0},
	} {
		if m, most := concurrency(tc.spans); m != tc.median || most != tc.most {
			t.Errorf("concurrency(%v) = %d, %d; want %d, %d", tc.spans, m, most, tc.median, tc.most)
		}
	}
}

func TestReadWorkersErrors(t *testing.T) {
	good := workerJSON("thread", 1, 0, 0.5, 1)
	for _, tc := range []struct{ in, want string }{
		{good + "\n{not json\n", "w.jsonl line 2: not a -json line"},
		{workerJSON("thread", 1, 0, 2, 1) + "\n", "w.jsonl line 1: worker 1: last_byte before the stage ahead of it"},
		{strings.Replace(good, `"released":"`, `"released":"x`, 1) + "\n", `w.jsonl line 1: released "x2026`},
		{strings.Replace(good, `"client_workers":4`, `"client_workers":0`, 1) + "\n", "w.jsonl line 1: client_workers 0"},
		{`{"op":"download","error":"` + strings.Repeat("x", maxWorkerLine) + `"}` + "\n", "a line longer than 65536 bytes"},
	} {
		_, err := ReadWorkers(strings.NewReader(tc.in), "w.jsonl")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ReadWorkers: %v, want %q", err, tc.want)
		}
	}
	// A failed worker that never connected has only its start; list cells
	// are left out.
	failed := `{"run_id":"r1","repeat":1,"op":"upload","volume":"1MB","volume_bytes":1048576,"client_workers":1,"released":"2026-12-01T10:00:00Z","worker":1,"outcome":"failed","kind":"connect","start":"2026-12-01T10:00:00.5Z"}`
	list := `{"op":"list","client_workers":1,"released":"2026-12-01T10:00:00Z","worker":1,"outcome":"ok"}`
	ws, err := ReadWorkers(strings.NewReader(failed+"\n"+list), "w.jsonl")
	if err != nil || len(ws.cells) != 1 || ws.cells[0].workers[0].ok || !math.IsNaN(ws.cells[0].workers[0].connect) || ws.cells[0].workers[0].start != 0.5 {
		t.Errorf("a failed worker and a list line: %+v, %v", ws, err)
	}
	if q := queueOf(ws.cells[0]); q.ok != 0 || q.workers != 1 || q.atOnce != 0 {
		t.Errorf("queue of a failed cell: %+v", q)
	}
}

func TestParseCellSpec(t *testing.T) {
	got, err := ParseCellSpec("download-100MB-50x5")
	if want := (CellSpec{"download", "100MB", 50, 5}); err != nil || got != want || got.String() != "download-100MB-50x5" {
		t.Errorf("ParseCellSpec = %+v, %v", got, err)
	}
	for _, bad := range []string{"download-100MB", "download-100MB-50", "download-100MB-0x5", "-100MB-50x5", "upload-1MB-axb", "a-b-c-1x1"} {
		if _, err := ParseCellSpec(bad); err == nil {
			t.Errorf("ParseCellSpec(%q) succeeded", bad)
		}
	}
}
