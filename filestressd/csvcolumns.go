package main

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// csvColumn is one column of the matrix CSV: its name, and how a cell
// fills it in the row numbered no.
type csvColumn struct {
	name  string
	value func(c cell, no int) string
}

// csvColumns is the matrix's columns, in order; README.md defines
// each. The header and every row are made from it, so they cannot
// disagree. A figure that does not exist is empty, not zero: no
// successful worker has no time, list moves no volume, and a server
// without STATS has no counts.
func csvColumns() []csvColumn {
	return []csvColumn{
		{"no", func(_ cell, no int) string { return strconv.Itoa(no) }},
		{"timestamp", func(c cell, _ int) string { return c.timestamp.Format(time.RFC3339) }},
		{"operation", func(c cell, _ int) string { return c.cfg.Op }},
		{"volume", func(c cell, _ int) string { return volumeLabel(c.cfg) }},
		{"volume_bytes", func(c cell, _ int) string {
			if !c.sum.hasVolume {
				return ""
			}
			return strconv.FormatInt(c.cfg.Size, 10)
		}},
		{"client_workers", func(c cell, _ int) string { return strconv.Itoa(c.cfg.Workers) }},
		{"client_pool", func(c cell, _ int) string { return c.cfg.Pool }},
		{"server_workers", func(c cell, _ int) string {
			if _, workers, ok := c.server.identity(); ok {
				return strconv.Itoa(workers)
			}
			return ""
		}},
		{"server_mode", func(c cell, _ int) string {
			mode, _, _ := c.server.identity()
			return mode
		}},
		{"time_per_client_s", func(c cell, _ int) string { return c.okSeconds(c.sum.mean) }},
		{"throughput_per_client_Bps", func(c cell, _ int) string {
			if c.sum.ok == 0 {
				return ""
			}
			return c.volumeRate(c.sum.perClient)
		}},
		{"client_ok", func(c cell, _ int) string { return strconv.Itoa(c.sum.ok) }},
		{"client_fail", func(c cell, _ int) string { return strconv.Itoa(c.sum.failed) }},
		{"server_ok", func(c cell, _ int) string {
			if ok, _, known := c.server.counts(c.cfg.Op); known {
				return strconv.FormatUint(ok, 10)
			}
			return ""
		}},
		{"server_fail", func(c cell, _ int) string {
			if _, failed, known := c.server.counts(c.cfg.Op); known {
				return strconv.FormatUint(failed, 10)
			}
			return ""
		}},
		{"wall_s", func(c cell, _ int) string { return csvSeconds(c.wall.Seconds()) }},
		{"aggregate_Bps", func(c cell, _ int) string { return c.volumeRate(c.sum.aggregate) }},
		{"p50_s", func(c cell, _ int) string { return c.okSeconds(c.sum.p50) }},
		{"p95_s", func(c cell, _ int) string { return c.okSeconds(c.sum.p95) }},
		{"max_s", func(c cell, _ int) string { return c.okSeconds(c.sum.max) }},
		{"errors", func(c cell, _ int) string { return formatKinds(c.sum.kinds) }},
		{"verified", func(c cell, _ int) string { return c.verified() }},
		{"server_cpu_s", func(c cell, _ int) string {
			if d, ok := c.server.cpu(); ok {
				return csvSeconds(d.Seconds())
			}
			return ""
		}},
		{"client_cpu_s", func(c cell, _ int) string {
			if c.clientCPUKnown {
				return csvSeconds(c.clientCPU.Seconds())
			}
			return ""
		}},
		{"repeat", func(c cell, _ int) string { return strconv.Itoa(c.cfg.Repeat) }},
		{"run_id", func(c cell, _ int) string { return c.cfg.RunID }},
		{"host", func(c cell, _ int) string { return c.cfg.Host }},
	}
}

// verified is how the successful workers' transfers were verified:
// reply, readback or none (several joined by "+", which one server does
// not give); empty when none succeeded, and for list.
func (c cell) verified() string {
	var ways []string
	for _, r := range c.results {
		if r.OK && r.Verified != "" && !slices.Contains(ways, r.Verified) {
			ways = append(ways, r.Verified)
		}
	}
	slices.Sort(ways)
	return strings.Join(ways, "+")
}

// csvHeader is the names of csvColumns.
func csvHeader() []string {
	cols := csvColumns()
	names := make([]string, len(cols))
	for i, col := range cols {
		names[i] = col.name
	}
	return names
}

// csvRow lays a cell out in csvColumns.
func (c cell) csvRow(no int) []string {
	cols := csvColumns()
	row := make([]string, len(cols))
	for i, col := range cols {
		row[i] = col.value(c, no)
	}
	return row
}

// csvSeconds writes seconds with six decimals.
func csvSeconds(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// okSeconds is a time over successful workers: empty when none succeeded.
func (c cell) okSeconds(v float64) string {
	if c.sum.ok == 0 {
		return ""
	}
	return csvSeconds(v)
}

// volumeRate is a rate in whole bytes per second: empty for list, which
// moves no volume.
func (c cell) volumeRate(v float64) string {
	if !c.sum.hasVolume {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}
