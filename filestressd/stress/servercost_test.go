package stress

import "testing"

// TestAncestorOfAll picks, among the processes that share a listening
// socket, the one that is every other's ancestor.
func TestAncestorOfAll(t *testing.T) {
	parent := map[int]int{10: 1, 11: 10, 12: 10, 13: 12, 20: 1, 21: 20}
	of := func(pid int) int { return parent[pid] }
	cases := []struct {
		pids []int
		want int
		ok   bool
	}{
		{[]int{10}, 10, true},
		{[]int{11, 10, 12}, 10, true},
		{[]int{13, 12}, 12, true},
		{[]int{11, 13}, 0, false}, // siblings' branches: 10 does not hold it
		{[]int{10, 20}, 0, false},
		{[]int{21, 11}, 0, false},
	}
	for _, c := range cases {
		if got, ok := ancestorOfAll(c.pids, of); got != c.want || ok != c.ok {
			t.Errorf("%v: %d, %v; want %d, %v", c.pids, got, ok, c.want, c.ok)
		}
	}
}
