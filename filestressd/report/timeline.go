package report

import (
	"bufio"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The per-worker JSON lines of filestressd -json, read for the queue-wave
// timelines: when each client worker connected, got its first byte and
// its last, and what those say about how the server served them.

// workerLine is the part of a -json line the timelines read.
type workerLine struct {
	RunID         string `json:"run_id"`
	Repeat        int    `json:"repeat"`
	Op            string `json:"op"`
	Volume        string `json:"volume"`
	VolumeBytes   int64  `json:"volume_bytes"`
	ClientWorkers int    `json:"client_workers"`
	ServerMode    string `json:"server_mode"`
	ServerWorkers int    `json:"server_workers"`
	Released      string `json:"released"`
	Worker        int    `json:"worker"`
	Outcome       string `json:"outcome"`
	Kind          string `json:"kind"`
	Start         string `json:"start"`
	Connect       string `json:"connect"`
	Sent          string `json:"sent"`
	FirstByte     string `json:"first_byte"`
	LastByte      string `json:"last_byte"`
}

// Workers is one file of -json lines, grouped by the cell each line's
// worker ran in.
type Workers struct {
	Source string // the file's name, as the report cites it
	// Server is the -server label the file belongs to; empty for -csv.
	Server string
	cells  []*workerCell
}

// workerCell is one measured window: a cell of one run and repeat.
type workerCell struct {
	k       key
	volume  string // the volume as the matrix names it, e.g. 100MB
	mode    string
	runID   string
	repeat  int
	release time.Time
	workers []workerSpan
}

// workerSpan is one worker's stages, in seconds from the release; NaN for
// a stage it did not reach.
type workerSpan struct {
	worker                            int
	ok                                bool
	kind                              string
	start, connect, sent, first, last float64
}

// maxWorkerLine bounds a -json line: a worker's line is well under 2 KiB,
// an error message included.
const maxWorkerLine = 64 << 10

// ReadWorkers reads -json lines. A line that is not such a JSON object,
// or whose stages are out of order, is refused with its line number;
// list cells, which move no volume, are left out.
func ReadWorkers(r io.Reader, source string) (Workers, error) {
	ws := Workers{Source: source}
	at := map[string]*workerCell{}
	br := bufio.NewReaderSize(r, 64<<10)
	for line := 1; ; line++ {
		text, err := readLine(br)
		if errors.Is(err, io.EOF) && text == "" {
			return ws, nil
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return ws, fmt.Errorf("%s line %d: %w", source, line, err)
		}
		if strings.TrimSpace(text) == "" {
			continue
		}
		var l workerLine
		if err := json.Unmarshal([]byte(text), &l); err != nil {
			return ws, fmt.Errorf("%s line %d: not a -json line: %w", source, line, err)
		}
		if l.Op == "list" {
			continue
		}
		c, span, err := l.cell(at)
		if err != nil {
			return ws, fmt.Errorf("%s line %d: %w", source, line, err)
		}
		if c.workers == nil {
			ws.cells = append(ws.cells, c)
		}
		c.workers = append(c.workers, span)
	}
}

// readLine reads a line without its line break, refusing one longer than
// maxWorkerLine.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		part, err := br.ReadSlice('\n')
		b = append(b, part...)
		if len(b) > maxWorkerLine {
			return "", fmt.Errorf("a line longer than %d bytes", maxWorkerLine)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return strings.TrimRight(string(b), "\r\n"), err
	}
}

