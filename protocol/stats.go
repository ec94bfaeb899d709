package protocol

// Operation names, as STATS counts them. DOWNLOAD counts as "get"; any
// request that is malformed or unknown counts as "other".
var Operations = []string{"list", "get", "upload", "delete", "stats", "other"}

// Stats is what STATS returns under "data": the server's own counters,
// summed over every worker (every child process in process mode).
type Stats struct {
	Mode              string             `json:"mode"`
	Workers           int                `json:"workers"`
	PID               int                `json:"pid"`
	Started           string             `json:"started"` // RFC 3339
	UptimeSeconds     int64              `json:"uptime_s"`
	ActiveConnections int64              `json:"active_connections"`
	Connections       uint64             `json:"connections"`
	BytesIn           uint64             `json:"bytes_in"`
	BytesOut          uint64             `json:"bytes_out"`
	WorkerRestarts    uint64             `json:"worker_restarts"`
	Requests          map[string]OpCount `json:"requests"`
}

// OpCount is the requests of one operation that succeeded and failed.
type OpCount struct {
	OK     uint64 `json:"ok"`
	Failed uint64 `json:"failed"`
}
