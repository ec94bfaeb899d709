package stress

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// TestChildReportsCPU checks a process-pool child's side: its result line
// carries the CPU time it used over its transfer, which the parent takes
// as reported (and adds to client_cpu_s).
func TestChildReportsCPU(t *testing.T) {
	s := testkit.StartServer(t, testkit.ServerOptions{Mode: "thread", Workers: 1})
	cfg := Config{Op: CellUpload, Addr: s.Addr, Size: 4 << 20, Workers: 1, Pool: PoolProcess, Verify: VerifyReply}
	src := newSource(cfg)
	sums, err := uploadSums(context.Background(), cfg, src)
	if err != nil {
		t.Fatal(err)
	}
	spec := childSpec{Job: makeJobs(cfg, src, "", sums)[0], Timeout: 30 * time.Second}
	var out bytes.Buffer
	if err := runChildJob(context.Background(), spec, &out); err != nil {
		t.Fatal(err)
	}
	var m childMessage
	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	if err := json.Unmarshal(lines[len(lines)-1], &m); err != nil || m.Result == nil {
		t.Fatalf("child's line %q: %v", out.String(), err)
	}
	if !m.Result.OK || m.Result.CPUMicros <= 0 {
		t.Errorf("child's result %+v: want ok with cpu_us above 0", *m.Result)
	}
	r := childResult(context.Background(), spec.Job, m.Result, "", "exit 0")
	if !r.cpuReported || r.CPUMicros != m.Result.CPUMicros {
		t.Errorf("the parent's view %+v: want its CPU taken as reported", r)
	}
	if killed := childResult(context.Background(), spec.Job, nil, stageAwaitReply, "signal: killed"); killed.cpuReported {
		t.Errorf("a child without a result counted as having reported its CPU")
	}
}

// TestWaitReady checks that the release waits for every child to say it
// is ready (or to be gone), and no longer than the setup's budget.
func TestWaitReady(t *testing.T) {
	children := []*child{{ready: make(chan struct{})}, {ready: make(chan struct{})}}
	children[0].isReady()
	returned := make(chan struct{})
	go func() {
		waitReady(context.Background(), children)
		close(returned)
	}()
	select {
	case <-returned:
		t.Fatal("waitReady returned while a child was not ready")
	default:
	}
	children[1].isReady()
	children[1].isReady() // once only
	<-returned

	setup, cancel := context.WithCancel(context.Background())
	cancel()
	waitReady(setup, []*child{{ready: make(chan struct{})}}) // returns: the budget is spent
}
