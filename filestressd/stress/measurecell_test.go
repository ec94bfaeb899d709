package stress

import (
	"bytes"
	"context"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// TestMeasureCell measures cells through the API alone, in the thread
// pool against fileserverd: every worker ok and verified, the row and the
// records say so, and the progress hook sees every worker done.
func TestMeasureCell(t *testing.T) {
	s := testkit.StartServer(t, testkit.ServerOptions{Mode: "thread", Workers: 2})
	for _, op := range []CellOp{CellUpload, CellDownload, CellList} {
		cfg := Config{Addr: s.Addr, Op: op, Size: 256 << 10, Workers: 3, Pool: PoolThread, Timeout: 30 * time.Second,
			Verify: VerifyAuto, Request: RequestAuto, UploadProbe: true, Repeat: 1}
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		var done, failed int64 = -1, -1
		progress := func(pc *Progress) func() { return func() { done, failed = pc.Done() } }
		var notes bytes.Buffer
		res, err := MeasureCell(context.Background(), cfg, Hooks{Notes: &notes, Progress: progress})
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		row := res.Row(1)
		if row.Operation != string(op) || row.ClientOK != 3 || row.ClientFail != 0 || row.ServerMode != "thread" {
			t.Errorf("%s: row %+v, want 3 ok of a thread server", op, row)
		}
		if op != CellList && row.Verified != VerifyReply {
			t.Errorf("%s: verified %q, want %q", op, row.Verified, VerifyReply)
		}
		if recs := res.Records(1); len(recs) != 3 || recs[0].Outcome != "ok" || recs[0].CSVNo != 1 {
			t.Errorf("%s: records %+v", op, recs)
		}
		if done != 3 || failed != 0 {
			t.Errorf("%s: the progress hook saw %d done, %d failed; want 3, 0", op, done, failed)
		}
	}
}