// cell finds (or makes, in at) the line's cell, and reads its worker.
func (l workerLine) cell(at map[string]*workerCell) (*workerCell, workerSpan, error) {
	release, err := time.Parse(time.RFC3339Nano, l.Released)
	if err != nil {
		return nil, workerSpan{}, fmt.Errorf("released %q: not an RFC 3339 time", l.Released)
	}
	if l.ClientWorkers < 1 || l.VolumeBytes < 0 || l.ServerWorkers < 0 || l.Worker < 0 {
		return nil, workerSpan{}, fmt.Errorf("client_workers %d, volume_bytes %d, server_workers %d, worker %d: not a cell's", l.ClientWorkers, l.VolumeBytes, l.ServerWorkers, l.Worker)
	}
	id := strings.Join([]string{l.RunID, strconv.Itoa(l.Repeat), l.Op, strconv.FormatInt(l.VolumeBytes, 10), strconv.Itoa(l.ClientWorkers), l.ServerMode, strconv.Itoa(l.ServerWorkers), l.Released}, "\x00")
	c := at[id]
	if c == nil {
		c = &workerCell{k: key{l.Op, l.VolumeBytes, l.ClientWorkers, l.ServerWorkers}, volume: l.Volume, mode: l.ServerMode, runID: l.RunID, repeat: l.Repeat, release: release}
		at[id] = c
	}
	s := workerSpan{worker: l.Worker, ok: l.Outcome == "ok", kind: l.Kind}
	prev := math.Inf(-1)
	for _, st := range []struct {
		name, value string
		to          *float64
	}{{"start", l.Start, &s.start}, {"connect", l.Connect, &s.connect}, {"first_byte", l.FirstByte, &s.first}, {"last_byte", l.LastByte, &s.last}} {
		*st.to = math.NaN()
		if st.value == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, st.value)
		if err != nil {
			return nil, s, fmt.Errorf("%s %q: not an RFC 3339 time", st.name, st.value)
		}
		*st.to = t.Sub(release).Seconds()
		if *st.to < prev {
			return nil, s, fmt.Errorf("worker %d: %s before the stage ahead of it", l.Worker, st.name)
		}
		prev = *st.to
	}
	s.sent = math.NaN()
	if l.Sent != "" {
		t, err := time.Parse(time.RFC3339Nano, l.Sent)
		if err != nil {
			return nil, s, fmt.Errorf("sent %q: not an RFC 3339 time", l.Sent)
		}
		s.sent = t.Sub(release).Seconds()
	}
	return c, s, nil
}

// CellSpec names a matrix cell as the timeline files do:
// download-100MB-50x5 is download of 100MB by 50 client workers against
// 5 server workers.
type CellSpec struct {
	Op, Volume       string
	Clients, Servers int
}

// ParseCellSpec parses OP-VOLUME-CLIENTSxSERVERS.
func ParseCellSpec(s string) (CellSpec, error) {
	parts := strings.Split(s, "-")
	bad := fmt.Errorf("cell %q: want OP-VOLUME-CLIENTSxSERVERS, e.g. download-100MB-50x5", s)
	if len(parts) != 3 {
		return CellSpec{}, bad
	}
	cw, sw, ok := strings.Cut(parts[2], "x")
	c, err1 := strconv.Atoi(cw)
	w, err2 := strconv.Atoi(sw)
	if !ok || err1 != nil || err2 != nil || c < 1 || w < 0 || parts[0] == "" || parts[1] == "" {
		return CellSpec{}, bad
	}
	return CellSpec{Op: parts[0], Volume: parts[1], Clients: c, Servers: w}, nil
}

func (cs CellSpec) String() string {
	return fmt.Sprintf("%s-%s-%dx%d", cs.Op, cs.Volume, cs.Clients, cs.Servers)
}

func (cs CellSpec) matches(c *workerCell) bool {
	return c.k.op == cs.Op && strings.EqualFold(c.volume, cs.Volume) && c.k.clients == cs.Clients && c.k.servers == cs.Servers
}

func specOf(c *workerCell) CellSpec {
	return CellSpec{Op: c.k.op, Volume: c.volume, Clients: c.k.clients, Servers: c.k.servers}
}

// largest is the cells a timeline is drawn for by default: those of the
// largest volume and, of those, the most client workers, every operation
// and server worker count, in matrix order.
func (ws Workers) largest() []CellSpec {
	var top *workerCell
	for _, c := range ws.cells {
		if top == nil || c.k.volume > top.k.volume || c.k.volume == top.k.volume && c.k.clients > top.k.clients {
			top = c
		}
	}
	var specs []CellSpec
	var keys []key
	for _, c := range ws.cells {
		if top != nil && c.k.volume == top.k.volume && c.k.clients == top.k.clients && !slices.Contains(keys, c.k) {
			keys = append(keys, c.k)
			specs = append(specs, specOf(c))
		}
	}
	slices.SortStableFunc(specs, func(a, b CellSpec) int {
		return cmp.Or(cmp.Compare(a.Servers, b.Servers), opOrder(a.Op, b.Op))
	})
	return specs
}

