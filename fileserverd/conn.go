package main

import (
	"fmt"
	"net"
	"time"

	"fileserver/protocol"
)

// connState is where a connection is in its life. It changes only
// through conn.setState, which keeps the STATS gauges and the count of
// connections with a worker in step with it:
//
//	      accept            hand-over (in a worker child)
//	         \                 /
//	          v               v
//	                 new
//	           wait |   \ serveConn (in a worker child)
//	                v    +----------------------------+
//	            waiting <---> answering (a STATS)     |
//	                |                                 |
//	                | its head has arrived            |
//	                v                                 v
//	              ready --- a worker takes it ---> serving <---> idle
//	              |   ^                               |
//	     dispatch |   | the child died                | park
//	              v   | before its receipt            v
//	            handedOver ------- park -------->  waiting (the same)
//
//	and from every state: closed
//
// A connection has one owner at a time, and only its owner calls setState
// or touches the owner's fields of conn: the accept loop (or a worker
// child's link loop) in new; the room's goroutine for it (wait) in
// waiting, answering and ready, which hands it on through the room's
// ready channel; its worker in serving and idle; in handedOver, the
// dispatcher of the child serving it. Shutdown (server.stop) closes the
// socket, under server.mu, of those on which no request is in flight
// (waiting, answering, idle), and from then on setState closes a
// connection it is asked to move elsewhere.
type connState int

const (
	stateNew        connState = iota // accepted and held, not yet in the room
	stateWaiting                     // in the room, waiting for a request's head
	stateAnswering                   // in the room, which answers its STATS itself
	stateReady                       // its head has arrived: queued for a free worker
	stateServing                     // a worker serves a request on it
	stateIdle                        // its worker waits for the next request to begin
	stateHandedOver                  // process mode's parent: a worker child serves it
	stateClosed                      // closed and forgotten
	numStates
)

func (s connState) String() string {
	return [numStates]string{"new", "waiting", "answering", "ready", "serving", "idle", "handedOver", "closed"}[s]
}

// moves are the transitions of the diagram: moves[from] has bit to set.
var moves = [numStates]uint{
	stateNew:        1<<stateWaiting | 1<<stateServing | 1<<stateClosed,
	stateWaiting:    1<<stateAnswering | 1<<stateReady | 1<<stateClosed,
	stateAnswering:  1<<stateWaiting | 1<<stateClosed,
	stateReady:      1<<stateServing | 1<<stateHandedOver | 1<<stateClosed,
	stateServing:    1<<stateIdle | 1<<stateWaiting | 1<<stateClosed,
	stateIdle:       1<<stateServing | 1<<stateClosed,
	stateHandedOver: 1<<stateReady | 1<<stateWaiting | 1<<stateClosed,
}

// gauge is a STATS count of connections, kept in a counter slot.
type gauge int

const (
	gaugeActive           gauge = iota // active_connections: served, by a worker or the room
	gaugeWaiting                       // waiting_connections: in the room, their request arrived or not
	gaugeWaitingForWorker              // waiting_for_worker: in the room, their request arrived
	numGauges
)

// stateGauges are the gauges that count a connection in each state, in
// the slot of its process (server.gauges).
var stateGauges = [numStates][]gauge{
	stateWaiting:   {gaugeWaiting},
	stateAnswering: {gaugeActive},
	stateReady:     {gaugeWaiting, gaugeWaitingForWorker},
	stateServing:   {gaugeActive},
	stateIdle:      {gaugeActive},
}

// withWorker tells the states in which a worker of this process holds the
// connection: shutdown waits for them, and cuts them at its timeout.
func (s connState) withWorker() bool { return s == stateServing || s == stateIdle }

// conn is one client connection and everything the server knows about
// it, from its accept (or hand-over, in a worker child) to its close.
type conn struct {
	srv    *server
	remote string // the client's address, for logs
	ip     string // the client's host, for -max-conns-per-ip

	// The owner's (see connState): the socket, and what the room read of
	// the next request, for the worker to read again.
	nc      net.Conn  // the socket: a new net.Conn once a child hands it back
	replay  []byte    // the head, with the blank lines before it and what came after it
	lastIn  time.Time // when its last byte arrived: the worker's pauses count from there
	isStats bool      // the head is a STATS, which the room answers
	headLen int       // how many of replay's bytes the head took

	// Guarded by server.mu: shutdown reads them, to close and to name.
	state  connState
	worker int    // the worker serving it, once it has read a request
	cmd    string // the request it serves (or the last one it served)
	name   string // its file name, if it has one
}

func newConn(nc net.Conn) *conn {
	c := &conn{nc: nc, remote: "?"}
	if a := nc.RemoteAddr(); a != nil {
		c.remote, c.ip = a.String(), a.String()
		if ta, ok := a.(*net.TCPAddr); ok {
			c.ip = ta.IP.String()
		}
	}
	return c
}

// admit makes c one of the connections s holds, in state new; with caps,
// only if -max-conns and -max-conns-per-ip allow it (if not: which one
// forbids it). A worker child holds what its parent hands over uncapped.
func (s *server) admit(c *conn, caps bool) (over protocol.Limit, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case caps && len(s.conns) >= s.cfg.MaxConns:
		return protocol.LimitMaxConns, false
	case caps && s.cfg.MaxConnsPerIP > 0 && s.perIP[c.ip] >= s.cfg.MaxConnsPerIP:
		return protocol.LimitMaxConnsPerIP, false
	}
	c.srv = s
	s.conns[c] = struct{}{}
	s.perIP[c.ip]++
	return 0, true
}

// setState moves c to state to, and the gauges and the count of
// connections with a worker with it. Only c's owner calls it. Once the
// server is stopping it refuses every move but to closed: it closes c
// instead, and returns false. Moving to closed closes the socket and
// forgets c; closing it again does nothing.
func (c *conn) setState(to connState) (moved bool) {
	s := c.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	from, moved := c.state, !s.stopping || to == stateClosed
	if !moved {
		to = stateClosed
	}
	if from == stateClosed && to == stateClosed {
		return moved
	}
	if from == to || moves[from]&(1<<to) == 0 {
		panic(fmt.Sprintf("connection from %s: no move from %s to %s", c.remote, from, to))
	}
	for _, g := range stateGauges[from] {
		s.gauges.gauge(g, -1)
	}
	for _, g := range stateGauges[to] {
		s.gauges.gauge(g, +1)
	}
	switch {
	case to.withWorker() && !from.withWorker():
		s.withWorker.Add(1)
		c.worker, c.cmd, c.name = 0, "", "" // none read by this worker yet
	case from.withWorker() && !to.withWorker():
		s.withWorker.Done()
	}
	c.state = to
	if to == stateClosed {
		c.nc.Close()
		delete(s.conns, c)
		if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
			delete(s.perIP, c.ip)
		}
		s.freed.Broadcast()
	}
	return moved
}

// close moves c to closed, from any state.
func (c *conn) close() { c.setState(stateClosed) }

// serving records the request a worker has read on c (req is nil when
// its head was malformed), for shutdown to name should it cut it.
func (c *conn) serving(worker int, req *protocol.Request) {
	cmd, name := requestName(req)
	c.srv.mu.Lock()
	c.worker, c.cmd, c.name = worker, cmd, name
	c.srv.mu.Unlock()
}
