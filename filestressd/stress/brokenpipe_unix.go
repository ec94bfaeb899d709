//go:build unix

package stress

import (
	"os/signal"
	"syscall"
)

// ignoreBrokenPipe makes a write to a pipe whose reader is gone an error
// instead of a silent SIGPIPE death: a child whose parent died while it
// reported a stage then still sees its stdin end and says why it exits.
func ignoreBrokenPipe() { signal.Ignore(syscall.SIGPIPE) }
