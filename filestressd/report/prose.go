package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The report's sentences, each a small function of what the statistics
// decided. Names in them (sides, modes) are Markdown already (side.name).

// ratioName is "process / thread", for a comparison.
func ratioName(c *comparison) string { return md(c.other.Label) + " / " + md(c.base.Label) }

// comparisonTitle names a comparison in a heading, the baseline first:
// "Thread versus process", "fileserverd: thread versus process",
// "fileserverd versus student, thread mode".
// Inside a heading (not at its start) the baseline is not capitalised.
func comparisonTitle(c *comparison, start bool) string {
	b, o := c.base, c.other
	switch {
	case (b.server == "" || o.server == "") && start:
		return b.heading + " versus " + md(o.Label)
	case b.server == "" || o.server == "":
		return md(b.Label) + " versus " + md(o.Label)
	case b.server == o.server:
		return md(b.server) + ": " + md(b.Mode) + " versus " + md(o.Mode)
	case b.Mode == o.Mode:
		return md(b.server) + " versus " + md(o.server) + ", " + md(b.Mode) + " mode"
	}
	return md(b.Label) + " versus " + md(o.Label)
}

// figure is the overall ratio with its interval: "process / thread 0.93×
// (95% interval 0.91–0.96)".
func figure(s summary) string {
	f := fmt.Sprintf("%s %.2f×", ratioName(s.c), s.all.geomean)
	if !math.IsNaN(s.all.lo) {
		f += fmt.Sprintf(" (95%% interval %.2f–%.2f)", s.all.lo, s.all.hi)
	}
	return f
}

// verdictSentence is the answer the report leads with.
func verdictSentence(s summary, both string) string {
	base, other, v := s.c.base, s.c.other, s.all
	beyondFloor := fmt.Sprintf("beyond the %.1f%% noise floor", s.floor*100)
	if !s.hasFloor {
		beyondFloor = "with no A/A noise floor measured"
	}
	switch s.outcome {
	case noCells:
		return fmt.Sprintf("The matrix has no cell measured in both %s, so there is nothing to compare.", both)
	case bandOnly:
		return fmt.Sprintf("**Verdict: no interval** (one sample a cell): %s %.2f× (geometric mean of %d %s); %s is faster by more than %.0f%% in %d %s, %s in %d, and %d %s within ±%.0f%%.",
			ratioName(s.c), v.geomean, v.cells, plural(v.cells, "cell", "cells"), base.name, tieBand*100, v.bandSlower, plural(v.bandSlower, "cell", "cells"),
			other.name, v.bandFaster, v.bandTies, plural(v.bandTies, "is", "are"), tieBand*100)
	case floorTooHigh:
		return fmt.Sprintf("**Verdict: no winner declared.** The machine's noise floor is %.1f%%: differences below it are not declared, and a floor beyond ±%.0f%% leaves the comparison to a quieter machine (%s).",
			s.floor*100, tieBand*100, figure(s))
	case notDeclared:
		left := v.cells - v.withInterval
		return fmt.Sprintf("**Verdict: not declared.** %d of the %d cells %s a single sample in one run, so the overall ratio, %s, has no interval.", left, v.cells, plural(left, "has", "have"), figure(s))
	case otherWins:
		return fmt.Sprintf("**Verdict: %s is faster** than %s: %s, %s.", other.name, base.name, figure(s), beyondFloor)
	case baseWins:
		return fmt.Sprintf("**Verdict: %s is faster** than %s: %s, %s.", base.name, other.name, figure(s), beyondFloor)
	case includesOne:
		return fmt.Sprintf("**Verdict: no significant difference (~)**: %s, an interval that includes 1.", figure(s))
	}
	return fmt.Sprintf("**Verdict: no significant difference (~)**: %s is within the %.1f%% noise floor.", figure(s), s.floor*100)
}

// singleSampleNote says why a comparison has no interval, when no cell
// has one.
func singleSampleNote(s summary, both string) string {
	note := fmt.Sprintf("No cell has more than one sample in both %s, so no ratio has a 95%% interval", both)
	if !s.hasFloor {
		note += " and there is no A/A noise floor"
	}
	return note + ": run the matrix with repeats (`REPEAT=2` or more) for them."
}

