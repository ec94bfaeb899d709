package main

import (
	"net"
	"os"
	"testing"
	"time"
)

// TestConnStates walks a connection through every move of the diagram,
// checking the gauges STATS derives from its state (active, waiting,
// waiting for a worker), and then one that a stopping server closes.
func TestConnStates(t *testing.T) {
	cs := newCounters("thread", 1, os.Getpid(), time.Now())
	s := newServer(config{MaxConns: 1}, nil, cs, nil)
	a, b := net.Pipe()
	c := newConn(a)
	s.admit(c, true)
	for _, step := range []struct {
		to    connState
		gauge [3]int64
	}{
		{stateWaiting, [3]int64{0, 1, 0}}, {stateAnswering, [3]int64{1, 0, 0}}, {stateWaiting, [3]int64{0, 1, 0}},
		{stateReady, [3]int64{0, 1, 1}}, {stateServing, [3]int64{1, 0, 0}}, {stateIdle, [3]int64{1, 0, 0}},
		{stateServing, [3]int64{1, 0, 0}}, {stateWaiting, [3]int64{0, 1, 0}}, {stateReady, [3]int64{0, 1, 1}},
		{stateHandedOver, [3]int64{}}, {stateReady, [3]int64{0, 1, 1}}, {stateHandedOver, [3]int64{}},
		{stateWaiting, [3]int64{0, 1, 0}}, {stateClosed, [3]int64{}},
	} {
		if !c.setState(step.to) {
			t.Fatalf("move to %s refused", step.to)
		}
		if st := cs.snapshot(); [3]int64{st.ActiveConnections, st.WaitingConnections, st.WaitingForWorker} != step.gauge {
			t.Errorf("%s: active, waiting, waiting for a worker %d %d %d, want %v", step.to, st.ActiveConnections, st.WaitingConnections, st.WaitingForWorker, step.gauge)
		}
	}
	if _, ok := s.admit(newConn(b), true); !ok || len(s.perIP) != 1 {
		t.Errorf("the closed connection still counts against -max-conns: %d held", len(s.conns))
	}
	for c = range s.conns {
		c.setState(stateWaiting)
	}
	if s.stop(); c.setState(stateReady) || c.state != stateClosed || cs.snapshot().WaitingConnections != 0 {
		t.Errorf("once stopping, a move to ready left the connection %s", c.state)
	}
}
