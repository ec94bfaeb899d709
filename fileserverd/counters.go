package main

import (
	"fmt"
	"os"
	"reflect"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"fileserver/protocol"
)

// Word offsets inside one slot of counters.
const (
	wConns    = iota                         // connections accepted
	wBytesIn                                 // bytes read from clients
	wBytesOut                                // bytes written to clients
	wCurrent                                 // 1 + the operation in progress, 0 when none
	wOps                                     // ok and failed per operation, 2*protocol.NumOps words
	wLimits   = wOps + 2*protocol.NumOps     // connections closed or refused by each limit, protocol.NumLimits words
	wCPU      = wLimits + protocol.NumLimits // process mode: CPU microseconds (see rusageMicros)
	wGauges   = wCPU + 1                     // connections counted by each gauge, numGauges words (conn.go)
	wRestarts = wGauges + int(numGauges)     // slot 0: worker processes replaced
	slotWords = wRestarts + 1
)

// counters are the server's counts: slot 0 for the waiting room, the
// supervisor and thread mode's gauges, slot i for worker i, each written
// by its worker alone. In process mode they live in a shared memory
// mapping that every child writes its slot of, so any child can answer
// STATS for all of them, and the supervisor can still read a slot after
// its child died.
type counters struct {
	words   []uint64 // accessed atomically: each slot written by its owner, read by STATS and reap
	workers int
	mode    string
	pid     int
	started time.Time
	mapping []byte // nil unless shared
}

func newCounters(mode string, workers, pid int, started time.Time) *counters {
	return &counters{words: make([]uint64, (workers+1)*slotWords), workers: workers, mode: mode, pid: pid, started: started}
}

// sharedCounterFile creates the unlinked file that backs shared counters.
func sharedCounterFile(workers int) (*os.File, error) {
	f, err := os.CreateTemp("/dev/shm", "fileserverd-counters-")
	if err != nil {
		// No usable /dev/shm (missing, or read-only in a sandbox): a file
		// in $TMPDIR is mapped just as well, at the cost of writeback.
		f, err = os.CreateTemp("", "fileserverd-counters-")
	}
	if err != nil {
		return nil, fmt.Errorf("counters: %w", err)
	}
	os.Remove(f.Name())
	if err := f.Truncate(int64((workers + 1) * slotWords * 8)); err != nil {
		f.Close()
		return nil, fmt.Errorf("counters: %w", err)
	}
	return f, nil
}

// mapCounters maps a counter file made by sharedCounterFile.
func mapCounters(f *os.File, mode string, workers, pid int, started time.Time) (*counters, error) {
	size := (workers + 1) * slotWords * 8
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map counters: %w", err)
	}
	c := newCounters(mode, workers, pid, started)
	c.words = unsafe.Slice((*uint64)(unsafe.Pointer(&m[0])), size/8)
	c.mapping = m
	return c, nil
}

func (c *counters) slot(worker int) []uint64 {
	return c.words[worker*slotWords : (worker+1)*slotWords]
}

// workerCounters is one worker's slot.
type workerCounters struct {
	w      []uint64 // accessed atomically: a slot of counters.words
	shared bool     // process mode: the slot's process is this worker alone
}

func (c *counters) worker(id int) workerCounters {
	return workerCounters{w: c.slot(id), shared: c.mapping != nil}
}

// rusageMicros is the CPU time, user and system, of this process (who is
// RUSAGE_SELF) or of its children that were waited for (RUSAGE_CHILDREN),
// in microseconds.
func rusageMicros(who int) uint64 {
	var ru syscall.Rusage
	if syscall.Getrusage(who, &ru) != nil {
		return 0
	}
	us := func(tv syscall.Timeval) uint64 { return uint64(tv.Sec)*1e6 + uint64(tv.Usec) }
	return us(ru.Utime) + us(ru.Stime)
}

// cpuUsed publishes a worker child's CPU time in its slot, after each
// request and before a STATS: the CPU that STATS reports is the sum of
// every slot. In thread mode STATS reads the one process's time itself.
func (wc workerCounters) cpuUsed() {
	if wc.shared {
		atomic.StoreUint64(&wc.w[wCPU], rusageMicros(syscall.RUSAGE_SELF))
	}
}

// supervisorCPU publishes the CPU time of a process-mode parent and of its
// children that have exited (waited for, so counted by RUSAGE_CHILDREN),
// in slot 0: with the live children's slots, the whole tree's.
func (c *counters) supervisorCPU() {
	atomic.StoreUint64(&c.slot(0)[wCPU], rusageMicros(syscall.RUSAGE_SELF)+rusageMicros(syscall.RUSAGE_CHILDREN))
}

// accepted counts a connection accepted, once whatever it does after.
func (wc workerCounters) accepted() { atomic.AddUint64(&wc.w[wConns], 1) }

func (wc workerCounters) begin(op protocol.Op) { atomic.StoreUint64(&wc.w[wCurrent], uint64(op+1)) }

// done counts a request as ok or failed. Workers call it before the last
// byte of the reply goes out, so a client that has its reply never reads
// counts that miss it.
func (wc workerCounters) done(op protocol.Op, ok bool) {
	i := wOps + 2*int(op)
	if !ok {
		i++
	}
	atomic.AddUint64(&wc.w[i], 1)
	atomic.StoreUint64(&wc.w[wCurrent], 0)
}

