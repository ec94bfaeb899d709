package report

import (
	"slices"
	"strconv"
	"strings"
)

// hostCell names the rows of one cell that several client hosts ran
// (run_matrix.sh CLIENT_HOSTS): each host appends its own row, with the
// cell's row number and its own host column.
type hostCell struct {
	runID, op, pool string
	no, repeat      int
	volume          int64
}

// MergeHosts makes one row of each cell that several hosts ran, in the
// place of its first row (Render and RenderRuns call it on the rows they
// are given); rows without a host are left as they are. Worker
// counts and bytes add up; the wall runs from the earliest release to the
// last result, which is the longest host's wall since every host's window
// runs from the cell's -start-at; the aggregate is the bytes of every
// host's successful workers over that wall. Times per client are the
// means over all successful workers; p50 and p95 (which the rows hold
// only as each host's) are the largest host's, and so is max. The server's
// counts and CPU time are the largest any host read: each host's STATS
// snapshots bracket the whole server, all hosts' requests included. A
// host that failed (kind host) adds its workers as failed and no time.
func MergeHosts(rows []Row) []Row {
	at := map[hostCell]int{} // index into out of the cell's merged row
	var out []Row
	for _, r := range rows {
		if r.Host == "" {
			out = append(out, r)
			continue
		}
		k := hostCell{r.RunID, r.Operation, r.ClientPool, r.No, r.Repeat, r.VolumeBytes}
		i, ok := at[k]
		if !ok {
			at[k] = len(out)
			out = append(out, r)
			continue
		}
		out[i] = mergeRow(out[i], r)
	}
	return out
}

// mergeRow adds host row b to the cell's row a.
func mergeRow(a, b Row) Row {
	m := a
	okA, okB := float64(a.ClientOK), float64(b.ClientOK)
	if okA+okB > 0 {
		m.TimePerClient = (a.TimePerClient*okA + b.TimePerClient*okB) / (okA + okB)
		m.ThroughputPerClient = (a.ThroughputPerClient*okA + b.ThroughputPerClient*okB) / (okA + okB)
	}
	m.ClientWorkers += b.ClientWorkers
	m.ClientOK += b.ClientOK
	m.ClientFail += b.ClientFail
	if m.ServerMode == "" {
		m.ServerMode, m.ServerWorkers = b.ServerMode, b.ServerWorkers
	}
	m.ServerOK, m.ServerFail = max(a.ServerOK, b.ServerOK), max(a.ServerFail, b.ServerFail)
	m.ServerCPU = max(a.ServerCPU, b.ServerCPU)
	if a.ClientCPU < 0 || b.ClientCPU < 0 {
		m.ClientCPU = -1
	} else {
		m.ClientCPU = a.ClientCPU + b.ClientCPU
	}
	m.Wall = max(a.Wall, b.Wall)
	m.Aggregate = 0
	if m.Wall > 0 {
		m.Aggregate = float64(m.VolumeBytes) * float64(m.ClientOK) / m.Wall
	}
	m.P50, m.P95, m.Max = max(a.P50, b.P50), max(a.P95, b.P95), max(a.Max, b.Max)
	if b.Timestamp < a.Timestamp && b.Timestamp != "" {
		m.Timestamp = b.Timestamp
	}
	m.Errors = addKinds(a.Errors, b.Errors)
	m.Verified = joinSet(a.Verified, b.Verified)
	m.Host = a.Host + "+" + b.Host
	return m
}

// addKinds adds two errors columns ("timeout=3;host=25"), kinds in the
// order they first appear.
func addKinds(a, b string) string {
	var kinds []string
	n := map[string]int{}
	for _, s := range []string{a, b} {
		for part := range strings.SplitSeq(s, ";") {
			k, v, ok := strings.Cut(part, "=")
			c, err := strconv.Atoi(v)
			if !ok || err != nil {
				continue
			}
			if !slices.Contains(kinds, k) {
				kinds = append(kinds, k)
			}
			n[k] += c
		}
	}
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = k + "=" + strconv.Itoa(n[k])
	}
	return strings.Join(parts, ";")
}

// joinSet joins two "+"-joined sets, sorted, each member once.
func joinSet(a, b string) string {
	var all []string
	for _, s := range []string{a, b} {
		for v := range strings.SplitSeq(s, "+") {
			if v != "" && !slices.Contains(all, v) {
				all = append(all, v)
			}
		}
	}
	slices.Sort(all)
	return strings.Join(all, "+")
}
