package stress

import "sync/atomic"

// The stages of a worker's transfer, as a process-pool child reports them
// to its parent while it goes, so that a child killed at the deadline is
// said to be stuck where it was, as a goroutine's own error says it.
const (
	stageConnecting  = "connecting"
	stageSending     = "sending the upload"
	stageAwaitUpload = "waiting for the upload's reply"
	stageAwaitReply  = "waiting for the reply"
	stageReceiving   = "receiving the content"
	stageReplyEnd    = "reading the end of the reply"
)

// stageWatch follows a transfer through its stages: from the connect,
// and then from the content bytes it moves (the client's progress
// callback). report, if not nil, is called with each new stage, on the
// worker's goroutine; the stage may be read from any.
type stageWatch struct {
	op     CellOp
	size   int64
	report func(stage string)
	moved  int64 // content bytes, on the worker's goroutine only
	stage  atomic.Value
}

func newStageWatch(j job, report func(string)) *stageWatch {
	w := &stageWatch{op: j.Op, size: j.Src.Size, report: report}
	w.set(stageConnecting)
	return w
}

// current is the stage the transfer is in.
func (w *stageWatch) current() string {
	s, _ := w.stage.Load().(string)
	return s
}

func (w *stageWatch) set(s string) {
	if w.current() == s {
		return
	}
	w.stage.Store(s)
	if w.report != nil {
		w.report(s)
	}
}

// connected moves on from the connect: to the upload, or to the reply.
func (w *stageWatch) connected() {
	if w.op == CellUpload {
		w.set(stageSending)
		w.progress(0)
		return
	}
	w.set(stageAwaitReply)
}

// progress counts n content bytes more sent or received.
func (w *stageWatch) progress(n int64) {
	w.moved += n
	switch {
	case w.op == CellUpload && w.moved >= w.size:
		w.set(stageAwaitUpload)
	case w.op == CellDownload && w.moved >= w.size:
		w.set(stageReplyEnd)
	case w.op == CellDownload && n > 0:
		w.set(stageReceiving)
	}
}