// undo turns a request counted ok into a failed one, when the last bytes
// of its reply could not be sent.
func (wc workerCounters) undo(op protocol.Op) {
	atomic.AddUint64(&wc.w[wOps+2*int(op)], ^uint64(0))
	atomic.AddUint64(&wc.w[wOps+2*int(op)+1], 1)
}

func (wc workerCounters) transferred(in, out int64) {
	atomic.AddUint64(&wc.w[wBytesIn], uint64(in))
	atomic.AddUint64(&wc.w[wBytesOut], uint64(out))
}

// reap settles the slot of a worker process that died: the request it
// was serving failed, and its connection is gone.
func (c *counters) reap(worker int) (interrupted bool) {
	w := c.slot(worker)
	// The page is shared with the child, so what it holds is checked
	// before it is used as an index: a bad value counts as "other".
	if cur := atomic.SwapUint64(&w[wCurrent], 0); cur != 0 {
		op := protocol.OpOther
		if cur <= uint64(protocol.NumOps) {
			op = protocol.Op(cur - 1)
		}
		atomic.AddUint64(&w[wOps+2*int(op)+1], 1)
		interrupted = true
	}
	atomic.StoreUint64(&w[wGauges+int(gaugeActive)], 0)
	// The child's CPU is now in RUSAGE_CHILDREN: count it there only.
	atomic.StoreUint64(&w[wCPU], 0)
	c.supervisorCPU()
	return interrupted
}

// gauge adds delta to a gauge (conn.setState).
func (wc workerCounters) gauge(g gauge, delta int) {
	atomic.AddUint64(&wc.w[wGauges+int(g)], uint64(int64(delta)))
}

// limited counts a connection that a limit closed or refused.
func (wc workerCounters) limited(l protocol.Limit) { atomic.AddUint64(&wc.w[wLimits+int(l)], 1) }

func (c *counters) restarted() { atomic.AddUint64(&c.slot(0)[wRestarts], 1) }

// snapshot sums every slot.
func (c *counters) snapshot() protocol.Stats {
	s := protocol.Stats{
		Mode: c.mode, Workers: c.workers, PID: c.pid,
		Started:        c.started.UTC().Format(time.RFC3339),
		UptimeSeconds:  int64(time.Since(c.started).Seconds()),
		WorkerRestarts: atomic.LoadUint64(&c.slot(0)[wRestarts]),
		Requests:       map[string]protocol.OpCount{},
	}
	if c.mapping == nil {
		s.CPUMicros = rusageMicros(syscall.RUSAGE_SELF)
	} else {
		for id := 0; id <= c.workers; id++ {
			s.CPUMicros += atomic.LoadUint64(&c.slot(id)[wCPU])
		}
	}
	ops := make([]protocol.OpCount, protocol.NumOps)
	var limits [protocol.NumLimits]uint64
	for id := 0; id <= c.workers; id++ {
		w := c.slot(id)
		s.ActiveConnections += int64(atomic.LoadUint64(&w[wGauges+int(gaugeActive)]))
		s.WaitingConnections += int64(atomic.LoadUint64(&w[wGauges+int(gaugeWaiting)]))
		s.WaitingForWorker += int64(atomic.LoadUint64(&w[wGauges+int(gaugeWaitingForWorker)]))
		s.Connections += atomic.LoadUint64(&w[wConns])
		for l := range limits {
			limits[l] += atomic.LoadUint64(&w[wLimits+l])
		}
		s.BytesIn += atomic.LoadUint64(&w[wBytesIn])
		s.BytesOut += atomic.LoadUint64(&w[wBytesOut])
		for op := range ops {
			ops[op].OK += atomic.LoadUint64(&w[wOps+2*op])
			ops[op].Failed += atomic.LoadUint64(&w[wOps+2*op+1])
		}
	}
	for _, op := range protocol.Ops() {
		s.Requests[op.String()] = ops[op]
	}
	s.Limits = map[string]uint64{}
	for l, name := range protocol.Limits {
		s.Limits[name] = limits[l]
	}
	return s
}

// statsFields lays out a snapshot as the STATS reply's "data": its
// fields in protocol.Stats's order under their JSON names, the limits and
// the requests as lists in a fixed order.
func statsFields(s protocol.Stats) []protocol.Field {
	reqs := make([]protocol.Field, 0, protocol.NumOps)
	for _, op := range protocol.Ops() {
		oc := s.Requests[op.String()]
		reqs = append(reqs, protocol.Field{Key: op.String(), Value: []protocol.Field{{Key: "ok", Value: oc.OK}, {Key: "failed", Value: oc.Failed}}})
	}
	limits := make([]protocol.Field, 0, protocol.NumLimits)
	for _, name := range protocol.Limits {
		limits = append(limits, protocol.Field{Key: name, Value: s.Limits[name]})
	}
	v := reflect.ValueOf(s)
	fields := make([]protocol.Field, 0, v.NumField())
	for i := range v.NumField() {
		f := protocol.Field{Key: v.Type().Field(i).Tag.Get("json"), Value: v.Field(i).Interface()}
		switch f.Key {
		case "limits":
			f.Value = limits
		case "requests":
			f.Value = reqs
		}
		fields = append(fields, f)
	}
	return fields
}
