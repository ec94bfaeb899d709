package stress

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"

	"fileserver/protocol"
)

// Failure kinds, the causes a failed worker is counted under.
const (
	kindTimeout   = "timeout"   // unfinished -timeout after the release, or a child not started within the setup's budget
	kindIntegrity = "integrity" // the bytes differ or cannot be checked: size or SHA-256, content cut short
	kindConnect   = "connect"   // the connection could not be made
	kindServer    = "server"    // the server answered ERROR
	kindProtocol  = "protocol"  // the reply breaks the protocol
	kindIO        = "io"        // the connection broke: reset, closed, ...
	kindProcess   = "process"   // a child process failed to start or report
	kindHost      = "host"      // the worker's host failed or hung (run_matrix.sh CLIENT_HOSTS; see -host-failed)
)

// kindOrder is the order kinds are listed in.
func kindOrder() []string {
	return []string{kindTimeout, kindIntegrity, kindConnect, kindServer, kindProtocol, kindIO, kindProcess, kindHost}
}

// connectError is a failure to connect to the server.
type connectError struct{ err error }

func (e *connectError) Error() string { return "connect: " + e.err.Error() }
func (e *connectError) Unwrap() error { return e.err }

// classify names the kind of a worker's failure. Bytes found wrong, and
// errors the server chose to send, count as such even if the deadline
// passed meanwhile; anything else after the deadline is a time-out.
func classify(ctx context.Context, err error) string {
	var ie *protocol.IntegrityError
	var se *protocol.ServerError
	var re *protocol.ReplyError
	var ce *connectError
	switch {
	case errors.As(err, &ie):
		return kindIntegrity
	case errors.As(err, &se):
		return kindServer
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || protocol.IsTimeout(err):
		return kindTimeout
	case errors.As(err, &ce):
		return kindConnect
	case errors.As(err, &re):
		return kindProtocol
	}
	return kindIO
}

// formatKinds writes counts by kind as the CSV's errors column does:
// "timeout=3;integrity=1", in kindOrder, without commas.
func formatKinds(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k, n := range counts {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	order := kindOrder()
	sort.Slice(keys, func(i, j int) bool {
		a, b := slices.Index(order, keys[i]), slices.Index(order, keys[j])
		if a < 0 {
			a = len(order)
		}
		if b < 0 {
			b = len(order)
		}
		if a != b {
			return a < b
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Itoa(counts[k])
	}
	return strings.Join(parts, ";")
}