// bandNote counts the cells without an interval, judged by the band, in
// a comparison where others have one.
func bandNote(s summary) string {
	v := s.all
	left := v.cells - v.withInterval
	if v.withInterval == 0 || left == 0 {
		return ""
	}
	return fmt.Sprintf("%d %s a single sample in one run, so no interval: by the ±%.0f%% band %s is faster in %d, slower in %d, and %d within it.",
		left, plural(left, "cell has", "cells have"), tieBand*100, s.c.other.name, v.bandFaster, v.bandSlower, v.bandTies)
}

// wildcardNote says that a side's server workers are unknown, when so.
func wildcardNote(c *comparison) string {
	var notes []string
	for i, r := range []*side{c.base, c.other} {
		for _, p := range c.pairs {
			if []*sample{p.base, p.other}[i].k.servers == 0 && p.k.servers != 0 {
				notes = append(notes, fmt.Sprintf("The server workers of %s are unknown (no STATS): its cells are compared with each server worker count of the other.", r.name))
				break
			}
		}
	}
	return strings.Join(notes, " ")
}

// cpuNote says for how many of a side's cells CPU was not recorded.
func cpuNote(unrecorded, cells int) string {
	if unrecorded == 0 {
		return ""
	}
	if unrecorded == cells {
		return "CPU was not recorded for these cells (`server_cpu_s` and `client_cpu_s` are empty)."
	}
	return fmt.Sprintf("CPU was not recorded for %d of these cells.", unrecorded)
}

// rssScopeNote says what the peak memory figures cover: the window, or
// the server's life so far.
func rssScopeNote(window, start int) string {
	switch {
	case window+start == 0:
		return ""
	case start == 0:
		return "Peak memory was reset before each cell's window."
	case window == 0:
		return "Peak memory is since the server started (a reset was not possible), so a cell's figure includes the cells before it."
	}
	return fmt.Sprintf("Peak memory was reset before the window in %d rows and is since the server started in %d.", window, start)
}

// noPeakMemory says why the cost chart has no memory panel.
const noPeakMemory = "Peak memory was not recorded: `server_peak_rss_bytes` is empty (the CSV predates the column, or filestressd did not know the server's process)."

// costLeftOut says how many compared cells the cost table leaves out.
func costLeftOut(left int, both string) string {
	if left == 0 {
		return ""
	}
	return fmt.Sprintf("%d %s measured in both %s %s left out: neither CPU nor memory was recorded in one of their rows.", left, plural(left, "cell", "cells"), both, plural(left, "is", "are"))
}

// timelineSource says which run the timelines come from.
func timelineSource(ws Workers, runIDs []string, ownRun bool) string {
	s := fmt.Sprintf("From %s", code(ws.Source))
	if len(runIDs) > 0 {
		s += fmt.Sprintf(", run %s", md(strings.Join(runIDs, ", ")))
	}
	if !ownRun {
		s += ", a run of its own, not the one the tables show"
	}
	return s + "."
}

// queueSentence says what a cell's timeline shows, for each mode.
func queueSentence(op string, names []string, qs []queue) string {
	var parts []string
	for i, q := range qs {
		var p string
		switch {
		case q.ok == 0:
			p = fmt.Sprintf("%s: no worker succeeded", names[i])
		case op == "upload":
			p = fmt.Sprintf("%s's first upload was all sent after %.2f s and its last after %.2f s", names[i], q.firstSent, q.lastSent)
		default:
			p = fmt.Sprintf("%s served %d at once (at most %d), and its last client waited %.2f s for its first byte", names[i], q.atOnce, q.atOnceMax, q.lastWait)
		}
		if failed := q.workers - q.ok; failed > 0 {
			p += fmt.Sprintf(" (%d failed)", failed)
		}
		parts = append(parts, p)
	}
	s := capital(strings.Join(parts, "; ")) + "."
	if op == "upload" {
		s = "An upload's wait cannot be told from its sending, since its writes block while it waits: " + strings.Join(parts, "; ") + "."
	}
	return s
}

