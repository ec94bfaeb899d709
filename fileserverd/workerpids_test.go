package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"fileserver/protocol/testkit"
)

// workerPIDs returns the pids of the first n worker children in d's log.
func workerPIDs(t *testing.T, d *daemon, n int) []int {
	t.Helper()
	ms, err := d.Log.WaitForCount(testkit.WorkerStartedRE, n, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, m := range ms {
		pid, _ := strconv.Atoi(m[2])
		pids = append(pids, pid)
	}
	return pids
}

// processEnv is the environment pid started with, one variable a line.
func processEnv(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		t.Fatal(err)
	}
	return strings.ReplaceAll(string(b), "\x00", "\n")
}
