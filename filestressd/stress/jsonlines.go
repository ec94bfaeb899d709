package stress

import "time"

// jsonTime is how -json writes a timestamp: RFC 3339 in UTC with nine
// decimals, always, so that the strings sort as the times do.
const jsonTime = "2006-01-02T15:04:05.000000000Z07:00"

// WorkerRecord is one line of -json (encoding/json writes it): a worker's raw result, with its cell's
// identity so that lines from many cells and runs can share a file. The
// CSV row stays the cell's summary. A timestamp is left out when the
// worker did not reach that stage (a failed connect has no connect), and
// all of them when it never reported (a child killed at the deadline).
type WorkerRecord struct {
	RunID         string  `json:"run_id"`
	Repeat        int     `json:"repeat"`
	Op            string  `json:"op"`
	Volume        string  `json:"volume,omitempty"`       // as the CSV's volume, e.g. 10MB; empty for list
	VolumeBytes   int64   `json:"volume_bytes,omitempty"` // per worker
	ClientWorkers int     `json:"client_workers"`
	ClientPool    string  `json:"client_pool"`
	ServerAddr    string  `json:"server_addr"`
	ServerMode    string  `json:"server_mode,omitempty"`    // from STATS, else -server-mode
	ServerWorkers int     `json:"server_workers,omitempty"` // from STATS, else -server-workers
	CSVNo         int     `json:"csv_no,omitempty"`         // the cell's CSV row, with -csv
	RequestForm   string  `json:"request_form,omitempty"`   // as the CSV's request_form
	Released      string  `json:"released"`                 // the window's start: every worker's release
	Worker        int     `json:"worker"`                   // 1-based index
	PID           int     `json:"pid,omitempty"`            // the child, in the process pool
	Outcome       string  `json:"outcome"`                  // ok or failed
	Kind          string  `json:"kind,omitempty"`           // the failure kind, as in the CSV's errors
	Error         string  `json:"error,omitempty"`
	Bytes         int64   `json:"bytes"`             // file bytes moved
	Seconds       float64 `json:"seconds,omitempty"` // time per client: connect to last byte, checked (ok only)
	Start         string  `json:"start,omitempty"`
	Connect       string  `json:"connect,omitempty"`
	Sent          string  `json:"sent,omitempty"`
	FirstByte     string  `json:"first_byte,omitempty"`
	LastByte      string  `json:"last_byte,omitempty"`
}

// Records lays a cell's workers out as -json lines; no is its CSV row
// (0 without -csv).
func (c Result) Records(no int) []WorkerRecord {
	mode, workers, _ := c.serverIdentity()
	volumeBytes := int64(0)
	if c.sum.hasVolume {
		volumeBytes = c.cfg.Size
	}
	lines := make([]WorkerRecord, len(c.results))
	for i, r := range c.results {
		l := WorkerRecord{
			RunID: c.cfg.RunID, Repeat: c.cfg.Repeat, Op: string(c.cfg.Op), Volume: volumeLabel(c.cfg), VolumeBytes: volumeBytes,
			ClientWorkers: c.cfg.Workers, ClientPool: c.cfg.Pool, ServerAddr: c.cfg.Addr, ServerMode: mode, ServerWorkers: workers,
			CSVNo: no, RequestForm: c.requestForm(), Released: c.timestamp.UTC().Format(jsonTime),
			Worker: r.Worker, PID: r.PID, Outcome: "ok", Kind: r.Kind, Error: r.Error, Bytes: r.Bytes,
			Start: jsonStamp(r.Times.Start), Connect: jsonStamp(r.Times.Connect), Sent: jsonStamp(r.Times.Sent),
			FirstByte: jsonStamp(r.Times.First), LastByte: jsonStamp(r.Times.Last),
		}
		if r.OK {
			l.Seconds = r.Seconds
		} else {
			l.Outcome = "failed"
		}
		lines[i] = l
	}
	return lines
}

// jsonStamp writes nanoseconds since the Unix epoch as jsonTime; "" for 0.
func jsonStamp(ns int64) string {
	if ns == 0 {
		return ""
	}
	return time.Unix(0, ns).UTC().Format(jsonTime)
}
