package protocol

// Limit is one of the limits that close or refuse a connection, in the
// order STATS lists them. Its String is the key STATS counts it under,
// and the server's flag that sets it with dashes: -head-timeout.
type Limit int

const (
	LimitHeadTimeout   Limit = iota // no head within -head-timeout
	LimitKeepAlive                  // no next request within -keepalive-timeout
	LimitMaxConns                   // a new connection past -max-conns
	LimitMaxConnsPerIP              // a new connection past -max-conns-per-ip
	LimitMinRate                    // a transfer below -min-rate
	NumLimits          = int(LimitMinRate) + 1
)

// Limits names the limits, by Limit.
var Limits = [NumLimits]string{"head_timeout", "keepalive_timeout", "max_conns", "max_conns_per_ip", "min_rate"}

func (l Limit) String() string { return Limits[l] }

// Stats is what STATS returns under "data": the server's own counters,
// summed over every worker (every child process in process mode).
type Stats struct {
	Mode              string `json:"mode"`
	Workers           int    `json:"workers"`
	PID               int    `json:"pid"`
	Started           string `json:"started"` // RFC 3339
	UptimeSeconds     int64  `json:"uptime_s"`
	ActiveConnections int64  `json:"active_connections"`
	Connections       uint64 `json:"connections"`
	BytesIn           uint64 `json:"bytes_in"`
	BytesOut          uint64 `json:"bytes_out"`
	WorkerRestarts    uint64 `json:"worker_restarts"`
	// WaitingConnections are held between requests, or before the first,
	// outside the workers.
	WaitingConnections int64 `json:"waiting_connections"`
	// WaitingForWorker are those of them whose request has arrived and
	// that wait for a worker to be free.
	WaitingForWorker int64 `json:"waiting_for_worker"`
	// CPUMicros is the CPU time, user and system, the server has used
	// since it started, in microseconds: the whole process tree in
	// process mode, exited children included. A client compares two
	// readings around what it measures.
	CPUMicros uint64 `json:"cpu_us"`
	// Limits counts the connections each limit closed or refused, by
	// the names in Limits.
	Limits   map[string]uint64  `json:"limits"`
	Requests map[string]OpCount `json:"requests"`
}

// OpCount is the requests of one operation that succeeded and failed.
type OpCount struct {
	OK     uint64 `json:"ok"`
	Failed uint64 `json:"failed"`
}