// windows is, for the cell spec, the newest window of each server mode,
// thread and process first.
func (ws Workers) windows(spec CellSpec) []*workerCell {
	newest := map[string]*workerCell{}
	var ms []string
	for _, c := range ws.cells {
		if !spec.matches(c) {
			continue
		}
		if old, ok := newest[c.mode]; !ok || c.release.After(old.release) {
			newest[c.mode] = c
		}
		if !slices.Contains(ms, c.mode) {
			ms = append(ms, c.mode)
		}
	}
	order := map[string]int{"thread": 0, "process": 1}
	slices.SortStableFunc(ms, func(a, b string) int {
		oa, oka := order[a]
		ob, okb := order[b]
		return cmp.Or(cmp.Compare(b2i(!oka), b2i(!okb)), cmp.Compare(oa, ob))
	})
	var out []*workerCell
	for _, m := range ms {
		out = append(out, newest[m])
	}
	return out
}

// queue is what one window's timeline shows, in figures.
type queue struct {
	workers, ok int
	// For a download: how many transfers (first byte to last byte) were
	// in progress at once, the median over the time from the first one's
	// start to the last one's end, and the most; and the longest wait
	// from connect to first byte, the last client's.
	atOnce, atOnceMax int
	lastWait          float64
	// For an upload, whose wait cannot be told from its sending: when
	// the first and the last upload were all sent.
	firstSent, lastSent float64
	// end is the latest last byte.
	end float64
}

func queueOf(c *workerCell) queue {
	q := queue{workers: len(c.workers), lastWait: math.NaN(), firstSent: math.NaN(), lastSent: math.NaN()}
	var spans [][2]float64
	for _, w := range c.workers {
		q.ok += b2i(w.ok)
		if !math.IsNaN(w.last) {
			q.end = max(q.end, w.last)
		}
		if !w.ok {
			continue
		}
		if c.k.op == "upload" {
			q.firstSent = nanMin(q.firstSent, w.sent)
			q.lastSent = nanMax(q.lastSent, w.sent)
			continue
		}
		spans = append(spans, [2]float64{w.first, w.last})
		q.lastWait = nanMax(q.lastWait, w.first-w.connect)
	}
	q.atOnce, q.atOnceMax = concurrency(spans)
	return q
}

func nanMin(a, b float64) float64 {
	if math.IsNaN(a) || b < a {
		return b
	}
	return a
}

func nanMax(a, b float64) float64 {
	if math.IsNaN(a) || b > a {
		return b
	}
	return a
}

// concurrency is how many of the spans [from, to) are open at once: the
// median over time, from the earliest start to the latest end (the
// smallest count open at least half of that time), and the most.
func concurrency(spans [][2]float64) (median, most int) {
	type event struct {
		t     float64
		delta int
	}
	var evs []event
	for _, s := range spans {
		if s[1] > s[0] {
			evs = append(evs, event{s[0], 1}, event{s[1], -1})
		}
	}
	if len(evs) == 0 {
		return 0, 0
	}
	slices.SortFunc(evs, func(a, b event) int { return cmp.Or(cmp.Compare(a.t, b.t), cmp.Compare(a.delta, b.delta)) })
	time := map[int]float64{}
	open := 0
	for i, e := range evs {
		if i > 0 {
			time[open] += e.t - evs[i-1].t
		}
		open += e.delta
		most = max(most, open)
	}
	total := evs[len(evs)-1].t - evs[0].t
	sum := 0.0
	for k := 0; k <= most; k++ {
		sum += time[k]
		if sum >= total/2 {
			return k, most
		}
	}
	return most, most
}
