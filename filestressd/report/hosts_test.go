package report

import (
	"math"
	"strings"
	"testing"

	"fileserver/filestressd/results"
)

// TestMergeHosts checks that one cell's rows from several hosts (same
// run_id and no) read as one row: workers and bytes add up, the wall is
// the longest host's, the aggregate is all bytes over it, a failed host's
// workers are failed of kind host, and rows of other cells stay apart.
func TestMergeHosts(t *testing.T) {
	csv := `no,operation,volume_bytes,client_workers,client_pool,server_workers,server_mode,time_per_client_s,throughput_per_client_Bps,client_ok,client_fail,server_ok,server_fail,wall_s,aggregate_Bps,p50_s,p95_s,max_s,errors,verified,server_cpu_s,client_cpu_s,repeat,run_id,host
1,upload,1048576,3,thread,5,thread,1.0,1048576,3,0,5,0,1.5,2097152,1.0,1.2,1.2,,reply,0.5,0.2,1,r,h1
1,upload,1048576,2,thread,5,thread,2.0,524288,2,0,5,0,2.0,1048576,2.0,2.0,2.0,,reply,0.6,0.1,1,r,h2
2,upload,1048576,3,thread,5,thread,1.0,1048576,3,0,3,0,1.0,3145728,1.0,1.0,1.0,,reply,0.5,0.2,1,r,h1
2,upload,1048576,2,thread,,,,,0,2,,,0.0,0,,,,host=2,,,,1,r,h2
3,upload,1048576,5,thread,5,thread,1.0,1048576,5,0,5,0,1.0,5242880,1.0,1.0,1.0,,reply,0.5,0.2,1,r,
`
	read, err := results.ReadRows(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	rows := MergeHosts(read)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3 (two merged cells and one of a single machine): %+v", len(rows), rows)
	}
	a := rows[0]
	if a.ClientWorkers != 5 || a.ClientOK != 5 || a.Wall != 2.0 || a.Host != "h1+h2" || a.ServerOK != 5 ||
		math.Abs(a.Aggregate-5*1048576/2.0) > 1e-6 || math.Abs(a.TimePerClient-1.4) > 1e-9 || math.Abs(a.ClientCPU-0.3) > 1e-9 || a.ServerCPU != 0.6 {
		t.Errorf("merged cell 1: %+v", a)
	}
	b := rows[1]
	if b.ClientWorkers != 5 || b.ClientOK != 3 || b.ClientFail != 2 || b.Errors != "host=2" || b.ServerMode != "thread" || b.ServerWorkers != 5 || b.Wall != 1.0 {
		t.Errorf("merged cell 2 (a failed host): %+v", b)
	}
	if rows[2].No != 3 || rows[2].Host != "" || rows[2].ClientWorkers != 5 {
		t.Errorf("single-machine row: %+v", rows[2])
	}
}
