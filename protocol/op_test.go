package protocol

import "testing"

func TestOpString(t *testing.T) {
	want := []string{"list", "get", "upload", "delete", "stats", "other"}
	ops := Ops()
	if len(ops) != len(want) {
		t.Fatalf("Ops() has %d ops, want %d", len(ops), len(want))
	}
	for i, op := range ops {
		if op.String() != want[i] {
			t.Errorf("Op(%d).String() = %q, want %q", i, op, want[i])
		}
	}
	if s := Op(NumOps).String(); s != "Op(6)" {
		t.Errorf("an out-of-range Op prints %q", s)
	}
}
