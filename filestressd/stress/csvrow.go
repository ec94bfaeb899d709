package stress

import (
	"slices"
	"strings"
	"time"

	"fileserver/filestressd/results"
	"fileserver/protocol"
)

// Row is the cell as the matrix CSV's row numbered no (see package
// results, which owns the columns and writes them).
func (c Result) Row(no int) results.Row {
	r := results.Row{
		No: no, Timestamp: c.timestamp.Format(time.RFC3339), Operation: string(c.cfg.Op),
		Volume: volumeLabel(c.cfg), VolumeBytes: c.cfg.Size,
		ClientWorkers: c.cfg.Workers, ClientPool: c.cfg.Pool,
		TimePerClient: c.sum.mean, ThroughputPerClient: c.sum.perClient,
		ClientOK: c.sum.ok, ClientFail: c.sum.failed, ServerOK: -1, ServerFail: -1,
		Wall: c.wall.Seconds(), Aggregate: c.sum.aggregate,
		P50: c.sum.p50, P95: c.sum.p95, Max: c.sum.max,
		Errors: formatKinds(c.sum.kinds), Verified: c.verified(),
		ServerCPU: -1, ClientCPU: -1, ServerPeakRSS: -1, Repeat: c.cfg.Repeat, RunID: c.cfg.RunID, Host: c.cfg.Host,
		RequestForm: c.requestForm(),
	}
	r.ServerMode, r.ServerWorkers, _ = c.serverIdentity()
	if ok, failed, known := c.server.counts(c.cfg.Op); known {
		r.ServerOK, r.ServerFail = int(ok), int(failed)
	}
	if d, _, ok := c.serverCPU(); ok {
		r.ServerCPU = d.Seconds()
	}
	if c.cost.measured {
		r.ServerPeakRSS, r.ServerPeakRSSScope = c.cost.tree.peak, c.cost.tree.scope
	}
	if c.clientCPUKnown {
		r.ClientCPU = c.clientCPU.Seconds()
	}
	return r
}

// requestForm is how filestressd spoke to the server, as the CSV's
// request_form column and the -json lines write it: the request form of
// LIST, GET, DELETE and STATS ("text" or "json"), and, when the cell
// uploaded (an upload cell, or a download whose test file the setup
// uploaded), " upload=" and the upload form, e.g. "text upload=POST-nextline"
// (see protocol.UploadForm.String). Empty for a host's row that did not
// run (-host-failed): nothing was said to the server.
func (c Result) requestForm() string {
	if c.cfg.HostFailed != "" {
		return ""
	}
	s := string(c.cfg.Dialect.Form)
	if s == "" {
		s = string(protocol.FormText)
	}
	if c.uploads != nil {
		s += " upload=" + c.uploads.form.String()
	}
	return s
}

// verified is how the successful workers' transfers were verified:
// reply, readback or none (several joined by "+", which one server does
// not give); empty when none succeeded, and for list.
func (c Result) verified() string {
	var ways []string
	for _, r := range c.results {
		if r.OK && r.Verified != "" && !slices.Contains(ways, r.Verified) {
			ways = append(ways, r.Verified)
		}
	}
	slices.Sort(ways)
	return strings.Join(ways, "+")
}
