package protocol

import "fmt"

// Op is an operation as the server counts it: one of the four course
// commands, STATS, or OpOther for a request that is malformed or unknown.
// DOWNLOAD counts as OpGet. Its String is the key STATS counts it under.
type Op int

// The operations, in the order STATS lists them.
const (
	OpList Op = iota
	OpGet
	OpUpload
	OpDelete
	OpStats
	OpOther
	NumOps = int(OpOther) + 1 // how many Ops there are
)

var opNames = [NumOps]string{"list", "get", "upload", "delete", "stats", "other"}

// String returns the STATS key: "list", "get", ..., "other".
func (o Op) String() string {
	if o < 0 || int(o) >= NumOps {
		return fmt.Sprintf("Op(%d)", int(o))
	}
	return opNames[o]
}

// Ops returns every Op, in STATS order.
func Ops() []Op {
	ops := make([]Op, NumOps)
	for i := range ops {
		ops[i] = Op(i)
	}
	return ops
}