// item is a bullet of "How to read this": a bold head and sentences.
func item(head string, sentences ...string) string {
	return "**" + head + "** " + strings.Join(sentences, " ")
}

// howToRead is the method, said once, at the end.
func howToRead(rep *report, odds string, timelines bool) []string {
	items := []string{item("Figures.",
		"A megabyte is 1,048,576 bytes.",
		"Time per client is the mean, over the client workers that succeeded, of the seconds from connecting to the last byte, queue wait included.",
		"Throughput per client is their volume over that time; the aggregate is the bytes the whole cell moved over its wall time.",
		"Server workers ok / failed are the server's own counts (STATS)."),
	}
	if rep.repeated() {
		items = append(items,
			item("Repeats.", "A cell's sample is its repeats in the newest run that measured it.",
				"Tables give the median with the range in brackets; charts draw the median as a point and the range as a bar."),
			item("Ratios.", "A ratio is one run's median throughput per client over the baseline's: above 1, that run is faster.",
				fmt.Sprintf("Its 95%% interval runs from the 2.5th to the 97.5th percentile of the ratio over %s bootstrap resamples of each side's repeats (SplitMix64, seed %d).", thousands(bootstrapResamples), bootstrapSeed),
				"The overall ratio is the geometric mean over the cells, its interval from the same draws."),
			item("Faster, slower, ~.", "A cell, an operation or the verdict names a faster side only when its interval excludes 1 and the difference is beyond the A/A noise floor;",
				"otherwise it is ~, no significant difference. A floor beyond ±5% declares no winner."),
			item("The A/A noise floor", "is the comparison made between two repeats of the same thing.",
				"For runs measured interleaved (one `run_id`), it is the ratio in the first repeat over the ratio in the second, so a drift that hits both runs divides out;",
				"each run's own first repeat over its second is then the machine's drift. For runs measured apart, it is the larger of those."),
		)
		if odds != "" {
			items = append(items, odds)
		}
	}
	if !slices.ContainsFunc(rep.usedRows(), func(r Row) bool { return r.ServerCPU >= 0 || r.ClientCPU >= 0 || r.ServerPeakRSS >= 0 }) {
		return appendQueueItem(items, timelines)
	}
	items = append(items, item("Cost.", "CPU per MB is the CPU seconds, user and system, in the measured window per MB moved (client workers × volume):",
		"the server's whole process tree, and filestressd with its children.",
		"Peak memory is the resident memory of the server's process tree, children included, as filestressd measured it."))
	return appendQueueItem(items, timelines)
}

func appendQueueItem(items []string, timelines bool) []string {
	if timelines {
		items = append(items, item("Queue waves.", "A bar is one client worker from its connect: grey while it waits for its first byte, coloured while it transfers.",
			"An upload's bar is its sending, then the server storing and replying.",
			"Choose the cells with `-timeline`, e.g. `-timeline download-100MB-50x5`."))
	}
	return items
}

// thousands is n with commas between its thousands: 2,000.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// oddsNote is what the few repeats of a comparison amount to.
func oddsNote(sizes string, odds int) string {
	return item("Few repeats.", fmt.Sprintf("With %s repeats a side, a cell counts only when the two ranges do not overlap,", sizes),
		fmt.Sprintf("which identical setups do by chance in 1 cell in %d: the overall ratio is the firmer figure.", odds))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// capital is s with its first letter in upper case.
func capital(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

func cellName(k key) string {
	return fmt.Sprintf("%s %s, %d client / %s server workers", md(k.op), volumeWords(k.volume), k.clients, workers(k.servers))
}

func volumeWords(n int64) string {
	if n%mb == 0 {
		return fmt.Sprintf("%d MB", n/mb)
	}
	return fmt.Sprintf("%.2f MB", float64(n)/mb)
}

func workers(n int) string {
	if n <= 0 {
		return "n/a"
	}
	return fmt.Sprint(n)
}
