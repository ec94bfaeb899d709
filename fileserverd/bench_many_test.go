package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// BenchmarkFiftyClients100MB runs 50 clients x 100 MB at once against a
// 50-worker server in each mode, in one run beside the plain TCP copy of
// the same volume and its durable copy to disk (see diskReceiver), and
// reports aggregate throughputs, their ratios to the plain copy (uploads
// to the disk copy too), process against thread, and each server's peak RSS (VmHWM:
// the largest of the process tree in process mode).
//
// Run: go test -run '^$' -bench FiftyClients100MB -benchtime 1x -timeout 30m ./fileserverd
func BenchmarkFiftyClients100MB(b *testing.B) {
	const clients = 50
	src, want := benchSource(b)
	plain := startPlainSender(b, src)
	disk := startDiskReceiver(b)
	servers := map[string]*daemon{}
	for _, mode := range modes {
		servers[mode] = startDaemon(b, mode, clients)
		servers[mode].upload(b, "bench.bin", newPattern(42, benchSize))
	}

	times := map[string]time.Duration{}
	b.ResetTimer()
	for b.Loop() {
		times["plain"] += concurrently(b, clients, func(int) {
			if sum := plain.fetch(b); sum != want {
				b.Errorf("plain copy hash %s", sum)
			}
		})
		times["disk"] += concurrently(b, clients, func(int) { disk.send(b, src) })
		for _, mode := range modes {
			d := servers[mode]
			times[mode+"_get"] += concurrently(b, clients, func(int) {
				if n, sum := d.get(b, "bench.bin"); n != benchSize || sum != want {
					b.Errorf("%s GET: %d bytes %s", mode, n, sum)
				}
			})
			times[mode+"_upload"] += concurrently(b, clients, func(i int) {
				f, err := os.Open(src)
				if err != nil {
					b.Error(err)
					return
				}
				defer f.Close()
				if res := d.upload(b, fmt.Sprintf("up-%d.bin", i), f); res.StoredSHA256 != want {
					b.Errorf("%s UPLOAD stored %s", mode, res.StoredSHA256)
				}
			})
			for i := range clients { // keep the disk from filling over iterations
				os.Remove(filepath.Join(d.Dir, fmt.Sprintf("up-%d.bin", i)))
			}
		}
	}
	b.StopTimer()
	rate := func(t time.Duration) float64 { return float64(b.N) * clients * benchSize / (1 << 20) / t.Seconds() }
	b.ReportMetric(rate(times["plain"]), "plain_MB/s")
	b.ReportMetric(rate(times["disk"]), "disk_MB/s")
	for _, mode := range modes {
		for _, op := range []string{"get", "upload"} {
			k := mode + "_" + op
			b.ReportMetric(rate(times[k]), k+"_MB/s")
			b.ReportMetric(times["plain"].Seconds()/times[k].Seconds(), k+"/plain")
		}
		b.ReportMetric(times["disk"].Seconds()/times[mode+"_upload"].Seconds(), mode+"_upload/disk")
		b.ReportMetric(float64(peakRSS(b, servers[mode]))/(1<<20), mode+"_server_peak_RSS_MiB")
	}
	for _, op := range []string{"get", "upload"} {
		b.ReportMetric(times["thread_"+op].Seconds()/times["process_"+op].Seconds(), "process/thread_"+op)
	}
	b.ReportMetric(0, "ns/op")
}

// concurrently runs n copies of fn at once and returns the wall time.
func concurrently(b *testing.B, n int, fn func(i int)) time.Duration {
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
	return time.Since(start)
}

var vmHWM = regexp.MustCompile(`VmHWM:\s+(\d+) kB`)

// hwmBytes is the peak resident set (VmHWM) of pid, or 0 when unreadable.
func hwmBytes(pid int) int64 {
	st, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if m := vmHWM.FindSubmatch(st); m != nil {
		kb, _ := strconv.ParseInt(string(m[1]), 10, 64)
		return kb << 10
	}
	return 0
}

// peakRSS is the largest peak resident set of the daemon and its children.
func peakRSS(b *testing.B, d *daemon) int64 {
	pids := []int{d.Cmd.Process.Pid}
	for _, m := range testkit.WorkerStartedRE.FindAllStringSubmatch(d.Log.String(), -1) {
		pid, _ := strconv.Atoi(m[2])
		pids = append(pids, pid)
	}
	var peak int64
	for _, pid := range pids {
		peak = max(peak, hwmBytes(pid)) // 0 for a child that was replaced
	}
	if peak == 0 {
		b.Logf("no peak RSS readable for %v", strings.Trim(fmt.Sprint(pids), "[]"))
	}
	return peak
}
